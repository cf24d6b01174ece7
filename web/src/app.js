// The page of `twinline serve`: a client of the HTTP API (docs/SERVER.md)
// and nothing else. It asks
//   GET /v1/stats                        the valid-time range, the log's last seq
//   GET /v1/entities                     names for search (any language)
//   GET /v1/replay?as_of&projection=network&format=json
//                                        the network on the slider's day
//   GET /v1/replay?as_of&projection=countries&top    on a large log instead:
//                                        the network by country and the
//                                        strongest links between countries,
//   GET /v1/replay?as_of&projection=network&entity   with the selected
//                                        entity's own edges on top
//   GET /v1/diff?from&to&events=0&projection=network&sources&limit
//                                        what changed between the two days,
//                                        each change's events and sources
//   GET /v1/diff?as_of&known_at&vs_known_at&projection=network&sources&limit
//                                        what the log learnt after the
//                                        known-at seq (corrections)
//   GET /v1/replay?from&to&step=year&format=json[&entity]
//                                        counts over time (the plots)
//   GET /v1/replay?as_of&projection=timeline&entity&format=json
//   GET /v1/subscribe                    live appends (Server-Sent Events)
// so it is as fast as the API underneath: one replay (or two) per slider
// move, each in the cost of its answer (docs/INDEX.md).
import { geoNaturalEarth1, geoPath, geoGraticule10 } from "d3";
import { select } from "d3";
import { forceSimulation, forceLink, forceManyBody, forceCenter } from "d3";
import { feature } from "topojson-client";
import * as Plot from "@observablehq/plot";

const $ = (id) => document.getElementById(id);
const DAY_MS = 86400000;
// On a log of more than this many partnerships and routes (established or
// opened) the map draws the network by country — per country, the strongest
// links between countries, the selected entity's neighbourhood — never every
// edge; `?view=countries` or `?view=edges` in the URL chooses either way.
const AGGREGATE_ABOVE = 1500;
const AGGREGATE_LINKS = 300;
// What changed: at most this many rows listed (the summary counts them all).
const DIFF_ROWS = 200;

