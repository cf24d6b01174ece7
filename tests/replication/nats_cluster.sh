#!/usr/bin/env bash
# A 3-node NATS JetStream cluster on 127.0.0.1 from Debian's nats-server, for
# the replication tests and for trying replication on one machine
# (docs/REPLICATION.md). Every node has its own ports and store directory
# under DIR and ends by itself after LIFETIME seconds (default 3000) even if
# nobody stops it.
#
#   nats_cluster.sh start DIR [BASE]   nodes 1..3: clients on BASE..BASE+2 (default
#                                      14222), routes on BASE+100.., monitoring on
#                                      BASE+200..; waits (at most 60 s) until
#                                      JetStream is ready; prints the client URLs
#   nats_cluster.sh stop DIR           stops every node (SIGTERM, then SIGKILL)
#   nats_cluster.sh kill DIR N         SIGKILLs node N (a crash)
#   nats_cluster.sh restart DIR N      starts node N again, on its own store; waits
#                                      until it is healthy
#   nats_cluster.sh urls DIR           the client URLs, comma-separated
set -euo pipefail

usage() { sed -n '2,18p' "$0" >&2; exit 1; }
[ $# -ge 2 ] || usage
cmd="$1"
dir="$(realpath -m "$2")"
lifetime="${NATS_CLUSTER_LIFETIME:-3000}"

base_of() { cat "$dir/base"; }
urls() {
  local b
  b=$(base_of)
  echo "nats://127.0.0.1:$b,nats://127.0.0.1:$((b + 1)),nats://127.0.0.1:$((b + 2))"
}

# 0 when node N's monitoring endpoint answers /healthz with 200 (JetStream
# ready: the meta group has a leader and this node is current).
healthy() {
  local port=$(($(base_of) + 200 + $1 - 1)) answer
  answer=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" &&
    printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
    timeout 2 head -1 <&3) 2>/dev/null || true)
  [[ "$answer" == *" 200 "* ]]
}

wait_healthy() {
  local deadline=$((SECONDS + 60)) n
  for n in "$@"; do
    until healthy "$n"; do
      if ((SECONDS >= deadline)); then
        echo "nats_cluster: node $n at $dir is not healthy after 60 s; its log:" >&2
        tail -20 "$dir/n$n.log" >&2 || true
        return 1
      fi
      sleep 0.2
    done
  done
}

start_node() {
  local n="$1"
  # setsid: the node is not in the caller's process group, so a test runner
  # that kills its group on a timeout leaves it to `stop` (or its lifetime).
  setsid timeout -s KILL "$lifetime" nats-server -c "$dir/n$n.conf" >>"$dir/n$n.log" 2>&1 </dev/null &
}

case "$cmd" in
  start)
    base="${3:-14222}"
    command -v nats-server >/dev/null || {
      echo "nats_cluster: nats-server is not installed (Debian package nats-server; bash tools/setup.sh)" >&2
      exit 1
    }
    mkdir -p "$dir"
    echo "$base" >"$dir/base"
    routes="nats-route://127.0.0.1:$((base + 100)), nats-route://127.0.0.1:$((base + 101)), nats-route://127.0.0.1:$((base + 102))"
    for n in 1 2 3; do
      mkdir -p "$dir/n$n"
      cat >"$dir/n$n.conf" <<CONF
server_name: "n$n"
listen: "127.0.0.1:$((base + n - 1))"
http: "127.0.0.1:$((base + 200 + n - 1))"
pid_file: "$dir/n$n.pid"
jetstream {
  store_dir: "$dir/n$n"
  max_memory_store: 64MB
  max_file_store: 8GB
}
cluster {
  name: "twinline-test"
  listen: "127.0.0.1:$((base + 100 + n - 1))"
  routes: [ $routes ]
}
CONF
      start_node "$n"
    done
    wait_healthy 1 2 3
    urls
    ;;
  stop)
    for n in 1 2 3; do
      [ -f "$dir/n$n.pid" ] && kill -TERM "$(cat "$dir/n$n.pid")" 2>/dev/null || true
    done
    for _ in $(seq 50); do
      alive=0
      for n in 1 2 3; do
        [ -f "$dir/n$n.pid" ] && kill -0 "$(cat "$dir/n$n.pid")" 2>/dev/null && alive=1
      done
      ((alive)) || break
      sleep 0.1
    done
    for n in 1 2 3; do
      [ -f "$dir/n$n.pid" ] && kill -KILL "$(cat "$dir/n$n.pid")" 2>/dev/null || true
      rm -f "$dir/n$n.pid"
    done
    ;;
  kill)
    n="${3:?node number}"
    kill -KILL "$(cat "$dir/n$n.pid")"
    # Wait until it is gone, so that a restart does not race it for its ports.
    while kill -0 "$(cat "$dir/n$n.pid")" 2>/dev/null; do sleep 0.05; done
    ;;
  restart)
    n="${3:?node number}"
    start_node "$n"
    wait_healthy "$n"
    ;;
  urls)
    urls
    ;;
  *) usage ;;
esac
