#!/usr/bin/env bash
# Installs the Debian packages twinline builds and runs with. Idempotent:
# packages already present are skipped, so a second run costs seconds.
#   bash tools/setup.sh         everything: the CLI, its tests and benchmarks
#   bash tools/setup.sh --cli   only what building and installing the CLI needs
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  capnproto libcapnp-dev           # schemas, codec and the `capnp decode` tool
  liblmdb-dev lmdb-utils            # the event log; mdb_stat / mdb_dump
  libboost-dev                      # Asio / Beast (server)
  libspdlog-dev libfmt-dev          # logging
  libcli11-dev                      # argument parsing
  nlohmann-json3-dev                # JSON event codec (exact path, encoder)
  libsimdjson-dev                   # JSON event decoder (fast path)
  libssl-dev                        # SHA-256 hash chain
  libicu-dev                        # Unicode name folding
  libmimalloc-dev                   # the allocator the twinline binary links (import speed)
  libnats-dev                       # replication: cnats (JetStream)
  help2man                          # the man page, made from --help at build time
  librsvg2-dev libcairo2-dev        # PNG charts (replay --format png)
)
# node and npm build the page (web/) and drive the browser test; Debian's
# unless some node is already installed (its own npm comes with it).
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi
if [ "${1:-}" != "--cli" ]; then
  packages+=(
    libgtest-dev libgmock-dev         # tests
    libbenchmark-dev libsqlite3-dev   # bench/ (Google Benchmark; the SQLite reference)
    wrk                               # bench/serve_load.sh (HTTP load)
    nats-server                       # the replication tests' cluster
    python3 python3-networkx          # the exports read back (tests/tools/exports_test.py)
    chromium fonts-dejavu-core fonts-wqy-microhei  # the page's browser test (web/test/page.test.mjs)
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "twinline setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "twinline setup: all packages present"
fi
