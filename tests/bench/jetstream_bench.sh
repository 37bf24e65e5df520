#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The queue on NATS JetStream beside LMDB, in one run (docs/PERFORMANCE.md, "JetStream"):
# durable accepts/s and end to end (accept + claim + complete) per second through the queue API
# (tests/bench/queue_backends.c), for LMDB (fsync per group), JetStream on 1 node (R1) and
# JetStream on a 3-node loopback cluster (R3), and the ratios to LMDB.
#   tests/bench/jetstream_bench.sh BUILD_DIR      (N=20000 INFLIGHT=256 by default)
# Exits 77 when nats-server or the JetStream backend is missing.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
bin="$build/tests/bench/queue_backends"
N=${N:-20000}
INFLIGHT=${INFLIGHT:-256}
ns=${NATS_SERVER:-$(command -v nats-server || ls /usr/sbin/nats-server 2>/dev/null || true)}
[ -x "$bin" ] || { echo "build $bin first"; exit 2; }
[ -n "$ns" ] || { echo "nats-server not installed"; exit 77; }
work=$(mktemp -d /tmp/igw-jsbench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# one node
p1=$(port)
"$ns" -js -a 127.0.0.1 -p "$p1" -sd "$work/one" >"$work/one.log" 2>&1 & pids+=($!)
# three nodes, routes between them
cp=(); cl=(); for i in 0 1 2; do cp+=("$(port)"); cl+=("$(port)"); done
for i in 0 1 2; do
  routes=""; for j in 0 1 2; do [ "$j" = "$i" ] || routes="$routes${routes:+,}nats://127.0.0.1:${cl[$j]}"; done
  "$ns" -js -a 127.0.0.1 -p "${cp[$i]}" -n "n$i" -sd "$work/n$i" --cluster_name bench \
    --cluster "nats://127.0.0.1:${cl[$i]}" --routes "$routes" >"$work/n$i.log" 2>&1 & pids+=($!)
done
wait_port "$p1"; for i in 0 1 2; do wait_port "${cp[$i]}"; done
sleep 3 # the cluster elects its meta leader
urls3="nats://127.0.0.1:${cp[0]},nats://127.0.0.1:${cp[1]},nats://127.0.0.1:${cp[2]}"

echo "N=$N INFLIGHT=$INFLIGHT body 512 B, 1 route; $(nproc) cores; nats-server $("$ns" --version 2>&1 | head -1)"
"$bin" jetstream "nats://127.0.0.1:$p1" probe 1 1 1 >/dev/null 2>&1 || { echo "JetStream backend not built"; exit 77; }
out="$work/out.jsonl"
"$bin" lmdb "$work/lmdb" "$N" "$INFLIGHT" | tee -a "$out"
"$bin" jetstream "nats://127.0.0.1:$p1" b1 1 "$N" "$INFLIGHT" | sed 's/"jetstream"/"jetstream-1node-R1"/' | tee -a "$out"
"$bin" jetstream "$urls3" b3 3 "$N" "$INFLIGHT" | sed 's/"jetstream"/"jetstream-3node-R3"/' | tee -a "$out"
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
base = {r["phase"]: r["per_s"] for r in rows if r["backend"] == "lmdb"}
base["takeover"] = base["e2e"]  # LMDB has one instance: its end to end is the reference
print("%-22s %8s %12s %8s" % ("backend", "phase", "per second", "vs lmdb"))
for r in rows:
    print("%-22s %8s %12.0f %7.2fx" % (r["backend"], r["phase"], r["per_s"], r["per_s"] / base[r["phase"]]))
print("takeover: a second instance delivers a backlog of N left by the first (vs LMDB's e2e)")
PY
