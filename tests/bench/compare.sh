#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Before/after benchmark in one run: builds OLD_REV beside the current tree and measures both,
# interleaved, with the current tree's benchmark scripts and inputs (same method for both).
#   tests/bench/compare.sh OLD_REV [BUILD_DIR]      (or: make bench-compare OLD=<rev>)
# 1. builds OLD_REV's igw and map_bench in a temporary `git worktree` (removed afterwards; the
#    build is kept in BUILD_DIR/bench-compare/<sha> and reused), and the current tree's in
#    BUILD_DIR (default: build);
# 2. ROUNDS (default 3) rounds, alternating which build goes first:
#    - ingest: ingest_bench.sh with ACCEPT_ONLY=1 (igw durable accepts/s, then a bare nng server
#      right after it: the ratio igw/nng-bare, DUR seconds each, default 5);
#    - map: map_bench over N (default 200,000) generated records, pinned to one core;
# 3. checks both builds map the records to byte-identical output;
# 4. prints every figure, the per-build medians and the new/old ratios (>= 1.00 is not worse;
#    on a shared machine expect a few percent of noise).
# About 3 minutes with the defaults on 2 cores, plus the old build the first time.
# Exits 77 (skip) when wrk or node is missing (.ci/deps.sh bench), 1 when a step fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
old_rev=${1:?usage: compare.sh OLD_REV [BUILD_DIR]}
build=$(mkdir -p "${2:-$src/build}" && cd "${2:-$src/build}" && pwd)
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-5}
N=${N:-200000}
JOBS=${JOBS:-2}
STEP_TIMEOUT=${STEP_TIMEOUT:-300}

for c in wrk node git cmake python3; do
  if ! command -v "$c" >/dev/null 2>&1; then
    echo "compare: $c not found (.ci/deps.sh bench): skipped" >&2
    exit 77
  fi
