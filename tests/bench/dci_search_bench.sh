#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# DCI sync search beside the FHIR face, in one run, one client (search_load.py, C connections,
# N requests each), over the openIMIS simulator (tests/sim/openimis, 10,000 insurees, no rate
# limit; docs/PERFORMANCE.md, "DCI sync search beside the FHIR face"). The same search, the 20
# first insurees named Nkosi:
#   1. direct to the simulator: the GraphQL call igw's FHIR face sends (the reference)
#   2. igw's FHIR face: GET /fhir/Patient?family=Nkosi&_count=20 (fhir-search)
#   3. igw's DCI face: a DCI sync search, predicate surname eq Nkosi, page_size 20 (dci-search)
#   4. DCI answered from a FHIR server: the same DCI search through dci-fhir-search, whose FHIR
#      upstream is igw's own FHIR face of 2 (so DCI -> FHIR -> GraphQL, two mediations)
# Async search -> on-search throughput is dci_bench.sh's third case (the registry side's async
# search is not on main yet). Exits 77 when igw refuses the configuration.
#   tests/bench/dci_search_bench.sh [BUILD_DIR]     N (default 2000), C (default 4)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
N=${N:-2000}
C=${C:-4}
Q='family=Nkosi&_count=20'
bench=$build/tests/bench/search_bench
igw=$build/cli/igw
work=$(mktemp -d /tmp/igw-dci-search-bench.XXXXXX)
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

python3 - "$src/tests/fixtures/dci/valid/sync-search.json" > "$work/dci.json" <<'PY'
import json, sys
env = json.load(open(sys.argv[1]))
item = env["message"]["search_request"][0]
item["search_criteria"] = {"version": "1.0.0", "reg_type": "ns:org:RegistryType:Social",
                           "reg_record_type": "Person", "query_type": "predicate",
                           "query": [{"seq_num": 1, "expression1": {
                               "attribute_name": "surname", "operator": "eq",
                               "attribute_value": "Nkosi"}}],
                           "pagination": {"page_size": 20, "page_number": 1}}
env["message"]["search_request"] = [item]
print(json.dumps(env))
PY

port=$(free_port)
cat > "$work/igw.conf" <<CONF
http: { listen: "http://127.0.0.1:$port" }
queue: { path: "$work/queue" }
mappings: { dir: "$src/mappings" }
upstreams:
  openimis:
    url: "http://127.0.0.1:$simport"
    auth: { type: login, user_file: openimis.user, login: { preset: openimis-fhir } }
  openimis_gql:
    url: "http://127.0.0.1:$simport"
    auth: { type: login, user_file: openimis.user }
  self_fhir:
    url: "http://127.0.0.1:$port/fhir"
channels:
  fhir_search:
    listen: GET /fhir/{type}
    dialect: fhir
    answer: fhir-search
    upstream: openimis
  dci_search:
    listen: POST /dci/social/registry/sync/search
    dialect: dci
    answer: dci-search
    upstream: openimis_gql
  dci_fhir_search:
    listen: POST /dci/fhir/registry/sync/search
    dialect: dci
    answer: dci-fhir-search
    upstream: self_fhir
CONF
echo "Admin:admin123" > "$work/openimis.user"
if ! "$igw" config check "$work/igw.conf" > "$work/check.out" 2>&1; then
  echo "dci_search: SKIPPED, igw refuses the configuration: $(tail -1 "$work/check.out")"
  exit 77
fi
(cd "$work" && exec "$igw" serve --config "$work/igw.conf") > "$work/igw.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
json=Content-Type:application/json
direct() { python3 "$here/search_load.py" direct "$simport" POST /api/graphql "$N" "$C" "$work/call.json" "$json" "Authorization:Bearer $tok"; }
echo "1 direct to the simulator (GraphQL): $(direct)"
echo "2 igw FHIR face (fhir-search):       $(python3 "$here/search_load.py" fhir "$port" GET "/fhir/Patient?$Q" "$N" "$C" -)"
echo "3 igw DCI face (dci-search):         $(python3 "$here/search_load.py" dci "$port" POST /dci/social/registry/sync/search "$N" "$C" "$work/dci.json" "$json")"
echo "4 DCI over igw's FHIR face (dci-fhir-search): $(python3 "$here/search_load.py" dci-fhir "$port" POST /dci/fhir/registry/sync/search "$N" "$C" "$work/dci.json" "$json")"
echo "1 direct to the simulator again:     $(direct)"
# the answers are what they claim: 20 records on every face
curl -s -H "$json" --data-binary @"$work/dci.json" "http://127.0.0.1:$port/dci/fhir/registry/sync/search" \
  | python3 -c 'import sys,json; it=json.load(sys.stdin)["message"]["search_response"][0]; n=len(it["data"]["reg_records"]); print("dci-fhir-search answer: %d records of %d" % (n, it["pagination"]["total_count"])); sys.exit(0 if n == 20 else 1)'
curl -s -H "$json" --data-binary @"$work/dci.json" "http://127.0.0.1:$port/dci/social/registry/sync/search" \
  | python3 -c 'import sys,json; it=json.load(sys.stdin)["message"]["search_response"][0]; n=len(it["data"]["reg_records"]); print("dci-search answer: %d records of %d" % (n, it["pagination"]["total_count"])); sys.exit(0 if n == 20 else 1)'
