#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Durable-accept and end-to-end benchmark (issue: gateway spine). Bounded in time (about 2 minutes with E2E_SECS=60).
#   tests/bench/ingest_bench.sh [BUILD_DIR]
# Measured in one run on loopback, with wrk as the client and 1.5 KB JSON bodies:
#   1. igw durable accepts/s and p50/p99 (channel with no routes: accept = commit + fsync)
#   2. a bare nng 1.5 HTTP server replying 202 without storing (built here from nng_bare.c)
#   3. nginx `return 200` (if installed)
#   4. igw p50/p99 at half its measured rate (wrk with a per-connection delay)
#   5. end to end: accept and deliver to an nginx sink for E2E_SECS (default 60) at a fixed
#      offered load, sampling the pending-delivery count (LMDB `due` table) every 5 s. E2E_SECS=0
#      skips it.
# Prints one line per case and the ratios; docs/PERFORMANCE.md keeps the latest figures.
# Exits 77 (skip) when wrk, a C compiler or python3 is missing (nginx and mdb_stat are optional).
set -euo pipefail
for c in wrk cc python3; do
  command -v "$c" >/dev/null 2>&1 || { echo "ingest_bench: $c not found (.ci/deps.sh bench): skipped" >&2; exit 77; }
done
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
igw=${IGW_BIN:-$build/cli/igw}  # IGW_BIN: another igw binary (tests/bench/compare.sh)
DUR=${DUR:-10}
E2E_SECS=${E2E_SECS:-60}
E2E_RATE=${E2E_RATE:-20000}
ACCEPT_ONLY=${ACCEPT_ONLY:-0}  # 1: only cases 1 and 2 and their ratio (tests/bench/compare.sh)
# GUARD=false: igw without its connection guard (docs/HTTP-INGEST.md), to measure the guard's cost
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
. "$here/lib.sh"
bench_init igw-bench

# 1.5 KB JSON body (an openIMIS-like insuree event)
python3 - "$work/body.json" <<'PY'
import json, sys
rec = {"event": "insuree-created", "chfId": "070707070", "lastName": "Doe",
       "otherNames": "John Baraka", "dob": "1950-01-01", "gender": "M", "phone": "+255700000000",
       "family": {"headChfId": "070707070", "address": "P.O. Box 1, Dodoma"},
       "healthFacility": {"code": "HF001", "name": "Dodoma Regional Referral Hospital"},
       "notes": ""}
rec["notes"] = "x" * (1496 - len(json.dumps(rec)))
open(sys.argv[1], "w").write(json.dumps(rec))
PY
bytes=$(wc -c < "$work/body.json")
printf '%s\n' \
  'wrk.method = "POST"' \
  "local f = io.open(\"$work/body.json\", \"rb\"); wrk.body = f:read(\"*a\"); f:close()" \
  'wrk.headers["Content-Type"] = "application/json"' \
  'wrk.headers["Authorization"] = "Bearer bench-token"' \
  'local d = tonumber(os.getenv("WRK_DELAY_MS") or "0")' \
  'if d > 0 then function delay() return d end end' > "$work/post.lua"

runwrk() { # name url [seconds]: prints "name rps p50 p99 non-2xx"
  local name=$1 url=$2 out rps p50 p99 non2xx
  out=$(wrk --latency -t"$THREADS" -c"$CONNS" -d"${3:-$DUR}s" -s "$work/post.lua" "$url" 2>&1)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $4}' <<<"$out")
  printf '%-30s %10s req/s  p50 %-9s p99 %-9s non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
  echo "$rps" > "$work/$4.rps"
  echo "$p99" > "$work/$4.p99"
}

# --- nginx: reference server and delivery sink
ngx_ref=$(port)
ngx_sink=$(port)
have_nginx=0
if [ "$ACCEPT_ONLY" != 1 ] && command -v nginx >/dev/null; then
  have_nginx=1
  mkdir -p "$work/nginx"
  printf '%s\n' "worker_processes 1;" "daemon off;" "error_log $work/nginx/error.log;" \
    "pid $work/nginx/nginx.pid;" "events { worker_connections 4096; }" "http {" \
    "  access_log off; keepalive_requests 1000000; client_body_buffer_size 64k;" \
    "  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx;" \
    "  fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;" \
    "  server { listen 127.0.0.1:$ngx_ref; location / { return 200; } }" \
    "  server { listen 127.0.0.1:$ngx_sink; location / { return 200; } }" \
    "}" > "$work/nginx/nginx.conf"
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
  pids+=($!)
  wait_port "$ngx_ref"
fi

# --- bare nng server
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -o "$work/nng_bare" "$here/nng_bare.c" -lnng -lpthread
bare=$(port)
"$work/nng_bare" "$bare" &
pids+=($!)
wait_port "$bare"

