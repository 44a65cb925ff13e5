// One dataset (#/datasets/<name>?version=N): every version (rows, columns, size, digest,
// source, validation), and for the chosen version (default: the latest) its schema, its
// profile per column (profile.ts) and the stored validation result, expectation by
// expectation. Each version links to a drift report against the one before it.
import { datasetVersions, getDatasetVersion, isMissingRoute, ApiError, DatasetVersion, ExpectationResult, Validation } from "../api";
import { h, formatTime, formatNumber, formatBytes, errorBox } from "../dom";
import { hashFor, Route } from "../route";
import { columnCard } from "../profile";
import { missingApi } from "./studies";
import { validationBadge } from "./datasets";

function shortJson(v: unknown): string {
  if (v === undefined) return "";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 120 ? s.slice(0, 119) + "…" : s;
}

function expectationRow(r: ExpectationResult) {
  const kwargs = { ...(r.expectation_config?.kwargs ?? {}) };
  const column = kwargs.column ?? kwargs.column_list ?? (kwargs.column_A ? `${kwargs.column_A}, ${kwargs.column_B}` : "");
  delete kwargs.column;
  delete kwargs.column_list;
  const res = r.result ?? {};
  let observed: unknown = res.observed_value;
  if (observed === undefined && res.partial_unexpected_list?.length) {
    const distinct = [...new Set(res.partial_unexpected_list.map((x) => shortJson(x)))];
    observed = `unexpected: ${distinct.slice(0, 5).join(", ")}${distinct.length > 5 ? ", …" : ""}`;
  }
  if (r.exception_info?.raised_exception) observed = r.exception_info.exception_message ?? "error";
  const rows = res.partial_unexpected_rows ?? [];
  return h(
    "tr",
    { "data-success": String(r.success) },
    h("td", {}, r.expectation_config?.expectation_type ?? ""),
    h("td", {}, shortJson(column)),
    h("td.args", { title: JSON.stringify(kwargs) }, shortJson(kwargs)),
    h("td", {}, r.success ? h("span.badge.finished", {}, "success") : h("span.badge.failed", {}, "failed")),
    h("td.value", { title: rows.length ? `rows ${rows.slice(0, 10).map((x) => `${x.row} (line ${x.line})`).join(", ")}` : null }, shortJson(observed)),
    h("td.num", {}, res.unexpected_count === undefined ? "" : formatNumber(res.unexpected_count)),
    h("td.num", {}, res.unexpected_percent === undefined ? "" : `${formatNumber(Number(res.unexpected_percent.toPrecision(4)))}%`),
  );
}

function validationSection(v: Validation | undefined, success: boolean | undefined): HTMLElement {
  const box = h("section", { id: "validation" }, h("h2", {}, "Validation"));
  if (!v) {
    box.append(h("p.muted", {}, success === undefined ? "No suite was run on this version (plinth data add … --suite suite.yaml)." : `Stored result: ${success ? "passed" : "failed"} (details not stored).`));
    return box;
  }
  const st = v.statistics ?? {};
  box.append(
    h(
      "p",
      {},
      v.success ? h("span.badge.finished", {}, "passed") : h("span.badge.failed", {}, "failed"),
      ` ${st.successful_expectations ?? 0} of ${st.evaluated_expectations ?? (v.results ?? []).length} expectations met`,
      v.meta?.expectation_suite_name ? ` (suite ${String(v.meta.expectation_suite_name)})` : "",
    ),
  );
  const violations = v.schema?.violations ?? [];
  if (violations.length) {
    box.append(
      h("h3", {}, `Schema violations (${violations.length})`),
      h(
        "ul.violations",
        {},
        ...violations.slice(0, 20).map((x) =>
          h("li", {}, [x.row !== undefined ? `row ${x.row}` : "", x.line !== undefined ? `line ${x.line}` : "", x.column ?? "", x.message ?? shortJson(x)].filter(Boolean).join(" · ")),
        ),
      ),
    );
  }
  if ((v.results ?? []).length) {
    box.append(
      h(
        "div.table-wrap",
        { role: "region", "aria-label": "Expectations", tabindex: 0 },
        h(
          "table.grid",
          { id: "expectations" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Expectation"),
              h("th", { scope: "col" }, "Column"),
              h("th", { scope: "col" }, "Arguments"),
              h("th", { scope: "col" }, "Result"),
              h("th", { scope: "col" }, "Observed"),
              h("th.num", { scope: "col" }, "Unexpected"),
              h("th.num", { scope: "col" }, "Unexpected %"),
            ),
          ),
          h("tbody", {}, ...(v.results ?? []).map(expectationRow)),
        ),
      ),
    );
  }
  return box;
}

