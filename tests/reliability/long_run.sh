#!/usr/bin/env bash
# The reliability suite's long run: the crash tests (SIGKILL of `import`, of
# `serve`, of `import` beside a running `serve`) and the concurrency test of
# tests/reliability, run again and again with fresh seeds and many more kills
# than CI gives them, until the time is up. Prints the figures that
# docs/RELIABILITY.md quotes; any failure keeps its seed and output.
#
#   tests/reliability/long_run.sh [--minutes 20] [--build build-rel] [--rounds 100] [--batches 40] [--out DIR]
#
# Run it at low priority on a shared machine:
#   nice -n 19 tests/reliability/long_run.sh --minutes 30
#
# --rounds: kills per crash test per iteration (TWINLINE_RELIABILITY_ROUNDS);
# --batches: batches per writer in the concurrency test
# (TWINLINE_RELIABILITY_BATCHES). Exit status 0 only when every iteration passed.
set -uo pipefail
cd "$(dirname "$0")/../.."

minutes=20
build=build
rounds=100
batches=40
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --batches) batches="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "long_run.sh: unknown argument '$1' (see --help)" >&2; exit 1 ;;
  esac
done

if [[ ! -x "$build/tests/twinline_tests" || ! -x "$build/tools/twinline" ]]; then
  echo "long_run.sh: no binaries in $build; build first (cmake --build $build) or pass --build DIR" >&2
  exit 1
fi
out="${out:-$(mktemp -d /tmp/twinline-long-run-XXXXXX)}"
mkdir -p "$out/bin"
# Copies: rebuilding $build during the run does not change what is tested.
cp "$build/tests/twinline_tests" "$build/tools/twinline" "$out/bin/"
tests="$out/bin/twinline_tests"
export TWINLINE_RELIABILITY_BIN="$out/bin/twinline"

deadline=$(( $(date +%s) + minutes * 60 ))
started=$(date +%s)
iterations=0 failures=0
import_kills=0 import_absent=0 import_whole=0 import_finished=0
serve_kills=0 serve_acked=0 serve_unanswered_whole=0 serve_unanswered_absent=0
beside_kills=0
conc_runs=0 conc_events=0 conc_conflicts=0 conc_reads=0

# Sums the "[ figures  ]" lines of one run's output into the totals.
tally() {
  local line n
  while IFS= read -r line; do
    if [[ "$line" =~ import:\ ([0-9]+)\ kills:\ ([0-9]+)\ before.*,\ ([0-9]+)\ after.*[,\;]\ ([0-9]+)\ imports ]]; then
      (( import_kills += BASH_REMATCH[1], import_absent += BASH_REMATCH[2] ))
      (( import_whole += BASH_REMATCH[3], import_finished += BASH_REMATCH[4] ))
    elif [[ "$line" =~ serve:\ ([0-9]+)\ kills\;\ ([0-9]+)\ batches.*:\ ([0-9]+)\ whole,\ ([0-9]+)\ absent ]]; then
      (( serve_kills += BASH_REMATCH[1], serve_acked += BASH_REMATCH[2] ))
      (( serve_unanswered_whole += BASH_REMATCH[3], serve_unanswered_absent += BASH_REMATCH[4] ))
    elif [[ "$line" =~ import\ beside\ serve:\ ([0-9]+)\ kills ]]; then
      (( beside_kills += BASH_REMATCH[1] ))
    elif [[ "$line" =~ \]\ ([0-9]+)\ events\ in\ [0-9]+\ batches.*,\ ([0-9]+)\ conflicts\ refused,\ ([0-9]+)\ whole-log ]]; then
      (( conc_runs += 1, conc_events += BASH_REMATCH[1] ))
      (( conc_conflicts += BASH_REMATCH[2], conc_reads += BASH_REMATCH[3] ))
    fi
  done
}

summary() {
  local elapsed=$(( $(date +%s) - started ))
  cat <<EOF
twinline reliability long run: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores
elapsed:               $(( elapsed / 60 )) min $(( elapsed % 60 )) s, $iterations iterations, $failures failed
import killed:         $import_kills (batch absent: $import_absent, batch whole: $import_whole; $import_finished imports ran to the end)
serve killed:          $serve_kills ($serve_acked acknowledged batches all present; unanswered batches: $serve_unanswered_whole whole, $serve_unanswered_absent absent)
import killed beside a running serve: $beside_kills
crashes survived:      $(( import_kills + serve_kills + beside_kills ))
concurrency runs:      $conc_runs ($conc_events events, $conc_conflicts conflicts refused, $conc_reads whole-log reads checked)
outputs:               $out
EOF
}

while (( $(date +%s) < deadline )); do
  seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
  (( iterations += 1 ))
  log="$out/iteration-$iterations.log"
  TWINLINE_RELIABILITY_SEED=$seed TWINLINE_RELIABILITY_ROUNDS=$rounds TWINLINE_RELIABILITY_BATCHES=$batches \
    "$tests" --gtest_filter='CrashTest.*:ConcurrencyTest.*' >"$log" 2>&1
  status=$?
  tally <"$log"
  if (( status != 0 )); then
    (( failures += 1 ))
    echo "iteration $iterations FAILED (seed $seed): $log" | tee -a "$out/failures.txt"
  else
    rm -f "$log"
  fi
  summary >"$out/summary.txt"
done

summary | tee "$out/summary.txt"
(( failures == 0 ))