# --- igw
gw=$(port)
mkdir -p "$work/gw/secrets"
echo bench-token > "$work/gw/secrets/bench.tokens"
printf '%s\n' \
  "log_level: warn" \
  "http: { listen: \"http://127.0.0.1:$gw\", max_body: 1MiB, max_inflight: 8192, guard: ${GUARD:-true} }" \
  "queue: { path: \"$work/gw/queue\", map_size: 8GiB, max_batch: 1024, retain_delivered: 5s }" \
  "channels:" \
  "  accept:" \
  "    listen: POST /bench/accept" \
  "    auth: { type: bearer, tokens_file: secrets/bench.tokens }" \
  "    content_types: [application/json]" \
  "  e2e:" \
  "    listen: POST /bench/e2e" \
  "    auth: { type: bearer, tokens_file: secrets/bench.tokens }" \
  "    content_types: [application/json]" \
  "    routes:" \
  "      sink:" \
  "        url: http://127.0.0.1:$ngx_sink/in" \
  "        concurrency: 64" \
  "        retry: { base: 100ms, cap: 5s, max_attempts: 50 }" > "$work/gw/igw.conf"
(cd "$work/gw" && exec "$igw" serve --config igw.conf) &
pids+=($!)
wait_port "$gw"

echo "# igw ingest benchmark: $(date -u +%FT%TZ), $(nproc) cores, body $bytes B, wrk -t$THREADS -c$CONNS -d${DUR}s"
runwrk igw-durable-accept "http://127.0.0.1:$gw/bench/accept" "$DUR" igw
runwrk nng-bare "http://127.0.0.1:$bare/bench/accept" "$DUR" bare
if [ "$have_nginx" = 1 ]; then
  runwrk nginx-return-200 "http://127.0.0.1:$ngx_ref/" "$DUR" nginx
fi
igw_rps=$(cat "$work/igw.rps")
bare_rps=$(cat "$work/bare.rps")
if [ "$ACCEPT_ONLY" != 1 ]; then
  half=$(python3 -c "print(int(float('$igw_rps') / 2))")
  delay=$(python3 -c "print(max(1, int($CONNS * 1000 / max(1, $half))))")
  WRK_DELAY_MS=$delay runwrk "igw-at-half-load(~$half/s)" "http://127.0.0.1:$gw/bench/accept" "$DUR" half
fi
python3 -c "
i = float('$igw_rps'); b = float('$bare_rps')
print('ratio igw/nng-bare: %.2f (goal >= 0.80); igw durable accepts/s: %.0f (goal >= 40000)' % (i / b, i))"
[ "$ACCEPT_ONLY" = 1 ] || echo "igw p99 at half load: $(cat "$work/half.p99") (goal < 5ms)"
if [ -f "$work/nginx.rps" ]; then
  python3 -c "print('ratio igw/nginx: %.2f' % (float('$igw_rps') / float('$(cat "$work/nginx.rps")')))"
fi

# --- end to end at a fixed offered load, sampling the pending count
if [ "$have_nginx" = 1 ] && [ "$E2E_SECS" -gt 0 ] && [ "$ACCEPT_ONLY" != 1 ]; then
  delay=$(python3 -c "print(max(1, int($CONNS * 1000 / $E2E_RATE)))")
  (
    for _ in $(seq $((E2E_SECS / 5))); do
      sleep 5
      pend=$(mdb_stat -s due "$work/gw/queue" 2>/dev/null | awk '/Entries/ {print $2}')
      echo "  pending deliveries: ${pend:-?}"
      echo "${pend:-0}" >> "$work/pending"
    done
  ) &
  sampler=$!
  touch "$work/pending"
  WRK_DELAY_MS=$delay runwrk "igw-e2e-${E2E_SECS}s" "http://127.0.0.1:$gw/bench/e2e" "$E2E_SECS" e2e
  wait $sampler || true
  sleep 3
  pend=$(mdb_stat -s due "$work/gw/queue" 2>/dev/null | awk '/Entries/ {print $2}')
  echo "  pending deliveries 3 s after the load: ${pend:-?} (goal: flat during the run, then 0)"
  python3 - "$work/pending" "$(cat "$work/e2e.rps")" <<'PY'
import sys
p = [int(x) for x in open(sys.argv[1]).read().split()] or [0]
half = len(p) // 2
growth = (sum(p[half:]) / max(1, len(p) - half)) - (sum(p[:half]) / max(1, half))
print("e2e: %.0f msg/s accepted (goal >= 20000, with the pending count flat); pending max %d, second-half mean "
      "minus first-half mean %+.0f (flat: close to 0)" % (float(sys.argv[2]), max(p), growth))
PY
fi
