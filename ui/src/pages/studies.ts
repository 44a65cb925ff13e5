// Studies (plinth tune): name, direction(s), sampler, trial counts by state and the best value
// (or the size of the Pareto front), from api/plinth/v1/studies/list and …/best per study.
import { bestTrials, isMissingRoute, listStudies, Study, Trial } from "../api";
import { h, formatTime, formatNumber, errorBox } from "../dom";
import { hashFor } from "../route";

export const STATES = ["COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"] as const;

export const samplerName = (s: Study) => String(s.sampler?.type ?? s.sampler?.name ?? "–");

// The sampler's type with its seed, e.g. "tpe (seed 7)"; every option in `title`.
export function samplerText(s: Study): HTMLElement {
  const seed = s.sampler?.seed;
  return h("span", { title: JSON.stringify(s.sampler ?? {}) }, samplerName(s) + (seed !== undefined && seed !== null ? ` (seed ${seed})` : ""));
}

export const numberOf = (v: number | string | undefined | null): number =>
  typeof v === "number" ? v : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : NaN;

export function missingApi(what: string): HTMLElement {
  return h(
    "div.notice-box",
    { role: "status" },
    `This server does not serve ${what}. They come with plinth server (plinth tune and plinth data); `,
    "an MLflow server or an older plinth has only experiments and models.",
  );
}

export function stateBadges(counts: Record<string, number> | undefined): HTMLElement {
  const span = h("span.states");
  for (const s of STATES) {
    const n = counts?.[s] ?? 0;
    if (n) span.append(h(`span.badge.state-${s.toLowerCase()}`, { title: s }, `${n} ${s.toLowerCase()}`), " ");
  }
  if (!span.childNodes.length) span.append(h("span.muted", {}, "no trials"));
  return span;
}

function bestText(study: Study, best: Trial[] | Error | undefined): string {
  if (best === undefined) return "…";
  if (best instanceof Error) return "–";
  if (!best.length) return "–";
  if (study.directions.length > 1) return `${best.length} on the Pareto front`;
  const v = numberOf(best[0].value);
  return `${formatNumber(v)} (trial ${best[0].number})`;
}

export async function renderStudies(view: HTMLElement, attach: () => void) {
  document.title = "Studies · Plinth";
  view.append(h("h1", {}, "Studies"));
  let studies: Study[];
  try {
    studies = await listStudies();
  } catch (e) {
    view.append(isMissingRoute(e) ? missingApi("hyperparameter studies") : errorBox(e));
    attach();
    return;
  }
  if (!studies.length) {
    view.append(
      h("p.muted", {}, "No studies yet: plinth tune --config study.yaml -- python train.py, or POST api/plinth/v1/studies/create."),
    );
    attach();
    return;
  }
  const bestCells = new Map<string, HTMLElement>();
  const tbody = h(
    "tbody",
    {},
    ...studies.map((s) => {
      const cell = h("td.num", {}, "…");
      bestCells.set(s.name, cell);
      const metrics = s.metric_names ?? [];
      return h(
        "tr",
        { "data-study": s.name },
        h("td", {}, h("a", { href: hashFor(["studies", s.name]) }, s.name)),
        h(
          "td",
          {},
          s.directions.map((d, i) => `${d}${metrics[i] ? ` ${metrics[i]}` : ""}`).join(", "),
        ),
        h("td", {}, samplerText(s)),
        h("td", {}, stateBadges(s.trial_counts)),
        cell,
        h("td.nowrap", {}, formatTime(s.creation_time)),
      );
    }),
  );
  view.append(
    h("p.muted", {}, `${studies.length} stud${studies.length === 1 ? "y" : "ies"}`),
    h(
      "div.table-wrap",
      { role: "region", "aria-label": "Studies", tabindex: 0 },
      h(
        "table.grid",
        { id: "studies" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Name"),
            h("th", { scope: "col" }, "Direction"),
            h("th", { scope: "col" }, "Sampler"),
            h("th", { scope: "col" }, "Trials"),
            h("th.num", { scope: "col" }, "Best"),
            h("th", { scope: "col" }, "Created"),
          ),
        ),
        tbody,
      ),
    ),
  );
  attach();
  // Best values fill in as they arrive, four requests at a time.
  const queue = [...studies];
  const worker = async () => {
    for (let s = queue.shift(); s; s = queue.shift()) {
      let best: Trial[] | Error;
      try {
        best = await bestTrials(s.name);
      } catch (e) {
        best = e instanceof Error ? e : new Error(String(e));
      }
      bestCells.get(s.name)!.textContent = bestText(s, best);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  view.querySelector("#studies")?.classList.add("loaded");
}
