// Browser tests of the web UI: Debian's Chromium, headless, driven by playwright-core, against
// `plinth server` (PLINTH_BIN, default build/src/plinth) on a temp SQLite store seeded through
// the REST API. Screenshots go to PLINTH_UI_SCREENSHOTS (default build/ui-screenshots).
//   node --test tests/ui.test.mjs
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { RUN_COUNT, RUNS_ABOVE_HALF, finalAcc, seed, startServer } from "./fixtures.mjs";

const repo = resolve(new URL("../..", import.meta.url).pathname);
const shots =
  process.env.PLINTH_UI_SCREENSHOTS ?? join(repo, process.env.BUILD_DIR ?? "build", "ui-screenshots");
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 390, height: 844 };

let server;
let fixture;
let browser;
let page;
const consoleErrors = [];
let allowedErrors = 0; // failed requests a test provokes on purpose

async function screenshot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

// The numbers in the column whose header reads `label`.
async function columnValues(label) {
  return page.evaluate((label) => {
    const heads = [...document.querySelectorAll("#runs thead th")];
    const col = heads.findIndex((th) => th.textContent.replace(/[▲▼]/g, "").trim() === label);
    if (col < 0) throw new Error(`no column ${label}`);
    return [...document.querySelectorAll("#runs tbody tr")].map((tr) => Number(tr.children[col].textContent));
  }, label);
}

