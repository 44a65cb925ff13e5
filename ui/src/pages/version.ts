// A model version's card: description, stage, aliases, source, then its lineage from Plinth's
// lineage route — the source run (with its metrics and params) and the datasets that run read.
// Against a server without the route, the run is fetched directly.
import { getModelVersion, getRegisteredModel, getRun, lineage, ApiError, ModelVersion, Run } from "../api";
import { promoteFlow } from "./model";
import { h, formatTime, formatNumber, errorBox } from "../dom";
import { renderMarkdown } from "../markdown";
import { hashFor } from "../route";

function kv(id: string, rows: [string, string][], empty: string, numeric = false) {
  if (!rows.length) return h("p.muted", {}, empty);
  return h(
    "div.table-wrap",
    {},
    h(
      "table.grid.kv",
      { id },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Key"), h(numeric ? "th.num" : "th", { scope: "col" }, "Value"))),
      h("tbody", {}, ...rows.sort((a, b) => a[0].localeCompare(b[0])).map(([k, v]) => h("tr", {}, h("td", {}, k), h(numeric ? "td.num" : "td.value", {}, v)))),
    ),
  );
}

export async function renderVersion(view: HTMLElement, name: string, version: string, attach: () => void) {
  document.title = `${name} v${version} · Plinth`;
  view.append(
    h(
      "nav.crumbs",
      { "aria-label": "Breadcrumb" },
      h("a", { href: "#/models" }, "Models"),
      " / ",
      h("a", { href: hashFor(["models", name]) }, name),
      " / ",
      h("span", {}, `v${version}`),
    ),
  );
  let mv: ModelVersion;
  let run: Run | undefined;
  let runMissing = "";
  try {
    const l = await lineage(name, version);
    mv = l.model_version;
    run = l.run;
    runMissing = l.run_missing ?? "";
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404 && e.errorCode !== "RESOURCE_DOES_NOT_EXIST")) {
      view.append(h("h1", {}, `${name} v${version}`), errorBox(e));
      attach();
      return;
    }
    // No lineage route: the version and its run through the MLflow API.
    try {
      mv = await getModelVersion(name, version);
      if (mv.run_id) run = await getRun(mv.run_id).catch(() => undefined);
    } catch (e2) {
      view.append(h("h1", {}, `${name} v${version}`), errorBox(e2));
      attach();
      return;
    }
  }
  const stage = mv.current_stage && mv.current_stage !== "None" ? mv.current_stage : "";
  const status = h("div.notice", { role: "status", "aria-live": "polite" });
  const promoteButton = h("button.promote", { type: "button" }, "Promote…");
  promoteButton.addEventListener("click", async () => {
    const aliases = await getRegisteredModel(name).then((m) => m.aliases ?? [], () => []);
    if (await promoteFlow(name, mv.version, aliases, status)) {
      // The card's alias chips are now stale: show the version again.
      const fresh = await getModelVersion(name, mv.version).catch(() => null);
      if (fresh) chips.replaceChildren(...aliasChips(fresh.aliases ?? []));
    }
  });
  const aliasChips = (list: string[]) => list.map((a) => h("span.chip", {}, `@${a}`));
  const chips = h("span.chips", {}, ...aliasChips(mv.aliases ?? []));
  const metrics = (run?.data.metrics ?? []).map((m) => [m.key, formatNumber(m.value)] as [string, string]);
  const params = (run?.data.params ?? []).map((p) => [p.key, p.value] as [string, string]);
  const datasets = run?.inputs?.dataset_inputs ?? [];
  view.append(
    h("div.section-head", {}, h("h1", {}, `${name} `, h("span.muted", {}, `v${mv.version}`), " ", chips, stage ? h(`span.badge.stage-${stage.toLowerCase()}`, {}, stage) : null), promoteButton),
    status,
    h(
      "article.model-card",
      { id: "model-card" },
      h("section.description", {}, mv.description ? renderMarkdown(mv.description) : h("p.muted", {}, "No description.")),
      h(
        "dl.overview",
        {},
        h("dt", {}, "Status"),
        h("dd", {}, mv.status ?? ""),
        h("dt", {}, "Stage"),
        h("dd", {}, stage || "None"),
        h("dt", {}, "Created"),
        h("dd", {}, formatTime(mv.creation_timestamp), mv.user_id ? ` by ${mv.user_id}` : ""),
        h("dt", {}, "Source"),
        h("dd", {}, h("code", {}, mv.source ?? "")),
        h("dt", {}, "Source run"),
        h(
          "dd",
          { id: "source-run" },
          run
            ? h("a", { href: hashFor(["runs", run.info.run_id]) }, run.info.run_name || run.info.run_id)
            : mv.run_id
              ? h("span", {}, h("code", {}, mv.run_id), h("span.muted", {}, ` (${runMissing || "not found"})`))
              : h("span.muted", {}, "none recorded"),
        ),
        ...(mv.tags ?? []).flatMap((t) => [h("dt", {}, t.key), h("dd", {}, t.value)]),
      ),
      h("h2", {}, "Lineage"),
      h(
        "ol.lineage",
        { "aria-label": "Lineage" },
        h("li", {}, h("span.muted", {}, "Datasets: "), datasets.length ? datasets.map((d, i) => [i ? ", " : "", h("strong", {}, d.dataset.name), h("span.muted", {}, ` (${d.dataset.digest})`)]) : h("span.muted", {}, "none logged")),
        h("li", {}, h("span.muted", {}, "Run: "), run ? h("a", { href: hashFor(["runs", run.info.run_id]) }, run.info.run_name || run.info.run_id) : h("span.muted", {}, "unknown")),
        h("li", {}, h("span.muted", {}, "Model: "), h("strong", {}, `${name} v${mv.version}`)),
      ),
      datasets.length
        ? h(
            "div.table-wrap",
            {},
            h(
              "table.grid",
              { id: "datasets" },
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Dataset"), h("th", { scope: "col" }, "Digest"), h("th", { scope: "col" }, "Context"), h("th", { scope: "col" }, "Source"))),
              h(
                "tbody",
                {},
                ...datasets.map((d) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, d.dataset.name),
                    h("td", {}, h("code", {}, d.dataset.digest)),
                    h("td", {}, d.tags?.find((t) => t.key === "mlflow.data.context")?.value ?? ""),
                    h("td.value", {}, `${d.dataset.source_type ?? ""} ${d.dataset.source ?? ""}`.trim()),
                  ),
                ),
              ),
            ),
          )
        : null,
      h(
        "div.columns",
        {},
        h("section", {}, h("h2", {}, `Metrics of the source run (${metrics.length})`), kv("card-metrics", metrics, "No metrics.", true)),
        h("section", {}, h("h2", {}, `Parameters (${params.length})`), kv("card-params", params, "No parameters.")),
      ),
    ),
  );
  attach();
}
