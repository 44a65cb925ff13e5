// The runs of one experiment: MLflow's filter grammar in a search box, server-side sorting by
// clicking a column header, page tokens for paging (the DOM never holds more than one page, so
// it stays fast at any run count), a column chooser over the page's params/metrics/tags, and
// keyboard navigation (arrows, Home/End, PageUp/PageDown, Enter opens the run, Space selects
// it). Selected runs (checkboxes, kept across pages) open together on the compare page.
import { getExperiment, searchRuns, Run } from "../api";
import { h, formatTime, formatDuration, formatNumber, errorBox } from "../dom";
import { hashFor, Route } from "../route";

const PAGE_SIZES = [25, 100, 250, 1000];

type Kind = "metrics" | "params" | "tags";
interface Column {
  kind: Kind;
  key: string;
}
const colId = (c: Column) => `${c.kind}.${c.key}`;

// MLflow's grammar quotes identifiers that are not plain words with backticks.
export function quoteKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : "`" + key.replace(/`/g, "") + "`";
}

const ATTRIBUTE_COLUMNS: { label: string; order: string }[] = [
  { label: "Run", order: "attributes.run_name" },
  { label: "Started", order: "attributes.start_time" },
  { label: "Duration", order: "" },
  { label: "Status", order: "attributes.status" },
];

function storedColumns(experimentId: string): Column[] | null {
  try {
    const raw = localStorage.getItem(`plinth.columns.${experimentId}`);
    return raw ? (JSON.parse(raw) as Column[]) : null;
  } catch {
    return null;
  }
}

function storeColumns(experimentId: string, cols: Column[]) {
  try {
    localStorage.setItem(`plinth.columns.${experimentId}`, JSON.stringify(cols));
  } catch {
    // Private windows may refuse storage; the choice then lasts for this page only.
  }
}

function cellValue(run: Run, c: Column): string {
  if (c.kind === "metrics") {
    const m = run.data.metrics?.find((x) => x.key === c.key);
    return m ? formatNumber(m.value) : "";
  }
  const list = c.kind === "params" ? run.data.params : run.data.tags;
  return list?.find((x) => x.key === c.key)?.value ?? "";
}

