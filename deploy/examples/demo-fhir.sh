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
demo=demo-fhir
dir=var/demo-fhir
data=$dir/openimis-seed1-10000.jsonl
. deploy/examples/demo-lib.sh
demo_gen "$data"
demo_start ready python3 tests/sim/openimis/server.py --port 8000 --data "$data"
python3 tests/sim/fhir_server.py --port 8001 --base /fhir > "$dir/partner.log" 2>&1 &
demo_track $!

"$igw" config check deploy/examples/fhir-facade.yaml
"$igw" serve --config deploy/examples/fhir-facade.yaml &
igw_pid=$!
demo_track $igw_pid

cat <<'MSG'
demo-fhir: FHIR base http://127.0.0.1:7400/fhir, token demo-token (Ctrl-C stops everything)
  curl -H 'Authorization: Bearer demo-token' http://127.0.0.1:7400/fhir/metadata
  curl -H 'Authorization: Bearer demo-token' 'http://127.0.0.1:7400/fhir/Patient?_count=3'
  partner FHIR server (what igw delivered): curl http://127.0.0.1:8001/_store
MSG
wait "$igw_pid"
