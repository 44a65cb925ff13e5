// Entry point: renders the page named by the location hash (see route.ts) and re-renders on
// every hash change. Each page builds into a detached node; only the newest navigation is shown.
import { renderExperiments } from "./pages/experiments";
import { renderRuns } from "./pages/runs";
import { renderRun } from "./pages/run";
import { renderCompare } from "./pages/compare";
import { renderModels } from "./pages/models";
import { renderModel } from "./pages/model";
import { renderVersion } from "./pages/version";
import { renderStudies } from "./pages/studies";
import { renderStudy } from "./pages/study";
import { renderDatasets } from "./pages/datasets";
import { renderDataset } from "./pages/dataset";
import { renderDrift } from "./pages/drift";
import { h } from "./dom";
import { parseHash } from "./route";
import "./style.css";

let generation = 0;

async function render() {
  const root = document.getElementById("app")!;
  const route = parseHash(location.hash);
  const mine = ++generation;
  const view = h("div.page");
  const attach = () => {
    if (mine === generation && view.parentNode !== root) root.replaceChildren(view);
  };
  const [first, id, sub, version] = route.path;
  for (const a of document.querySelectorAll<HTMLAnchorElement>("header.top nav a")) {
    const section = ["models", "studies", "datasets"].includes(first) ? first : "experiments";
    if (a.dataset.section === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (first === "studies" && id) {
    await renderStudy(view, id, route, attach);
  } else if (first === "studies") {
    await renderStudies(view, attach);
  } else if (first === "datasets" && id && sub === "drift") {
    await renderDrift(view, id, route, attach);
  } else if (first === "datasets" && id) {
    await renderDataset(view, id, route, attach);
  } else if (first === "datasets") {
    await renderDatasets(view, attach);
  } else if (first === "models" && id && sub === "versions" && version) {
    await renderVersion(view, id, version, attach);
  } else if (first === "models" && id) {
    await renderModel(view, id, attach);
  } else if (first === "models") {
    await renderModels(view, route, attach);
  } else if (first === "compare") {
    await renderCompare(view, route, attach);
  } else if (first === "experiments" && id) {
    await renderRuns(view, id, route, attach);
  } else if (first === "runs" && id) {
    await renderRun(view, id, attach);
  } else {
    await renderExperiments(view, attach);
  }
  attach();
}

window.addEventListener("hashchange", () => void render());
void render();
