#!/usr/bin/env bash
# The README's first command: installs what the twinline CLI needs (Debian
# packages), builds only the CLI (no tests, no benchmarks), installs it
# (binary, man page, bash completion, docs) so that `twinline` is on PATH,
# loads the bundled dataset (data/seed.ndjson, the facts of the source
# articles) into a fresh database, verifies it and shows what it holds.
#
# Installs into /usr/local when it can write there (root, or sudo), else into
# ~/.local (add ~/.local/bin to PATH if it is not). PREFIX=/opt/x overrides.
# The database is build/seed.db; explore it further with
#   twinline --db build/seed.db log --entity 重庆
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh --cli
cmake -S . -B build-cli -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWINLINE_BUILD_TESTS=OFF -DTWINLINE_BUILD_BENCH=OFF >/dev/null
cmake --build build-cli -j2

prefix="${PREFIX:-}"
if [ -z "$prefix" ]; then
  if [ -w /usr/local/bin ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi
fi
cmake --install build-cli --prefix "$prefix" >/dev/null
echo "installed twinline into $prefix/bin ($("$prefix/bin/twinline" --version))"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "note: $prefix/bin is not on your PATH; add it: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac

mkdir -p build
tw() { "$prefix/bin/twinline" --db build/seed.db "$@"; }
rm -rf build/seed.db
echo; echo "\$ twinline --db build/seed.db init && twinline --db build/seed.db import data/seed.ndjson"
tw init
tw import data/seed.ndjson
echo; echo "\$ twinline --db build/seed.db verify"
tw verify
echo; echo "\$ twinline --db build/seed.db stats"
tw stats
echo; echo "\$ twinline --db build/seed.db log --entity Chengdu --kind partnership_established --kind count_reported --kind trade_volume_reported"
tw log --entity Chengdu --kind partnership_established --kind count_reported --kind trade_volume_reported
echo; echo "\$ twinline --db build/seed.db log --entity 重庆"
tw log --entity 重庆
echo; echo "Database: build/seed.db — try: twinline --db build/seed.db entities; man twinline"
