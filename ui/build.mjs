// Bundles src/main.ts (+ CSS, uPlot) with esbuild into dist/static/app-<hash>.{js,css}, writes
// dist/index.html pointing at them, and a .gz beside each asset for the server to send to
// clients that accept gzip. Usage: node build.mjs [outdir]   (default: dist)
import * as esbuild from "esbuild";
import { gzipSync } from "node:zlib";
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const out = resolve(process.argv[2] ?? join(here, "dist"));
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "static"), { recursive: true });

const result = await esbuild.build({
  entryPoints: [join(here, "src/main.ts")],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020"],
  outdir: join(out, "static"),
  entryNames: "app-[hash]",
  metafile: true,
  legalComments: "eof",
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith(".js"));
const css = outputs.find((f) => f.endsWith(".css"));
if (!js || !css) throw new Error(`esbuild produced ${outputs.join(", ")}`);
const html = readFileSync(join(here, "src/index.html"), "utf8")
  .replace("%APP_JS%", js)
  .replace("%APP_CSS%", css);
writeFileSync(join(out, "index.html"), html);

let total = 0;
let totalGz = 0;
for (const f of readdirSync(join(out, "static"))) {
  const p = join(out, "static", f);
  const data = readFileSync(p);
  const gz = gzipSync(data, { level: 9 });
  writeFileSync(p + ".gz", gz);
  total += data.length;
  totalGz += gz.length;
  console.log(`  static/${f}  ${data.length} B (${gz.length} B gzip)`);
}
console.log(`ui: built ${out}: ${total} B of assets, ${totalGz} B gzipped`);
