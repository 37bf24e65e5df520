#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End to end, bounded (issue 14): accept (202 after the fsync'd commit) -> delivered to a fast
# sink (nginx `return 200`) -> the outcome's second commit, at full offered load, in one run with
# the bare nng server as the reference.
#   tests/bench/e2e_bench.sh [BUILD_DIR]
# DUR (seconds of load, 10), CONNS (wrk connections, 64), RATE (offered msg/s; 0 = as fast as
# wrk goes, the default), CONCURRENCY (the route's transfers at once, 64), SYSCALLS=0 skips the
# perf count of fdatasync per thread. Prints, for the load window:
#   - rate in (accepted/s, wrk) and rate out (delivered/s, igw's own counter), each per second;
#   - the pending deliveries every second (igw_queue_deliveries{state="pending"}) and their
#     slope (msg/s: flat is close to 0), and how long the backlog takes to drain after the load;
#   - CPU per delivered message by thread (/proc, tests/bench/cpu_account.py);
#   - fdatasync/fsync calls by thread (perf's syscall tracepoints, when perf may count them):
#     the messages per commit group;
#   - the ratio of the rate out to the bare nng server's rate of the same run.
# Exits 77 (skip) without wrk, nginx, cc or python3.
set -uo pipefail
for c in wrk nginx cc python3; do
  command -v "$c" >/dev/null 2>&1 || { echo "e2e_bench: $c not found (.ci/deps.sh bench): skipped" >&2; exit 77; }
done
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
igw=${IGW_BIN:-$build/cli/igw}
DUR=${DUR:-10}
CONNS=${CONNS:-64}
RATE=${RATE:-0}
CONCURRENCY=${CONCURRENCY:-64}
SYSCALLS=${SYSCALLS:-1}
. "$here/lib.sh"
bench_init igw-e2e

python3 -c '
import json
rec = {"event": "insuree-created", "chfId": "070707070", "lastName": "Doe",
       "otherNames": "John Baraka", "dob": "1950-01-01", "gender": "M", "notes": ""}
rec["notes"] = "x" * (1496 - len(json.dumps(rec)))
open("'"$work"'/body.json", "w").write(json.dumps(rec))'
printf '%s\n' 'wrk.method = "POST"' \
  "local f = io.open(\"$work/body.json\", \"rb\"); wrk.body = f:read(\"*a\"); f:close()" \
  'wrk.headers["Content-Type"] = "application/json"' \
  'wrk.headers["Authorization"] = "Bearer bench-token"' \
  'local d = tonumber(os.getenv("WRK_DELAY_MS") or "0")' \
  'if d > 0 then function delay() return d end end' > "$work/post.lua"
delay=0
[ "$RATE" -gt 0 ] && delay=$(python3 -c "print(max(1, int($CONNS * 1000 / $RATE)))")

# --- the sink and the reference
sink=$(port)
mkdir -p "$work/nginx"
printf '%s\n' "worker_processes 1;" "daemon off;" "error_log $work/nginx/error.log;" \
  "pid $work/nginx/nginx.pid;" "events { worker_connections 4096; }" "http {" \
  "  access_log off; keepalive_requests 1000000; client_body_buffer_size 64k;" \
  "  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx;" \
  "  fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;" \
  "  server { listen 127.0.0.1:$sink; location / { return 200; } }" "}" > "$work/nginx/nginx.conf"
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -o "$work/nng_bare" "$here/nng_bare.c" -lnng -lpthread || exit 1
bare=$(port)
"$work/nng_bare" "$bare" &
pids+=($!)
bpid=$!
wait_port "$sink" && wait_port "$bare" || exit 1

# --- igw: one channel, one route to the sink; the admin API for its counters
gw=$(port)
adm=$(port)
mkdir -p "$work/gw/secrets"
echo bench-token > "$work/gw/secrets/bench.tokens"
echo admin-token > "$work/gw/secrets/admin.tokens"
printf '%s\n' "log_level: warn" \
  "http: { listen: \"http://127.0.0.1:$gw\", max_body: 1MiB, max_inflight: 8192 }" \
  "admin: { listen: \"http://127.0.0.1:$adm\", auth: { type: bearer, tokens_file: secrets/admin.tokens } }" \
  "queue: { path: \"$work/gw/queue\", map_size: 4GiB, max_batch: 1024, retain_delivered: 2s }" \
  "channels:" "  e2e:" "    listen: POST /bench/e2e" \
  "    auth: { type: bearer, tokens_file: secrets/bench.tokens }" \
  "    content_types: [application/json]" "    routes:" "      sink:" \
  "        url: http://127.0.0.1:$sink/in" "        concurrency: $CONCURRENCY" \
  "        retry: { base: 100ms, cap: 5s, max_attempts: 50 }" > "$work/gw/igw.conf"
