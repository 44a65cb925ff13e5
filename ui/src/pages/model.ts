// One registered model: description, tags, aliases with who moved them and when (Plinth's
// alias history), every version (stage, aliases, source run, creation), and promote / roll back
// buttons that ask for confirmation before moving an alias.
import {
  aliasHistory,
  getRegisteredModel,
  promote,
  rollback,
  searchModelVersions,
  quoteString,
  AliasEvent,
  ApiError,
  ModelVersion,
  RegisteredModel,
} from "../api";
import { h, formatTime, errorBox } from "../dom";
import { confirmDialog } from "../dialog";
import { renderMarkdown } from "../markdown";
import { hashFor } from "../route";

const USER_KEY = "plinth.user";

function storedUser(): string {
  try {
    return localStorage.getItem(USER_KEY) ?? "";
  } catch {
    return "";
  }
}

function storeUser(u: string) {
  try {
    localStorage.setItem(USER_KEY, u);
  } catch {
    // The name then lasts for this dialog only.
  }
}

// The version a rollback would return the alias to: the server's stack of holders (a move
// pushes, a rollback pops back to the version it returned to), skipping the current holder.
export function rollbackTarget(events: AliasEvent[], current?: string): string | undefined {
  const stack: (string | undefined)[] = [];
  for (const e of [...events].sort((a, b) => a.event_id - b.event_id)) {
    if (e.action === "rollback") {
      while (stack.length && stack[stack.length - 1] !== e.version) stack.pop();
      if (!stack.length) stack.push(e.version);
    } else stack.push(e.version);
  }
  while (stack.length) {
    const top = stack.pop();
    if (top && top !== current) return top;
  }
  return undefined;
}

function userField() {
  const input = h("input", { type: "text", id: "move-user", value: storedUser(), autocomplete: "username", placeholder: "your name (optional)" });
  return { input, field: h("label.field", {}, "Recorded as ", input) };
}

export const versionLink = (name: string, v: string) => h("a", { href: hashFor(["models", name, "versions", v]) }, `v${v}`);

export function describeEvent(e: AliasEvent): string {
  const from = e.previous_version ? `v${e.previous_version}` : "nothing";
  const to = e.version ? `v${e.version}` : "nothing";
  return `${from} → ${to}`;
}

// Asks (in a confirmation dialog) which alias to point at `version`, then promotes it and
// reports the move in `status`. Used by the model page and the model card.
export async function promoteFlow(
  name: string,
  version: string,
  aliases: { alias: string; version: string }[],
  status: HTMLElement,
): Promise<boolean> {
  const aliasNames = aliases.map((a) => a.alias);
  const aliasInput = h("input", { type: "text", id: "promote-alias", list: "alias-names", required: true, value: aliasNames.includes("production") ? "production" : aliasNames[0] ?? "", autocomplete: "off" });
  const current = h("p.muted.small", { "aria-live": "polite" });
  const showCurrent = () => {
    const a = aliases.find((x) => x.alias === aliasInput.value.trim());
    current.textContent = a ? `@${a.alias} points at v${a.version} now.` : aliasInput.value.trim() ? `@${aliasInput.value.trim()} is a new alias.` : "";
  };
  aliasInput.addEventListener("input", showCurrent);
  showCurrent();
  const user = userField();
  const ok = await confirmDialog({
    title: `Promote ${name} v${version}`,
    body: [
      h("p", {}, "Point an alias at this version. Everything that loads ", h("code", {}, `models:/${name}@alias`), " (and plinth serve following it) switches to it."),
    ],
    fields: [
      h("label.field", {}, "Alias ", aliasInput, h("datalist", { id: "alias-names" }, ...aliasNames.map((a) => h("option", { value: a })))),
      current,
      user.field,
    ],
    confirmLabel: "Promote",
  });
  if (!ok) return false;
  const alias = aliasInput.value.trim();
  if (!alias) {
    status.replaceChildren(errorBox(new Error("No alias given: nothing moved.")));
    return false;
  }
  storeUser(user.input.value.trim());
  try {
    const move = await promote(name, version, alias, user.input.value.trim());
    status.replaceChildren(h("p.ok", {}, `${name}@${move.alias} moved ${move.previous_version ? `v${move.previous_version}` : "nothing"} → v${move.version}.`));
    return true;
  } catch (e) {
    status.replaceChildren(errorBox(e));
    return false;
  }
}

