// The page of `twinline serve`: a client of the HTTP API (docs/SERVER.md)
// and nothing else. It asks
//   GET /v1/stats                        the valid-time range, the log's last seq
//   GET /v1/entities                     names for search (any language)
//   GET /v1/replay?as_of&projection=network&format=json
//                                        the network on the slider's day
//   GET /v1/diff?from&to&projection=network&format=json
//                                        what changed between the two days
//   GET /v1/replay?from&to&projection=network&format=json&entity
//                                        the edges' spans, events and sources
//   GET /v1/replay?from&to&step=year&format=json[&entity]
//                                        counts over time (the plots)
//   GET /v1/replay?as_of&projection=timeline&entity&format=json
//   GET /v1/subscribe                    live appends (Server-Sent Events)
// so it is as fast as the API underneath: one replay per slider move.
import { geoNaturalEarth1, geoPath, geoGraticule10 } from "d3";
import { select } from "d3";
import { forceSimulation, forceLink, forceManyBody, forceCenter } from "d3";
import { feature } from "topojson-client";
import * as Plot from "@observablehq/plot";

const $ = (id) => document.getElementById(id);
const DAY_MS = 86400000;
// Past this many edges on a day the map draws aggregates (per country pair,
// the strongest links, the selected entity's neighbourhood), never every edge.
const MAX_DRAWN_EDGES = 1500;
const MAX_AGGREGATE_LINKS = 300;

const state = {
  day: 0, dayB: 0, compare: false, known: 0, lastSeq: 0,
  minDay: 0, maxDay: 0, entity: "", entities: [], network: null, world: null,
  playing: null, generation: 0,
};

// ---------------------------------------------------------------------------
// Dates: days since 1970-01-01, as the server counts them.

const toIso = (day) => new Date(day * DAY_MS).toISOString().slice(0, 10);
const fromIso = (iso) => Math.round(Date.parse(iso + "T00:00:00Z") / DAY_MS);

function stepDay(day, step, sign) {
  if (step === "day") return day + sign;
  const d = new Date(day * DAY_MS);
  if (step === "month") d.setUTCMonth(d.getUTCMonth() + sign);
  else d.setUTCFullYear(d.getUTCFullYear() + sign);
  return Math.round(d.getTime() / DAY_MS);
}

// ---------------------------------------------------------------------------
// The API.