export async function renderDataset(view: HTMLElement, name: string, route: Route, attach: () => void) {
  document.title = `${name} · Datasets · Plinth`;
  view.append(h("nav.crumbs", { "aria-label": "Breadcrumb" }, h("a", { href: "#/datasets" }, "Datasets"), " / ", h("span", {}, name)));
  let versions: DatasetVersion[];
  let chosen: DatasetVersion;
  const asked = Number((route.query.get("version") ?? "").replace(/^v/, ""));
  try {
    versions = await datasetVersions(name);
    if (!versions.length) throw new ApiError(404, "RESOURCE_DOES_NOT_EXIST", `No dataset named “${name}”.`);
    chosen = await getDatasetVersion(name, asked > 0 ? asked : undefined);
  } catch (e) {
    view.append(h("h1", {}, name));
    if (isMissingRoute(e)) view.append(missingApi("datasets"));
    else if (e instanceof ApiError && e.status === 404) view.append(h("p.muted", {}, e.message));
    else view.append(errorBox(e));
    attach();
    return;
  }
  const byVersion = [...versions].sort((a, b) => a.version - b.version);
  const previous = (v: number) => [...byVersion].reverse().find((x) => x.version < v)?.version;
  const latest = byVersion[byVersion.length - 1].version;
  const prev = previous(latest);
  view.append(
    h(
      "div.section-head",
      {},
      h("h1", {}, name),
      prev !== undefined
        ? h("a.button", { href: hashFor(["datasets", name, "drift"], { reference: `v${prev}`, current: `v${latest}` }) }, `Drift v${prev} → v${latest}`)
        : "",
    ),
    h("h2", {}, `Versions (${versions.length})`),
    h(
      "div.table-wrap",
      { role: "region", "aria-label": "Versions", tabindex: 0 },
      h(
        "table.grid",
        { id: "versions" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th.num", { scope: "col" }, "Version"),
            h("th", { scope: "col" }, "Created"),
            h("th.num", { scope: "col" }, "Rows"),
            h("th.num", { scope: "col" }, "Columns"),
            h("th.num", { scope: "col" }, "Size"),
            h("th", { scope: "col" }, "SHA-256"),
            h("th", { scope: "col" }, "Validation"),
            h("th", { scope: "col" }, "Description"),
            h("th", { scope: "col" }, "Drift"),
          ),
        ),
        h(
          "tbody",
          {},
          ...versions.map((v) => {
            const p = previous(v.version);
            return h(
              "tr",
              { "data-version": v.version, "aria-current": v.version === chosen.version ? "true" : null },
              h("td.num", {}, h("a", { href: hashFor(["datasets", name], { version: String(v.version) }) }, `v${v.version}`)),
              h("td.nowrap", {}, formatTime(v.creation_timestamp)),
              h("td.num", {}, v.num_rows === undefined ? "" : formatNumber(v.num_rows)),
              h("td.num", {}, v.num_columns === undefined ? "" : formatNumber(v.num_columns)),
              h("td.num", {}, formatBytes(v.size_bytes)),
              h("td", { title: v.digest }, h("code", {}, v.digest.slice(0, 12))),
              h("td", {}, validationBadge(v)),
              h("td.desc", { title: v.description ?? "" }, v.description ?? ""),
              h("td", {}, p !== undefined ? h("a", { href: hashFor(["datasets", name, "drift"], { reference: `v${p}`, current: `v${v.version}` }) }, `vs v${p}`) : ""),
            );
          }),
        ),
      ),
    ),
  );

  const v = chosen;
  const schema = v.schema ?? [];
  const types = new Map(schema.map((f) => [f.name, f.type]));
  view.append(
    h("h2", { id: "version-head" }, `Version ${v.version}`),
    h(
      "dl.overview",
      {},
      ...(
        [
          ["SHA-256", h("code", {}, v.digest)],
          ["Source", v.source ?? ""],
          ["Format", v.format ?? ""],
          ["Stored at", v.storage_uri ?? ""],
          ["Size", `${formatBytes(v.size_bytes)} (${formatNumber(v.size_bytes)} bytes)`],
          ["Created", `${formatTime(v.creation_timestamp)}${v.user_id ? ` by ${v.user_id}` : ""}`],
          ["Description", v.description || h("span.muted", {}, "–")],
        ] as [string, Node | string][]
      ).flatMap(([k, x]) => [h("dt", {}, k), h("dd", {}, x)]),
    ),
  );
  const cols = v.profile?.columns ?? [];
  view.append(
    h("h2", {}, "Schema"),
    schema.length
      ? h(
          "div.table-wrap.narrow-table",
          { role: "region", "aria-label": "Schema", tabindex: 0 },
          h(
            "table.grid",
            { id: "schema" },
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Column"), h("th", { scope: "col" }, "Type"), h("th.num", { scope: "col" }, "Nulls"))),
            h(
              "tbody",
              {},
              ...schema.map((f) => {
                const p = cols.find((c) => c.name === f.name);
                return h("tr", {}, h("td", {}, f.name), h("td", {}, f.type + (f.nullable === false ? " (not null)" : "")), h("td.num", {}, p ? formatNumber(p.null_count) : ""));
              }),
            ),
          ),
        )
      : h("p.muted", {}, "No schema stored (the bytes were not read as CSV)."),
  );
  const cards = cols.map((c) => columnCard(c, types.get(c.name)));
  view.append(
    h("h2", {}, "Profile"),
    cards.length
      ? h("div.profile-grid", { id: "profile" }, ...cards.map((c) => c.card))
      : h("p.muted", {}, "No profile stored (plinth data add profiles CSV files)."),
    validationSection(v.validation, v.validation_success),
  );
  attach();
  for (const c of cards) c.draw();
}
