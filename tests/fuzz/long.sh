#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make fuzz-long: every libFuzzer target in BUILD (default build-fuzz) run to RUNS executions
# (default 10 million) or SECONDS seconds (default 1800), whichever comes first, one target
# after the other on one core, starting from the checked-in seeds plus the build tree's scratch
# corpus. Prints one Markdown table row per target (executions, exec/s, coverage, features,
# corpus, crashes, and whether the run stopped at the time bound) and exits 1 when any target
# crashed, leaked or timed out (its crash-* / leak-* / timeout-* file is kept in BUILD).
# Usage: tests/fuzz/long.sh [BUILD]   (env: RUNS, SECONDS_PER_TARGET, ONLY=name)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
runs=${RUNS:-10000000}
secs=${SECONDS_PER_TARGET:-1800}
failed=0

echo "| target | executions | exec/s | coverage (edges) | features | corpus | crashes | stopped by |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
for bin in "$build"/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin"); short=${name#fuzz_}
  if [ -n "${ONLY:-}" ] && [ "$ONLY" != "$short" ]; then continue; fi
  scratch="$build/tests/fuzz/corpus-$short"
  mkdir -p "$scratch"
  log="$build/fuzz-long-$short.log"
  t0=$(date +%s)
  "$bin" -runs="$runs" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$build/" "$scratch" "tests/fuzz/corpus/$short" \
    >"$log" 2>&1
  rc=$?
  el=$(( $(date +%s) - t0 ))
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  eps=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+')
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+')
  corp=$(echo "$last" | grep -oE 'corp: [0-9]+' | grep -oE '[0-9]+')
  if [ "${eps:-0}" -eq 0 ] && [ -n "${execs:-}" ]; then eps=$(( execs / (el > 0 ? el : 1) )); fi
  crashes=0
  if [ $rc -ne 0 ]; then crashes=1; failed=1; fi
  by="runs"
  if [ "${execs:-0}" -lt "$runs" ]; then by="time bound ${secs}s"; fi
  echo "| $short | ${execs:-?} | ${eps:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $crashes | $by (${el}s) |"
done
exit $failed
