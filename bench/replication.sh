#!/usr/bin/env bash
# Replication figures (docs/REPLICATION.md), on loopback, bounded in time:
#
#  1. Throughput. A history of --events events from twinline-gen (plus the
#     bundled dataset) is imported into a primary (the peer: how fast the
#     log itself appends the same events), published with
#     `replicate --once` to a stream with 3 replicas on a 3-node JetStream
#     cluster started here, and followed with `follow --once` into an empty
#     replica. Events per second for each.
#  2. Lag under load. The primary runs `serve --replicate`, the replica
#     `serve --follow`; wrk POSTs one new fact per request to the primary
#     for --duration seconds (bench/wrk/append.lua, as bench/serve_load.sh),
#     while both /v1/health are sampled every 100 ms: the primary's records
#     not yet acknowledged by the stream, the replica's records behind the
#     stream, and its lag_ms (the primary's commit to the replica's commit
#     of the last record it applied). Then how long the replica takes to hold
#     every acknowledged append, and that both chain heads agree.
#
#   bench/replication.sh [--build DIR] [--events N] [--duration SECONDS]
#                        [--connections N] [--base-port P]
#
# The cluster (ports P..P+2, P+100.., P+200..; default 15222) and every file
# live in a scratch directory removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
events=100000
duration=10
connections=16
base=15222
while (($#)); do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --base-port) base=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "replication.sh: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
done
[[ "$duration" =~ ^[0-9]+$ ]] && ((duration >= 1 && duration <= 600)) \
  || { echo "replication.sh: --duration must be 1..600 seconds" >&2; exit 1; }
twinline="$build/tools/twinline"
gen="$build/bench/twinline-gen"
for tool in "$twinline" "$gen"; do
  [ -x "$tool" ] || { echo "replication.sh: no $tool; build first (cmake --build $build)" >&2; exit 1; }
done
for cmd in wrk curl jq nats-server; do
  command -v "$cmd" >/dev/null || { echo "replication.sh: $cmd is missing (bash tools/setup.sh; apt-get install $cmd)" >&2; exit 1; }
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/twinline-replication-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  bash tests/replication/nats_cluster.sh stop "$scratch/nats" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

NATS_CLUSTER_LIFETIME=$((duration + 900)) bash tests/replication/nats_cluster.sh start "$scratch/nats" "$base" \
  > "$scratch/urls"
urls=$(head -1 "$scratch/urls")
primary="$scratch/primary" replica="$scratch/replica"

# --- 1. throughput --------------------------------------------------------------
"$twinline" --db "$primary" init >/dev/null
"$twinline" --db "$primary" import data/seed.ndjson >/dev/null
cities=$((events / 10 > 100 ? events / 10 : 100))
"$gen" --events "$events" --cities "$cities" --countries 50 > "$scratch/history.ndjson"
t0=$(now)
"$twinline" --db "$primary" import "$scratch/history.ndjson" >/dev/null
t1=$(now)
last=$("$twinline" --db "$primary" stats --format json | jq .events)
"$twinline" --db "$primary" replicate --nats "$urls" --once > /dev/null 2> "$scratch/replicate.err"
t2=$(now)
"$twinline" --db "$replica" follow --nats "$urls" --once > /dev/null 2> "$scratch/follow.err"
t3=$(now)
head_p=$("$twinline" --db "$primary" stats --format json | jq -r .head)
head_r=$("$twinline" --db "$replica" stats --format json | jq -r .head)
[ "$head_p" = "$head_r" ] || { echo "replication.sh: chain heads differ after follow --once" >&2; exit 1; }

echo "replication throughput ($last records: the bundled dataset + $events from twinline-gen; 3-node cluster on 127.0.0.1, R3)"
printf '  %-44s %8s s  %8s events/s\n' "import into the primary (the peer)" "$(secs "$t0" "$t1")" "$(rate "$events" "$t0" "$t1")"
printf '  %-44s %8s s  %8s events/s\n' "replicate --once (to the stream, R3)" "$(secs "$t1" "$t2")" "$(rate "$last" "$t1" "$t2")"
printf '  %-44s %8s s  %8s events/s\n' "follow --once (into an empty replica)" "$(secs "$t2" "$t3")" "$(rate "$last" "$t2" "$t3")"

# --- 2. lag under the server's append load ------------------------------------------
start_server() {  # NAME DB ARGS...
  local name=$1 db=$2; shift 2
  "$twinline" --db "$db" serve --listen 127.0.0.1:0 "$@" > "$scratch/$name.out" 2> "$scratch/$name.err" &
  pids+=($!)
  for _ in $(seq 200); do
    grep -q '^listening on' "$scratch/$name.out" 2>/dev/null && break
    sleep 0.05
  done
  sed -n 's/^listening on //p' "$scratch/$name.out"
}
primary_url=$(start_server primary "$primary" --replicate "$urls")
replica_url=$(start_server replica "$replica" --follow "$urls")
[[ "$primary_url" == http://* && "$replica_url" == http://* ]] \
  || { echo "replication.sh: a server did not start" >&2; cat "$scratch"/*.err >&2; exit 1; }

mkdir -p "$scratch/acks"
( while :; do
    r=$(curl -s "$replica_url/v1/health" | jq -r '.replication | "\(.behind) \(.lag_ms)"')
    p=$(curl -s "$primary_url/v1/health" | jq -r '.replication.behind')
    echo "$r $p"
    sleep 0.1
  done ) > "$scratch/samples.txt" &
sampler=$!
pids+=("$sampler")
timeout $((duration + 30)) wrk --latency --timeout 10s -t 2 -c "$connections" -d "${duration}s" \
  -s bench/wrk/append.lua "$primary_url" -- "$scratch/acks" > "$scratch/wrk.txt"
t4=$(now)
target=$(curl -s "$primary_url/v1/health" | jq .last_seq)
for _ in $(seq 600); do
  applied=$(curl -s "$replica_url/v1/health" | jq .replication.applied_seq)
  ((applied >= target)) && break
  sleep 0.05
done
t5=$(now)
kill "$sampler" 2>/dev/null || true
posts=$(awk '/^Requests\/sec:/ {print $2}' "$scratch/wrk.txt")
acked=$(cat "$scratch"/acks/acks-*.txt | grep -vc '^status' || true)

echo "follower lag under POST /v1/events load (wrk, 2 threads, $connections connections, ${duration} s; health sampled every 100 ms)"
printf '  %-44s %8s req/s, %s appends acknowledged\n' "appends to the primary (serve --replicate)" "$posts" "$acked"
sort -n -k1 "$scratch/samples.txt" | awk '{print $1}' > "$scratch/behind.txt"
sort -n -k2 "$scratch/samples.txt" | awk '{print $2}' > "$scratch/lag.txt"
pct() { awk -v p="$2" '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } i = int(NR * p / 100); if (i < 1) i = 1; print v[i] }' "$1"; }
sort -n -k3 "$scratch/samples.txt" | awk '{print $3}' > "$scratch/unpublished.txt"
printf '  %-44s p50 %s, p99 %s, max %s\n' "primary: records not yet in the stream" \
  "$(pct "$scratch/unpublished.txt" 50)" "$(pct "$scratch/unpublished.txt" 99)" "$(pct "$scratch/unpublished.txt" 100)"
printf '  %-44s p50 %s, p99 %s, max %s (%s samples)\n' "replica: records behind the stream" \
  "$(pct "$scratch/behind.txt" 50)" "$(pct "$scratch/behind.txt" 99)" "$(pct "$scratch/behind.txt" 100)" "$(wc -l < "$scratch/behind.txt")"
printf '  %-44s p50 %s, p99 %s, max %s\n' "lag_ms (primary commit -> replica commit)" \
  "$(pct "$scratch/lag.txt" 50)" "$(pct "$scratch/lag.txt" 99)" "$(pct "$scratch/lag.txt" 100)"
printf '  %-44s %s s (to seq %s)\n' "replica holds every append after the load" "$(secs "$t4" "$t5")" "$target"

for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
pids=()
head_p=$("$twinline" --db "$primary" verify | sed -n 's/.*chain head //p')
head_r=$("$twinline" --db "$replica" verify | sed -n 's/.*chain head //p')
[ "$head_p" = "$head_r" ] || { echo "replication.sh: chain heads differ after the load: $head_p vs $head_r" >&2; exit 1; }
echo "  both logs verify, same chain head $head_p"