async function api(path) {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${path}: ${res.status} ${text.slice(0, 200)}`);
  }
  if (!res.ok) throw new Error(body.error ? body.error.message : `${path}: ${res.status}`);
  return body;
}

function knownParam() {
  return state.known && state.known < state.lastSeq ? `&known_at=@${state.known}` : "";
}

// ---------------------------------------------------------------------------
// Names: folded as the server folds them (case, diacritics, German ä = ae).

function fold(s) {
  return s.toLowerCase()
    .replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue").replace(/ß/g, "ss")
    .normalize("NFD").replace(/[\u0300-\u036f]/g, "");
}

function searchEntities(query) {
  const q = fold(query.trim());
  if (!q) return [];
  const hits = [];
  for (const e of state.entities) {
    const names = [e.slug, ...(e.names || []).map((n) => n.text)];
    const folded = names.map(fold);
    const at = Math.min(...folded.map((n) => (n.includes(q) ? n.indexOf(q) : Infinity)));
    if (at < Infinity) hits.push({ e, rank: at, label: names[0] === e.slug ? names[1] || e.slug : names[0] });
  }
  hits.sort((a, b) => a.rank - b.rank || a.e.slug.localeCompare(b.e.slug));
  return hits.slice(0, 12);
}

function displayName(e) {
  const en = (e.names || []).find((n) => n.lang === "en") || (e.names || [])[0];
  return en ? en.text : e.slug;
}

// ---------------------------------------------------------------------------
// The map.

const map = { svg: null, path: null, projection: null, width: 960, height: 460 };

function setupMap() {
  map.svg = select("#map").attr("viewBox", `0 0 ${map.width} ${map.height}`);
  map.projection = geoNaturalEarth1().fitSize([map.width, map.height], { type: "Sphere" });
  map.path = geoPath(map.projection);
  map.svg.append("path").attr("class", "graticule").attr("d", map.path(geoGraticule10()))
    .attr("fill", "none").attr("stroke", "#e6ecf0");
  map.svg.append("g").attr("class", "countries");
  map.svg.append("g").attr("class", "edges");
  map.svg.append("g").attr("class", "nodes");
  map.svg.append("g").attr("class", "labels");
  const defs = map.svg.append("defs");
  defs.append("marker").attr("id", "arrow").attr("viewBox", "0 0 10 10").attr("refX", 9).attr("refY", 5)
    .attr("markerWidth", 6).attr("markerHeight", 6).attr("orient", "auto-start-reverse")
    .append("path").attr("d", "M 0 0 L 10 5 L 0 10 z").attr("fill", "var(--route)");
}

function drawCountries(world) {
  const countries = feature(world, world.objects.countries).features;
  map.svg.select("g.countries").selectAll("path").data(countries).join("path")
    .attr("class", "country").attr("d", map.path);
}

const edgeId = (e) => `${e.kind}:${e.source}:${e.target}:${e.subkind}`;

// The edges to draw on a day: all of them, or aggregates on a large log.
function layout(network) {
  const nodes = new Map(network.nodes.map((n) => [n.id, n]));
  const located = (id) => nodes.get(id) && nodes.get(id).lat !== undefined;
  const edges = network.edges.map((e) => ({ ...e, id: edgeId(e) }));
  if (edges.length <= MAX_DRAWN_EDGES) {
    return { aggregated: false, edges: edges.filter((e) => located(e.source) && located(e.target)), nodes };
  }
  // Per country pair: certain and possible edge counts, the strongest first.
  const pairs = new Map();
  for (const e of edges) {
    const a = nodes.get(e.source), b = nodes.get(e.target);
    if (!a || !b || !a.country || !b.country) continue;
    const key = [a.country, b.country].sort().join("-");
    const p = pairs.get(key) || { key, a: a.country, b: b.country, certain: 0, possible: 0 };
    p.possible += 1;
    if (e.status === "yes") p.certain += 1;
    pairs.set(key, p);
  }
  const strongest = [...pairs.values()].sort((x, y) => y.possible - x.possible).slice(0, MAX_AGGREGATE_LINKS);
  const neighbourhood = state.entity
    ? edges.filter((e) => (e.source === state.entity || e.target === state.entity) && located(e.source) && located(e.target))
    : [];
  return { aggregated: true, pairs: strongest, totalPairs: pairs.size, edges: neighbourhood, nodes };
}

// Country centroids (for aggregates), from the countries' shapes.
let centroids = null;
function countryCentroid(iso2, nodes) {
  if (!centroids) {
    centroids = new Map();
    const sums = new Map();
    for (const n of nodes.values()) {
      if (n.lat === undefined || !n.country) continue;
      const s = sums.get(n.country) || { lat: 0, lon: 0, k: 0 };
      s.lat += n.lat; s.lon += n.lon; s.k += 1;
      sums.set(n.country, s);
    }
    for (const [c, s] of sums) centroids.set(c, [s.lon / s.k, s.lat / s.k]);
  }
  return centroids.get(iso2);
}

function drawNetwork(network) {
  const drawn = layout(network);
  const line = (a, b) => map.path({ type: "LineString", coordinates: [a, b] });
  const lonlat = (id) => { const n = drawn.nodes.get(id); return [n.lon, n.lat]; };
  let edges = drawn.edges;
  centroids = null;
  if (drawn.aggregated) {
    const agg = drawn.pairs.map((p) => ({ id: `countries:${p.key}`, aggregate: p }));
    edges = agg.concat(edges);
    $("aggregate-note").textContent =
      `${network.edges.length.toLocaleString()} edges: showing the ${drawn.pairs.length} strongest of ` +
      `${drawn.totalPairs} country pairs` + (state.entity ? ` and ${state.entity}'s neighbourhood` : "");
  } else {
    $("aggregate-note").textContent = "";
  }
  map.svg.select("g.edges").selectAll("path").data(edges, (e) => e.id).join("path")
    .attr("class", (e) => e.aggregate ? "edge aggregate" : `edge ${e.kind} ${e.status === "yes" ? "certain" : "maybe"}`)
    .attr("data-id", (e) => e.id)
    .attr("data-status", (e) => e.status || "")
    .attr("marker-end", (e) => (e.kind === "route" ? "url(#arrow)" : null))
    .attr("stroke-width", (e) => e.aggregate ? Math.min(8, 0.6 + Math.log2(1 + e.aggregate.possible)) : null)
    .attr("d", (e) => {
      if (e.aggregate) {
        const a = countryCentroid(e.aggregate.a, drawn.nodes), b = countryCentroid(e.aggregate.b, drawn.nodes);
        return a && b ? line(a, b) : null;
      }
      return line(lonlat(e.source), lonlat(e.target));
    })
    .selectAll("title").data((e) => [e]).join("title")
    .text((e) => e.aggregate
      ? `${e.aggregate.a} — ${e.aggregate.b}: ${range(e.aggregate.certain, e.aggregate.possible)} edges`
      : `${e.source} ${e.kind === "route" ? "→" : "—"} ${e.target} (${e.subkind}): ${e.status === "yes" ? "certain" : "only possible"}`);

  // Nodes: those with coordinates and an edge drawn (or all, when small).
  const shown = new Set();
  for (const e of drawn.edges) { shown.add(e.source); shown.add(e.target); }
  const nodes = [...drawn.nodes.values()].filter((n) => n.lat !== undefined && (shown.has(n.id) || !drawn.aggregated));
  map.svg.select("g.nodes").selectAll("circle").data(nodes, (n) => n.id).join("circle")
    .attr("class", (n) => `node${n.id === state.entity ? " selected" : ""}`)
    .attr("data-id", (n) => n.id)
    .attr("r", (n) => 2.5 + Math.sqrt(n.degree.possible))
    .attr("transform", (n) => `translate(${map.projection([n.lon, n.lat])})`)
    .on("click", (_, n) => selectEntity(n.id))
    .selectAll("title").data((n) => [n]).join("title")
    .text((n) => `${n.name}: ${range(n.degree.certain, n.degree.possible)} ties`);
  map.svg.select("g.labels").selectAll("text").data(nodes.length <= 60 ? nodes : nodes.filter((n) => n.id === state.entity), (n) => n.id)
    .join("text").attr("class", "node-label")
    .attr("transform", (n) => { const [x, y] = map.projection([n.lon, n.lat]); return `translate(${x + 5},${y - 4})`; })
    .text((n) => n.name);

  drawGraph(network, drawn.nodes);
  const certain = (kind) => network.edges.filter((e) => e.kind === kind && e.status === "yes").length;
  const possible = (kind) => network.edges.filter((e) => e.kind === kind).length;
  $("counts").innerHTML =
    `<strong>${toIso(state.day)}</strong> — partnerships <span data-count="partnerships">${range(certain("partnership"), possible("partnership"))}</span>, ` +
    `routes <span data-count="routes">${range(certain("route"), possible("route"))}</span> ` +
    `<small>(certain–possible; known at seq ${network.known_seq})</small>`;
}

