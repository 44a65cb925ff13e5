// Registered models: a search box (name, case-insensitive substring, evaluated by the server),
// and per model its latest version, aliases, last update and description.
import { searchRegisteredModels, quoteString, RegisteredModel } from "../api";
import { h, formatTime, errorBox } from "../dom";
import { hashFor, Route } from "../route";

export async function renderModels(view: HTMLElement, route: Route, attach: () => void) {
  document.title = "Models · Plinth";
  const needle = route.query.get("q") ?? "";
  const input = h("input.search", {
    type: "search",
    name: "q",
    value: needle,
    placeholder: "Search models by name",
    "aria-label": "Search models by name",
  });
  const form = h("form.toolbar", { role: "search" }, input, h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = hashFor(["models"], { q: input.value.trim() });
  });
  view.append(h("h1", {}, "Models"), form);
  const models: RegisteredModel[] = [];
  try {
    const filter = needle ? `name ILIKE ${quoteString(`%${needle}%`)}` : "";
    let token: string | undefined;
    do {
      const r = await searchRegisteredModels(filter, token);
      models.push(...(r.registered_models ?? []));
      token = r.next_page_token || undefined;
    } while (token && models.length < 10000);
  } catch (e) {
    view.append(errorBox(e));
    attach();
    return;
  }
  const latest = (m: RegisteredModel) =>
    (m.latest_versions ?? []).reduce((best, v) => Math.max(best, Number(v.version)), 0);
  view.append(
    h("p.muted", { "aria-live": "polite" }, `${models.length} model${models.length === 1 ? "" : "s"}${needle ? ` matching “${needle}”` : ""}`),
    models.length
      ? h(
          "div.table-wrap",
          {},
          h(
            "table.grid",
            { id: "models" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", { scope: "col" }, "Name"),
                h("th.num", { scope: "col" }, "Latest version"),
                h("th", { scope: "col" }, "Aliases"),
                h("th", { scope: "col" }, "Last update"),
                h("th", { scope: "col" }, "Description"),
              ),
            ),
            h(
              "tbody",
              {},
              ...models.map((m) =>
                h(
                  "tr",
                  { "data-model": m.name },
                  h("td", {}, h("a", { href: hashFor(["models", m.name]) }, m.name)),
                  h("td.num", {}, latest(m) ? h("a", { href: hashFor(["models", m.name, "versions", String(latest(m))]) }, `v${latest(m)}`) : ""),
                  h(
                    "td",
                    {},
                    ...(m.aliases ?? []).map((a) =>
                      h("a.chip", { href: hashFor(["models", m.name, "versions", a.version]) }, `@${a.alias} → v${a.version}`),
                    ),
                  ),
                  h("td.nowrap", {}, formatTime(m.last_updated_timestamp)),
                  h("td.desc", { title: m.description ?? "" }, (m.description ?? "").split("\n")[0]),
                ),
              ),
            ),
          ),
        )
      : h("p.muted", {}, needle ? "No model matches." : "No registered models yet: mlflow.register_model(…) or plinth models …"),
  );
  attach();
}
