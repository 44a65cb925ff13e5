// A modal confirmation built on <dialog>: focus moves into it (Cancel first) and stays there,
// Escape or Cancel answers false, the confirm button (or Enter in a field) answers true; focus
// returns where it was.
import { h } from "./dom";

export interface ConfirmOptions {
  title: string;
  body: (Node | string)[];
  confirmLabel: string;
  danger?: boolean;
  // Extra fields (inputs) shown above the buttons; read them after the promise resolves.
  fields?: Node[];
}

export function confirmDialog(opts: ConfirmOptions): Promise<boolean> {
  const before = document.activeElement as HTMLElement | null;
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const cancel = h("button", { type: "button", value: "cancel" }, "Cancel");
  const ok = h(`button.primary${opts.danger ? ".danger" : ""}`, { type: "button", value: "ok" }, opts.confirmLabel);
  const dialog = h(
    "dialog.confirm",
    { "aria-labelledby": titleId, "aria-modal": "true" },
    h("h2", { id: titleId }, opts.title),
    h("div.dialog-body", {}, ...opts.body),
    ...(opts.fields ?? []),
    h("div.dialog-buttons", {}, cancel, ok),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    let answered = false;
    const done = (answer: boolean) => {
      if (answered) return;
      answered = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      before?.focus?.();
      resolve(answer);
    };
    cancel.addEventListener("click", () => done(false));
    ok.addEventListener("click", () => done(true));
    dialog.addEventListener("cancel", (ev) => {
      ev.preventDefault();
      done(false);
    });
    dialog.addEventListener("close", () => done(false));
    // Enter in a text field confirms, as in a form.
    dialog.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.target as HTMLElement).tagName === "INPUT") {
        ev.preventDefault();
        ok.click();
      }
    });
    dialog.showModal();
    cancel.focus();
  });
}