export async function renderRuns(
  view: HTMLElement,
  experimentId: string,
  route: Route,
  attach: () => void,
) {
  const filter = route.query.get("filter") ?? "";
  const order = route.query.get("order") ?? "";
  const pageSize = Number(route.query.get("size")) || 100;
  const navigate = (q: { filter?: string; order?: string; size?: number }) => {
    location.hash = hashFor(["experiments", experimentId], {
      filter: q.filter ?? filter,
      order: q.order ?? order,
      size: String(q.size ?? pageSize) === "100" ? undefined : String(q.size ?? pageSize),
    });
  };

  let experimentName = experimentId;
  try {
    experimentName = (await getExperiment(experimentId)).name;
  } catch (e) {
    view.append(errorBox(e));
    return;
  }
  document.title = `${experimentName} · Plinth`;

  const input = h("input.search.filter", {
    type: "search",
    name: "filter",
    value: filter,
    placeholder: "metrics.acc > 0.5 and params.lr = '0.01' and tags.team = 'x'",
    "aria-label": "Filter runs (MLflow search syntax)",
    spellcheck: "false",
    autocomplete: "off",
  });
  const form = h(
    "form.toolbar",
    { role: "search" },
    input,
    h("button", { type: "submit" }, "Search"),
    filter ? h("a.button", { href: hashFor(["experiments", experimentId], { order }) }, "Clear") : null,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    navigate({ filter: input.value.trim() });
  });

  const status = h("div.status", { "aria-live": "polite" });
  // Selected runs survive paging, sorting and filtering within this page view.
  const selected = new Map<string, string>(); // run id → name
  const compare = h("button.primary", { type: "button", id: "compare", disabled: true }, "Compare");
  const clearSel = h("button", { type: "button", hidden: true }, "Clear selection");
  const updateSelection = () => {
    compare.textContent = selected.size ? `Compare ${selected.size} runs` : "Compare";
    compare.disabled = selected.size < 1;
    compare.title = selected.size ? "" : "Select runs with the checkboxes (or Space on a row)";
    clearSel.hidden = selected.size === 0;
  };
  compare.addEventListener("click", () => {
    location.hash = hashFor(["compare"], { runs: [...selected.keys()].join(","), experiment: experimentId });
  });
  clearSel.addEventListener("click", () => {
    selected.clear();
    for (const box of tableWrap.querySelectorAll<HTMLInputElement>("input.select")) box.checked = false;
    updateSelection();
  });
  const tableWrap = h("div.table-wrap");
  const chooser = h("details.chooser");
  const pager = h("nav.pager", { "aria-label": "Pages" });
  view.append(
    h(
      "nav.crumbs",
      { "aria-label": "Breadcrumb" },
      h("a", { href: "#/" }, "Experiments"),
      " / ",
      h("span", {}, experimentName),
    ),
    h("h1", {}, experimentName),
    form,
    h("div.toolbar", {}, chooser, compare, clearSel, status),
    tableWrap,
    pager,
  );

  // Page tokens seen so far: tokens[i] fetches page i.
  const tokens: (string | undefined)[] = [undefined];
  let pageIndex = 0;
  let columns: Column[] | null = storedColumns(experimentId);

  const loadPage = async (index: number) => {
    status.textContent = "Loading…";
    let runs: Run[];
    let next: string | undefined;
    try {
      const r = await searchRuns({
        experimentId,
        filter,
        orderBy: order ? [order] : [],
        maxResults: pageSize,
        pageToken: tokens[index],
      });
      runs = r.runs ?? [];
      next = r.next_page_token || undefined;
    } catch (e) {
      status.textContent = "";
      tableWrap.replaceChildren(errorBox(e));
      attach();
      return;
    }
    pageIndex = index;
    tokens[index + 1] = next;
    tokens.length = index + 2;

    const available = new Map<string, Column>();
    for (const kind of ["metrics", "params", "tags"] as Kind[]) {
      const keys = new Set<string>();
      for (const run of runs) for (const kv of run.data[kind] ?? []) keys.add(kv.key);
      for (const key of [...keys].sort()) {
        if (kind === "tags" && key.startsWith("mlflow.")) continue;
        available.set(`${kind}.${key}`, { kind, key });
      }
    }
    if (!columns) {
      const all = [...available.values()];
      columns = [
        ...all.filter((c) => c.kind === "metrics").slice(0, 8),
        ...all.filter((c) => c.kind === "params").slice(0, 6),
      ];
    }
    renderChooser(available);
    renderTable(runs);
    const first = index * pageSize + 1;
    status.textContent = runs.length
      ? `Runs ${first}–${first + runs.length - 1}${next ? "" : " (last page)"}`
      : "No runs match.";
    pager.replaceChildren(
      h("button", { type: "button", disabled: index === 0, onclick: () => void loadPage(index - 1) }, "← Previous"),
      h("span.muted", {}, `Page ${index + 1}`),
      h("button", { type: "button", disabled: !next, onclick: () => void loadPage(index + 1) }, "Next →"),
      h(
        "label",
        {},
        "Rows ",
        (() => {
          const sel = h(
            "select",
            { "aria-label": "Rows per page" },
            ...PAGE_SIZES.map((n) => h("option", { value: n, selected: n === pageSize }, String(n))),
          );
          sel.addEventListener("change", () => navigate({ size: Number(sel.value) }));
          return sel;
        })(),
      ),
    );
    attach();
  };

  const renderChooser = (available: Map<string, Column>) => {
    const chosen = new Set(columns!.map(colId));
    // Chosen columns absent from this page stay listed so they can be removed.
    for (const c of columns!) if (!available.has(colId(c))) available.set(colId(c), c);
    const groups = (["metrics", "params", "tags"] as Kind[]).map((kind) => {
      const items = [...available.values()].filter((c) => c.kind === kind);
      if (!items.length) return null;
      return h(
        "fieldset",
        {},
        h("legend", {}, kind),
        ...items.map((c) => {
          const box = h("input", { type: "checkbox", checked: chosen.has(colId(c)), "data-col": colId(c) });
          box.addEventListener("change", () => {
            columns = box.checked ? [...columns!, c] : columns!.filter((x) => colId(x) !== colId(c));
            storeColumns(experimentId, columns);
            void loadPage(pageIndex);
          });
          return h("label", {}, box, " ", c.key);
        }),
      );
    });
    const wasOpen = chooser.open;
    chooser.replaceChildren(
      h("summary", {}, `Columns (${columns!.length})`),
      h("div.chooser-body", {}, ...groups),
    );
    chooser.open = wasOpen;
  };

  const headerCell = (label: string, orderKey: string, title?: string, numeric = false) => {
    if (!orderKey) return h("th", { scope: "col" }, label);
    const [curKey, curDir] = order.split(/\s+(?=(?:ASC|DESC)$)/i);
    const active = curKey === orderKey;
    const dir = active ? (curDir ?? "ASC").toUpperCase() : "";
    const nextDir = active ? (dir === "DESC" ? "ASC" : "DESC") : numeric ? "DESC" : "ASC";
    return h(
      `th${numeric ? ".num" : ""}`,
      { scope: "col", "aria-sort": active ? (dir === "DESC" ? "descending" : "ascending") : null, title },
      h(
        "button.sort",
        { type: "button", onclick: () => navigate({ order: `${orderKey} ${nextDir}` }) },
        label,
        h("span.arrow", { "aria-hidden": "true" }, active ? (dir === "DESC" ? " ▼" : " ▲") : ""),
      ),
    );
  };

  const renderTable = (runs: Run[]) => {
    const cols = columns!;
    const allBox = h("input.select-all", { type: "checkbox", "aria-label": "Select all runs on this page" });
    allBox.checked = runs.length > 0 && runs.every((r) => selected.has(r.info.run_id));
    allBox.addEventListener("change", () => {
      for (const r of runs) {
        if (allBox.checked) selected.set(r.info.run_id, r.info.run_name || r.info.run_id);
        else selected.delete(r.info.run_id);
      }
      for (const box of tableWrap.querySelectorAll<HTMLInputElement>("tbody input.select")) box.checked = allBox.checked;
      updateSelection();
    });
    const head = h(
      "tr",
      {},
      h("th.select", { scope: "col" }, allBox),
      ...ATTRIBUTE_COLUMNS.map((a) => headerCell(a.label, a.order)),
      ...cols.map((c) =>
        headerCell(c.key, `${c.kind}.${quoteKey(c.key)}`, `${c.kind}.${c.key}`, c.kind === "metrics"),
      ),
    );
    const rows = runs.map((run, i) => {
      const box = h("input.select", {
        type: "checkbox",
        tabindex: -1,
        "aria-label": `Select ${run.info.run_name || run.info.run_id}`,
      });
      box.checked = selected.has(run.info.run_id);
      box.addEventListener("change", () => {
        if (box.checked) selected.set(run.info.run_id, run.info.run_name || run.info.run_id);
        else selected.delete(run.info.run_id);
        allBox.checked = runs.every((r) => selected.has(r.info.run_id));
        updateSelection();
      });
      return h(
        "tr",
        { tabindex: i === 0 ? 0 : -1, "data-run-id": run.info.run_id },
        h("td.select", {}, box),
        h(
          "td",
          {},
          h("a", { href: hashFor(["runs", run.info.run_id]), tabindex: -1 }, run.info.run_name || run.info.run_id),
        ),
        h("td.nowrap", {}, formatTime(run.info.start_time)),
        h("td.nowrap", {}, formatDuration(run.info.start_time, run.info.end_time)),
        h("td", {}, h(`span.badge.${(run.info.status ?? "").toLowerCase()}`, {}, run.info.status ?? "")),
        ...cols.map((c) => h(c.kind === "metrics" ? "td.num" : "td", {}, cellValue(run, c))),
      );
    });
    const tbody = h("tbody", {}, ...rows);
    tbody.addEventListener("keydown", (ev) => onKey(ev, rows));
    tbody.addEventListener("click", (ev) => {
      const tr = (ev.target as HTMLElement).closest("tr");
      if (tr && !(ev.target as HTMLElement).closest("a")) focusRow(rows, rows.indexOf(tr as HTMLTableRowElement));
    });
    tableWrap.replaceChildren(
      h(
        "table.grid.runs",
        { id: "runs", "aria-label": `Runs of ${experimentName}`, "aria-rowcount": runs.length + 1 },
        h("thead", {}, head),
        tbody,
      ),
    );
  };

  const focusRow = (rows: HTMLTableRowElement[], i: number) => {
    if (!rows.length) return;
    const k = Math.max(0, Math.min(rows.length - 1, i));
    for (const r of rows) r.tabIndex = -1;
    rows[k].tabIndex = 0;
    rows[k].focus();
  };

  const onKey = (ev: KeyboardEvent, rows: HTMLTableRowElement[]) => {
    const current = rows.indexOf(document.activeElement as HTMLTableRowElement);
    if (current < 0) return;
    const moves: Record<string, number> = {
      ArrowDown: current + 1,
      ArrowUp: current - 1,
      PageDown: current + 10,
      PageUp: current - 10,
      Home: 0,
      End: rows.length - 1,
    };
    if (ev.key in moves) {
      ev.preventDefault();
      focusRow(rows, moves[ev.key]);
    } else if (ev.key === " ") {
      ev.preventDefault();
      const box = rows[current].querySelector<HTMLInputElement>("input.select");
      if (box) {
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change"));
      }
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      location.hash = hashFor(["runs", rows[current].dataset.runId!]);
    }
  };

  await loadPage(0);
}
