#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# igw's added latency on a mediated FHIR search, measured so that it can be read on a noisy
# shared machine (docs/PERFORMANCE.md, "Where a mediated search's time goes"):
# 1. R rounds, each sending N searches one at a time (C=1) straight to the openIMIS simulator
#    (the GraphQL igw sends), then through igw with its connection guard, then through igw
#    without it (http.guard: false), interleaved so that a load change hits all three alike;
#    prints each round and the median of the per-round p50 differences;
# 2. igw's CPU per search by thread (user and system time from /proc, C=4, N4 searches).
#   tests/bench/search_overhead.sh [BUILD_DIR]     R (default 7), N (default 300), N4 (default 3000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
R=${R:-7}
N=${N:-300}
N4=${N4:-3000}
Q='family=Nk&_count=20'
igw=$build/cli/igw
load=$here/search_load.py
work=$(mktemp -d /tmp/igw-search-overhead.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
p50() { python3 -c 'import sys,json; print(json.load(sys.stdin)["p50_ms"])'; }

python3 -c "import sys; sys.path.insert(0, '$src/tests/integration'); import test_fhir_search as t; t.data_file('$work/data.jsonl', 10000)"
simport=$(free_port)
python3 "$src/tests/sim/openimis/server.py" --port "$simport" --data "$work/data.jsonl" --rate-per-minute 0 \
  > "$work/sim.out" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
tok=$(curl -s -H 'Content-Type: application/json' -d '{"username":"Admin","password":"admin123"}' \
  "http://127.0.0.1:$simport/api/api_fhir_r4/login/" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
"$build/tests/bench/search_bench" "$src/mappings" Patient "$Q" --call > "$work/call.json"
echo "Admin:admin123" > "$work/openimis.user"

start_igw() { # name port guard
  cat > "$work/$1.conf" <<CONF
http: { listen: "http://127.0.0.1:$2", guard: $3 }
queue: { path: "$work/$1-queue" }
mappings: { dir: "$src/mappings" }
upstreams:
  openimis:
    url: "http://127.0.0.1:$simport"
    auth: { type: login, user_file: openimis.user, login: { preset: openimis-fhir } }
channels:
  fhir_search:
    listen: GET /fhir/{type}
    dialect: fhir
    answer: fhir-search
    upstream: openimis
CONF
  "$igw" config check "$work/$1.conf" > /dev/null
  (cd "$work" && exec "$igw" serve --config "$work/$1.conf") > "$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$2/" && break; sleep 0.1; done
  python3 "$load" warm "$2" GET "/fhir/Patient?$Q" 50 1 - > /dev/null
}
gport=$(free_port)
start_igw guarded "$gport" true
gpid=${pids[-1]}
nport=$(free_port)
start_igw bare "$nport" false

: > "$work/rounds"
for i in $(seq "$R"); do
  d=$(python3 "$load" direct "$simport" POST /api/graphql "$N" 1 "$work/call.json" \
    "Content-Type:application/json" "Authorization:Bearer $tok" | p50)
  g=$(python3 "$load" igw "$gport" GET "/fhir/Patient?$Q" "$N" 1 - | p50)
  n=$(python3 "$load" igw "$nport" GET "/fhir/Patient?$Q" "$N" 1 - | p50)
  echo "$d $g $n" >> "$work/rounds"
  echo "round $i (C=1, p50 ms): direct $d, igw $g, igw without the guard $n"
done
python3 - "$work/rounds" <<'PY'
import sys, statistics as st
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
print("median over %d rounds: direct p50 %.3f ms; igw adds %.3f ms (guard on), %.3f ms (guard off)" % (
    len(rows), st.median(r[0] for r in rows), st.median(r[1] - r[0] for r in rows),
    st.median(r[2] - r[0] for r in rows)))
PY

snap() { for t in /proc/"$gpid"/task/*; do echo "$(cat "$t/comm") $(awk '{print $14, $15}' "$t/stat")"; done |
  awk '{u[$1]+=$2; s[$1]+=$3} END {for (k in u) print k, u[k], s[k]}' | sort; }
snap > "$work/s0"
echo "C=4, $N4 searches through igw (guard on): $(python3 "$load" igw "$gport" GET "/fhir/Patient?$Q" "$N4" 4 -)"
snap > "$work/s1"
join "$work/s0" "$work/s1" | awk -v n="$N4" -v t="$(getconf CLK_TCK)" '{du=($4-$2)/t/n*1e6; ds=($5-$3)/t/n*1e6;
  if (du+ds>0) printf "  igw CPU per search, %-15s user %6.1f us, system %6.1f us\n", $1":", du, ds; U+=du; S+=ds}
  END {printf "  igw CPU per search, %-15s user %6.1f us, system %6.1f us\n", "all threads:", U, S}'
