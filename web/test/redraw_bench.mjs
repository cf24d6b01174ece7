// How long the page takes to redraw after a slider move, on a log of your
// choosing (bench/README.md, "The page"): not part of CI.
//   node web/test/redraw_bench.mjs TWINLINE_BIN DB [MOVES]
// Opens the page on DB's last year, then moves the slider one year back
// MOVES times (default 5), each time timing from the move to the map drawn
// (the page's own figure, body[data-redraw-ms]: the replay request, the
// answer parsed, the map drawn) and to everything drawn (wall clock, the
// diff and entity panels included).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import puppeteer from "puppeteer-core";

const [bin, db, movesArg] = process.argv.slice(2);
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
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  const stats = JSON.parse(spawnSync(bin, ["--db", db, "stats", "--format", "json"], { encoding: "utf8" }).stdout);
  let year = Number(stats.valid_time.latest.slice(0, 4));
  const t0 = Date.now();
  await page.goto(`${base}/?date=${year}-12-31`, { waitUntil: "load", timeout: 600000 });
  await page.waitForFunction((d) => document.body.dataset.day === d && document.body.dataset.ready, { timeout: 600000 }, `${year}-12-31`);
  console.log(`first draw: ${Date.now() - t0} ms; ${await page.$eval("#counts", (e) => e.textContent)}; ${await page.$eval("#aggregate-note", (e) => e.textContent)}`);
  const drawn = [], total = [];
  for (let i = 0; i < moves; ++i) {
    year -= 1;
    const day = `${year}-12-31`;
    const start = Date.now();
    await page.$eval("#date-text", (el, v) => { el.value = v; el.dispatchEvent(new Event("change")); }, day);
    await page.waitForFunction((d) => document.body.dataset.day === d && document.getElementById("status").textContent.includes(d),
                               { timeout: 600000 }, day);
    total.push(Date.now() - start);
    drawn.push(Number(await page.$eval("body", (b) => b.dataset.redrawMs)));
    console.log(`move to ${day}: map drawn in ${drawn.at(-1)} ms, everything in ${total.at(-1)} ms`);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`median of ${moves} moves: map ${median(drawn)} ms, everything ${median(total)} ms`);
  const svgElements = await page.$$eval("#map *", (els) => els.length);
  console.log(`elements in the map's SVG: ${svgElements}`);
} finally {
  await browser.close();
  server.kill("SIGTERM");
  rmSync(profile, { recursive: true, force: true });
}
