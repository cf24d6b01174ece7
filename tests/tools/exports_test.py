#!/usr/bin/env python3
"""The exports that carry time, read back by the tools people use on them.

Runs the real `twinline` binary on the bundled dataset (data/seed.ndjson) and
checks, through the CLI and GET /v1/replay:
  * GEXF: well-formed GEXF 1.3, dynamic, with node and edge spells and the
    edge status as a dynamic attribute; networkx reads it; Chengdu-Montpellier
    (dated 1981) is "maybe" through 1981 and "yes" from 1981-12-31.
  * GraphML: networkx reads it as a directed graph, every edge with its id,
    events, sources, start, end and status.
  * GeoJSON: one geometry type per layer, start/end properties, and what it
    leaves out said on stderr (CLI) and in X-Twinline-Omitted (HTTP).
  * CSV node and edge lists with the columns promised.
  * SVG (and PNG) chart of a time series.
  * The HTTP answers are the CLI's bytes.
Usage: exports_test.py TWINLINE_BIN SOURCE_DIR
"""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request
import xml.etree.ElementTree as ET

TWINLINE = sys.argv[1] if len(sys.argv) > 1 else "build/tools/twinline"
SOURCE = sys.argv[2] if len(sys.argv) > 2 else "."
GEXF = "{http://gexf.net/1.3}"
GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"


class ExportsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="twinline-exports-")
        cls.db = os.path.join(cls.tmp, "db")
        cls.run_ok(["init"])
        cls.run_ok(["import", os.path.join(SOURCE, "data", "seed.ndjson")])
        cls.server = subprocess.Popen(
            [TWINLINE, "--db", cls.db, "serve", "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = cls.server.stdout.readline()
        if "listening on " not in line:
            raise RuntimeError("serve did not start: " + line + cls.server.stderr.read())
        cls.base = line.strip().split("listening on ")[1]

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=20)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def run_ok(cls, args):
        r = subprocess.run([TWINLINE, "--db", cls.db] + args, capture_output=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError(f"twinline {' '.join(args)}: exit {r.returncode}: {r.stderr.decode()}")
        return r

    def cli(self, *args):
        return self.run_ok(list(args))

    def http(self, query):
        with urllib.request.urlopen(self.base + "/v1/replay?" + query, timeout=60) as res:
            return res.read(), res.headers

    def window(self, fmt, *extra):
        return self.cli("replay", "--from", "1950", "--to", "2025", "--projection", "network",
                        "--format", fmt, *extra)

    # --- GEXF --------------------------------------------------------------

    def test_gexf_is_dynamic_with_spells_and_status_over_time(self):
        out = self.window("gexf").stdout
        root = ET.fromstring(out)
        self.assertEqual(root.tag, GEXF + "gexf")
        self.assertEqual(root.get("version"), "1.3")
        graph = root.find(GEXF + "graph")
        self.assertEqual(graph.get("mode"), "dynamic")
        self.assertEqual(graph.get("timeformat"), "date")
        self.assertEqual((graph.get("start"), graph.get("end")), ("1950-01-01", "2025-12-31"))
        nodes = graph.find(GEXF + "nodes").findall(GEXF + "node")
        edges = graph.find(GEXF + "edges").findall(GEXF + "edge")
        self.assertGreater(len(nodes), 10)
        self.assertGreater(len(edges), 5)
        node_ids = {n.get("id") for n in nodes}
        for n in nodes:
            self.assertTrue(n.find(GEXF + "spells").findall(GEXF + "spell"), n.get("id"))
        by_id = {e.get("id"): e for e in edges}
        self.assertEqual(len(by_id), len(edges), "edge ids are unique")
        for e in edges:
            self.assertIn(e.get("source"), node_ids)
            self.assertIn(e.get("target"), node_ids)
            self.assertIn(e.get("type"), ("mutual", "directed"))
            spells = e.find(GEXF + "spells").findall(GEXF + "spell")
            self.assertTrue(spells)
            for s in spells:
                self.assertLessEqual(s.get("start"), s.get("end"))
        cm = by_id["partnership:chengdu:montpellier:sister_city"]
        self.assertEqual(cm.get("type"), "mutual")
        values = cm.find(GEXF + "attvalues").findall(GEXF + "attvalue")
        status = [(v.get("value"), v.get("start"), v.get("end")) for v in values if v.get("for") == "status"]
        self.assertEqual(status, [("maybe", "1981-01-01", "1981-12-30"),
                                  ("yes", "1981-12-31", "2025-12-31")])
        static = {v.get("for"): v.get("value") for v in values if v.get("start") is None}
        self.assertTrue(static["events"].startswith("ev-"))
        self.assertIn("—", static["sources"])
        route = next(e for i, e in by_id.items() if i.startswith("route:chongqing:"))
        self.assertEqual(route.get("type"), "directed")
        self.assertEqual(route.get("source"), "chongqing")

    def test_gexf_reads_in_networkx(self):
        import networkx as nx
        path = os.path.join(self.tmp, "net.gexf")
        with open(path, "wb") as f:
            f.write(self.window("gexf").stdout)
        g = nx.read_gexf(path)
        self.assertTrue(g.is_directed())
        self.assertIn("chongqing", g.nodes)
        self.assertEqual(g.nodes["chongqing"]["label"], "Chongqing")
        self.assertGreater(g.number_of_edges(), 5)

    # --- GraphML -----------------------------------------------------------

    def test_graphml_reads_in_networkx_with_start_end_status_ids_events_sources(self):
        import networkx as nx
        out = self.window("graphml").stdout
        ET.fromstring(out)  # well-formed
        g = nx.read_graphml(io.BytesIO(out))
        self.assertTrue(g.is_directed())
        spans = [d for _, _, d in g.edges(data=True) if d["edge"] == "partnership:chengdu:montpellier:sister_city"]
        self.assertEqual(sorted((d["status"], d["start"], d["end"]) for d in spans),
                         [("maybe", "1981-01-01", "1981-12-30"), ("yes", "1981-12-31", "2025-12-31")])
        for _, _, d in g.edges(data=True):
            self.assertTrue(d["events"].startswith("ev-"))
            self.assertTrue(d["sources"])
            self.assertIn(d["status"], ("yes", "maybe"))
            self.assertLessEqual(d["start"], d["end"])
        self.assertEqual(g.nodes["chongqing"]["label"], "Chongqing")
        self.assertAlmostEqual(g.nodes["chongqing"]["lat"], 29.56)

    # --- GeoJSON -----------------------------------------------------------

    def test_geojson_layers_carry_start_end_and_say_what_they_leave_out(self):
        for layer, geometry in (("nodes", "Point"), ("edges", "LineString")):
            r = self.window("geojson", "--layer", layer)
            doc = json.loads(r.stdout)
            self.assertEqual(doc["type"], "FeatureCollection")
            self.assertTrue(doc["features"])
            for f in doc["features"]:
                self.assertEqual(f["type"], "Feature")
                self.assertEqual(f["geometry"]["type"], geometry)
                p = f["properties"]
                self.assertLessEqual(p["start"], p["end"])
                for lon, lat in ([f["geometry"]["coordinates"]] if geometry == "Point"
                                 else f["geometry"]["coordinates"]):
                    self.assertTrue(-180 <= lon <= 180 and -90 <= lat <= 90)
                if layer == "edges":
                    self.assertTrue(p["id"].startswith(("partnership:", "route:")))
                    self.assertTrue(all(e.startswith("ev-") for e in p["events"]))
                    self.assertTrue(all("title" in s and "event" in s for s in p["sources"]))
            # The bundled dataset has entities without coordinates (Europe, the EU).
            err = r.stderr.decode()
            self.assertRegex(err, r"twinline: note: \d+ (node|edge)s? .*without coordinates left out")
            body, headers = self.http("from=1950&to=2025&projection=network&format=geojson&layer=" + layer)
            self.assertEqual(body, r.stdout)
            self.assertEqual(headers["Content-Type"], "application/geo+json")
            self.assertIn("without coordinates left out", headers["X-Twinline-Omitted"])

    def test_geojson_window_needs_a_layer(self):
        r = subprocess.run([TWINLINE, "--db", self.db, "replay", "--from", "1950", "--to", "2025",
                            "--projection", "network", "--format", "geojson"], capture_output=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--layer nodes", r.stderr.decode())

    # --- CSV ---------------------------------------------------------------

    def test_csv_node_and_edge_lists(self):
        nodes = list(csv.DictReader(io.StringIO(self.window("csv", "--layer", "nodes").stdout.decode())))
        edges = list(csv.DictReader(io.StringIO(self.window("csv", "--layer", "edges").stdout.decode())))
        self.assertEqual(list(nodes[0].keys()),
                         ["id", "label", "type", "country", "lat", "lon", "start", "end", "spells"])
        self.assertEqual(list(edges[0].keys()),
                         ["id", "source", "target", "kind", "subkind", "mutual", "status", "start",
                          "end", "events", "sources"])
        ids = {n["id"] for n in nodes}
        for e in edges:
            self.assertIn(e["source"], ids)
            self.assertIn(e["target"], ids)
        dd = [e for e in edges if e["id"] == "partnership:chongqing:duesseldorf:sister_city"]
        self.assertEqual([(e["status"], e["start"]) for e in dd], [("yes", "2004-07-22")])
        self.assertIn("nrwheute", dd[0]["sources"])
        # A snapshot network as an edge list: the window of one day.
        day = list(csv.DictReader(io.StringIO(self.cli(
            "replay", "--as-of", "2004-07-22", "--projection", "network", "--format", "csv",
            "--layer", "edges").stdout.decode())))
        self.assertIn("partnership:chongqing:duesseldorf:sister_city", {e["id"] for e in day})
        before = list(csv.DictReader(io.StringIO(self.cli(
            "replay", "--as-of", "2004-07-21", "--projection", "network", "--format", "csv",
            "--layer", "edges").stdout.decode())))
        self.assertNotIn("partnership:chongqing:duesseldorf:sister_city", {e["id"] for e in before})

    # --- JSON and HTTP identity ----------------------------------------------

    def test_http_answers_are_the_cli_bytes(self):
        for fmt, ctype in (("gexf", "application/gexf+xml"), ("graphml", "application/graphml+xml"),
                           ("json", "application/json")):
            body, headers = self.http("from=1950&to=2025&projection=network&format=" + fmt)
            self.assertEqual(body, self.window(fmt).stdout, fmt)
            self.assertEqual(headers["Content-Type"], ctype)

    # --- Charts --------------------------------------------------------------

    def test_series_chart_as_svg_and_png(self):
        svg = self.cli("replay", "--from", "1980", "--to", "2025", "--step", "year",
                       "--format", "svg").stdout
        root = ET.fromstring(svg)
        self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg")
        names = [g.get("data-name") for g in root.iter("{http://www.w3.org/2000/svg}g")
                 if g.get("class") == "measure"]
        self.assertEqual(names, ["partnerships", "routes", "entities with partnership"])
        body, headers = self.http("from=1980&to=2025&step=year&format=svg")
        self.assertEqual(body, svg)
        self.assertEqual(headers["Content-Type"], "image/svg+xml")
        png = self.cli("replay", "--from", "1980", "--to", "2025", "--step", "year",
                       "--format", "png").stdout
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(png), 5000)
        with open(os.path.join(self.tmp, "chart.png"), "wb") as f:
            f.write(png)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
