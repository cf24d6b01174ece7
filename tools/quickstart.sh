#!/usr/bin/env bash
# The README's first command: installs what twinline needs (Debian
# packages), builds it, loads the bundled dataset (data/seed.ndjson, the
# facts of the source articles) into a fresh database, verifies it and shows
# what it holds.
#
# The database is build/seed.db; explore it further with
#   ./build/tools/twinline --db build/seed.db log --entity 重庆
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2

tw() { ./build/tools/twinline --db build/seed.db "$@"; }
rm -rf build/seed.db
echo; echo "\$ twinline init && twinline import data/seed.ndjson"
tw init
tw import data/seed.ndjson
echo; echo "\$ twinline verify"
tw verify
echo; echo "\$ twinline stats"
tw stats
echo; echo "\$ twinline log --entity Chengdu --kind partnership_established --kind count_reported --kind trade_volume_reported"
tw log --entity Chengdu --kind partnership_established --kind count_reported --kind trade_volume_reported
echo; echo "\$ twinline log --entity 重庆"
tw log --entity 重庆
echo; echo "Database: build/seed.db — try: ./build/tools/twinline --db build/seed.db entities"