function range(certain, possible) {
  return certain === possible ? `${certain}` : `${certain}–${possible}`;
}

// Entities without coordinates (blocs, continents, zones) and their ties.
function drawGraph(network, nodes) {
  const svg = select("#graph");
  const width = 600, height = 220;
  svg.attr("viewBox", `0 0 ${width} ${height}`);
  const unlocated = new Set([...nodes.values()].filter((n) => n.lat === undefined).map((n) => n.id));
  const links = network.edges.filter((e) => unlocated.has(e.source) || unlocated.has(e.target))
    .slice(0, 400).map((e) => ({ ...e, id: edgeId(e) }));
  const ids = new Set();
  for (const l of links) { ids.add(l.source); ids.add(l.target); }
  const gnodes = [...ids].map((id) => ({ id, name: nodes.get(id) ? nodes.get(id).name : id, located: !unlocated.has(id) }));
  const sim = forceSimulation(gnodes)
    .force("link", forceLink(links.map((l) => ({ ...l }))).id((d) => d.id).distance(60))
    .force("charge", forceManyBody().strength(-120))
    .force("center", forceCenter(width / 2, height / 2))
    .stop();
  for (let i = 0; i < 200; ++i) sim.tick();
  const pos = new Map(gnodes.map((n) => [n.id, n]));
  const clampX = (x) => Math.max(10, Math.min(width - 10, x)), clampY = (y) => Math.max(10, Math.min(height - 10, y));
  svg.selectAll("line").data(links, (l) => l.id).join("line")
    .attr("class", (l) => `edge ${l.kind} ${l.status === "yes" ? "certain" : "maybe"}`)
    .attr("data-id", (l) => l.id).attr("data-status", (l) => l.status)
    .attr("x1", (l) => clampX(pos.get(l.source).x)).attr("y1", (l) => clampY(pos.get(l.source).y))
    .attr("x2", (l) => clampX(pos.get(l.target).x)).attr("y2", (l) => clampY(pos.get(l.target).y));
  svg.selectAll("g.gnode").data(gnodes, (n) => n.id).join((enter) => {
    const g = enter.append("g").attr("class", "gnode");
    g.append("circle").attr("r", 4);
    g.append("text").attr("class", "node-label").attr("dx", 6).attr("dy", 3);
    return g;
  }).attr("transform", (n) => `translate(${clampX(n.x)},${clampY(n.y)})`)
    .call((g) => g.select("circle").attr("class", (n) => (n.located ? "node" : "node unlocated")))
    .call((g) => g.select("text").text((n) => n.name));
}

