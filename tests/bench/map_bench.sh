#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Mapping benchmark: insuree -> FHIR Patient, JSON text in and out, one record at a time.
#   tests/bench/map_bench.sh [BUILD_DIR]
# 1. generates N (default 200,000) records with the peer generator (tests/bench/peers/gen.js);
# 2. runs the peers (JSONata, fumifier, hand-written JS; peers/peer-bench.mjs, installed from npm
#    into BUILD_DIR/tests/bench/peers by peers/install.sh when missing) and igw's map_bench,
#    each pinned to one core (taskset -c 0);
# 3. checks igw produced the same Patients: parsed JSON per line against the JSONata outputs,
#    and the SHA-256 of igw's output lines against the peers' (equal when key order and JSON
#    text are identical);
# 4. checks peak memory is flat: maxrss with N_SMALL (default 50,000) records vs N;
# 5. prints the ratios igw/jsonata, igw/fumifier, igw/handjs.
# Bounded: each step has a timeout. docs/PERFORMANCE.md keeps the latest figures.
# Exits 77 (skip) when node, npm or the peers cannot be had here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
peers=$here/peers
N=${N:-200000}
N_SMALL=${N_SMALL:-50000}
STEP_TIMEOUT=${STEP_TIMEOUT:-300}
map=$src/tests/bench/maps/insuree-to-patient
bench=$build/tests/bench/map_bench
peer_dir=$build/tests/bench/peers
export NODE_PATH=$peer_dir/node_modules

work=$(mktemp -d /tmp/igw-map-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
step() { timeout -k 5 "$STEP_TIMEOUT" "${pin[@]}" "$@"; }
field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }

[ -x "$bench" ] || { echo "map_bench: $bench not built (cmake --build $build)" >&2; exit 1; }
rc=0
"$peers/install.sh" "$peer_dir" || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"

# peer-bench.mjs imports fumifier as an ES module, which ignores NODE_PATH: run copies of the
# peer scripts from a folder whose node_modules is the peers' install.
cp "$peers/peer-bench.mjs" "$peers/insuree-to-patient.jsonata" "$work/"
ln -s "$NODE_PATH" "$work/node_modules"

echo "generating $N records"
node "$peers/gen-records.mjs" "$N" > "$work/recs.jsonl"
head -n "$N_SMALL" "$work/recs.jsonl" > "$work/small.jsonl"
echo "input: $(wc -c < "$work/recs.jsonl") bytes, node $(node --version), $(nproc) cores, pinned: ${pin[*]:-no}"

for e in jsonata fumifier handjs; do
  step node "$work/peer-bench.mjs" "$e" "$work/recs.jsonl" > "$work/$e.json"
  echo "$e: $(cat "$work/$e.json")"
done
step "$bench" "$map" "$work/recs.jsonl" --breakdown > "$work/igw.json"
echo "igw: $(cat "$work/igw.json")"

# same Patients?
step "$bench" "$map" "$work/recs.jsonl" --warmup 0 --out "$work/igw.jsonl" > /dev/null
step node "$here/peer_map.mjs" jsonata "$work/recs.jsonl" "$peers" > "$work/jsonata.jsonl"
python3 "$here/compare_jsonl.py" "$work/jsonata.jsonl" "$work/igw.jsonl"
igw_sha=$(sha256sum "$work/igw.jsonl" | cut -d' ' -f1)
for e in jsonata fumifier handjs; do
  if [ "$(field sha256 < "$work/$e.json")" = "$igw_sha" ]; then
    echo "sha256 of the output lines: igw == $e"
  else
    echo "sha256 of the output lines: igw != $e (same Patients, different JSON text or order)"
  fi
done

# flat memory?
step "$bench" "$map" "$work/small.jsonl" > "$work/igw-small.json"
rss_small=$(field maxrss_kb < "$work/igw-small.json")
rss_full=$(field maxrss_kb < "$work/igw.json")
echo "peak RSS: $rss_small KiB at $N_SMALL records, $rss_full KiB at $N records"

python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
r = {e: json.load(open(f"{w}/{e}.json")) for e in ("igw", "jsonata", "fumifier", "handjs")}
igw = r["igw"]["rps"]
print("ratios: igw/jsonata %.1fx, igw/fumifier %.1fx, igw/handjs %.2fx" %
      (igw / r["jsonata"]["rps"], igw / r["fumifier"]["rps"], igw / r["handjs"]["rps"]))
small = json.load(open(f"{w}/igw-small.json"))["maxrss_kb"]
full = r["igw"]["maxrss_kb"]
flat = full <= small * 1.10 + 1024
print("memory: %s (%d KiB -> %d KiB)" % ("flat" if flat else "GROWS", small, full))
sys.exit(0 if flat else 1)
PY
