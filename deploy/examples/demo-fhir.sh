#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make demo-fhir`: igw as a FHIR server in front of openIMIS (deploy/examples/fhir-facade.yaml).
# Starts the openIMIS simulator on 127.0.0.1:8000 (seed 1, 10,000 insurees with their families,
# policies and claims, generated once by `igw gen` into var/demo-fhir/), the partner FHIR
# server simulator on 127.0.0.1:8001 (where writes are delivered) and igw on 127.0.0.1:7400.
# Ctrl-C stops all three.
#   deploy/examples/demo-fhir.sh [BUILD_DIR]   (default: build)
set -eu
build=${1:-build}
igw=$build/cli/igw
dir=var/demo-fhir
data=$dir/openimis-seed1-10000.jsonl
sim_pid='' partner_pid='' igw_pid=''

stop() {
    trap - INT TERM EXIT
    for p in $igw_pid $partner_pid $sim_pid; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    echo "demo-fhir: stopped"
}
trap stop INT TERM EXIT

mkdir -p "$dir"
if [ ! -s "$data" ]; then
    echo "demo-fhir: generating 10,000 insurees (igw gen --seed 1) into $data"
    "$igw" gen --seed 1 --insurees 10000 > "$data.tmp"
    mv "$data.tmp" "$data"
fi

# the openIMIS simulator prints "ready <port>" once it listens
mkfifo "$dir/sim.ready" 2>/dev/null || true
python3 tests/sim/openimis/server.py --port 8000 --data "$data" > "$dir/sim.ready" &
sim_pid=$!
read -r ready _ < "$dir/sim.ready" || true
rm -f "$dir/sim.ready"
[ "${ready:-}" = ready ] || { echo "demo-fhir: the openIMIS simulator did not start" >&2; exit 1; }

python3 tests/sim/fhir_server.py --port 8001 --base /fhir > "$dir/partner.log" 2>&1 &
partner_pid=$!

"$igw" config check deploy/examples/fhir-facade.yaml
"$igw" serve --config deploy/examples/fhir-facade.yaml &
igw_pid=$!

cat <<'MSG'
demo-fhir: FHIR base http://127.0.0.1:7400/fhir, token demo-token (Ctrl-C stops everything)
  curl -H 'Authorization: Bearer demo-token' http://127.0.0.1:7400/fhir/metadata
  curl -H 'Authorization: Bearer demo-token' 'http://127.0.0.1:7400/fhir/Patient?_count=3'
  partner FHIR server (what igw delivered): curl http://127.0.0.1:8001/_store
MSG
wait "$igw_pid"