export async function renderModel(view: HTMLElement, name: string, attach: () => void) {
  document.title = `${name} · Models · Plinth`;
  const status = h("div.notice", { role: "status", "aria-live": "polite" });
  const body = h("div");
  view.append(
    h("nav.crumbs", { "aria-label": "Breadcrumb" }, h("a", { href: "#/models" }, "Models"), " / ", h("span", {}, name)),
    h("h1", {}, name),
    status,
    body,
  );

  const load = async () => {
    let model: RegisteredModel;
    let versions: ModelVersion[];
    let events: AliasEvent[] = [];
    try {
      [model, versions] = await Promise.all([getRegisteredModel(name), searchModelVersions(`name = ${quoteString(name)}`)]);
    } catch (e) {
      body.replaceChildren(errorBox(e));
      return;
    }
    let historyNote: HTMLElement | null = null;
    try {
      events = await aliasHistory(name);
    } catch (e) {
      // A plain MLflow server has no alias history: the page works without it.
      historyNote = h("p.muted", {}, e instanceof ApiError && e.status === 404 ? "This server keeps no alias history." : String((e as Error).message));
    }
    const aliases = [...(model.aliases ?? [])].sort((a, b) => a.alias.localeCompare(b.alias));
    // Versions from a search may come without their aliases; the model's list is authoritative.
    const aliasesOf = (v: ModelVersion) => aliases.filter((a) => a.version === v.version).map((a) => a.alias);
    const lastMove = (alias: string) =>
      events.filter((e) => e.alias === alias).sort((a, b) => b.event_id - a.event_id)[0];

    const doPromote = async (v: ModelVersion) => {
      if (await promoteFlow(name, v.version, aliases, status)) await load();
    };

    const doRollback = async (alias: string, current: string, target: string) => {
      const user = userField();
      const ok = await confirmDialog({
        title: `Roll back ${name}@${alias}`,
        body: [h("p", {}, `Move @${alias} from v${current} back to v${target}, its previous holder.`)],
        fields: [user.field],
        confirmLabel: `Roll back to v${target}`,
        danger: true,
      });
      if (!ok) return;
      storeUser(user.input.value.trim());
      try {
        const move = await rollback(name, alias, user.input.value.trim());
        status.replaceChildren(h("p.ok", {}, `${name}@${move.alias} rolled back v${move.previous_version ?? "?"} → v${move.version}.`));
      } catch (e) {
        status.replaceChildren(errorBox(e));
      }
      await load();
    };

    const aliasTable = aliases.length
      ? h(
          "div.table-wrap",
          {},
          h(
            "table.grid",
            { id: "aliases" },
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Alias"), h("th", { scope: "col" }, "Version"), h("th", { scope: "col" }, "Last move"), h("th", { scope: "col" }, "By"), h("th", { scope: "col" }, "When"), h("th", { scope: "col" }, h("span.sr-only", {}, "Actions")))),
            h(
              "tbody",
              {},
              ...aliases.map((a) => {
                const last = lastMove(a.alias);
                const target = historyNote ? undefined : rollbackTarget(events.filter((e) => e.alias === a.alias), a.version);
                return h(
                  "tr",
                  { "data-alias": a.alias },
                  h("td", {}, h("span.chip", {}, `@${a.alias}`)),
                  h("td", {}, versionLink(name, a.version)),
                  h("td", {}, last ? `${describeEvent(last)} (${last.action})` : ""),
                  h("td", {}, last?.user_id ?? (last ? "—" : "")),
                  h("td.nowrap", {}, formatTime(last?.timestamp)),
                  h(
                    "td",
                    {},
                    h(
                      "button.rollback",
                      {
                        type: "button",
                        disabled: !target,
                        title: target ? `Move @${a.alias} back to v${target}` : "No previous holder to roll back to",
                        onclick: () => target && void doRollback(a.alias, a.version, target),
                      },
                      target ? `Roll back to v${target}…` : "Roll back…",
                    ),
                  ),
                );
              }),
            ),
          ),
        )
      : h("p.muted", {}, "No aliases. Promote a version below to create one.");

    const history = [...events].sort((a, b) => b.event_id - a.event_id);
    const historyTable = history.length
      ? h(
          "details.history",
          { open: history.length <= 12 },
          h("summary", {}, `Alias history (${history.length} moves)`),
          h(
            "div.table-wrap",
            {},
            h(
              "table.grid",
              { id: "alias-history" },
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "When"), h("th", { scope: "col" }, "Alias"), h("th", { scope: "col" }, "Change"), h("th", { scope: "col" }, "Action"), h("th", { scope: "col" }, "By"))),
              h(
                "tbody",
                {},
                ...history.map((e) =>
                  h(
                    "tr",
                    {},
                    h("td.nowrap", {}, formatTime(e.timestamp)),
                    h("td", {}, `@${e.alias}`),
                    h("td", {}, describeEvent(e)),
                    h("td", {}, e.action),
                    h("td", {}, e.user_id ?? "—"),
                  ),
                ),
              ),
            ),
          ),
        )
      : historyNote;

    const versionTable = versions.length
      ? h(
          "div.table-wrap",
          {},
          h(
            "table.grid",
            { id: "versions" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", { scope: "col" }, "Version"),
                h("th", { scope: "col" }, "Stage"),
                h("th", { scope: "col" }, "Aliases"),
                h("th", { scope: "col" }, "Source run"),
                h("th", { scope: "col" }, "Created"),
                h("th", { scope: "col" }, "By"),
                h("th", { scope: "col" }, "Status"),
                h("th", { scope: "col" }, h("span.sr-only", {}, "Actions")),
              ),
            ),
            h(
              "tbody",
              {},
              ...versions.map((v) =>
                h(
                  "tr",
                  { "data-version": v.version },
                  h("td", {}, versionLink(name, v.version)),
                  h("td", {}, v.current_stage && v.current_stage !== "None" ? h(`span.badge.stage-${v.current_stage.toLowerCase()}`, {}, v.current_stage) : h("span.muted", {}, "None")),
                  h("td", {}, ...aliasesOf(v).map((a) => h("span.chip", {}, `@${a}`))),
                  h("td", {}, v.run_id ? h("a", { href: hashFor(["runs", v.run_id]), title: v.source ?? "" }, h("code", {}, v.run_id.slice(0, 12))) : h("span.muted", { title: v.source ?? "" }, v.source ?? "")),
                  h("td.nowrap", {}, formatTime(v.creation_timestamp)),
                  h("td", {}, v.user_id ?? ""),
                  h("td", {}, v.status ?? ""),
                  h("td", {}, h("button.promote", { type: "button", onclick: () => void doPromote(v) }, "Promote…")),
                ),
              ),
            ),
          ),
        )
      : h("p.muted", {}, "No versions.");

    body.replaceChildren(
      h("section.description", {}, model.description ? renderMarkdown(model.description) : h("p.muted", {}, "No description.")),
      h(
        "dl.overview",
        {},
        h("dt", {}, "Created"),
        h("dd", {}, formatTime(model.creation_timestamp)),
        h("dt", {}, "Last update"),
        h("dd", {}, formatTime(model.last_updated_timestamp)),
        h("dt", {}, "Versions"),
        h("dd", {}, String(versions.length)),
        ...(model.tags ?? []).flatMap((t) => [h("dt", {}, t.key), h("dd", {}, t.value)]),
      ),
      h("h2", {}, "Aliases"),
      aliasTable,
      historyTable ?? "",
      h("h2", {}, `Versions (${versions.length})`),
      versionTable,
    );
    attach();
  };
  await load();
}
