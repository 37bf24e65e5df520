#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make demo-dci`: igw as openIMIS's DCI social registry (deploy/examples/dci-registry.yaml).
# Starts the openIMIS simulator on 127.0.0.1:8000 (seed 1, 10,000 insurees generated once by
# `igw gen` into var/demo-dci/) and igw on 127.0.0.1:7400 (registry base /dci/social/, SP-MIS
# endpoints under /dci/spmis/, token demo-token). Ctrl-C stops both.
#   deploy/examples/demo-dci.sh [BUILD_DIR]   (default: build)
set -eu
build=${1:-build}
igw=$build/cli/igw
demo=demo-dci
dir=var/demo-dci
data=$dir/openimis-seed1-10000.jsonl
. deploy/examples/demo-lib.sh
demo_gen "$data"
demo_start ready python3 tests/sim/openimis/server.py --port 8000 --data "$data"

"$igw" config check deploy/examples/dci-registry.yaml
"$igw" serve --config deploy/examples/dci-registry.yaml &
igw_pid=$!
demo_track $igw_pid

chf=$(grep -m1 '"kind":"insuree"' "$data" | sed 's/.*"chfId":"\([0-9]*\)".*/\1/')
sed "s/\"123456789\"/\"$chf\"/; s/\"Member\"/\"Person\"/" tests/fixtures/dci/valid/sync-search.json \
    > "$dir/sync-search.json"
sed "s/\"msg-search\"/\"msg-async-search\"/; s|\"action\": \"search\",|\"action\": \"search\", \"sender_uri\": \"http://127.0.0.1:7400/dci/spmis/\",|" \
    "$dir/sync-search.json" > "$dir/search.json"
sed "s/\"123456789\"/\"$chf\"/; s/\"Member\"/\"Person\"/; s/\"2027-12-03T10:00:00Z\"/\"2099-01-01T00:00:00Z\"/; s/\"start_time\": \"[^\"]*\"/\"start_time\": \"2026-01-01T00:00:00Z\"/; s|https://spmis.example.org/dci/spmis/registry/on-search|http://127.0.0.1:7400/dci/spmis/|" \
    tests/fixtures/dci/valid/subscribe.json > "$dir/subscribe.json"
printf '{"chfId":"%s","lastName":"Doe","otherNames":"Jane","dob":"1990-04-01"}\n' "$chf" \
    > "$dir/insuree.json"
cat <<MSG
demo-dci: DCI social registry http://127.0.0.1:7400/dci/social/, token demo-token
  (SP-MIS endpoints under http://127.0.0.1:7400/dci/spmis/; Ctrl-C stops everything)
  curl -H 'Authorization: Bearer demo-token' -H 'Content-Type: application/json' \\
       -d @$dir/sync-search.json http://127.0.0.1:7400/dci/social/registry/sync/search
  async (ACK now; the on-search arrives at the SP-MIS endpoints, logged to
  $dir/spmis-callbacks.ndjson; the same message_id again is NACKed as a duplicate):
  curl -H 'Authorization: Bearer demo-token' -H 'Content-Type: application/json' \\
       -d @$dir/search.json http://127.0.0.1:7400/dci/social/registry/search
  notify: subscribe to insuree $chf (REGISTER events; the on-subscribe with its code is logged
  there too), then an insuree-created event from openIMIS becomes a notify to the SP-MIS:
  curl -H 'Authorization: Bearer demo-token' -H 'Content-Type: application/json' \\
       -d @$dir/subscribe.json http://127.0.0.1:7400/dci/social/registry/subscribe
  curl -H 'Authorization: Bearer demo-token' -H 'Content-Type: application/json' \\
       -d @$dir/insuree.json http://127.0.0.1:7400/events/openimis/insuree/created
MSG
wait "$igw_pid"