const state = {
  day: 0, dayB: 0, compare: false, known: 0, lastSeq: 0, aggregate: false,
  minDay: 0, maxDay: 0, entity: "", entities: [], centres: new Map(),
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
  map.svg.append("g").attr("class", "aggregates");
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

// Where a country is drawn: the mean position of its entities with
// coordinates (the world atlas has no ISO alpha-2 codes to match).
function countryCentres(entities) {
  const sums = new Map();
  for (const e of entities) {
    if (!e.location || !e.country) continue;
    const s = sums.get(e.country) || { lat: 0, lon: 0, k: 0 };
    s.lat += e.location.lat; s.lon += e.location.lon; s.k += 1;
    sums.set(e.country, s);
  }
  return new Map([...sums].map(([c, s]) => [c, [s.lon / s.k, s.lat / s.k]]));
}

function range(certain, possible) {
  return certain === possible ? `${certain}` : `${certain}–${possible}`;
}
const rangeOf = (r) => range(r.certain, r.possible);
// Certain solid, only possible dashed and faded, and a mix in between.
const certainty = (r) => (r.certain === r.possible ? "certain" : r.certain === 0 ? "maybe" : "mixed");

// Draws on the map: `links` between countries and `countries` (aggregates,
// on a large log), and `edges` between the `nodes` (a network's JSON).
function drawMap({ links = [], countries = [], network }) {
  const nodes = new Map(network.nodes.map((n) => [n.id, n]));
  const located = (id) => nodes.get(id) && nodes.get(id).lat !== undefined;
  const line = (a, b) => map.path({ type: "LineString", coordinates: [a, b] });
  const at = (id) => { const n = nodes.get(id); return [n.lon, n.lat]; };
  const edges = network.edges.filter((e) => located(e.source) && located(e.target))
    .map((e) => ({ ...e, id: edgeId(e) }));
  const drawnLinks = links.filter((l) => state.centres.has(l.a) && state.centres.has(l.b) && l.a !== l.b)
    .map((l) => ({ ...l, id: `countries:${l.a}:${l.b}`, total: { certain: l.partnerships.certain + l.routes.certain, possible: l.partnerships.possible + l.routes.possible } }));

  map.svg.select("g.edges").selectAll("path").data(drawnLinks.concat(edges), (e) => e.id).join("path")
    .attr("class", (e) => e.total ? `edge aggregate ${certainty(e.total)}` : `edge ${e.kind} ${e.status === "yes" ? "certain" : "maybe"}`)
    .attr("data-id", (e) => e.id)
    .attr("data-status", (e) => e.total ? rangeOf(e.total) : e.status)
    .attr("marker-end", (e) => (e.kind === "route" ? "url(#arrow)" : null))
    .attr("stroke-width", (e) => e.total ? Math.min(8, 0.6 + Math.log2(1 + e.total.possible)) : null)
    .attr("stroke-opacity", (e) => e.total && e.total.certain > 0 ? 0.3 + 0.6 * e.total.certain / e.total.possible : null)
    .attr("d", (e) => e.total ? line(state.centres.get(e.a), state.centres.get(e.b)) : line(at(e.source), at(e.target)))
    .selectAll("title").data((e) => [e]).join("title")
    .text((e) => e.total
      ? `${e.a} — ${e.b}: partnerships ${rangeOf(e.partnerships)}, routes ${rangeOf(e.routes)}`
      : `${e.source} ${e.kind === "route" ? "→" : "—"} ${e.target} (${e.subkind}): ${e.status === "yes" ? "certain" : "only possible"}`);

  const placed = countries.filter((c) => c.country && state.centres.has(c.country));
  map.svg.select("g.aggregates").selectAll("circle").data(placed, (c) => c.country).join("circle")
    .attr("class", (c) => `country-node ${certainty({ certain: c.partnerships.certain + c.routes.certain, possible: c.partnerships.possible + c.routes.possible })}`)
    .attr("data-country", (c) => c.country)
    .attr("r", (c) => 2.5 + 1.5 * Math.log2(1 + c.partnerships.possible + c.routes.possible))
    .attr("transform", (c) => `translate(${map.projection(state.centres.get(c.country))})`)
    .selectAll("title").data((c) => [c]).join("title")
    .text((c) => `${c.country}: partnerships ${rangeOf(c.partnerships)}, routes ${rangeOf(c.routes)}, entities ${rangeOf(c.entities)}`);

  // Nodes with coordinates: all of the network's (on a large log, those
  // of the selected entity's neighbourhood).
  const shown = [...nodes.values()].filter((n) => n.lat !== undefined);
  map.svg.select("g.nodes").selectAll("circle").data(shown, (n) => n.id).join("circle")
    .attr("class", (n) => `node${n.id === state.entity ? " selected" : ""}`)
    .attr("data-id", (n) => n.id)
    .attr("r", (n) => 2.5 + Math.sqrt(n.degree.possible))
    .attr("transform", (n) => `translate(${map.projection([n.lon, n.lat])})`)
    .on("click", (_, n) => selectEntity(n.id))
    .selectAll("title").data((n) => [n]).join("title")
    .text((n) => `${n.name}: ${range(n.degree.certain, n.degree.possible)} ties`);
  map.svg.select("g.labels").selectAll("text").data(shown.length <= 60 ? shown : shown.filter((n) => n.id === state.entity), (n) => n.id)
    .join("text").attr("class", "node-label")
    .attr("transform", (n) => { const [x, y] = map.projection([n.lon, n.lat]); return `translate(${x + 5},${y - 4})`; })
    .text((n) => n.name);
  drawGraph(network, nodes);
}

function drawCounts(partnerships, routes, knownSeq) {
  $("counts").innerHTML =
    `<strong>${toIso(state.day)}</strong> — partnerships <span data-count="partnerships">${rangeOf(partnerships)}</span>, ` +
    `routes <span data-count="routes">${rangeOf(routes)}</span> ` +
    `<small>(certain–possible; known at seq ${knownSeq})</small>`;
}

// A small log: every edge of the day.
function drawNetwork(network) {
  $("aggregate-note").textContent = "";
  drawMap({ network });
  const count = (kind) => {
    const of = network.edges.filter((e) => e.kind === kind);
    return { certain: of.filter((e) => e.status === "yes").length, possible: of.length };
  };
  drawCounts(count("partnership"), count("route"), network.known_seq);
}

// A large log: the network by country, and the selected entity's edges.
function drawAggregate(countries, neighbourhood) {
  const network = neighbourhood || { nodes: [], edges: [] };
  drawMap({ links: countries.links, countries: countries.countries, network });
  const edges = countries.partnerships.possible + countries.routes.possible;
  $("aggregate-note").textContent =
    `${edges.toLocaleString()} edges by country: the ${countries.links.length} strongest of ` +
    `${countries.links_total.toLocaleString()} links between countries` +
    (state.entity ? ` and ${state.entity}'s ${network.edges.length} edges` : "");
  drawCounts(countries.partnerships, countries.routes, countries.known_seq);
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
// What changed, with the events and sources behind each change: between the
// two days, or (known at an earlier seq) what the log learnt since then —
// a correction taking effect names the retraction or amendment.

function sourceLine(s) {
  const p = document.createElement("div");
  p.className = "source";
  const title = s.url ? Object.assign(document.createElement("a"), { href: s.url, textContent: s.title, target: "_blank", rel: "noopener" })
                      : Object.assign(document.createElement("span"), { textContent: s.title });
  p.append(title, document.createTextNode(` — ${s.publisher}, ${s.published} (${s.language})`));
  if (s.quote) p.append(Object.assign(document.createElement("blockquote"), { textContent: `“${s.quote}”` }));
  return p;
}

async function drawDiff(generation) {
  const panel = $("diff");
  const entity = state.entity ? `&entity=${encodeURIComponent(state.entity)}` : "";
  const common = `&projection=network&format=json&sources=true&limit=${DIFF_ROWS}${entity}`;
  let url, title;
  if (state.compare) {
    const [a, b] = [Math.min(state.day, state.dayB), Math.max(state.day, state.dayB)];
    // events=0: the page lists the changes, not every event dated in between.
    url = `/v1/diff?from=${toIso(a)}&to=${toIso(b)}&events=0${knownParam()}${common}`;
    title = `${toIso(a)} → ${toIso(b)}`;
  } else if (state.known < state.lastSeq) {
    url = `/v1/diff?as_of=${toIso(state.day)}&known_at=@${state.known}&vs_known_at=@${state.lastSeq}${common}`;
    title = `on ${toIso(state.day)}, learnt after seq ${state.known} (up to seq ${state.lastSeq})`;
  } else {
    panel.innerHTML = "<p class='sources'>Tick “compare with” to see what changed between two dates, " +
      "or move “known at” back to see what the log learnt since.</p>";
    return;
  }
  const diff = await api(url);
  if (generation !== state.generation) return;
  panel.replaceChildren();
  const head = document.createElement("p");
  const total = diff.summary.differences;
  head.textContent = `${title}: ${total} change${total === 1 ? "" : "s"}` +
    (diff.differences.length < total ? `, the first ${diff.differences.length} listed` : "");
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
    for (const [ev, role] of [...row.events.map((e) => [e, ""]), ...row.corrections.map((e) => [e, "corrected by "])]) {
      const line = document.createElement("div");
      line.className = role ? "correction" : "event";
      line.dataset.id = ev.id;
      line.textContent = `${role}${ev.kind} ${ev.id} (seq ${ev.seq})`;
      sources.append(line);
      for (const s of ev.sources) {  // its own, and its corroborations'
        const k = `${s.event}|${s.title}|${s.publisher}`;
        if (seen.has(k)) continue;
        seen.add(k);
        sources.append(sourceLine(s));
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
  const day = `as_of=${toIso(state.day)}${knownParam()}&format=json`;
  try {
    let knownSeq;
    if (state.aggregate) {
      const [countries, neighbourhood] = await Promise.all([
        api(`/v1/replay?${day}&projection=countries&top=${AGGREGATE_LINKS}`),
        state.entity ? api(`/v1/replay?${day}&projection=network&entity=${encodeURIComponent(state.entity)}`) : null,
      ]);
      if (generation !== state.generation) return;
      drawAggregate(countries, neighbourhood);
      knownSeq = countries.known_seq;
    } else {
      const network = await api(`/v1/replay?${day}&projection=network`);
      if (generation !== state.generation) return;
      drawNetwork(network);
      knownSeq = network.known_seq;
    }
    document.body.dataset.day = toIso(state.day);
    document.body.dataset.redrawMs = String(Math.round(performance.now() - started));
    await Promise.all([drawDiff(generation), drawEntity(generation)]);
    if (generation !== state.generation) return;
    $("status").textContent = `as of ${toIso(state.day)}, known at seq ${knownSeq}; drawn in ${document.body.dataset.redrawMs} ms` +
      (state.aggregate ? " (by country)" : "");
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
    if (ev.kind === "entity_registered") {
      state.entities = (await api("/v1/entities")).entities;
      state.centres = countryCentres(state.entities);
    }
    redraw();
  });
}

async function main() {
  setupMap();
  const [stats, entities, world] = await Promise.all([
    api("/v1/stats"), api("/v1/entities"), fetch("/assets/countries-110m.json").then((r) => r.json()),
  ]);
  state.entities = entities.entities;
  state.centres = countryCentres(state.entities);
  state.lastSeq = stats.events ? Number(stats.last_seq || stats.events) : 0;
  const health = await api("/v1/health");
  state.lastSeq = health.last_seq;
  state.known = state.lastSeq;
  const vt = stats.valid_time || { earliest: "2000-01-01", latest: toIso(Math.floor(Date.now() / DAY_MS)) };
  state.minDay = fromIso(vt.earliest.slice(0, 4) + "-01-01");
  state.maxDay = fromIso(vt.latest.slice(0, 4) + "-12-31");
  const params = new URLSearchParams(location.search);
  const kinds = stats.by_kind || {};
  const edgeFacts = (kinds.partnership_established || 0) + (kinds.route_opened || 0);
  state.aggregate = params.get("view") === "countries" ||
    (params.get("view") !== "edges" && edgeFacts > AGGREGATE_ABOVE);
  state.day = params.get("date") ? fromIso(params.get("date")) : state.maxDay;
  state.dayB = state.minDay;
  drawCountries(world);
  setupControls();
  setupLive();
  await redraw();
  await drawPlots();
}

main().catch((err) => { $("status").textContent = `error: ${err.message}`; });
