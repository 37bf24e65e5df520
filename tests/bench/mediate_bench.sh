#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Mediation benchmark (docs/MEDIATION.md): what the response cache buys, against the upstream
# called directly in the same run. Bounded: 5 cases of DUR seconds (default 5), wrk as the client.
#   tests/bench/mediate_bench.sh [BUILD_DIR]
#   1. direct: wrk -> tests/sim/upstream.py GET /items/1 (the reference: a Python upstream)
#   2. igw, no cache: wrk -> igw GET /items/1 -> the same upstream (map mediator)
#   3. igw, cache (ttl 60 s): the same request answered from igw's memory
#   4. latency: cases 1 and 2 again with one connection (igw's added p50, not a throughput)
# Prints requests/s, p50 and p99 of each and the ratios; docs/PERFORMANCE.md keeps the figures.
# Exits 77 (skip) when wrk or python3 is missing.
set -euo pipefail
for c in wrk python3; do
  command -v "$c" >/dev/null 2>&1 || { echo "mediate_bench: $c not found: skipped" >&2; exit 77; }
done
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
igw=${IGW_BIN:-$build/cli/igw}
DUR=${DUR:-5}
CONNS=${CONNS:-16}
. "$here/lib.sh"
bench_init igw-medbench

up=$(port)
python3 "$src/tests/sim/upstream.py" --port "$up" >"$work/up.log" 2>&1 &
pids+=($!)
wait_port "$up"

start_igw() { # $1 = cache ttl
  local p
  p=$(port)
  cat >"$work/igw-$1.conf" <<CONF
log_level: warn
http: { listen: "http://127.0.0.1:$p", max_connections_per_addr: 0 }
queue: { path: "$work/queue-$1" }
upstreams:
  up: { url: "http://127.0.0.1:$up", max_inflight: 64 }
channels:
  item:
    listen: GET /items/{id}
    answer: map
    upstream: up
    mediate: { path: "/items/{id}" }
    cache: { ttl: $1 }
CONF
  "$igw" serve --config "$work/igw-$1.conf" >"$work/igw-$1.log" 2>&1 &
  pids+=($!)
  wait_port "$p"
  echo "$p"
}

# wrk's summary -> "rate p50_ms p99_ms"
measure() { # $1 = url, $2 = connections (default CONNS)
  wrk -t1 -c"${2:-$CONNS}" -d"${DUR}s" --latency "$1" >"$work/wrk.out" 2>&1
  [ -z "${BENCH_VERBOSE:-}" ] || cat "$work/wrk.out" >&2
  python3 - "$work/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s)\s*$" % label, t, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if bad:
    sys.exit("mediate_bench: %s non-2xx answers" % bad.group(1))
print("%.0f %.3f %.3f" % (rate, ms("50"), ms("99")))
PY
}

p0=$(start_igw 0)
p1=$(start_igw 60s)
read -r d_rate d_p50 d_p99 < <(measure "http://127.0.0.1:$up/items/1")
read -r n_rate n_p50 n_p99 < <(measure "http://127.0.0.1:$p0/items/1")
read -r c_rate c_p50 c_p99 < <(measure "http://127.0.0.1:$p1/items/1")
read -r d1_rate d1_p50 d1_p99 < <(measure "http://127.0.0.1:$up/items/1" 1)
read -r n1_rate n1_p50 n1_p99 < <(measure "http://127.0.0.1:$p0/items/1" 1)
printf "mediate direct upstream:   %8s req/s  p50 %7s ms  p99 %7s ms\n" "$d_rate" "$d_p50" "$d_p99"
printf "mediate igw, no cache:     %8s req/s  p50 %7s ms  p99 %7s ms\n" "$n_rate" "$n_p50" "$n_p99"
printf "mediate igw, cache 60 s:   %8s req/s  p50 %7s ms  p99 %7s ms\n" "$c_rate" "$c_p50" "$c_p99"
printf "mediate 1 conn, direct:    %8s req/s  p50 %7s ms  p99 %7s ms\n" "$d1_rate" "$d1_p50" "$d1_p99"
printf "mediate 1 conn, igw:       %8s req/s  p50 %7s ms  p99 %7s ms\n" "$n1_rate" "$n1_p50" "$n1_p99"
python3 -c "import sys; d,n=map(float,sys.argv[1:]); print('mediate igw adds %.3f ms at p50 (one connection)' % (n - d))" "$d1_p50" "$n1_p50"
python3 -c "import sys; d,n,c=map(float,sys.argv[1:]); print('mediate ratios: no-cache/direct %.2f, cache/direct %.1f, cache/no-cache %.1f' % (n/d, c/d, c/n))" "$d_rate" "$n_rate" "$c_rate"