// ---------------------------------------------------------------------------
// The diff between the two days, with the events and sources behind it.

async function drawDiff(generation) {
  const panel = $("diff");
  if (!state.compare) {
    panel.innerHTML = "<p class='sources'>Tick “compare with” to see what changed between two dates.</p>";
    return;
  }
  const [a, b] = [Math.min(state.day, state.dayB), Math.max(state.day, state.dayB)];
  const entity = state.entity ? `&entity=${encodeURIComponent(state.entity)}` : "";
  const [diff, window] = await Promise.all([
    api(`/v1/diff?from=${toIso(a)}&to=${toIso(b)}&projection=network&format=json${knownParam()}${entity}`),
    api(`/v1/replay?from=${toIso(a)}&to=${toIso(b)}&projection=network&format=json${knownParam()}${entity}`),
  ]);
  if (generation !== state.generation) return;
  const sourcesByEvent = new Map();
  for (const e of window.edges) for (const s of e.sources) {
    const list = sourcesByEvent.get(s.event) || [];
    list.push(s);
    sourcesByEvent.set(s.event, list);
  }
  const byEdgeEvents = new Map(window.edges.map((e) => [e.events.join(" "), e]));
  panel.replaceChildren();
  const head = document.createElement("p");
  head.textContent = `${toIso(a)} → ${toIso(b)}: ${diff.differences.length} change${diff.differences.length === 1 ? "" : "s"}`;
  panel.append(head);
  for (const row of diff.differences) {
    const div = document.createElement("div");
    div.className = `row ${row.change}`;
    div.dataset.key = row.key;
    const sign = row.change === "added" ? "+" : row.change === "removed" ? "−" : "~";
    const what = document.createElement("div");
    what.textContent = `${sign} ${row.key}` + (row.after ? ` (${row.before ? row.before + " → " : ""}${row.after})` : "");
    div.append(what);
    const sources = document.createElement("div");
    sources.className = "sources";
    const seen = new Set();
    const events = [...row.events, ...(row.corrections || [])];
    for (const ev of events) {
      const line = document.createElement("div");
      line.textContent = `${ev.kind} ${ev.id} (seq ${ev.seq})`;
      sources.append(line);
      // Sources of the event, and of the corroborations of the edge it feeds.
      const own = sourcesByEvent.get(ev.id) || [];
      const edge = [...byEdgeEvents.values()].find((e) => e.events.includes(ev.id));
      for (const s of own.concat(edge ? edge.sources : [])) {
        const k = `${s.event}|${s.title}|${s.publisher}`;
        if (seen.has(k)) continue;
        seen.add(k);
        const p = document.createElement("div");
        p.className = "source";
        const title = s.url ? Object.assign(document.createElement("a"), { href: s.url, textContent: s.title, target: "_blank", rel: "noopener" })
                            : Object.assign(document.createElement("span"), { textContent: s.title });
        p.append(title, document.createTextNode(` — ${s.publisher}, ${s.published} (${s.language})`));
        if (s.quote) p.append(Object.assign(document.createElement("blockquote"), { textContent: `“${s.quote}”` }));
        sources.append(p);
      }
    }
    div.append(sources);
    panel.append(div);
  }
}

// ---------------------------------------------------------------------------
// Plots: counts over time, certain to possible.

