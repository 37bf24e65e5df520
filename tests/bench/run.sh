#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make bench`: runs every tests/bench/*_bench.sh in name order with BUILD_DIR, each bounded by
# BENCH_TIMEOUT seconds (default 900). A new benchmark is a new *_bench.sh taking BUILD_DIR.
#   tests/bench/run.sh BUILD_DIR [NAME...]   (NAME: run only these, e.g. map ingest)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd) || { echo "usage: run.sh BUILD_DIR [NAME...]" >&2; exit 2; }
shift || true
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}
failed=()
for script in "$here"/*_bench.sh; do
  name=$(basename "$script" _bench.sh)
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then
    continue
  fi
  echo "== $name ($(date -u +%H:%M:%S))"
  if ! timeout -k 10 "$BENCH_TIMEOUT" "$script" "$build"; then
    echo "== $name: FAILED or timed out"
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "benchmarks failed: ${failed[*]}"
  exit 1
fi
echo "benchmarks done"