async function runsPageReady() {
  await page.waitForSelector("#runs tbody tr, #main .error, .status:text('No runs')");
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startServer();
  fixture = await seed(server.url);
  browser = await chromium.launch({
    executablePath: process.env.PLINTH_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  page = await browser.newPage({ viewport: WIDE });
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(`${msg.text()} (${msg.location().url})`);
  });
  page.on("pageerror", (err) => consoleErrors.push(`uncaught: ${err.message}`));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe("web UI", () => {
  it("lists the experiments", async () => {
    await page.goto(server.url + "/");
    await page.waitForSelector("#experiments tbody tr");
    const names = await page.$$eval("#experiments tbody td:first-child", (tds) => tds.map((td) => td.textContent));
    assert.ok(names.includes("image-classifier"), names.join());
    assert.ok(names.includes("tabular-baseline"));
    assert.ok(names.includes("Default"));
    await screenshot("experiments");
  });

  it("opens an experiment's runs table", async () => {
    await page.click("#experiments a:text-is('image-classifier')");
    await runsPageReady();
    assert.equal(await page.locator("#runs tbody tr").count(), RUN_COUNT);
    const heads = await page.$$eval("#runs thead th", (ths) => ths.map((th) => th.textContent.trim()));
    for (const col of ["Run", "Started", "Status", "acc", "loss", "lr", "batch_size", "optimizer"]) {
      assert.ok(heads.includes(col), `column ${col} in ${heads.join(",")}`);
    }
    assert.equal(await page.title(), "image-classifier · Plinth");
  });

  it("filters with MLflow's grammar", async () => {
    await page.fill("input.filter", "metrics.acc > 0.5");
    await page.press("input.filter", "Enter");
    await page.waitForFunction((n) => document.querySelectorAll("#runs tbody tr").length === n, RUNS_ABOVE_HALF);
    const acc = await columnValues("acc");
    assert.equal(acc.length, RUNS_ABOVE_HALF);
    assert.ok(acc.every((a) => a > 0.5), acc.join());
    assert.match(decodeURIComponent(await page.evaluate(() => location.hash)), /filter=metrics\.acc\+?\s?>\+?\s?0\.5|filter=metrics.acc/);
  });

  it("sorts by a metric on the server, both ways", async () => {
    await page.click("#runs thead button:has-text('acc')");
    await page.waitForSelector("#runs th[aria-sort='descending']");
    let acc = await columnValues("acc");
    assert.equal(acc.length, RUNS_ABOVE_HALF);
    assert.deepEqual(acc, [...acc].sort((a, b) => b - a));
    assert.equal(acc[0], finalAcc(RUN_COUNT - 1));
    await screenshot("runs");
    await page.click("#runs thead button:has-text('acc')");
    await page.waitForSelector("#runs th[aria-sort='ascending']");
    acc = await columnValues("acc");
    assert.deepEqual(acc, [...acc].sort((a, b) => a - b));
    assert.ok(acc[0] > 0.5);
  });

  it("moves through the runs with the keyboard and opens one with Enter", async () => {
    // Tab from the last control before the table lands on the first row.
    await page.focus("#runs thead th:last-child button");
    await page.keyboard.press("Tab");
    const ids = await page.$$eval("#runs tbody tr", (trs) => trs.map((tr) => tr.dataset.runId));
    const active = () => page.evaluate(() => document.activeElement?.dataset?.runId);
    assert.equal(await active(), ids[0]);
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    assert.equal(await active(), ids[2]);
    await page.keyboard.press("ArrowUp");
    assert.equal(await active(), ids[1]);
    await page.keyboard.press("End");
    assert.equal(await active(), ids[ids.length - 1]);
    await page.keyboard.press("Home");
    await page.keyboard.press("PageDown");
    assert.equal(await active(), ids[10]);
    await page.keyboard.press("Enter");
    await page.waitForSelector("dl.overview");
    assert.equal(await page.evaluate(() => location.hash), `#/runs/${ids[10]}`);
    const shown = await page.textContent("dl.overview code");
    assert.equal(shown, ids[10]);
  });

  it("shows a run: params, metrics, tags and a drawn chart per metric", async () => {
    const last = fixture.runIds[RUN_COUNT - 1];
    await page.evaluate((id) => (location.hash = `#/runs/${id}`), last);
    await page.waitForSelector(`dl.overview code:text-is('${last}')`);
    await page.waitForSelector("figure.chart.drawn[data-metric='acc'] canvas");
    await page.waitForSelector("figure.chart.drawn[data-metric='loss'] canvas");
    assert.equal(await page.textContent("h1"), "run-49");
    const params = await page.$$eval("#params tbody tr", (trs) => trs.map((tr) => tr.textContent));
    assert.deepEqual(params, ["batch_size64", "lr0.01", "optimizersgd"]); // run 49: i % 4 = 1, i % 3 = 1
    const metrics = await page.$$eval("#metrics tbody tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    assert.deepEqual(metrics[0], ["acc", String(finalAcc(RUN_COUNT - 1)), "30"]);
    const tags = await page.$$eval("#tags tbody td:first-child", (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(tags, ["dataset", "team"]);
    // The chart has pixels on it: count non-transparent pixels of the plot canvas.
    const inked = await page.$eval("figure.chart[data-metric='acc'] canvas", (c) => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    });
    assert.ok(inked > 500, `only ${inked} pixels drawn`);
    await page.waitForSelector("#artifacts summary:text-is('model/')");
    await page.click("#artifacts summary");
    await page.waitForSelector("#artifacts .file:text-is('MLmodel')");
    await screenshot("run");
  });

  it("pages through runs with page tokens", async () => {
    await page.goto(`${server.url}/#/experiments/${fixture.experimentId}?order=attributes.start_time+ASC&size=25`);
    await page.waitForFunction(() => document.querySelectorAll("#runs tbody tr").length === 25);
    const firstPage = await page.$$eval("#runs tbody tr", (trs) => trs.map((tr) => tr.dataset.runId));
    assert.deepEqual(firstPage, fixture.runIds.slice(0, 25));
    await page.click("button:text('Next →')");
    await page.waitForSelector(".status:text('Runs 26–50')");
    const second = await page.$$eval("#runs tbody tr", (trs) => trs.map((tr) => tr.dataset.runId));
    assert.deepEqual(second, fixture.runIds.slice(25, 50));
    await page.click("button:text('← Previous')");
    await page.waitForSelector(".status:text('Runs 1–25')");
  });

  it("chooses columns and remembers the choice", async () => {
    await page.click("details.chooser summary");
    await page.uncheck("input[data-col='params.optimizer']");
    await page.waitForFunction(() => ![...document.querySelectorAll("#runs thead th")].some((th) => th.textContent.trim() === "optimizer"));
    await page.check("input[data-col='tags.team']");
    await page.waitForFunction(() => [...document.querySelectorAll("#runs thead th")].some((th) => th.textContent.trim() === "team"));
    await page.reload();
    await runsPageReady();
    const heads = await page.$$eval("#runs thead th", (ths) => ths.map((th) => th.textContent.trim()));
    assert.ok(heads.includes("team") && !heads.includes("optimizer"), heads.join());
  });

  it("renders sensibly on a narrow window", async () => {
    await page.setViewportSize(NARROW);
    for (const [name, hash] of [
      ["narrow-runs", `#/experiments/${fixture.experimentId}?filter=metrics.acc+>+0.5`],
      ["narrow-run", `#/runs/${fixture.runIds[RUN_COUNT - 1]}`],
    ]) {
      await page.goto(`${server.url}/${hash}`);
      await page.waitForSelector(name === "narrow-run" ? "figure.chart.drawn canvas" : "#runs tbody tr");
      // Wide tables scroll inside their frame; the page itself never scrolls sideways.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${name}: page is ${overflow}px wider than the window`);
      await screenshot(name);
    }
    await page.setViewportSize(WIDE);
  });

  it("shows the server's message for a bad filter", async () => {
    allowedErrors += 1; // Chromium logs the 400 response of runs/search as a console error
    await page.goto(`${server.url}/#/experiments/${fixture.experimentId}?filter=metrics.acc+>>+1`);
    await page.waitForSelector("#main .error, .table-wrap .error");
    const text = await page.textContent(".table-wrap .error");
    assert.ok(text.length > 0);
    assert.equal(await page.inputValue("input.filter"), "metrics.acc >> 1");
  });

  it("logs no console errors on any page", () => {
    const unexpected = consoleErrors.filter((e) => !/status of 400/.test(e));
    assert.deepEqual(unexpected, []);
    assert.ok(consoleErrors.length <= allowedErrors, consoleErrors.join("\n"));
  });
});
