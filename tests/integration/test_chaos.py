# SPDX-License-Identifier: Apache-2.0
"""The concurrent crash loop (issue 13 item 7): CLIENTS producer threads send uniquely numbered
messages with an Idempotency-Key while the sink fails 30 % of its requests with 503 and stalls
1 % of them; the gateway is killed with SIGKILL ROUNDS times at random moments (while the
clients send, or with intake paused and only deliveries running) and restarted on the same
queue. After each restart every client resends its last acknowledged messages with the same
key and must get the same message id back, marked duplicate. At the end:
  - every acknowledged message reached the sink with a 2xx (0 acknowledged lost),
  - the sink received nothing that was never sent,
  - no message reached the sink under two gateway message ids (no resend made a second one),
  - redeliveries (2xx deliveries beyond the first per message) are counted and printed.
The clients send from the start until the last restart (at most IGW_CHAOS_MESSAGES each).
Short form (make test): 5 rounds, 8 clients, < 90 s. Long form (make chaos, IGW_CHAOS=1):
20 rounds, 8 clients; IGW_CHAOS_ROUNDS, IGW_CHAOS_CLIENTS and IGW_CHAOS_MESSAGES override
either form; IGW_CHAOS_SEED repeats a run's kill moments.
Python 3 standard library only."""
import http.client
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import SIM_DIR, Gateway, chaos_knob, eventually, run  # noqa: E402

sys.path.insert(0, SIM_DIR)
from sink import Sink  # noqa: E402

ROUNDS = chaos_knob("IGW_CHAOS_ROUNDS", 5, 20)
CLIENTS = chaos_knob("IGW_CHAOS_CLIENTS", 8, 8)
MESSAGES = chaos_knob("IGW_CHAOS_MESSAGES", 2000, 20000)  # at most, per client
DEADLINE_S = chaos_knob("IGW_CHAOS_DEADLINE", 85, 1500)
RESEND = 3  # acknowledged messages each client resends after a restart

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
        concurrency: 16
        retry: { base: 20ms, cap: 300ms, max_attempts: 100000 }
        circuit: { failures: 0 }
"""


def post(conn, uid):
    body = json.dumps({"uid": uid, "pad": "x" * 120})
    conn.request("POST", "/events/chaos", body=body,
                 headers={"Authorization": "Bearer t0k", "Content-Type": "application/json",
                          "Idempotency-Key": uid})
    r = conn.getresponse()
    data = r.read()
    return r.status, data


class Clients:
    """CLIENTS threads, each sending messages in order over one keep-alive connection until
    `finish` (or MESSAGES); a failed request is sent again with the same key until it is
    answered 2xx. `gate` pauses them between requests."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.sent = set()
        self.acked = {}  # uid -> message id of its first 2xx
        self.last = [[] for _ in range(CLIENTS)]  # each client's recent acked uids
        self.gate = threading.Event()
        self.gate.set()
        self.stop = False
        self.finish = False
        self.threads = [threading.Thread(target=self._run, args=(c,), daemon=True)
                        for c in range(CLIENTS)]
        for t in self.threads:
            t.start()

    def count(self):
        with self.lock:
            return len(self.acked)

    def _send_until_acked(self, c, uid, conn):
        while not self.stop:
            self.gate.wait(1.0)
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                status, data = post(conn, uid)
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.02)
                continue
            if 200 <= status < 300:
                with self.lock:
                    self.acked.setdefault(uid, json.loads(data)["id"])
                    self.last[c] = (self.last[c] + [uid])[-RESEND:]
                return conn
            time.sleep(0.02)  # 503 while starting or busy: again
        return conn

    def _run(self, c):
        conn = None
        for i in range(MESSAGES):
            if self.finish:
                break
            uid = "c%d-%06d" % (c, i)
            with self.lock:
                self.sent.add(uid)
            conn = self._send_until_acked(c, uid, conn)
        if conn is not None:
            conn.close()

    def join(self, timeout):
        self.finish = True
        self.gate.set()
        end = time.time() + timeout
        for t in self.threads:
            t.join(max(0.0, end - time.time()))
        self.stop = True
        return all(not t.is_alive() for t in self.threads)


