// How long the page takes to redraw after a slider move, on a log of your
// choosing (bench/README.md, "The page"): not part of CI.
//   node web/test/redraw_bench.mjs TWINLINE_BIN DB [MOVES]
// Opens the page on DB's last year and waits until it is drawn, plots
// included; then moves the slider one year back MOVES times (default 5) in
// each of three settings: the map alone; comparing with a date ten years
// earlier (what changed, with sources); and that with the network's
// biggest hub selected (its neighbourhood on the map, its timeline, its
// own changes). Each move is timed from the move to the
// map drawn (the page's own figure, body[data-redraw-ms]: the requests, the
// answers parsed, the map drawn) and to everything drawn (wall clock: the
// diff and entity panels too).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import puppeteer from "puppeteer-core";

const [bin, db, movesArg] = process.argv.slice(2);
if (!bin || !db) {
  console.error("usage: node web/test/redraw_bench.mjs TWINLINE_BIN DB [MOVES]");
  process.exit(1);
}
const moves = Number(movesArg || 5);
const server = spawn(bin, ["--db", db, "serve", "--read-only", "--listen", "127.0.0.1:0", "--log-level", "warn"],
                     { stdio: ["ignore", "pipe", "inherit"] });
const base = await new Promise((resolve) => {
  createInterface({ input: server.stdout }).on("line", (l) => { const m = l.match(/listening on (\S+)/); if (m) resolve(m[1]); });
});
const profile = mkdtempSync(join(tmpdir(), "twinline-bench-profile-"));
const browser = await puppeteer.launch({
  executablePath: "/usr/bin/chromium", headless: true, userDataDir: profile, protocolTimeout: 600000,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  const stats = JSON.parse(spawnSync(bin, ["--db", db, "stats", "--format", "json"], { encoding: "utf8" }).stdout);
  let year = Number(stats.valid_time.latest.slice(0, 4));
  const t0 = Date.now();
  await page.goto(`${base}/?date=${year}-12-31`, { waitUntil: "load", timeout: 600000 });
  await page.waitForFunction((d) => document.body.dataset.day === d && document.body.dataset.ready, { timeout: 600000 }, `${year}-12-31`);
  const drawnAt = Date.now() - t0;
  await page.waitForSelector("#plot svg", { timeout: 600000 });
  console.log(`first draw: ${drawnAt} ms, plots drawn at ${Date.now() - t0} ms; ` +
              `${await page.$eval("#counts", (e) => e.textContent)}; ${await page.$eval("#aggregate-note", (e) => e.textContent)}`);

  const settle = async (day) => {
    await page.waitForFunction((d) => document.body.dataset.day === d && document.getElementById("status").textContent.includes(d),
                               { timeout: 600000 }, day);
  };
  const series = async (label) => {
    const drawn = [], total = [];
    for (let i = 0; i < moves; ++i) {
      year -= 1;
      const day = `${year}-12-31`;
      const start = Date.now();
      await page.$eval("#date-text", (el, v) => { el.value = v; el.dispatchEvent(new Event("change")); }, day);
      await settle(day);
      total.push(Date.now() - start);
      drawn.push(Number(await page.$eval("body", (b) => b.dataset.redrawMs)));
      console.log(`${label}: move to ${day}: map drawn in ${drawn.at(-1)} ms, everything in ${total.at(-1)} ms`);
    }
    const svg = await page.$$eval("#map *", (els) => els.length);
    console.log(`${label}: median of ${moves} moves: map ${median(drawn)} ms, everything ${median(total)} ms; ` +
                `${svg} elements in the map's SVG`);
  };

  await series("map");
  await page.click("#compare");
  await page.$eval("#date-b-text", (el, v) => { el.value = v; el.dispatchEvent(new Event("change")); }, `${year - 10}-12-31`);
  await settle(`${year}-12-31`);
  await series("comparing with a second date");
  console.log(await page.$eval("#diff p", (e) => e.textContent));
  // The entity with the most ties on that day: a hub's neighbourhood.
  const network = spawnSync(bin, ["--db", db, "replay", "--as-of", `${year}-12-31`, "--projection", "network", "--format", "json"],
                            { encoding: "utf8", maxBuffer: 1 << 30 });
  const hub = JSON.parse(network.stdout).hubs[0].id;
  await page.$eval("#search", (el, v) => { el.value = v; el.dispatchEvent(new Event("input")); }, hub);
  await page.waitForSelector(`#search-results li[data-slug="${hub}"]`, { timeout: 600000 });
  await page.click(`#search-results li[data-slug="${hub}"]`);
  await page.waitForSelector("#entity-plot svg", { timeout: 600000 });
  await settle(`${year}-12-31`);
  await series(`comparing, with ${hub} selected`);
  console.log(await page.$eval("#diff p", (e) => e.textContent));
} finally {
  await browser.close();
  server.kill("SIGTERM");
  rmSync(profile, { recursive: true, force: true });
}
