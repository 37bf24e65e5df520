#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make bench`: runs every tests/bench/*_bench.sh in name order with BUILD_DIR, each bounded by
# BENCH_TIMEOUT seconds (default 900). A new benchmark is a new *_bench.sh taking BUILD_DIR; it
# exits 77 when it cannot run here (a tool missing), which is reported as SKIPPED, not as done.
#   tests/bench/run.sh BUILD_DIR [NAME...]   (NAME: run only these, e.g. map ingest)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd) || { echo "usage: run.sh BUILD_DIR [NAME...]" >&2; exit 2; }
shift || true
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}
failed=()
skipped=()
for script in "$here"/*_bench.sh; do
  name=$(basename "$script" _bench.sh)
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then
    continue
  fi
  echo "== $name ($(date -u +%H:%M:%S))"
  rc=0
  timeout -k 10 "$BENCH_TIMEOUT" "$script" "$build" || rc=$?
  if [ "$rc" -eq 77 ]; then
    echo "== $name: SKIPPED (cannot run here, see above)"
    skipped+=("$name")
  elif [ "$rc" -ne 0 ]; then
    echo "== $name: FAILED or timed out"
    failed+=("$name")
  fi
done
[ ${#skipped[@]} -eq 0 ] || echo "benchmarks skipped: ${skipped[*]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "benchmarks failed: ${failed[*]}"
  exit 1
fi
if [ ${#skipped[@]} -gt 0 ]; then
  echo "benchmarks done, some skipped"
  exit 77
fi
echo "benchmarks done"
