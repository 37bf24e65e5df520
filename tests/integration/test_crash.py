# SPDX-License-Identifier: Apache-2.0
"""Crash safety of accept + delivery: a bounded stream of messages from 4 producer threads,
`kill -9` of the gateway at several points (during intake and group commit, during intake
with delivery in flight to a slow sink, during recovery right after a restart, during delivery
alone), restart on the same data
directory, drain, then:
  - every message that got a 2xx from the gateway reached the sink at least once (2xx there),
  - the sink received nothing that was never sent.
Messages carry a unique "uid"; producers resend a message whose request failed with the same
Idempotency-Key, as a real producer would. Bounded: 3000 messages, < 2 minutes.
Python 3 standard library only."""
import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import SIM_DIR, Gateway, eventually, run  # noqa: E402

sys.path.insert(0, SIM_DIR)
from sink import Sink  # noqa: E402

THREADS = 4
PER_THREAD = 750
DEADLINE_S = 110

CONFIG = """
http: { listen: "http://127.0.0.1:{port}" }
queue: { path: "{dir}/queue" }
channels:
  ev:
    listen: POST /events/{event}
    auth: { type: bearer, tokens: [t0k] }
    routes:
      sink:
        url: SINK_URL/in
        timeout: 2s
        concurrency: 8
        retry: { base: 50ms, cap: 500ms, max_attempts: 1000 }
        circuit: { failures: 0 }
"""


class Producers:
    """THREADS threads, each sending PER_THREAD messages in order; a failed request (gateway
    down) is retried with the same Idempotency-Key until it is accepted or time runs out.
    Each thread sends only up to `limit` messages until the test raises it (phases)."""

    def __init__(self, port, limit):
        self.port = port
        self.limit = limit
        self.lock = threading.Lock()
        self.sent = set()    # uids of every message we tried to send
        self.acked = set()   # uids answered 2xx
        self.stop = False
        self.threads = [threading.Thread(target=self._run, args=(t,), daemon=True)
                        for t in range(THREADS)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def nacked(self):
        with self.lock:
            return len(self.acked)

    def _post(self, conn, uid):
        body = json.dumps({"uid": uid, "pad": "x" * 200})
        conn.request("POST", "/events/crash", body=body,
                     headers={"Authorization": "Bearer t0k", "Content-Type": "application/json",
                              "Idempotency-Key": uid})
        r = conn.getresponse()
        r.read()
        return r.status

    def _run(self, t):
        conn = None
        for i in range(PER_THREAD):
            while i >= self.limit and not self.stop:
                time.sleep(0.005)
            uid = "t%d-%05d" % (t, i)
            with self.lock:
                self.sent.add(uid)
            while not self.stop:
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                    status = self._post(conn, uid)
                except (OSError, http.client.HTTPException):
                    if conn is not None:
                        conn.close()
                    conn = None
                    time.sleep(0.02)
                    continue
                if 200 <= status < 300:
                    with self.lock:
                        self.acked.add(uid)
                    break
                time.sleep(0.02)  # 503 (busy/full) or similar: try again
        if conn is not None:
            conn.close()

    def join(self, timeout):
        end = time.time() + timeout
        for t in self.threads:
            t.join(max(0.0, end - time.time()))
        self.stop = True
        return all(not t.is_alive() for t in self.threads)


def wait_acked(prod, n, gw, timeout=30):
    eventually(lambda: prod.nacked() >= n, timeout=timeout, interval=0.005,
               what="%d acknowledged messages" % n)


def crash_restart(gw, prod, sink, crashes, what):
    """kill -9 now, note (what, acked, delivered at the sink) as of the kill, restart."""
    acked, delivered = prod.nacked(), len(sink.delivered("/in"))
    gw.kill9()
    crashes.append((what, acked, delivered))
    gw.start()


def delivered_uids(sink):
    return {json.loads(r["body"])["uid"] for r in sink.delivered("/in")}


def test_crash_points():
    t_start = time.time()
    sink = Sink()
    gw = Gateway(CONFIG.replace("SINK_URL", sink.url))
    crashes = []
    try:
        gw.start()
        prod = Producers(gw.port, limit=250).start()

        # 1. during intake and group commit: producers are mid-request; the sink is slowed a
        #    little so that deliveries are still in flight (delivery otherwise keeps up)
        sink.control(delay_ms=15)
        wait_acked(prod, 500, gw)
        crash_restart(gw, prod, sink, crashes, "intake")

        # 2. during intake and delivery, the sink slow: a backlog is in flight
        sink.control(delay_ms=40)
        prod.limit = 500
        wait_acked(prod, 1500, gw)
        crash_restart(gw, prod, sink, crashes, "intake+slow delivery")

        # 3. during intake, then during recovery right after the restart
        prod.limit = PER_THREAD
        wait_acked(prod, 2500, gw)
        crash_restart(gw, prod, sink, crashes, "intake")
        time.sleep(0.3)
        crash_restart(gw, prod, sink, crashes, "recovery")

        # 4. during delivery only (intake done), the sink still slow
        assert prod.join(timeout=60), "producers did not finish"
        base = len(sink.delivered("/in"))
        eventually(lambda: len(sink.delivered("/in")) > base + 150, timeout=30,
                   what="deliveries in progress")
        crash_restart(gw, prod, sink, crashes, "slow delivery")
        total = THREADS * PER_THREAD
        for what, acked, delivered in crashes:
            assert what == "recovery" or delivered < acked, \
                "crash point %r hit no delivery backlog: %r" % (what, crashes)
            assert not what.startswith("intake") or acked < total, \
                "crash point %r after intake ended: %r" % (what, crashes)
        sink.control(delay_ms=0)

        acked = set(prod.acked)
        assert len(acked) == THREADS * PER_THREAD, "only %d acknowledged" % len(acked)

        left = DEADLINE_S - (time.time() - t_start)
        eventually(lambda: acked <= delivered_uids(sink), timeout=max(10.0, left),
                   interval=0.2, what="every acknowledged message delivered")
        received = {json.loads(r["body"])["uid"] for r in sink.received("/in")}
        unknown = received - prod.sent
        assert not unknown, "sink received messages never sent: %r" % sorted(unknown)[:5]
        total = len(sink.received("/in"))
        print("  crashes: %s; %d acked, %d requests at the sink (%d resends or retries), %.1fs"
              % (crashes, len(acked), total, total - len(acked), time.time() - t_start))
        assert time.time() - t_start < 120
    except Exception:
        sys.stderr.write("--- igw log (tail) ---\n%s\n" % gw.logs()[-4000:])
        raise
    finally:
        gw.cleanup()
        sink.stop()


if __name__ == "__main__":
    run([test_crash_points])
