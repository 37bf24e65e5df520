#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CPU per request by thread for several igw binaries (and the bare nng server) in one run,
# interleaved round by round, so that a change is measured alone against the binary before it
# on the same noisy box (issue 14). What cost_bench.sh's native part measures, for N binaries.
#   tests/bench/cost_ab.sh KIND ROUNDS SPEC...
#     KIND   accept: POST of the 1.5 KB record to the durable accept channel (202 after the
#            fsync'd commit); get404: GET of an unknown path (the HTTP path alone: guard, nng,
#            routing, no queue)
#     SPEC   /path/to/igw:true|false (http.guard), or bare (tests/bench/nng_bare.c)
#   e.g. tests/bench/cost_ab.sh accept 3 bare old/igw:true build/cli/igw:true build/cli/igw:false
# DUR (seconds per case, 4) and CONNS (wrk connections, 32). Exits 77 (skip) without wrk, cc
# or python3.
set -uo pipefail
for c in wrk cc python3; do
  command -v "$c" >/dev/null 2>&1 || { echo "cost_ab: $c not found: skipped" >&2; exit 77; }
done
[ $# -ge 3 ] || { sed -n 3,13p "$0" >&2; exit 2; }
kind=$1 rounds=$2
shift 2
specs=()
for spec in "$@"; do # binaries as absolute paths: the cases run in a scratch folder
  if [ "$spec" = bare ]; then specs+=(bare); else specs+=("$(realpath "${spec%:*}"):${spec##*:}"); fi
done
here=$(cd "$(dirname "$0")" && pwd)
DUR=${DUR:-4}
CONNS=${CONNS:-32}
work=$(mktemp -d /tmp/igw-cost-ab.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
mkdir -p secrets
echo bench-token > secrets/bench.tokens
cc -O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -o nng_bare "$here/nng_bare.c" -lnng -lpthread || exit 1
python3 -c '
import json
rec = {"event": "insuree-created", "chfId": "070707070", "lastName": "Doe",
       "otherNames": "John Baraka", "dob": "1950-01-01", "gender": "M", "notes": ""}
rec["notes"] = "x" * (1496 - len(json.dumps(rec)))
open("body.json", "w").write(json.dumps(rec))'
cat > post.lua <<LUA
wrk.method = "POST"
local f = io.open("$work/body.json", "rb"); wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-token"
LUA
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "# cost_ab: $(date -u +%FT%TZ), $kind, $rounds rounds, wrk -t2 -c$CONNS -d${DUR}s"
for r in $(seq "$rounds"); do
  for spec in "${specs[@]}"; do
    bin=${spec%:*}
    guard=${spec##*:}
    [ "$spec" = bare ] && bin=bare guard=-
    p=$(port)
    rm -rf queue
    printf '%s\n' "log_level: warn" \
      "http: { listen: \"http://127.0.0.1:$p\", max_body: 1MiB, guard: $guard }" \
      "queue: { path: \"$work/queue\", map_size: 1GiB, max_batch: 1024 }" "channels:" \
      "  accept:" "    listen: POST /bench/accept" \
      "    auth: { type: bearer, tokens_file: secrets/bench.tokens }" \
      "    content_types: [application/json]" > igw.conf
    if [ "$bin" = bare ]; then ./nng_bare "$p" & else "$bin" serve --config igw.conf & fi
    pid=$!
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.1; done
    if [ "$kind" = get404 ]; then url=http://127.0.0.1:$p/nope; lua=(); else
      url=http://127.0.0.1:$p/bench/accept; lua=(-s post.lua); fi
    wrk -t2 -c"$CONNS" -d1s "${lua[@]}" "$url" >/dev/null 2>&1 # warm-up
    python3 "$here/cpu_account.py" snap "$pid" > before.json
    out=$(wrk -t2 -c"$CONNS" -d"${DUR}s" "${lua[@]}" "$url" 2>&1)
    python3 "$here/cpu_account.py" snap "$pid" > after.json
    n=$(awk '/requests in/ {print $1}' <<<"$out")
    echo "== round $r: $spec: $(awk '/Requests\/sec/ {print $2}' <<<"$out") req/s (load $(cut -d' ' -f1 /proc/loadavg))"
    python3 "$here/cpu_account.py" diff "$spec" "$n" before.json after.json | grep -v '^cpu '
    kill "$pid"
    wait "$pid" 2>/dev/null
    pid=
  done
done
