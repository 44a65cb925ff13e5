// The experiment list: name, id, last update; a box filters by name as you type.
import { searchExperiments, Experiment } from "../api";
import { h, formatTime, errorBox } from "../dom";
import { hashFor } from "../route";

export async function renderExperiments(view: HTMLElement, attach: () => void) {
  document.title = "Experiments · Plinth";
  view.append(h("h1", {}, "Experiments"));
  let experiments: Experiment[] = [];
  try {
    let token: string | undefined;
    do {
      const r = await searchExperiments(token);
      experiments.push(...(r.experiments ?? []));
      token = r.next_page_token || undefined;
    } while (token && experiments.length < 100000);
  } catch (e) {
    view.append(errorBox(e));
    return;
  }
  const tbody = h("tbody");
  const fill = (needle: string) => {
    const n = needle.toLowerCase();
    tbody.replaceChildren(
      ...experiments
        .filter((e) => !n || e.name.toLowerCase().includes(n))
        .map((e) =>
          h(
            "tr",
            {},
            h("td", {}, h("a", { href: hashFor(["experiments", e.experiment_id]) }, e.name)),
            h("td.num", {}, e.experiment_id),
            h("td", {}, formatTime(e.last_update_time ?? e.creation_time)),
          ),
        ),
    );
  };
  const search = h("input.search", {
    type: "search",
    placeholder: "Filter experiments by name",
    "aria-label": "Filter experiments by name",
  });
  search.addEventListener("input", () => fill(search.value));
  fill("");
  view.append(
    h("div.toolbar", {}, search, h("span.muted", {}, `${experiments.length} experiments`)),
    h(
      "div.table-wrap",
      {},
      h(
        "table.grid",
        { id: "experiments" },
        h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "ID"), h("th", {}, "Last update"))),
        tbody,
      ),
    ),
  );
  attach();
}
