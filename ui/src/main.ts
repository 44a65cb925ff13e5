// Entry point: renders the page named by the location hash (see route.ts) and re-renders on
// every hash change. Each page builds into a detached node; only the newest navigation is shown.
import { renderExperiments } from "./pages/experiments";
import { renderRuns } from "./pages/runs";
import { renderRun } from "./pages/run";
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
  const [first, id] = route.path;
  if (first === "experiments" && id) {
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
