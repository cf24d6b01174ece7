#!/usr/bin/env bash
# Runs the libFuzzer targets of a -DTWINLINE_FUZZ=ON build for a while each,
# one after the other, on their seed corpus (tests/fuzz/corpus/<target>) and
# dictionary, and prints one summary line per target.
#
#   bash tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# New inputs go to a scratch corpus (BUILD_DIR/fuzz-out/<target>/corpus), never
# into the repository; a crash, leak, timeout or out-of-memory leaves its input
# in BUILD_DIR/fuzz-out/<target>/ and makes the script fail after the other
# targets have run. To keep an interesting input, minimise it
# (TARGET -minimize_crash=1 FILE) and copy it into the seed corpus.
# FUZZ_FLAGS adds libFuzzer flags (e.g. FUZZ_FLAGS=-jobs=2).
set -uo pipefail
cd "$(dirname "$0")/../.."

if (($# < 2)); then
  echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
  exit 1
fi
build=$1
seconds=$2
shift 2
targets=("$@")
((${#targets[@]})) || targets=(edtf_fuzzer ndjson_fuzzer csv_fuzzer http_fuzzer db_file_fuzzer)

declare -A dict=([edtf_fuzzer]=edtf [ndjson_fuzzer]=json [csv_fuzzer]=csv [http_fuzzer]=http)
failed=()
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/$t
  out=$build/fuzz-out/$t
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin is not built (configure with -DTWINLINE_FUZZ=ON)" >&2
    failed+=("$t")
    continue
  fi
  mkdir -p "$out/corpus"
  log=$out/fuzz.log
  # -timeout: an input taking longer is a hang; -rss_limit_mb: libFuzzer's default.
  # shellcheck disable=SC2086
  dict_flag=()
  [ -n "${dict[$t]:-}" ] && dict_flag=(-dict="tests/fuzz/${dict[$t]}.dict")
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "${dict_flag[@]}" -artifact_prefix="$out/" ${FUZZ_FLAGS:-} \
    "$out/corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1)
  if ((rc == 0)); then
    echo "fuzz: $t: ok, ${seconds}s, ${runs:-?} runs (${rate:-?}/s), $cov, peak RSS ${rss:-?} MB"
  else
    echo "fuzz: $t: FAILED (exit $rc) after ${runs:-?} runs; input and log in $out/" >&2
    grep -E '^(==[0-9]+==ERROR|SUMMARY|FUZZ_CHECK|.*runtime error)' "$log" | head -5 >&2
    tail -n 40 "$log" >&2
    failed+=("$t")
  fi
done
((${#failed[@]} == 0)) || { echo "fuzz: failed: ${failed[*]}" >&2; exit 1; }
