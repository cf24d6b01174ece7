#!/usr/bin/env bash
# The README's test command, and what CI runs: installs what the build needs,
# builds twinline with its tests and benchmark tools, and runs the whole
# suite under CTest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWINLINE_BUILD_TESTS=ON -DTWINLINE_BUILD_BENCH=ON >/dev/null
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2
