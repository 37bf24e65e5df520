#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# FHIR search benchmark (docs/PERFORMANCE.md, "FHIR search"):
# 1. the library alone: search_bench (plan, GraphQL call, parse a recorded 20-record page,
#    records -> Patients, Bundle) per search, pinned to one core;
# 2. the openIMIS simulator (tests/sim/openimis, 10,000 insurees, no rate limit) queried
#    straight with the GraphQL igw sends, and the same search through igw (GET /fhir/Patient?..),
#    in the same run, same client (search_load.py, C connections, N requests each);
#    through igw needs the mediation engine (answer: fhir-search): skipped, and said so, without.
#   tests/bench/search_bench.sh [BUILD_DIR]     N (default 2000), C (default 4)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
N=${N:-2000}
C=${C:-4}
Q='family=Nk&_count=20'
bench=$build/tests/bench/search_bench
igw=$build/cli/igw
work=$(mktemp -d /tmp/igw-search-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

python3 -c "import sys; sys.path.insert(0, '$src/tests/integration'); import test_fhir_search as t; t.data_file('$work/data.jsonl', 10000)"
simport=$(free_port)
python3 "$src/tests/sim/openimis/server.py" --port "$simport" --data "$work/data.jsonl" --rate-per-minute 0 \
  > "$work/sim.out" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
tok=$(curl -s -H 'Content-Type: application/json' -d '{"username":"Admin","password":"admin123"}' \
  "http://127.0.0.1:$simport/api/api_fhir_r4/login/" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')

"$bench" "$src/mappings" Patient "$Q" --call > "$work/call.json"
curl -s -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' --data-binary @"$work/call.json" \
  "http://127.0.0.1:$simport/api/graphql" > "$work/answer.json"
echo "library (one core): $(taskset -c 0 "$bench" "$src/mappings" Patient "$Q" "$work/answer.json" 20000)"

echo "direct to the simulator: $(python3 "$here/search_load.py" direct "$simport" POST /api/graphql "$N" "$C" \
  "$work/call.json" "Content-Type:application/json" "Authorization:Bearer $tok")"

port=$(free_port)
cat > "$work/igw.conf" <<CONF
http: { listen: "http://127.0.0.1:$port" }
queue: { path: "$work/queue" }
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
  fhir_search_cached:
    listen: GET /cached/fhir/{type}
    dialect: fhir
    answer: fhir-search
    upstream: openimis
    cache: { ttl: 60s }
CONF
echo "Admin:admin123" > "$work/openimis.user"
if ! "$igw" config check "$work/igw.conf" > "$work/check.out" 2>&1; then
  echo "through igw: SKIPPED, igw does not accept the mediated channel yet: $(tail -1 "$work/check.out")"
  exit 77
fi
(cd "$work" && exec "$igw" serve --config "$work/igw.conf") > "$work/igw.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
echo "through igw: $(python3 "$here/search_load.py" igw "$port" GET "/fhir/Patient?$Q" "$N" "$C" -)"
echo "direct to the simulator again: $(python3 "$here/search_load.py" direct "$simport" POST /api/graphql "$N" "$C" \
  "$work/call.json" "Content-Type:application/json" "Authorization:Bearer $tok")"
echo "through igw, cache on (one query, so every search after the first is a hit): $(python3 "$here/search_load.py" igw-cached "$port" GET "/cached/fhir/Patient?$Q" "$N" "$C" -)"
