#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Durable-accept and end-to-end benchmark (issue: gateway spine). Bounded in time (~3 minutes).
#   tests/bench/ingest_bench.sh [BUILD_DIR]
# Measured in one run on loopback, with wrk as the client and 1.5 KB JSON bodies:
#   1. igw durable accepts/s and p50/p99 (channel with no routes: accept = commit + fsync)
#   2. a bare nng 1.5 HTTP server replying 202 without storing (built here from nng_bare.c)
#   3. nginx `return 200` (if installed)
#   4. igw p50/p99 at half its measured rate (wrk with a per-connection delay)
#   5. end to end: accept and deliver to an nginx sink for E2E_SECS (default 60) at a fixed
#      offered load, sampling the pending-delivery count (LMDB `due` table) every 5 s.
# Prints one line per case and the ratios; docs/PERFORMANCE.md keeps the latest figures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-$src/build}
igw=$build/gateway/igw
DUR=${DUR:-10}
E2E_SECS=${E2E_SECS:-60}
E2E_RATE=${E2E_RATE:-20000}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
work=$(mktemp -d /tmp/igw-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 not up" >&2; return 1; }

# 1.5 KB JSON body (an openIMIS-like insuree event)
python3 - "$work/body.json" <<'PY'
import json, sys
rec = {"event": "insuree-created", "chfId": "070707070", "lastName": "Doe", "otherNames": "John Baraka",
       "dob": "1950-01-01", "gender": "M", "phone": "+255700000000",
       "family": {"headChfId": "070707070", "address": "P.O. Box 1, Dodoma"},
       "healthFacility": {"code": "HF001", "name": "Dodoma Regional Referral Hospital"}, "notes": ""}
while len(json.dumps(rec)) < 1496:
    rec["notes"] += "x"
open(sys.argv[1], "w").write(json.dumps(rec)[:1496] if False else json.dumps(rec))
PY
bytes=$(wc -c < "$work/body.json")
cat > "$work/post.lua" <<EOF
wrk.method = "POST"
local f = io.open("$work/body.json", "rb"); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-token"
local d = tonumber(os.getenv("WRK_DELAY_MS") or "0")
if d > 0 then function delay() return d end end
