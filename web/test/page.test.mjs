// The page in a real browser: Debian's chromium, headless, driven by
// puppeteer-core, against `twinline serve` on the bundled dataset. Fails on
// any console error or failed request. Screenshots go to SHOT_DIR.
//   node test/page.test.mjs TWINLINE_BIN SOURCE_DIR SHOT_DIR
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import puppeteer from "puppeteer-core";

const [bin, source, shots] = process.argv.slice(2);
if (!bin || !source || !shots) {
  console.error("usage: node test/page.test.mjs TWINLINE_BIN SOURCE_DIR SHOT_DIR");
  process.exit(1);
}
const browserPath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (p) => spawnSync(p, ["--version"]).status === 0);
assert.ok(browserPath, "Debian's chromium is needed (apt-get install chromium; tools/setup.sh does)");
mkdirSync(shots, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), "twinline-page-"));
const db = join(tmp, "db");
for (const args of [["init"], ["import", join(source, "data", "seed.ndjson")]]) {
  const r = spawnSync(bin, ["--db", db, ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, `twinline ${args.join(" ")}: ${r.stderr}`);
}

const server = spawn(bin, ["--db", db, "serve", "--listen", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"] });
const base = await new Promise((resolve, reject) => {
  const lines = createInterface({ input: server.stdout });
  lines.on("line", (line) => { const m = line.match(/listening on (\S+)/); if (m) resolve(m[1]); });
  server.on("exit", (code) => reject(new Error(`serve exited with ${code}`)));
});

const problems = [];
let browser;
const passed = [];
async function step(name, fn) {
  await fn();
  passed.push(name);
  console.log(`ok - ${name}`);
}

try {
  browser = await puppeteer.launch({
    executablePath: browserPath,
    headless: true,
    userDataDir: join(tmp, "profile"),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage"],
  });
  const openPage = async () => {
    const p = await browser.newPage();
    await p.setViewport({ width: 1400, height: 1000 });
    p.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`); });
    p.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    p.on("requestfailed", (req) => {
      // The event stream is closed when the page goes; that is not a failure.
      if (!req.url().includes("/v1/subscribe")) problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`);
    });
    p.on("response", (res) => { if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`); });
    return p;
  };
  let page = await openPage();

  const ready = async (day) => {
    await page.waitForFunction((d) => document.body.dataset.day === d && document.body.dataset.ready,
                               { timeout: 20000 }, day);
    // Wait until no redraw is pending (ready set by the latest generation).
    await page.waitForFunction(() => document.body.dataset.ready && !document.getElementById("status").textContent.startsWith("error"));
  };
  const edge = (id) => page.$(`#map path.edge[data-id="${id}"]`);
  const setDate = async (inputId, iso) => {
    await page.$eval(`#${inputId}`, (el, v) => { el.value = v; el.dispatchEvent(new Event("change")); }, iso);
  };
  const setKnown = async (seq) => {
    await page.$eval("#known", (el, v) => { el.value = v; el.dispatchEvent(new Event("input")); }, seq);
  };
  const CD = "partnership:chongqing:duesseldorf:sister_city";
  const CM = "partnership:chengdu:montpellier:sister_city";

  await step("the page loads offline from the binary and draws the map", async () => {
    await page.goto(`${base}/?date=2004-07-21`, { waitUntil: "load" });
    await ready("2004-07-21");
    const countries = await page.$$eval("#map path.country", (els) => els.length);
    assert.ok(countries > 150, `countries drawn: ${countries}`);
    assert.equal(await edge(CD), null, "Chongqing–Düsseldorf is not there on 2004-07-21");
  });

  await step("moving the slider to 2004-07-22 draws Chongqing–Düsseldorf and the diff names its source", async () => {
    await page.click("#compare");
    await setDate("date-b-text", "2004-07-21");
    await page.focus("#date");
    await page.keyboard.press("ArrowRight");  // one day
    await ready("2004-07-22");
    const status = await page.$eval(`#map path.edge[data-id="${CD}"]`, (el) => el.dataset.status);
    assert.equal(status, "yes");
    await page.waitForSelector(`#diff .row.added[data-key="chongqing — duesseldorf (sister_city)"]`, { timeout: 20000 });
    const text = await page.$eval(`#diff .row.added[data-key="chongqing — duesseldorf (sister_city)"]`, (el) => el.textContent);
    assert.match(text, /ev-658f2256f99761dd/);
    assert.match(text, /Chongqing und Düsseldorf feiern 20 Jahre/);
    assert.match(text, /nrwheute/);
    await page.screenshot({ path: join(shots, "slider-diff-2004-07-22.png"), fullPage: true });
  });

  await step("searching 重庆 finds Chongqing and shows its timeline with sources", async () => {
    await page.type("#search", "重庆");
    await page.waitForSelector(`#search-results li[data-slug="chongqing"]`, { timeout: 10000 });
    await page.click(`#search-results li[data-slug="chongqing"]`);
    await page.waitForSelector(`#timeline li[data-id="ev-658f2256f99761dd"]`, { timeout: 20000 });
    assert.match(await page.$eval("#entity-title", (el) => el.textContent), /Chongqing/);
    await page.waitForSelector("#entity-plot svg", { timeout: 20000 });
    for (const q of ["Düsseldorf", "Duesseldorf"]) {
      await page.$eval("#search", (el) => { el.value = ""; });
      await page.type("#search", q);
      await page.waitForSelector(`#search-results li[data-slug="duesseldorf"]`, { timeout: 10000 });
    }
    await page.$eval("#search", (el) => { el.value = ""; el.dispatchEvent(new Event("input")); });
    await page.screenshot({ path: join(shots, "search-chongqing.png"), fullPage: true });
  });

  await step("Chengdu–Montpellier (1981) is drawn possible in mid-1981 and certain at its end", async () => {
    await page.click("#compare");  // back to one date
    await setDate("date-text", "1981-06-30");
    await ready("1981-06-30");
    const mid = await page.$eval(`#map path.edge[data-id="${CM}"]`, (el) => [el.dataset.status, el.getAttribute("class"), getComputedStyle(el).strokeDasharray]);
    assert.equal(mid[0], "maybe");
    assert.match(mid[1], /maybe/);
    assert.notEqual(mid[2], "none", "an only-possible edge is dashed");
    // Counts read certain–possible: Chengdu–Montpellier is among the possible.
    assert.match(await page.$eval("#counts", (el) => el.textContent), /partnerships 0–\d+/);
    await page.screenshot({ path: join(shots, "possible-1981-06-30.png"), fullPage: true });
    await setDate("date-text", "1981-12-31");
    await ready("1981-12-31");
    const end = await page.$eval(`#map path.edge[data-id="${CM}"]`, (el) => [el.dataset.status, getComputedStyle(el).strokeDasharray]);
    assert.equal(end[0], "yes");
    assert.equal(end[1], "none", "a certain edge is solid");
    await page.waitForSelector("#plot svg");
  });

  await step("on a large log the map draws the network by country; here forced with ?view=countries", async () => {
    const full = page;
    page = await openPage();
    await page.goto(`${base}/?date=2004-07-21&view=countries`, { waitUntil: "load" });
    await ready("2004-07-21");
    const link = `#map path.edge.aggregate[data-id="countries:CN:DE"]`;
    assert.equal(await page.$(link), null, "no China–Germany link before 2004-07-22");
    assert.ok(await page.$(`#map circle.country-node[data-country="CN"]`), "China is drawn as a country");
    assert.equal(await edge(CD), null, "no single edge is drawn without a selected entity");
    await setDate("date-text", "2004-07-22");
    await ready("2004-07-22");
    assert.equal(await page.$eval(link, (el) => el.dataset.status), "1", "one certain edge China–Germany");
    assert.match(await page.$eval("#aggregate-note", (el) => el.textContent), /by country/);
    assert.match(await page.$eval("#counts", (el) => el.textContent), /partnerships 2–3/);
    // The selected entity's neighbourhood: its own edges on top of the aggregates.
    await page.type("#search", "重庆");
    await page.waitForSelector(`#search-results li[data-slug="chongqing"]`, { timeout: 10000 });
    await page.click(`#search-results li[data-slug="chongqing"]`);
    await page.waitForSelector(`#map path.edge[data-id="${CD}"]`, { timeout: 20000 });
    assert.equal(await page.$eval(`#map path.edge[data-id="${CD}"]`, (el) => el.dataset.status), "yes");
    // Only possible: China–France in mid-1981 (Chengdu–Montpellier, dated 1981) is dashed.
    await setDate("date-text", "1981-06-30");
    await ready("1981-06-30");
    const cnfr = await page.$eval(`#map path.edge.aggregate[data-id="countries:CN:FR"]`,
                                  (el) => [el.dataset.status, el.getAttribute("class"), getComputedStyle(el).strokeDasharray]);
    assert.equal(cnfr[0], "0–1");
    assert.match(cnfr[1], /maybe/);
    assert.notEqual(cnfr[2], "none", "a link of only possible edges is dashed");
    await page.screenshot({ path: join(shots, "countries-1981-06-30.png"), fullPage: true });
    await page.close();
    page = full;
  });

  await step("an event appended through the API arrives live and is drawn", async () => {
    await page.waitForFunction(() => document.getElementById("live").classList.contains("on"), { timeout: 10000 });
    await setDate("date-text", "2025-12-31");
    await ready("2025-12-31");
    const event = {
      kind: "partnership_established", date: "2021-05-01", a: "chengdu", b: "duesseldorf",
      partnership: "friendship_city",
      sources: [{ title: "A test of the live page", publisher: "twinline tests", published: "2026", language: "en" }],
    };
    const res = await fetch(`${base}/v1/events`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify([event]),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const id = (await res.json()).events[0].id;
    await page.waitForSelector(`#live-events li[data-id="${id}"]`, { timeout: 20000 });
    await page.waitForSelector(`#map path.edge[data-id="partnership:chengdu:duesseldorf:friendship_city"]`, { timeout: 20000 });
    await page.screenshot({ path: join(shots, "live-append.png"), fullPage: true });
  });

  await step("the known-at control shows the log as it was before the append", async () => {
    const last = await page.$eval("#known", (el) => Number(el.max));
    await setKnown(last - 1);
    await page.waitForFunction(() => !document.querySelector(`#map path.edge[data-id="partnership:chengdu:duesseldorf:friendship_city"]`), { timeout: 20000 });
    await setKnown(last);
    await page.waitForSelector(`#map path.edge[data-id="partnership:chengdu:duesseldorf:friendship_city"]`, { timeout: 20000 });
  });

  await step("a correction takes effect: a retraction appended live removes Chongqing–Düsseldorf, known-at shows it before and names the retraction", async () => {
    assert.ok(await edge(CD), "Chongqing–Düsseldorf is drawn before the retraction");
    const retraction = {
      kind: "retraction", date: "2026", target: "ev-658f2256f99761dd", reason: "a test of a correction",
      sources: [{ title: "A correction in the live page test", publisher: "twinline tests", published: "2026", language: "en" }],
    };
    const res = await fetch(`${base}/v1/events`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify([retraction]),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const { id, seq } = (await res.json()).events[0];
    await page.waitForSelector(`#live-events li[data-id="${id}"]`, { timeout: 20000 });
    await page.waitForFunction((cd) => !document.querySelector(`#map path.edge[data-id="${cd}"]`), { timeout: 20000 }, CD);
    // Known at the seq before it: the partnership is back, and what changed
    // since then is its removal, corrected by the retraction with its source.
    await setKnown(seq - 1);
    await page.waitForSelector(`#map path.edge[data-id="${CD}"]`, { timeout: 20000 });
    const row = `#diff .row.removed[data-key="chongqing — duesseldorf (sister_city)"]`;
    await page.waitForSelector(`${row} .correction[data-id="${id}"]`, { timeout: 20000 });
    const text = await page.$eval(row, (el) => el.textContent);
    assert.match(text, /ev-658f2256f99761dd/);
    assert.match(text, /Chongqing und Düsseldorf feiern 20 Jahre/);
    assert.match(text, /corrected by retraction/);
    assert.match(text, /A correction in the live page test/);
    await page.screenshot({ path: join(shots, "known-at-correction.png"), fullPage: true });
    await setKnown(seq);
    await page.waitForFunction((cd) => !document.querySelector(`#map path.edge[data-id="${cd}"]`), { timeout: 20000 }, CD);
    await page.waitForFunction(() => !document.querySelector("#diff .row"), { timeout: 20000 });
  });

  assert.deepEqual(problems, [], "no console error, failed request or error response");
  console.log(`${passed.length} passed, 0 failed`);
} catch (err) {
  console.error(`not ok - ${err.stack || err}`);
  if (problems.length) console.error(problems.join("\n"));
  console.log(`${passed.length} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  server.kill("SIGTERM");
  rmSync(tmp, { recursive: true, force: true });
}
