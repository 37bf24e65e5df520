#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# igw gen benchmark: wall time, insurees/s, output size and peak RSS of
#   igw gen --seed 1 --insurees N   for N in GEN_SIZES (default "10000 100000 1000000"),
# output piped to a byte counter. Fails when peak RSS at the largest N is more than 25 % (+2 MiB)
# above RSS at the smallest (memory must stay flat). docs/PERFORMANCE.md keeps the figures.
#   tests/bench/gen_bench.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
igw=$build/cli/igw
sizes=${GEN_SIZES:-"10000 100000 1000000"}
# A small fresh interpreter forks igw, so igw's ru_maxrss is not the parent's (a child's
# high-water mark includes what its parent held at fork time).
measure='
import os, sys, time
r, w = os.pipe()
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    os.dup2(w, 1)
    os.close(r)
    os.execv(sys.argv[1], sys.argv[1:])
os.close(w)
n = 0
while True:
    b = os.read(r, 1 << 20)
    if not b:
        break
    n += len(b)
_, status, ru = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), ru.ru_maxrss, "%.2f" % (time.monotonic() - t0), n)
'
printf '%10s %12s %9s %14s %14s\n' insurees "peak RSS KiB" "wall s" "insurees/s" "output bytes"
first=""
last=""
for n in $sizes; do
  read -r rc rss wall bytes < <(python3 -S -c "$measure" "$igw" gen --seed 1 --insurees "$n")
  [ "$rc" -eq 0 ] || { echo "igw gen --insurees $n failed ($rc)"; exit 1; }
  rate=$(python3 -c "print(int($n / max($wall, 0.001)))")
  printf '%10s %12s %9s %14s %14s\n' "$n" "$rss" "$wall" "$rate" "$bytes"
  first=${first:-$rss}
  last=$rss
done
if [ "$last" -gt $((first * 5 / 4 + 2048)) ]; then
  echo "peak RSS not flat: $first KiB -> $last KiB"
  exit 1
fi
echo "peak RSS flat: $first KiB -> $last KiB"
