// Datasets (plinth data): every name with its latest version, rows, columns, size and last
// validation result, from api/plinth/v1/datasets/list and …/versions per dataset.
import { datasetVersions, isMissingRoute, listDatasets, DatasetSummary, DatasetVersion } from "../api";
import { h, formatTime, formatNumber, formatBytes, errorBox } from "../dom";
import { hashFor } from "../route";
import { missingApi } from "./studies";

export function validationBadge(v: { validation_success?: boolean }): HTMLElement | string {
  if (v.validation_success === undefined) return h("span.muted", {}, "–");
  return v.validation_success ? h("span.badge.finished", {}, "passed") : h("span.badge.failed", {}, "failed");
}

export async function renderDatasets(view: HTMLElement, attach: () => void) {
  document.title = "Datasets · Plinth";
  view.append(h("h1", {}, "Datasets"));
  let datasets: DatasetSummary[];
  try {
    datasets = await listDatasets();
  } catch (e) {
    view.append(isMissingRoute(e) ? missingApi("datasets") : errorBox(e));
    attach();
    return;
  }
  if (!datasets.length) {
    view.append(h("p.muted", {}, "No datasets yet: plinth data add train.csv --name churn."));
    attach();
    return;
  }
  const cells = new Map<string, HTMLTableCellElement[]>();
  const tbody = h(
    "tbody",
    {},
    ...datasets.map((d) => {
      const late = [h("td.num"), h("td.num"), h("td.num"), h("td")];
      cells.set(d.name, late);
      return h(
        "tr",
        { "data-dataset": d.name },
        h("td", {}, h("a", { href: hashFor(["datasets", d.name]) }, d.name)),
        h("td.num", {}, h("a", { href: hashFor(["datasets", d.name], { version: String(d.latest_version) }) }, `v${d.latest_version}`)),
        h("td.num", {}, String(d.versions)),
        ...late,
        h("td.nowrap", {}, formatTime(d.last_updated_timestamp)),
      );
    }),
  );
  view.append(
    h("p.muted", {}, `${datasets.length} dataset${datasets.length === 1 ? "" : "s"}`),
    h(
      "div.table-wrap",
      { role: "region", "aria-label": "Datasets", tabindex: 0 },
      h(
        "table.grid",
        { id: "datasets" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Name"),
            h("th.num", { scope: "col" }, "Latest"),
            h("th.num", { scope: "col" }, "Versions"),
            h("th.num", { scope: "col" }, "Rows"),
            h("th.num", { scope: "col" }, "Columns"),
            h("th.num", { scope: "col" }, "Size"),
            h("th", { scope: "col" }, "Validation"),
            h("th", { scope: "col" }, "Last update"),
          ),
        ),
        tbody,
      ),
    ),
  );
  attach();
  // The latest version's numbers fill in as they arrive, four requests at a time.
  const queue = [...datasets];
  const worker = async () => {
    for (let d = queue.shift(); d; d = queue.shift()) {
      let latest: DatasetVersion | undefined;
      try {
        latest = (await datasetVersions(d.name)).find((v) => v.version === d.latest_version);
      } catch {
        latest = undefined;
      }
      const [rows, cols, size, valid] = cells.get(d.name)!;
      if (!latest) continue;
      rows.textContent = latest.num_rows === undefined ? "" : formatNumber(latest.num_rows);
      cols.textContent = latest.num_columns === undefined ? "" : formatNumber(latest.num_columns);
      size.textContent = formatBytes(latest.size_bytes);
      valid.replaceChildren(validationBadge(latest));
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  view.querySelector("#datasets")?.classList.add("loaded");
}
