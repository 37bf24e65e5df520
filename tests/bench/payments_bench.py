# SPDX-License-Identifier: Apache-2.0
"""Payments benchmark (docs/PAYMENTS.md, docs/PERFORMANCE.md), bounded by BENCH_PAY_DEADLINE:
   1. direct (the reference): the DisburseRequests igw would send for a payroll of N benefits
      (igw map run openimis-payroll-to-g2p-disburse, cut into batches of BATCH) POSTed straight to
      tests/sim/g2p_payments.py, until every final on-disburse status has reached a plain
      receiver: disbursements/s of the simulator and Python alone;
   2. igw end to end: the payroll event POSTed to igw -> signed batches to the simulator -> every
      callback verified, correlated and committed -> every status delivered to the openIMIS
      simulator's payment-status receiver: disbursements/s, and the ratio to 1.
Both runs use the same simulator settings (no stage delay, no ack delay, one interim stage).
Case 2 is reported as not run when igw has no payments flow (config check refuses it)."""
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
import igwtest  # noqa: E402
import test_payments_e2e as e2e  # noqa: E402
from client import OpenImisSim  # noqa: E402

N = int(os.environ.get("BENCH_PAY_N", "10000"))
BATCH = int(os.environ.get("BENCH_PAY_BATCH", "500"))
DEADLINE = float(os.environ.get("BENCH_PAY_DEADLINE", "240"))
SIM_OPTS = {"--stage-delay-ms": "0", "--ack-delay-ms": "0", "--dup-rate": "0"}


def direct(event):
    """Case 1 -> (seconds, final statuses received)."""
    mapped = subprocess.run([igwtest.IGW_BIN, "map", "run", os.path.join(SRC, "mappings", "openimis-payroll-to-g2p-disburse")],
                            input=json.dumps(event), capture_output=True, text=True, check=True)
    req = json.loads(mapped.stdout)
    items = req["message"]["disbursements"]
    got = {"final": 0}
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            b = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            n = sum(1 for s in b["message"]["disbursements_status"] if s["status"] in ("succ", "rjct"))
            with lock:
                got["final"] += n
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    rcv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=rcv.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp(prefix="pay-bench-")
    port = igwtest.free_port()
    opts = dict(SIM_OPTS, **{"--callback-url": "http://127.0.0.1:%d/g2p/on-disburse" % rcv.server_address[1]})
    sim = e2e.PaySim(port, os.path.join(tmp, "state.jsonl"), None, opts).start()
    try:
        t0 = time.time()
        for k in range(0, len(items), BATCH):
            hdr = dict(req["header"], message_id="m-%d" % k, message_ts="2024-05-01T00:00:00Z",
                       sender_uri="http://127.0.0.1:1/unused", total_count=len(items[k:k + BATCH]))
            msg = {"transaction_id": "%s-%d" % (event["payroll"]["uuid"], k // BATCH + 1),
                   "disbursements": items[k:k + BATCH]}
            st, _ = e2e.http("POST", "http://127.0.0.1:%d/disburse" % port, {"header": hdr, "message": msg},
                             "igw-to-paysys")
            assert st == 200, st
        while got["final"] < len(items) and time.time() - t0 < DEADLINE:
            time.sleep(0.02)
        return time.time() - t0, got["final"]
    finally:
        sim.kill9()
        rcv.shutdown()


def through_igw(event):
    """Case 2 -> (seconds, final statuses at openIMIS) or None when igw has no payments flow."""
    oi = OpenImisSim(extra=["--api-token", "openimis-demo-token"], rate_per_minute=0)
    sim_port, admin = igwtest.free_port(), igwtest.free_port()
    maps = os.path.join(SRC, "mappings")
    gw = igwtest.Gateway(e2e.CONFIG % {"admin": admin, "maps": maps, "batch": BATCH, "sim": sim_port,
                                       "oi": oi.port, "verify": "true"})
    sim = None
    try:
        e2e.signing_key(os.path.join(gw.dir, "igw-signing.pem"))
        chk = subprocess.run([igwtest.IGW_BIN, "config", "check", gw.config_path], capture_output=True, text=True)
        if chk.returncode != 0:
            print("payments_bench: igw end to end not run: %s" % (chk.stdout + chk.stderr).strip()[:200])
            return None
        base = "http://127.0.0.1:%d" % gw.port
        sim = e2e.PaySim(sim_port, os.path.join(gw.dir, "paysim.jsonl"), base + "/.well-known/jwks.json",
                         SIM_OPTS).start()
        gw.start()      # after the payment system: igw fetches its JWKS at start
        t0 = time.time()
        st, out = e2e.http("POST", base + "/openimis/payments", event, "openimis-token")
        assert st in (200, 202), (st, out[:200])
        n = 0
        while time.time() - t0 < DEADLINE:
            v = oi.payment_status(benefits=False)["by_status"]
            n = v.get("RECONCILED", 0) + v.get("REJECTED", 0)
            if n >= len(event["benefits"]):
                break
            time.sleep(0.05)
        if n < len(event["benefits"]):
            print("payments_bench: incomplete; payment system %s" % json.dumps(sim.stats())[:1500])
            print("\n".join(gw.logs().splitlines()[-15:]))
        return time.time() - t0, n
    finally:
        if sim is not None:
            sim.kill9()
        oi.stop()
        gw.cleanup()


def main():
    event, _ = e2e.payroll(42, N, "TZS", "BENCH")
    print("payments_bench: payroll of %d benefits, %.1f MB, batches of %d" % (N, len(json.dumps(event)) / 1e6, BATCH))
    secs, n = direct(event)
    ref = n / secs
    print("payments_bench: direct to the simulator: %d final statuses in %.2fs = %.0f disbursements/s" % (n, secs, ref))
    if n < N:
        print("payments_bench: direct run incomplete within %.0fs" % DEADLINE)
        return 1
    r = through_igw(event)
    if r is None:
        return 0
    secs, n = r
    print("payments_bench: igw end to end: %d final statuses at openIMIS in %.2fs = %.0f disbursements/s "
          "(%.2f of direct)" % (n, secs, n / secs, (n / secs) / ref))
    return 0 if n >= N else 1


if __name__ == "__main__":
    sys.exit(main())