(cd "$work/gw" && exec "$igw" serve --config igw.conf) &
gpid=$!
pids+=($gpid)
wait_port "$gw" && wait_port "$adm" || exit 1

# igw's counters from /metrics: "accepted delivered pending" once, or with SECONDS given, one
# line "t accepted delivered pending" every second (t: seconds since the start, measured)
cat > "$work/counters.py" <<'PY'
import sys, time, urllib.request
req = urllib.request.Request("http://127.0.0.1:%s/metrics" % sys.argv[1],
                             headers={"Authorization": "Bearer admin-token"})
def one():
    acc = dlv = pend = 0
    for line in urllib.request.urlopen(req, timeout=5).read().decode().splitlines():
        if line.startswith("#"):
            continue
        name, _, val = line.rpartition(" ")
        if name.startswith("igw_messages_accepted_total"):
            acc += float(val)
        elif name.startswith("igw_deliveries_total") and 'outcome="delivered"' in name:
            dlv += float(val)
        elif name.startswith("igw_queue_deliveries{") and 'state="pending"' in name:
            pend += float(val)
    return "%d %d %d" % (acc, dlv, pend)
if len(sys.argv) < 3:
    print(one())
else:
    t0 = time.time()
    for i in range(1, int(sys.argv[2]) + 1):
        time.sleep(max(0, t0 + i - time.time()))
        print("%.2f %s" % (time.time() - t0, one()), flush=True)
PY
counters() { python3 "$work/counters.py" "$adm"; }

echo "# igw e2e benchmark: $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)," \
  "wrk -t2 -c$CONNS -d${DUR}s, offered ${RATE:-0}/s (0: as fast as it goes), route concurrency $CONCURRENCY"
python3 "$here/cpu_account.py" snap "$bpid" > "$work/bbefore.json"
out=$(wrk --latency -t2 -c"$CONNS" -d"${DUR}s" -s "$work/post.lua" "http://127.0.0.1:$bare/bench/e2e" 2>&1)
python3 "$here/cpu_account.py" snap "$bpid" > "$work/bafter.json"
bare_rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
echo "nng-bare (reference, same body, no storage): $bare_rps req/s, p50 $(awk '$1=="50%" {print $2}' <<<"$out")"
python3 "$here/cpu_account.py" diff "nng-bare, per request" "$(awk '/requests in/ {print $1}' <<<"$out")" \
  "$work/bbefore.json" "$work/bafter.json" | grep -v '^cpu '
kill "$bpid" 2>/dev/null # not beside igw's window
# warm-up: the route's connections to the sink, LMDB's pages
WRK_DELAY_MS=$delay wrk -t2 -c"$CONNS" -d2s -s "$work/post.lua" "http://127.0.0.1:$gw/bench/e2e" >/dev/null 2>&1
for _ in $(seq 100); do [ "$(counters | cut -d' ' -f3)" = 0 ] && break; sleep 0.2; done

python3 "$here/cpu_account.py" snap "$gpid" > "$work/before.json"
c0=$(counters)
python3 "$work/counters.py" "$adm" "$DUR" > "$work/samples" &
sampler=$!
if [ "$SYSCALLS" = 1 ] && command -v perf >/dev/null; then
  timeout -s INT "$DUR" perf stat --per-thread -p "$gpid" -x, \
    -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync -o "$work/perf" 2>/dev/null &
  perfpid=$!
fi
ngx=$(pgrep -P "${pids[0]}" | head -1) # nginx's worker: the sink's CPU too
[ -n "$ngx" ] && python3 "$here/cpu_account.py" snap "$ngx" > "$work/nbefore.json"
# wrk's own CPU (user + system seconds) after its output: the client's share of the 2 cores
out=$(WRK_DELAY_MS=$delay python3 -c '
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.stdout + "wrk-cpu %.3f" % (u.ru_utime + u.ru_stime))' wrk --latency -t2 -c"$CONNS" \
  -d"${DUR}s" -s "$work/post.lua" "http://127.0.0.1:$gw/bench/e2e")