done
old_sha=$(git -C "$src" rev-parse --verify "$old_rev^{commit}")
new_desc="$(git -C "$src" rev-parse --short HEAD)$(git -C "$src" diff --quiet HEAD -- . 2>/dev/null || echo +changes)"
work=$(mktemp -d /tmp/igw-compare.XXXXXX)
wt=""
cleanup() {
  if [ -n "$wt" ]; then git -C "$src" worktree remove --force "$wt" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
step() { timeout -k 5 "$STEP_TIMEOUT" "$@"; }

# find_exe BUILD NAME: the newest executable NAME under BUILD (its folder may differ by revision)
find_exe() {
  find "$1" -path "$1/bench-compare" -prune -o -type f -name "$2" -perm -u+x -printf '%T@ %p\n' |
    sort -nr | head -n 1 | cut -d' ' -f2-
}

build_tree() { # SRC BUILD
  cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$2" -j "$JOBS" --target igw map_bench >/dev/null
}

echo "== compare: old $old_rev (${old_sha:0:12}) vs new $new_desc ($(date -u +%FT%TZ), $(nproc) cores)"
old_build=$build/bench-compare/$old_sha
if [ -z "$(find_exe "$old_build" igw 2>/dev/null)" ] || [ -z "$(find_exe "$old_build" map_bench 2>/dev/null)" ]; then
  wt=$work/old-src
  git -C "$src" worktree add --detach "$wt" "$old_sha" >/dev/null
  echo "building old in $old_build"
  build_tree "$wt" "$old_build"
  git -C "$src" worktree remove --force "$wt" >/dev/null 2>&1 || true
  wt=""
fi
echo "building new in $build"
build_tree "$src" "$build"
declare -A igw_bin map_bin
for v in old new; do
  b=$old_build
  [ "$v" = new ] && b=$build
  igw_bin[$v]=$(find_exe "$b" igw)
  map_bin[$v]=$(find_exe "$b" map_bench)
  if [ -z "${igw_bin[$v]}" ] || [ -z "${map_bin[$v]}" ]; then
    echo "compare: the $v build has no igw or map_bench" >&2
    exit 1
  fi
done

map=$src/tests/bench/maps/insuree-to-patient
echo "generating $N records"
node "$here/peers/gen-records.mjs" "$N" > "$work/recs.jsonl"

run_ingest() { # VERSION ROUND
  IGW_BIN=${igw_bin[$1]} ACCEPT_ONLY=1 DUR=$DUR step "$here/ingest_bench.sh" "$build" \
    > "$work/out" 2>&1 || { cat "$work/out" >&2; echo "compare: ingest bench failed for $1" >&2; exit 1; }
  python3 - "$1" "$2" "$work/figures.jsonl" "$work/out" <<'PY'
import json, re, sys
v, r, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = open(sys.argv[4]).read()
def rps(name):
    m = re.search(r"^%s\s+([0-9.]+) req/s" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None
igw, bare = rps("igw-durable-accept"), rps("nng-bare")
if not igw or not bare:
    sys.exit("compare: no figures in the ingest output:\n" + text)
rec = {"version": v, "round": r, "igw_rps": igw, "bare_rps": bare, "ratio_bare": igw / bare}
open(path, "a").write(json.dumps(rec) + "\n")
print("  %-3s ingest: igw %8.0f req/s, nng-bare %8.0f req/s, igw/nng-bare %.3f" % (v, igw, bare, igw / bare))
PY
}

run_map() { # VERSION ROUND
  step "${pin[@]}" "${map_bin[$1]}" "$map" "$work/recs.jsonl" > "$work/out" ||
    { echo "compare: map_bench failed for $1" >&2; exit 1; }
  python3 - "$1" "$2" "$work/figures.jsonl" "$work/out" <<'PY'
import json, sys
v, r, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
m = json.loads(open(sys.argv[4]).read())
rec = {"version": v, "round": r, "map_rps": m["rps"], "map_cpu_rps": m.get("cpu_rps", m["rps"])}
open(path, "a").write(json.dumps(rec) + "\n")
print("  %-3s map:    %9.0f records/s (CPU time: %9.0f records/s)" % (v, rec["map_rps"], rec["map_cpu_rps"]))
PY
}

for r in $(seq "$ROUNDS"); do
  order=(new old)
  [ $((r % 2)) -eq 0 ] && order=(old new)
  echo "== round $r of $ROUNDS (${order[*]})"
  for v in "${order[@]}"; do run_ingest "$v" "$r"; done
  for v in "${order[@]}"; do run_map "$v" "$r"; done
done

echo "== same output?"
for v in old new; do
  step "${pin[@]}" "${map_bin[$v]}" "$map" "$work/recs.jsonl" --warmup 0 --out "$work/$v.jsonl" >/dev/null
done
same=1
if cmp -s "$work/old.jsonl" "$work/new.jsonl"; then
  echo "  old and new map the $N records to byte-identical output"
else
  same=0
  echo "  old and new outputs DIFFER"
fi

python3 - "$work/figures.jsonl" "$old_rev" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = [("igw_rps", "ingest: igw durable accepts/s"), ("bare_rps", "ingest: nng-bare req/s"),
        ("ratio_bare", "ingest: igw/nng-bare"), ("map_rps", "map: records/s"),
        ("map_cpu_rps", "map: records/s of CPU time")]
print("== summary (median of the rounds, spread = (max - min) / median; old = %s)" % sys.argv[2])
print("  %-30s %11s %7s %11s %7s %8s" % ("", "old", "spread", "new", "spread", "new/old"))
for k, label in keys:
    med, spread = {}, {}
    for v in ("old", "new"):
        xs = [r[k] for r in rows if r["version"] == v and k in r]
        med[v] = statistics.median(xs) if xs else float("nan")
        spread[v] = (max(xs) - min(xs)) / med[v] if xs and med[v] else float("nan")
    fmt = "%11.3f" if k == "ratio_bare" else "%11.0f"
    print(("  %-30s " + fmt + " %6.0f%% " + fmt + " %6.0f%% %8.3f") %
          (label, med["old"], 100 * spread["old"], med["new"], 100 * spread["new"],
           med["new"] / med["old"]))
print("  A spread of more than a few percent means the machine was busy: rerun with more ROUNDS.")
PY
[ "$same" = 1 ] || exit 1
