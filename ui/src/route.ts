// Hash routes: #/ (experiments), #/experiments/<id>?filter=…&order=…, #/runs/<id>,
// #/compare?runs=a,b,c, #/models?q=…, #/models/<name>, #/models/<name>/versions/<v>,
// #/studies, #/studies/<name>?sort=…, #/datasets, #/datasets/<name>?version=N,
// #/datasets/<name>/drift?reference=vN&current=vM.
// The hash carries all page state so links, reloads and the back button work.

export interface Route {
  path: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = (q < 0 ? raw : raw.slice(0, q)).split("/").filter(Boolean).map(decodeURIComponent);
  return { path, query: new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)) };
}

export function hashFor(path: string[], query?: Record<string, string | undefined>): string {
  const p = "#/" + path.map(encodeURIComponent).join("/");
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) q.set(k, v);
  const qs = q.toString();
  return qs ? `${p}?${qs}` : p;
}
