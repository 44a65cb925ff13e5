// A small Markdown renderer for run notes that builds DOM nodes and never parses HTML: text
// always lands in text nodes, so a note cannot inject markup or script. Supports headings,
// paragraphs, emphasis, inline and fenced code, lists, block quotes, rules and links (http,
// https, mailto and in-page links only).
import { h } from "./dom";

const SAFE_URL = /^(https?:|mailto:|#|\/|\.\/|[^:]*$)/i;

export function renderInline(text: string): Node[] {
  const out: Node[] = [];
  // Order matters: code spans first (nothing inside them is markup), then links, then emphasis.
  const re = /(`+)([\s\S]*?[^`])\1(?!`)|\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|(?<![A-Za-z0-9])_([^_\s][^_]*)_(?![A-Za-z0-9])|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    const at = m.index ?? 0;
    if (at > last) out.push(document.createTextNode(text.slice(last, at)));
    if (m[1]) out.push(h("code", {}, m[2].trim()));
    else if (m[3] !== undefined) {
      const url = m[4];
      if (SAFE_URL.test(url)) out.push(h("a", { href: url, rel: "noopener noreferrer", target: url.startsWith("#") ? null : "_blank" }, ...renderInline(m[3])));
      else out.push(document.createTextNode(m[0]));
    } else if (m[5] !== undefined || m[6] !== undefined) out.push(h("strong", {}, ...renderInline(m[5] ?? m[6])));
    else if (m[7] !== undefined || m[8] !== undefined) out.push(h("em", {}, ...renderInline(m[7] ?? m[8])));
    else if (m[9]) out.push(h("a", { href: m[9], rel: "noopener noreferrer", target: "_blank" }, m[9]));
    last = at + m[0].length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

export function renderMarkdown(source: string): HTMLElement {
  const root = h("div.markdown");
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  const para: string[] = [];
  const flush = () => {
    if (para.length) root.append(h("p", {}, ...renderInline(para.join("\n"))));
    para.length = 0;
  };
  while (i < lines.length) {
    const line = lines[i];
    let m: RegExpExecArray | null;
    if ((m = /^\s*(```|~~~)\s*([\w+-]*)\s*$/.exec(line))) {
      flush();
      const fence = m[1];
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith(fence); i++) body.push(lines[i]);
      i++;
      root.append(h("pre", {}, h("code", m[2] ? { "data-lang": m[2] } : {}, body.join("\n"))));
      continue;
    }
    if (!line.trim()) {
      flush();
      i++;
      continue;
    }
    if ((m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
      flush();
      // Note headings sit below the page's own h1/h2.
      const level = Math.min(6, m[1].length + 2);
      root.append(h(`h${level}` as "h3", {}, ...renderInline(m[2])));
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      root.append(h("hr"));
      i++;
      continue;
    }
    if (/^\s*>/.test(line)) {
      flush();
      const body: string[] = [];
      for (; i < lines.length && /^\s*>/.test(lines[i]); i++) body.push(lines[i].replace(/^\s*>\s?/, ""));
      root.append(h("blockquote", {}, ...renderMarkdown(body.join("\n")).childNodes));
      continue;
    }
    const bullet = /^\s*([-*+]|\d+[.)])\s+/;
    if ((m = bullet.exec(line))) {
      flush();
      const ordered = /\d/.test(m[1]);
      const list = h(ordered ? "ol" : "ul");
      let item: string[] | null = null;
      const end = () => item && list.append(h("li", {}, ...renderInline(item.join("\n"))));
      for (; i < lines.length; i++) {
        const l = lines[i];
        const b = bullet.exec(l);
        if (b && /\d/.test(b[1]) === ordered) {
          end();
          item = [l.slice(b[0].length)];
        } else if (l.trim() && /^\s+/.test(l) && item) item.push(l.trim());
        else break;
      }
      end();
      root.append(list);
      continue;
    }
    para.push(line);
    i++;
  }
  flush();
  return root;
}
