#!/usr/bin/env bash
# For developers: the replication suite against a 3-node NATS JetStream
# cluster on loopback, as CI runs it. Starts the cluster (ports 14222-14224,
# stores under BUILD-nats/), runs `ctest -L replication` in BUILD (default
# build), stops the cluster.
#   bash tests/replication/run_tests.sh [BUILD] [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build}"
shift || true
dir="$build-nats"
rm -rf "$dir"
trap 'bash tests/replication/nats_cluster.sh stop "$dir"' EXIT
bash tests/replication/nats_cluster.sh start "$dir" 14222
TWINLINE_NATS_CLUSTER="$PWD/$dir" ctest --test-dir "$build" --output-on-failure -L replication "$@"
