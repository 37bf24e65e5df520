#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Per-request cost account (issue 14 item 1): callgrind instruction counts per accepted request,
# by thread and by function, for igw's durable accept and for the bare nng server of
# tests/bench/nng_bare.c, with the same bodies, in one run. Instruction counts are repeatable on
# a noisy machine where wall time is not; wall-clock ratios are ingest_bench.sh's.
#   tests/bench/cost_bench.sh [BUILD_DIR]      REQUESTS=2000 WARMUP=300 CONNS=4 GUARD=true
# Then both run natively under wrk for DUR seconds: CPU time per request by thread, user and
# kernel apart, from /proc (cpu_account.py): what callgrind cannot see.
# Start-up and warm-up are not counted: each server runs under callgrind with instrumentation
# off, the warm-up requests are sent, instrumentation is switched on (callgrind_control -i on),
# REQUESTS requests are sent, and the counters are dumped (callgrind_control -d) before the
# server is stopped. Exits 77 (skip) when valgrind, a C compiler or python3 is missing.
set -euo pipefail
for c in valgrind callgrind_control wrk cc python3; do
  command -v "$c" >/dev/null 2>&1 || { echo "cost_account: $c not found: skipped" >&2; exit 77; }
done
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
igw=$(realpath "${IGW_BIN:-$build/cli/igw}")
REQUESTS=${REQUESTS:-2000}
DUR=${DUR:-5}  # seconds of the native (no valgrind) CPU-time run
WARMUP=${WARMUP:-300}
CONNS=${CONNS:-4}
. "$here/lib.sh"
bench_init igw-cost

# the body both clients send: a 1.5 KB openIMIS-like insuree event, written once
python3 -c '
import json, sys
rec = {"event": "insuree-created", "chfId": "070707070", "lastName": "Doe",
       "otherNames": "John Baraka", "dob": "1950-01-01", "gender": "M", "notes": ""}
rec["notes"] = "x" * (1496 - len(json.dumps(rec)))
open(sys.argv[1], "w").write(json.dumps(rec))' "$work/body.json"

# the client: N POSTs of that body over CONNS keep-alive connections
cat > "$work/load.py" <<'PY'
import http.client, sys, threading
port, n, conns, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
body = open(path, "rb").read()
hdr = {"Content-Type": "application/json", "Authorization": "Bearer bench-token"}
bad = []
def worker(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(k):
        c.request("POST", "/bench/accept", body, hdr)
        r = c.getresponse(); r.read()
        if r.status // 100 != 2:
            bad.append(r.status)
ts = [threading.Thread(target=worker, args=(n // conns + (i < n % conns),)) for i in range(conns)]
[t.start() for t in ts]; [t.join() for t in ts]
if bad:
    sys.exit("non-2xx answers: %d (first %d)" % (len(bad), bad[0]))
PY

measure() { # name port pid: warm-up, instrument, REQUESTS, dump
  local name=$1 p=$2 pid=$3
  python3 "$work/load.py" "$p" "$WARMUP" "$CONNS" "$work/body.json"
  callgrind_control -i on "$pid" >/dev/null
  python3 "$work/load.py" "$p" "$REQUESTS" "$CONNS" "$work/body.json"
  callgrind_control -d "$pid" >/dev/null
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  python3 "$here/cost_account.py" "$name" "$REQUESTS" "$work/cg.$name".*.1-* \
    | tee "$work/$name.txt"
}
VG=(valgrind --tool=callgrind --separate-threads=yes --instr-atstart=no
    --dump-instr=no --compress-strings=no --compress-pos=no)

# native CPU time per request by thread: wrk for DUR s, /proc before and after
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
local f = io.open("$work/body.json", "rb"); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-token"
LUA
cpu_run() { # name port pid
  local out n
  python3 "$here/cpu_account.py" snap "$3" > "$work/$1.before"
  out=$(wrk -t2 -c32 -d"${DUR}s" -s "$work/post.lua" "http://127.0.0.1:$2/bench/accept" 2>&1)
  python3 "$here/cpu_account.py" snap "$3" > "$work/$1.after"
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") req/s for $1 (wrk -t2 -c32 -d${DUR}s, same run)"
  python3 "$here/cpu_account.py" diff "$1" "$n" "$work/$1.before" "$work/$1.after" | tee "$work/$1.cpu"
}

# --- bare nng
cc -O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -o "$work/nng_bare" "$here/nng_bare.c" -lnng -lpthread
bare=$(port)
"${VG[@]}" --callgrind-out-file="$work/cg.nng-bare.%p" "$work/nng_bare" "$bare" 2>"$work/vg-bare.log" &
bpid=$!
pids+=($bpid)
wait_port "$bare" 300

# --- igw: the durable accept channel of ingest_bench.sh
gw=$(port)
mkdir -p "$work/gw/secrets"
echo bench-token > "$work/gw/secrets/bench.tokens"
printf '%s\n' \
  "log_level: warn" \
  "http: { listen: \"http://127.0.0.1:$gw\", max_body: 1MiB, guard: ${GUARD:-true} }" \
  "queue: { path: \"$work/gw/queue\", map_size: 1GiB, max_batch: 1024 }" \
  "channels:" \
  "  accept:" \
  "    listen: POST /bench/accept" \
  "    auth: { type: bearer, tokens_file: secrets/bench.tokens }" \
  "    content_types: [application/json]" > "$work/gw/igw.conf"

echo "# cost account: $(date -u +%FT%TZ), $REQUESTS requests after $WARMUP of warm-up, $CONNS connections, callgrind"
measure nng-bare "$bare" "$bpid"
(cd "$work/gw" && exec "${VG[@]}" --callgrind-out-file="$work/cg.igw.%p" "$igw" serve --config igw.conf) 2>"$work/vg-igw.log" &
gpid=$!
pids+=($gpid)
wait_port "$gw" 300
measure igw "$gw" "$gpid"
b=$(awk '/^total/ {print $3}' "$work/nng-bare.txt")
g=$(awk '/^total/ {print $3}' "$work/igw.txt")
python3 - "$b" "$g" <<'PY'
import sys
b, g = float(sys.argv[1]), float(sys.argv[2])
print("ratio igw/nng-bare instructions per request: %.2f (igw adds %.0f per request)" % (g / b, g - b))
PY

echo "# native run: CPU time per request by thread (no valgrind)"
"$work/nng_bare" "$bare" &
bpid=$!
pids+=($bpid)
wait_port "$bare" 300
cpu_run nng-bare "$bare" "$bpid"
kill "$bpid"
rm -rf "$work/gw/queue"
(cd "$work/gw" && exec "$igw" serve --config igw.conf) &
gpid=$!
pids+=($gpid)
wait_port "$gw" 300
cpu_run igw "$gw" "$gpid"
b=$(awk '/^cpu/ {print $3}' "$work/nng-bare.cpu")
g=$(awk '/^cpu/ {print $3}' "$work/igw.cpu")
python3 -c 'import sys; b, g = map(float, sys.argv[1:]); print("ratio igw/nng-bare CPU per request: %.2f (igw adds %.1f us per request)" % (g / b, g - b))' "$b" "$g"