function seriesPlot(series, title) {
  const rows = [];
  for (const p of series.series) {
    for (const m of ["partnerships", "routes"]) {
      rows.push({ date: new Date(p.date), measure: m, certain: p[m].certain, possible: p[m].possible });
    }
  }
  return Plot.plot({
    title, height: 200, marginLeft: 40, width: 420,
    color: { legend: true, domain: ["partnerships", "routes"], range: ["#0072B2", "#D55E00"] },
    y: { grid: true, label: "count" },
    marks: [
      Plot.areaY(rows, { x: "date", y1: "certain", y2: "possible", fill: "measure", fillOpacity: 0.2 }),
      Plot.lineY(rows, { x: "date", y: "certain", stroke: "measure" }),
      Plot.lineY(rows, { x: "date", y: "possible", stroke: "measure", strokeDasharray: "4 3" }),
      Plot.ruleX([new Date(toIso(state.day))], { stroke: "#999" }),
    ],
  });
}

async function drawPlots() {
  const from = toIso(state.minDay).slice(0, 4), to = toIso(state.maxDay).slice(0, 4);
  const series = await api(`/v1/replay?from=${from}&to=${to}&step=year&format=json${knownParam()}`);
  $("plot").replaceChildren(seriesPlot(series, "whole network"));
  if (state.entity) {
    const one = await api(`/v1/replay?from=${from}&to=${to}&step=year&format=json&entity=${encodeURIComponent(state.entity)}${knownParam()}`);
    $("entity-plot").replaceChildren(seriesPlot(one, state.entity));
  }
}

// ---------------------------------------------------------------------------
// One entity: its timeline with sources.

async function drawEntity(generation) {
  if (!state.entity) return;
  const t = await api(`/v1/replay?as_of=${toIso(state.maxDay)}&projection=timeline&entity=${encodeURIComponent(state.entity)}&format=json${knownParam()}`);
  if (generation !== state.generation) return;
  const e = state.entities.find((x) => x.slug === state.entity);
  $("entity-title").textContent = e ? `${displayName(e)} (${(e.names || []).map((n) => n.text).join(", ")})` : state.entity;
  const list = document.createElement("ul");
  for (const ev of t.events) {
    const li = document.createElement("li");
    li.dataset.id = ev.id;
    li.textContent = `${ev.date} ${ev.summary}` + (ev.occurred === "maybe" ? " (possibly)" : "");
    const src = document.createElement("div");
    src.className = "sources";
    src.textContent = ev.sources.map((s) => `${s.title} — ${s.publisher}, ${s.published}`).join("; ");
    li.append(src);
    list.append(li);
  }
  $("timeline").replaceChildren(list);
}

// ---------------------------------------------------------------------------
// Redraw on every change of the controls; answers of an older request are dropped.

async function redraw() {
  const generation = ++state.generation;
  const started = performance.now();
  $("date-text").value = toIso(state.day);
  $("date").value = state.day;
  $("date-b-text").value = toIso(state.dayB);
  $("date-b").value = state.dayB;
  try {
    const network = await api(`/v1/replay?as_of=${toIso(state.day)}&projection=network&format=json${knownParam()}`);
    if (generation !== state.generation) return;
    state.network = network;
    drawNetwork(network);
    document.body.dataset.day = toIso(state.day);
    document.body.dataset.redrawMs = String(Math.round(performance.now() - started));
    await Promise.all([drawDiff(generation), drawEntity(generation)]);
    if (generation !== state.generation) return;
    $("status").textContent = `as of ${toIso(state.day)}, known at seq ${network.known_seq}; drawn in ${document.body.dataset.redrawMs} ms`;
    document.body.dataset.ready = String(generation);
  } catch (err) {
    $("status").textContent = `error: ${err.message}`;
  }
}

function selectEntity(slug) {
  state.entity = slug;
  $("search-results").replaceChildren();
  redraw();
  drawPlots().catch((err) => { $("status").textContent = `error: ${err.message}`; });
}