[ -n "$ngx" ] && python3 "$here/cpu_account.py" snap "$ngx" > "$work/nafter.json"
c1=$(counters)
python3 "$here/cpu_account.py" snap "$gpid" > "$work/after.json"
wait "$sampler" 2>/dev/null
[ -n "${perfpid:-}" ] && wait "$perfpid" 2>/dev/null
t0=$(date +%s.%N)
for _ in $(seq 300); do [ "$(counters | cut -d' ' -f3)" = 0 ] && break; sleep 0.1; done
drain=$(python3 -c "import time; print('%.1f' % (time.time() - $t0))")
c2=$(counters)
echo "wrk: $(awk '/Requests\/sec/ {print $2}' <<<"$out") req/s, p50 $(awk '$1=="50%" {print $2}' <<<"$out")," \
  "p99 $(awk '$1=="99%" {print $2}' <<<"$out"), non-2xx $(awk '/Non-2xx/ {print $4}' <<<"$out")"
python3 - "$work/samples" "$c0" "$c1" "$c2" "$DUR" "$bare_rps" "$drain" <<'PY'
import sys
rows = [[float(l.split()[0])] + list(map(int, l.split()[1:])) for l in open(sys.argv[1]) if l.strip()]
c0, c1, c2 = (list(map(int, sys.argv[i].split())) for i in (2, 3, 4))
dur, bare, drain = float(sys.argv[5]), float(sys.argv[6]), sys.argv[7]
prev, pt = c0, 0.0
print("     s   in/s  out/s  pending")
for t, a, d, p in rows:
    print("%6.2f %6d %6d %8d" % (t, (a - prev[0]) / (t - pt), (d - prev[1]) / (t - pt), p))
    prev, pt = [a, d, p], t
pend = [r[3] for r in rows]
n = len(pend)
slope = 0.0
if n > 1:
    mx = sum(range(n)) / n
    my = sum(pend) / n
    slope = sum((i - mx) * (y - my) for i, y in enumerate(pend)) / sum((i - mx) ** 2 for i in range(n))
inr, outr = (c1[0] - c0[0]) / dur, (c1[1] - c0[1]) / dur
print("e2e: in %.0f msg/s, out %.0f msg/s (goal >= 15000 with a flat queue); pending max %d, slope "
      "%+.0f msg/s; backlog of %d drained in %s s after the load (%d delivered since)"
      % (inr, outr, max(pend or [0]), slope, c1[2], drain, c2[1] - c1[1]))
print("ratio out / nng-bare: %.2f" % (outr / bare if bare else 0))
open(sys.argv[1] + ".n", "w").write("%d" % max(1, c1[1] - c0[1]))
PY
python3 "$here/cpu_account.py" diff "igw e2e, per delivered message" "$(cat "$work/samples.n")" \
  "$work/before.json" "$work/after.json" | grep -v '^cpu '
n=$(cat "$work/samples.n")
[ -n "$ngx" ] && python3 "$here/cpu_account.py" diff "nginx sink, per delivered message" "$n" \
  "$work/nbefore.json" "$work/nafter.json" | grep '^#'
awk -v n="$n" '/^wrk-cpu/ {printf "# wrk (the client), per delivered message: %.1f us\n", $2 * 1e6 / n}' <<<"$out"
if [ -s "$work/perf" ]; then
  python3 - "$work/perf" "$(cat "$work/samples.n")" <<'PY'
import sys
n = int(sys.argv[2])
per = {}
for line in open(sys.argv[1]):
    f = line.strip().split(",")
    if len(f) < 4 or not f[1].strip().isdigit():
        continue
    key = (f[0].rsplit("-", 1)[0], f[3].split(":")[-1].replace("sys_enter_", ""))
    if int(f[1]):
        per[key] = per.get(key, 0) + int(f[1])
for (t, ev), c in sorted(per.items(), key=lambda x: -x[1]):
    print("  %-14s %-10s %7d calls, %.1f delivered messages per call" % (t, ev, c, n / c))
PY
fi
