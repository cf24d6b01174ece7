#!/usr/bin/env bash
# Load test of `twinline serve` with wrk (Debian package `wrk`), against
# loopback only and bounded in time. Builds a scratch database (the bundled
# dataset, plus a synthetic history from twinline-gen when it is built),
# starts the server on 127.0.0.1, and runs wrk five times:
#
#   reads     GET /v1/events pages (random cursors, entity and kind filters)
#   entities  GET /v1/entities?name=... in several languages
#   replays   GET /v1/replay: counts of every entity on a random valid day
#   diffs     GET /v1/diff: the network between two random years
#   appends   POST /v1/events, one new fact per request (group commit)
#
# and prints requests per second, latency percentiles and the mean answer
# size (replay and diff answers grow with the log) for each. Then it
# checks that every append wrk saw acknowledged is in the log exactly once,
# at the seq the server answered, and that the hash chain verifies. Nothing
# outside the scratch directory is touched; the server is stopped at exit.
#
#   bench/serve_load.sh [--build DIR] [--duration SECONDS] [--threads N]
#                       [--connections N] [--events N] [--server-threads N]
#
# wrk counts a request without an answer within 10 s as a timeout (an error).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
duration=10
wrk_threads=2
connections=16
events=20000
server_threads=0
while (($#)); do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --threads) wrk_threads=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --server-threads) server_threads=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "serve_load: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
done
[[ "$duration" =~ ^[0-9]+$ ]] && ((duration >= 1 && duration <= 600)) \
  || { echo "serve_load: --duration must be 1..600 seconds" >&2; exit 1; }

twinline="$build/tools/twinline"
gen="$build/bench/twinline-gen"
[ -x "$twinline" ] || { echo "serve_load: no $twinline; build first (cmake --build $build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "serve_load: wrk is missing: apt-get install wrk (or bash tools/setup.sh)" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/twinline-serve-load.XXXXXX")
db="$scratch/db"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

# --- the database -----------------------------------------------------------
"$twinline" --db "$db" init >/dev/null
"$twinline" --db "$db" import data/seed.ndjson >/dev/null
if [ -x "$gen" ] && ((events > 0)); then
  cities=$((events / 10 > 100 ? events / 10 : 100))
  "$gen" --events "$events" --cities "$cities" --countries 50 > "$scratch/history.ndjson"
  "$twinline" --db "$db" import "$scratch/history.ndjson" >/dev/null
else
  echo "serve_load: $gen not built: loading the bundled dataset only" >&2
fi
stats=$("$twinline" --db "$db" stats --format json)
last_seq=$(sed -E 's/^\{"events":([0-9]+).*/\1/' <<<"$stats")
# The valid-time span, in years, for the replay and diff runs.
first_year=$(sed -E 's/.*"valid_time":\{"earliest":"([0-9]{4}).*/\1/' <<<"$stats")
last_year=$(sed -E 's/.*"valid_time":\{[^}]*"latest":"([0-9]{4}).*/\1/' <<<"$stats")

# --- the server, on loopback --------------------------------------------------
"$twinline" --db "$db" serve --listen 127.0.0.1:0 --threads "$server_threads" \
  > "$scratch/serve.out" 2> "$scratch/serve.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^listening on' "$scratch/serve.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/serve.err" >&2; exit 1; }
  sleep 0.05
done
url=$(sed -n 's/^listening on //p' "$scratch/serve.out")
[[ "$url" == http://127.0.0.1:* ]] || { echo "serve_load: server did not start" >&2; cat "$scratch/serve.err" >&2; exit 1; }

# --- the runs -----------------------------------------------------------------
results=()
run() {  # NAME SCRIPT ARGS...
  local name=$1 script=$2; shift 2
  local out="$scratch/wrk-${script%.lua}.txt"
  timeout $((duration + 30)) wrk --latency --timeout 10s -t "$wrk_threads" -c "$connections" \
    -d "${duration}s" -s "bench/wrk/$script" "$url" -- "$@" > "$out"
  local rps p50 p90 p99 non2xx errors size
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  # "Transfer/sec: 1.23MB" over "Requests/sec": the mean answer, headers included.
  size=$(awk '/^Requests\/sec:/ {r = $2} /^Transfer\/sec:/ {t = $2}
    END { m = 1; if (t ~ /KB$/) m = 1024; if (t ~ /MB$/) m = 1048576; if (t ~ /GB$/) m = 1073741824
          sub(/[KMG]?B$/, "", t); b = r > 0 ? t * m / r : 0
          if (b >= 1048576) printf "%.1fMB", b / 1048576; else if (b >= 1024) printf "%.1fKB", b / 1024; else printf "%dB", b }' "$out")
  p50=$(awk '$1 == "50%" {print $2}' "$out")
  p90=$(awk '$1 == "90%" {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  errors=$(awk -F'[ ,]+' '/Socket errors:/ {print $4 + $6 + $8 + $10}' "$out")
  results+=("$(printf '%-22s %12s %9s %9s %9s %9s %8s' "$name" "$rps" "$p50" "$p90" "$p99" "$size" "$((${non2xx:-0} + ${errors:-0}))")")
}

run "GET /v1/events" events.lua "$last_seq"
run "GET /v1/entities" entities.lua
run "GET /v1/replay" replay.lua "$first_year" "$last_year"
run "GET /v1/diff" diff.lua "$first_year" "$last_year"
mkdir -p "$scratch/acks"
health_before=$(curl -s "$url/v1/health" 2>/dev/null || true)
run "POST /v1/events" append.lua "$scratch/acks"
health_after=$(curl -s "$url/v1/health" 2>/dev/null || true)

# --- every acknowledged append is in the log exactly once -------------------
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
cat "$scratch"/acks/acks-*.txt > "$scratch/acked.txt"
acked=$(grep -c '^ev-' "$scratch/acked.txt" || true)
refused=$(grep -c '^status' "$scratch/acked.txt" || true)
not_appended=$(awk '/^ev-/ && $3 != "appended"' "$scratch/acked.txt" | wc -l)
"$twinline" --db "$db" export \
  | grep -o '"seq":[0-9]*,"recorded_at":"[^"]*","id":"[^"]*","kind":"count_reported"[^}]*"metric":"load_test"' \
  | sed -E 's/^"seq":([0-9]+),"recorded_at":"[^"]*","id":"([^"]*)".*/\2 \1/' > "$scratch/logged.txt"
logged=$(wc -l < "$scratch/logged.txt")
# Each acknowledged (id, seq) must occur exactly once among the logged ones.
missing_or_repeated=$(awk 'NR == FNR { n[$1]++; seq[$1] = $2; next }
  /^ev-/ { if (n[$1] != 1 || seq[$1] != $2) bad++ } END { print bad + 0 }' \
  "$scratch/logged.txt" "$scratch/acked.txt")
ack_dupes=$(awk '/^ev-/ {print $1}' "$scratch/acked.txt" | sort | uniq -d | wc -l)
verify=$("$twinline" --db "$db" verify 2>&1 || true)

groups() { sed -nE 's/.*"commit_groups":([0-9]+),"commit_batches":([0-9]+).*/\1 \2/p' <<<"$1"; }
read -r g0 b0 <<<"$(groups "$health_before")"
read -r g1 b1 <<<"$(groups "$health_after")"

echo "twinline serve under wrk: $url, $(nproc) cores ($(uname -m)), wrk -t$wrk_threads -c$connections -d${duration}s,"
echo "server --threads $server_threads, log of $last_seq events (valid time $first_year-$last_year) before the appends"
printf '%-22s %12s %9s %9s %9s %9s %8s\n' RUN REQUESTS/S P50 P90 P99 ANSWER ERRORS
printf '%s\n' "${results[@]}"
echo
echo "appends: $acked acknowledged, $refused refused; $((b1 - b0)) batches in $((g1 - g0)) durable transactions" \
     "($(awk -v b=$((b1 - b0)) -v g=$((g1 - g0)) 'BEGIN { printf "%.1f", g ? b / g : 0 }') batches per fsync)"
echo "log: $logged load_test events; unacknowledged but written (in flight when wrk stopped): $((logged - acked))"
status=0
if ((missing_or_repeated == 0 && ack_dupes == 0 && not_appended == 0 && acked > 0)); then
  echo "check: every acknowledged append is in the log exactly once, at the seq it was given: ok"
else
  echo "check: FAILED: $missing_or_repeated acknowledged appends missing, repeated or at another seq;" \
       "$ack_dupes ids acknowledged twice; $not_appended not 'appended'"
  status=1
fi
echo "verify: $verify"
[[ "$verify" == ok:* ]] || status=1
exit $status