function setupControls() {
  for (const id of ["date", "date-b"]) {
    $(id).min = state.minDay;
    $(id).max = state.maxDay;
    $(id).step = 1;
  }
  $("date").addEventListener("input", () => { state.day = Number($("date").value); redraw(); });
  $("date-b").addEventListener("input", () => { state.dayB = Number($("date-b").value); redraw(); });
  $("date-text").addEventListener("change", () => { if ($("date-text").value) { state.day = fromIso($("date-text").value); redraw(); } });
  $("date-b-text").addEventListener("change", () => { if ($("date-b-text").value) { state.dayB = fromIso($("date-b-text").value); redraw(); } });
  $("compare").addEventListener("change", () => {
    state.compare = $("compare").checked;
    $("date-b").disabled = $("date-b-text").disabled = !state.compare;
    redraw();
  });
  $("known").min = 1;
  $("known").max = state.lastSeq;
  $("known").value = state.known;
  const knownText = () => { $("known-text").textContent = state.known >= state.lastSeq ? `everything (seq ${state.lastSeq})` : `seq ${state.known} of ${state.lastSeq}`; };
  knownText();
  $("known").addEventListener("input", () => { state.known = Number($("known").value); knownText(); redraw(); drawPlots().catch(() => {}); });
  $("play").addEventListener("click", () => {
    if (state.playing) {
      clearInterval(state.playing);
      state.playing = null;
      $("play").textContent = "▶";
      return;
    }
    $("play").textContent = "⏸";
    state.playing = setInterval(() => {
      const next = stepDay(state.day, $("step").value, 1);
      state.day = next > state.maxDay ? state.minDay : next;
      redraw();
    }, 700);
  });
  const results = $("search-results");
  $("search").addEventListener("input", () => {
    results.replaceChildren(...searchEntities($("search").value).map(({ e, label }) => {
      const li = document.createElement("li");
      li.dataset.slug = e.slug;
      li.textContent = `${label} — ${(e.names || []).map((n) => n.text).join(", ")} (${e.type}${e.country ? ", " + e.country : ""})`;
      li.addEventListener("click", () => selectEntity(e.slug));
      return li;
    }));
  });
  $("search").addEventListener("keydown", async (ev) => {
    if (ev.key !== "Enter") return;
    const first = results.querySelector("li");
    if (first) return selectEntity(first.dataset.slug);
    try {  // the server's resolver: any registered name, any spelling it folds
      const e = await api(`/v1/entities?name=${encodeURIComponent($("search").value)}`);
      selectEntity(e.slug);
    } catch (err) {
      $("status").textContent = err.message;
    }
  });
}

// Live: every append shows up here and redraws what it may change.
function setupLive() {
  const source = new EventSource("/v1/subscribe");
  source.onopen = () => { $("live").textContent = "● live"; $("live").classList.add("on"); };
  source.onerror = () => { $("live").textContent = "○ reconnecting"; $("live").classList.remove("on"); };
  source.addEventListener("event", async (msg) => {
    const ev = JSON.parse(msg.data);
    const li = document.createElement("li");
    li.dataset.id = ev.id;
    li.textContent = `seq ${ev.seq}: ${ev.kind} ${ev.date} ${ev.id}`;
    $("live-events").prepend(li);
    const following = state.known >= state.lastSeq;
    state.lastSeq = Math.max(state.lastSeq, ev.seq);
    $("known").max = state.lastSeq;
    if (following) { state.known = state.lastSeq; $("known").value = state.known; }
    if (ev.kind === "entity_registered") state.entities = (await api("/v1/entities")).entities;
    redraw();
  });
}

async function main() {
  setupMap();
  const [stats, entities, world] = await Promise.all([
    api("/v1/stats"), api("/v1/entities"), fetch("/assets/countries-110m.json").then((r) => r.json()),
  ]);
  state.entities = entities.entities;
  state.lastSeq = stats.events ? Number(stats.last_seq || stats.events) : 0;
  const health = await api("/v1/health");
  state.lastSeq = health.last_seq;
  state.known = state.lastSeq;
  const vt = stats.valid_time || { earliest: "2000-01-01", latest: toIso(Math.floor(Date.now() / DAY_MS)) };
  state.minDay = fromIso(vt.earliest.slice(0, 4) + "-01-01");
  state.maxDay = fromIso(vt.latest.slice(0, 4) + "-12-31");
  const params = new URLSearchParams(location.search);
  state.day = params.get("date") ? fromIso(params.get("date")) : state.maxDay;
  state.dayB = state.minDay;
  drawCountries(world);
  setupControls();
  setupLive();
  await redraw();
  await drawPlots();
}

main().catch((err) => { $("status").textContent = `error: ${err.message}`; });
