// Drift between two stored versions of a dataset (#/datasets/<name>/drift?reference=v1&
// current=v2): POST api/plinth/v1/drift with "name@1" and "name@2" (Evidently's default tests
// and thresholds, computed by the server on the stored bytes), per column the test, statistic,
// p-value, threshold and verdict, and reference against current distributions: the server's
// own (asked for with distributions: true — 30 bins over both versions' range, or the most
// frequent categories, from the data the tests ran on), or, from a server that does not send
// them, estimates from the two versions' stored profiles.
import { datasetVersions, driftBetween, getDatasetVersion, isMissingRoute, ApiError, DatasetVersion, DriftReport } from "../api";
import { h, formatNumber, errorBox } from "../dom";
import { hashFor, Route } from "../route";
import { compareDistributions, distributionChart, distributionKey, reportDistribution } from "../profile";
import { missingApi } from "./studies";

const fixed = (v: number | null | undefined) => (v === null || v === undefined ? "–" : formatNumber(v));

export async function renderDrift(view: HTMLElement, name: string, route: Route, attach: () => void) {
  document.title = `Drift · ${name} · Plinth`;
  view.append(
    h(
      "nav.crumbs",
      { "aria-label": "Breadcrumb" },
      h("a", { href: "#/datasets" }, "Datasets"),
      " / ",
      h("a", { href: hashFor(["datasets", name]) }, name),
      " / ",
      h("span", {}, "Drift"),
    ),
    h("h1", {}, `Drift: ${name}`),
  );
  let versions: DatasetVersion[];
  try {
    versions = (await datasetVersions(name)).sort((a, b) => a.version - b.version);
  } catch (e) {
    view.append(isMissingRoute(e) ? missingApi("datasets") : errorBox(e));
    attach();
    return;
  }
  if (versions.length < 1) {
    view.append(h("p.muted", {}, `No dataset named “${name}”.`));
    attach();
    return;
  }
  const parse = (s: string | null) => {
    const n = Number((s ?? "").replace(/^v/, ""));
    return versions.some((v) => v.version === n) ? n : undefined;
  };
  const last = versions[versions.length - 1].version;
  const current = parse(route.query.get("current")) ?? last;
  const reference = parse(route.query.get("reference")) ?? [...versions].reverse().find((v) => v.version < current)?.version ?? current;

  const pick = (id: string, text: string, value: number) => {
    const sel = h("select", { id, name: id }, ...versions.map((v) => h("option", { value: String(v.version), selected: v.version === value }, `v${v.version}${v.description ? ` — ${v.description}` : ""}`)));
    return { sel, label: h("label.control", {}, text + " ", sel) };
  };
  const ref = pick("reference", "Reference", reference);
  const cur = pick("current", "Current", current);
  const form = h("form.toolbar.controls", {}, ref.label, cur.label, h("button", { type: "submit" }, "Compare"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = hashFor(["datasets", name, "drift"], { reference: `v${ref.sel.value}`, current: `v${cur.sel.value}` });
  });
  view.append(form);
  if (reference === current) {
    view.append(h("p.muted", {}, versions.length < 2 ? "Only one version: add another (plinth data add) to compare." : "Choose two different versions."));
    attach();
    return;
  }

  let report: DriftReport;
  let refVersion: DatasetVersion | undefined;
  let curVersion: DatasetVersion | undefined;
  try {
    [report, refVersion, curVersion] = await Promise.all([
      driftBetween(`${name}@${reference}`, `${name}@${current}`),
      getDatasetVersion(name, reference).catch(() => undefined),
      getDatasetVersion(name, current).catch(() => undefined),
    ]);
  } catch (e) {
    if (isMissingRoute(e)) view.append(missingApi("drift reports"));
    else view.append(errorBox(e instanceof ApiError ? `The server could not compare v${reference} and v${current}: ${e.message}` : e));
    attach();
    return;
  }

  const names = Object.keys(report.columns);
  view.append(
    h(
      "p",
      { id: "drift-summary" },
      report.dataset_drift ? h("span.badge.failed", {}, "dataset drift") : h("span.badge.finished", {}, "no dataset drift"),
      ` ${report.number_of_drifted_columns} of ${report.number_of_columns} columns drifted (share ${formatNumber(Number(report.drift_share.toPrecision(3)))}, threshold ${formatNumber(report.drift_share_threshold)})`,
      report.reference_rows !== undefined ? ` · reference v${reference}: ${formatNumber(report.reference_rows)} rows, current v${current}: ${formatNumber(report.current_rows ?? 0)} rows` : "",
    ),
    h(
      "div.table-wrap",
      { role: "region", "aria-label": "Drift per column", tabindex: 0 },
      h(
        "table.grid",
        { id: "drift" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Column"),
            h("th", { scope: "col" }, "Type"),
            h("th", { scope: "col" }, "Test"),
            h("th.num", { scope: "col" }, "Statistic"),
            h("th.num", { scope: "col" }, "p-value"),
            h("th.num", { scope: "col" }, "Threshold"),
            h("th", { scope: "col" }, "Drifted"),
          ),
        ),
        h(
          "tbody",
          {},
          ...names.map((c) => {
            const d = report.columns[c];
            return h(
              "tr",
              { "data-column": c, "data-drifted": String(d.drifted) },
              h("td", {}, h("a", { href: `#drift-plot-${encodeURIComponent(c)}`, onclick: (ev: Event) => {
                ev.preventDefault();
                view.querySelector<HTMLElement>(`figure[data-column="${CSS.escape(c)}"]`)?.scrollIntoView({ block: "center" });
              } }, c)),
              h("td", {}, d.column_type === "num" ? "numerical" : "categorical"),
              h("td", {}, d.test + (d.default_test === false ? " (chosen)" : "")),
              h("td.num", {}, fixed(d.statistic)),
              h("td.num", { title: d.p_value === null ? "this test gives a distance, compared with the threshold" : null }, fixed(d.p_value)),
              h("td.num", {}, fixed(d.threshold)),
              h("td", {}, d.drifted ? h("span.badge.failed", {}, "drift") : h("span.badge.finished", {}, "no")),
            );
          }),
        ),
      ),
    ),
  );
  if (report.skipped?.length) {
    view.append(h("h2", {}, "Not compared"), h("ul", {}, ...report.skipped.map((s) => h("li", {}, s))));
  }

  const refCols = new Map((refVersion?.profile?.columns ?? []).map((c) => [c.name, c]));
  const curCols = new Map((curVersion?.profile?.columns ?? []).map((c) => [c.name, c]));
  const plots: (() => void)[] = [];
  // The server's own bins and categories when it sent them (the data the tests ran on); else
  // an estimate from the two versions' stored profiles.
  const exact = names.some((c) => reportDistribution(report.columns[c]) !== null);
  const figures = names.map((c) => {
    const d = report.columns[c];
    const dist = reportDistribution(d) ?? compareDistributions(refCols.get(c), curCols.get(c), d.column_type === "cat");
    const box = h("div.mini-chart");
    const fig = h(
      "figure.chart.column-drift",
      { "data-column": c },
      h("figcaption", {}, c, " ", d.drifted ? h("span.badge.failed", {}, "drift") : h("span.badge.finished", {}, "no drift")),
      dist ? box : h("p.muted", {}, "No stored profile to plot."),
    );
    if (dist) {
      plots.push(() => {
        distributionChart(box, dist);
        fig.classList.add("drawn");
      });
    }
    return fig;
  });
  view.append(
    h("h2", {}, "Reference and current distributions"),
    h(
      "p.muted.small",
      {},
      exact
        ? "Shares of the non-null values per bin (numbers: 30 equal bins over both versions' range) or category (the most frequent), computed by the server from the data the tests ran on."
        : "Shares of the non-null values, drawn from each version's stored profile (numbers: its 20-bin histogram re-binned onto common bins; categories: its most frequent values). The tests above ran on the full data.",
    ),
    distributionKey(),
    h("div.profile-grid", { id: "drift-plots" }, ...figures),
  );
  attach();
  for (const p of plots) p();
}