def resend_acked(gw, clients):
    """Each client's last acknowledged messages again, same key: same id, marked duplicate."""
    with clients.lock:
        uids = [u for lst in clients.last for u in lst]
        ids = {u: clients.acked[u] for u in uids}
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    try:
        for uid in uids:
            for _ in range(100):  # 503 while the restarted gateway recovers: again
                status, data = post(conn, uid)
                if status != 503:
                    break
                time.sleep(0.05)
            doc = json.loads(data)
            assert 200 <= status < 300, (uid, status, data)
            assert doc["id"] == ids[uid] and doc.get("duplicate") is True, (uid, ids[uid], doc)
    finally:
        conn.close()
    return len(uids)


def check_sink(sink, clients):
    """(deliveries with 2xx, redeliveries); asserts nothing unknown and one message per uid."""
    recs = sink.received("/in")
    ids_of = {}
    ok = 0
    for r in recs:
        uid = json.loads(r["body"])["uid"]
        ids_of.setdefault(uid, set()).add(r["headers"].get("idempotency-key"))
        ok += 200 <= r["status"] < 300
    unknown = set(ids_of) - clients.sent
    assert not unknown, "sink received messages never sent: %r" % sorted(unknown)[:5]
    twice = {u: i for u, i in ids_of.items() if len(i) > 1}
    assert not twice, "messages delivered under two gateway ids: %r" % list(twice.items())[:5]
    return ok, ok - len(clients.acked)


def test_crash_loop():
    t0 = time.time()
    rng = random.Random(int(os.environ.get("IGW_CHAOS_SEED", "0")) or None)
    sink = Sink()
    sink.control(flaky=0.3, status=503)
    sink.control(stall=0.01, stall_ms=800)
    gw = Gateway(CONFIG.replace("SINK_URL", sink.url))
    kills = []
    resent = 0
    try:
        gw.start()
        clients = Clients(gw.port)
        for rnd in range(ROUNDS):
            delivery_only = rnd % 3 == 2  # every third kill with intake paused
            if delivery_only:
                clients.gate.clear()
            time.sleep(rng.uniform(0.2, 1.2))  # a random moment
            acked = clients.count()
            delivered = len({json.loads(r["body"])["uid"] for r in sink.delivered("/in")})
            gw.kill9()
            kills.append(("delivery" if delivery_only else "intake", acked, delivered))
            gw.start()
            resent += resend_acked(gw, clients)
            clients.gate.set()
        assert clients.join(timeout=max(5.0, DEADLINE_S - 25 - (time.time() - t0))), \
            "clients did not finish: %d acknowledged" % clients.count()
        assert any(d < a for _, a, d in kills), "no kill hit a delivery backlog: %r" % kills
        acked = set(clients.acked)
        assert acked == clients.sent, "sent but never acknowledged: %r" % sorted(clients.sent - acked)[:5]

        def all_delivered():
            got = {json.loads(r["body"])["uid"] for r in sink.delivered("/in")}
            return acked <= got
        eventually(all_delivered, timeout=max(10.0, DEADLINE_S - (time.time() - t0)),
                   interval=0.25, what="every acknowledged message delivered")
        ok, again = check_sink(sink, clients)
        attempts = len(sink.received("/in"))
        print("  %d kills %s; %d clients, %d acknowledged, 0 lost, %d idempotent resends; "
              "%d attempts at the sink (%d answered 5xx or stalled), %d redelivered (%.2f%%); "
              "%.1fs" % (len(kills), kills, CLIENTS, len(acked), resent, attempts,
                         attempts - ok, again, 100.0 * again / len(acked), time.time() - t0))
        assert time.time() - t0 < DEADLINE_S + 5, time.time() - t0
    except Exception:
        sys.stderr.write("--- igw log (tail) ---\n%s\n" % gw.logs()[-4000:])
        raise
    finally:
        gw.cleanup()
        sink.stop()


if __name__ == "__main__":
    run([test_crash_loop])
