// Artifact previews through the artifact proxy: text and JSON (pretty-printed) from the first
// 256 KiB, images (png/jpg/gif/svg as <img>, so an SVG's scripts never run), CSV/TSV heads as a
// table of the first 50 rows. Anything else, or a run whose artifacts are not behind this
// server's proxy, gets a download link or a note.
import { artifactUrl, fetchHead, FileInfo } from "./api";
import { h, errorBox } from "./dom";

export const TEXT_LIMIT = 256 * 1024;
const IMAGE_LIMIT = 20 * 1024 * 1024;
export const CSV_ROWS = 50;

type Kind = "text" | "json" | "image" | "csv" | "none";

export function previewKind(path: string): Kind {
  const name = path.toLowerCase().split("/").pop() ?? "";
  if (/\.(png|jpe?g|gif|svg|webp)$/.test(name)) return "image";
  if (/\.json$/.test(name)) return "json";
  if (/\.(csv|tsv)$/.test(name)) return "csv";
  if (/\.(txt|log|md|ya?ml|py|toml|cfg|ini|sh|r|sql|xml|html?|ts|js|conf|properties)$/.test(name) || name === "mlmodel" || name === "requirements.txt" || name === "conda.yaml" || name === "license" || name === "readme") return "text";
  return "none";
}

// One CSV line into fields (RFC 4180 quotes; a quoted field spanning lines is not joined).
export function splitCsvLine(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === "") quoted = true;
    else if (c === sep) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function note(text: string) {
  return h("p.muted.preview-note", {}, text);
}

export async function renderPreview(artifactUri: string | undefined, file: FileInfo): Promise<HTMLElement> {
  const kind = previewKind(file.path);
  const url = artifactUrl(artifactUri, file.path);
  const name = file.path.split("/").pop() ?? file.path;
  const box = h("div.preview", { "data-kind": kind, "data-path": file.path });
  const head = h("div.preview-head", {}, h("strong", {}, file.path), url ? h("a.button", { href: url, download: name }, "Download") : null);
  box.append(head);
  if (!url) {
    box.append(note("Previews need the run's artifacts behind this server's artifact proxy (mlflow-artifacts:)."));
    return box;
  }
  try {
    if (kind === "image") {
      if ((file.file_size ?? 0) > IMAGE_LIMIT) box.append(note(`Image too large to preview (${file.file_size} B).`));
      else box.append(h("img.preview-image", { src: url, alt: name, loading: "lazy" }));
    } else if (kind === "text" || kind === "json" || kind === "csv") {
      const { bytes, truncated } = await fetchHead(url, TEXT_LIMIT);
      let text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
      if (kind === "json" && !truncated) {
        try {
          text = JSON.stringify(JSON.parse(text), null, 2);
        } catch {
          box.append(note("Not valid JSON; shown as text."));
        }
      }
      if (kind === "csv") {
        const lines = text.split(/\r?\n/);
        if (truncated) lines.pop(); // the last line may be cut
        const sep = /\.tsv$/i.test(file.path) ? "\t" : ",";
        const rows = lines.filter((l) => l.length).slice(0, CSV_ROWS + 1).map((l) => splitCsvLine(l, sep));
        const [header, ...body] = rows;
        box.append(
          h(
            "div.table-wrap",
            {},
            h(
              "table.grid.csv",
              {},
              h("thead", {}, h("tr", {}, ...(header ?? []).map((c) => h("th", { scope: "col" }, c)))),
              h("tbody", {}, ...body.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
            ),
          ),
          note(`First ${body.length} rows${lines.filter((l) => l.length).length > CSV_ROWS + 1 || truncated ? "" : " (all)"}.`),
        );
      } else {
        box.append(h(`pre.preview-text${kind === "json" ? ".json" : ""}`, {}, text));
        if (truncated) box.append(note(`Showing the first ${TEXT_LIMIT / 1024} KiB.`));
      }
    } else {
      box.append(note("No preview for this file type."));
    }
  } catch (e) {
    box.append(errorBox(e));
  }
  return box;
}
