#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Admin listing with a large queue (docs/PERFORMANCE.md "Admin listing"):
#   tests/bench/list_bench.sh BUILD_DIR        (N=1000000 by default; part of `make bench`)
# 1. list_bench fills a queue with N messages (intake rate with the admin indexes) and times
#    igw_queue_list's first page per filter in-process (p50/p99 of 200 runs);
# 2. `igw serve` opens that queue with an admin listener, and GET /admin/messages is timed over
#    HTTP for the same filters (p50/p99 of 100 requests each, one connection per request:
#    what the console and `igw queue ls` see, JSON included).
# Needs about 1.5 GB in TMPDIR for 1M messages; removed afterwards.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
N=${N:-1000000}
exe=$(find "$build" -type f -name list_bench -perm -u+x | head -n 1)
igw=$build/cli/igw
[ -n "$exe" ] && [ -x "$igw" ] || { echo "list_bench: build list_bench and igw first" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/igw-list-bench.XXXXXX")
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
echo "== list_bench: N=$N ($(date -u +%FT%TZ), $(nproc) cores)"
"$exe" "$work/queue" "$N"
du -sh "$work/queue" | sed 's/^/queue on disk: /'
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
aport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo bench-token > "$work/admin.tokens"
cat > "$work/igw.yaml" <<CFG
http: { listen: "http://127.0.0.1:$port" }
admin:
  listen: "http://127.0.0.1:$aport"
  auth: { type: bearer, tokens_file: $work/admin.tokens }
queue: { path: "$work/queue", map_size: 16GiB }
channels:
  ch0:
    listen: POST /ch0
    auth: { type: bearer, tokens: [t] }
    routes: { a: { url: "http://127.0.0.1:9/none" } }
CFG
"$igw" serve --config "$work/igw.yaml" > "$work/igw.log" 2>&1 &
pid=$!
python3 - "$aport" <<'PY'
import http.client, sys, time
port = int(sys.argv[1])
for _ in range(600):
    try:
        http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect(); break
    except OSError:
        time.sleep(0.05)
H = {"Authorization": "Bearer bench-token"}
def get(q):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    t0 = time.perf_counter()
    c.request("GET", "/admin/messages?" + q, headers=H)
    r = c.getresponse(); body = r.read()
    dt = (time.perf_counter() - t0) * 1e3
    c.close()
    assert r.status == 200, (q, r.status, body[:200])
    return dt, body
print("over HTTP (GET /admin/messages, limit 50, 100 requests each):")
for q in ("limit=50", "channel=ch2&limit=50", "state=dead&limit=50",
          "route=ch1.b&state=dead&limit=50", "channel=ch3&state=delivered&limit=50",
          "channel=ch0&idempotency_key=key-400", "q=needle&limit=50"):
    ts = sorted(get(q)[0] for _ in range(100))
    print("  %-40s p50 %7.2f ms  p99 %7.2f ms" % (q, ts[50], ts[99]))
PY
