# SPDX-License-Identifier: Apache-2.0
"""Several igw instances on one NATS JetStream cluster (docs/JETSTREAM.md).

A 3-node JetStream cluster on loopback (tests/sim/nats_cluster.py, stream and bucket with 3
replicas) and 2 igw instances sharing the queue, delivering to one sink. Producers send a
steady stream of messages (each with a unique uid and an Idempotency-Key, resent to the other
instance when a request fails) while the test, in turn:
  1. kill -9 one NATS node (then starts it again),
  2. kill -9 one igw instance (then starts it again),
  3. cuts one NATS node off the others (its routes), then lets it back.
Then:
  - every message answered 2xx reached the sink (0 acknowledged messages lost),
  - before the first failure no message was delivered twice (no double delivery in normal
    running), and both instances delivered (deliveries are spread),
  - messages of one order key arrived in order,
  - deliveries resumed after each step; the test prints how long they paused.
Bounded: about 1 minute, < 3 minutes. SKIP without nats-server or a build without the
JetStream backend. Python 3 standard library only."""
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import IGW_BIN, SIM_DIR, SLOWDOWN, Gateway, run, skip  # noqa: E402

sys.path.insert(0, SIM_DIR)
from sink import Sink  # noqa: E402
import nats_cluster  # noqa: E402

DEADLINE_S = 170
PHASE_S = 4.0

CONFIG = """
http: { listen: "http://127.0.0.1:{port}" }
queue:
  path: "{dir}/queue"
  backend: jetstream
  jetstream:
    servers: "SERVERS"
    name: cluster_test
    instance: INSTANCE
    replicas: 3
    ack_wait: 4s
    timeout: 3s
channels:
  ev:
    listen: POST /events/{event}
    auth: { type: bearer, tokens: [t0k] }
    routes:
      sink:
        url: SINK_URL/in
        timeout: 2s
        concurrency: 8
        ordered_by: json:k
        retry: { base: 50ms, cap: 500ms, max_attempts: 1000 }
        circuit: { failures: 0 }
"""


class Producers:
    """4 threads; each sends its messages in order, to instance t % 2 first; a failed request
    goes to the other instance with the same Idempotency-Key."""

    def __init__(self, gws):
        self.gws = gws
        self.lock = threading.Lock()
        self.acked = {}  # uid -> time of the 2xx
        self.sent = 0
        self.stop = False
        self.threads = [threading.Thread(target=self._run, args=(t,), daemon=True) for t in range(4)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _post(self, gw, uid):
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=5)
        try:
            conn.request("POST", "/events/c", body=json.dumps({"uid": uid, "k": uid.split("-")[0]}),
                         headers={"Authorization": "Bearer t0k", "Content-Type": "application/json",
                                  "Idempotency-Key": uid})
            r = conn.getresponse()
            r.read()
            return r.status
        finally:
            conn.close()

    def _run(self, t):
        i = 0
        while not self.stop:
            uid = "t%d-%06d" % (t, i)
            for attempt in range(200):
                if self.stop:
                    return
                gw = self.gws[(t + attempt) % 2]
                try:
                    if 200 <= self._post(gw, uid) < 300:
                        with self.lock:
                            self.acked[uid] = time.time()
                        break
                except (OSError, http.client.HTTPException):  # refused, reset, cut short
                    pass
                time.sleep(0.05)
            i += 1
            time.sleep(0.01)


def received(sink):
    """uid -> list of arrival times at the sink."""
    out = {}
    for r in sink.received("/in"):
        try:
            uid = json.loads(r["body"])["uid"]
        except (ValueError, KeyError, TypeError):
            continue
        out.setdefault(uid, []).append(r.get("t", 0))
    return out


def longest_gap(times, t0, t1):
    """Longest time without an arrival from t0 on, over the arrivals up to the first one at or
    after t1 (None when nothing arrived after t0: deliveries did not resume)."""
    later = sorted(t for t in times if t >= t0)
    if not later:
        return None
    ts = [t0] + [t for t in later if t < t1] + [t for t in later if t >= t1][:1]
    return max(b - a for a, b in zip(ts, ts[1:]))


def start(gw):
    """Starts gw; as a service manager would, starts it again (up to 3 more times) when it
    exits because it could not open the queue: right after a node's restart the cluster may
    not answer a consumer's creation within queue.jetstream.timeout (seen: "subscribe:
    Timeout"), and igw exits rather than serve without its queue."""
    for attempt in range(4):
        try:
            gw.start()
            return
        except RuntimeError:
            if attempt == 3 or "cannot open queue" not in gw.logs()[-2000:]:
                print(gw.logs()[-3000:])
                raise
            print("  igw in %s could not open its queue, starting it again" % gw.dir)
            time.sleep(1)


def test_cluster():
    if nats_cluster.NATS_SERVER is None:
        skip("nats-server not installed")
    t_start = time.time()
    work = tempfile.mkdtemp(prefix="igw-cluster-")
    # every instance prints its backend counters and active deliveries at close (JSDUMP lines in
    # its log): a failed run keeps them with the rest of the work directory
    os.environ.setdefault("IGW_JS_DUMP", "1")
    failed = False
    cluster = nats_cluster.NatsCluster(os.path.join(work, "nats"))
    sink = Sink(os.path.join(work, "sink.ndjson"))
    gws = []
    prod = None
    try:
        os.makedirs(cluster.dir, exist_ok=True)
        cluster.start()
        cluster.wait_ready()
        ports = nats_cluster.free_ports(2)  # instance 0 starts again on its port (free_ports)
        for k, order in enumerate(([0, 1, 2], [1, 2, 0])):
            conf = (CONFIG.replace("SERVERS", cluster.client_urls(order))
                    .replace("INSTANCE", "inst%d" % k).replace("SINK_URL", sink.url))
            os.makedirs(os.path.join(work, "inst%d" % k))
            gws.append(Gateway(conf, workdir=os.path.join(work, "inst%d" % k), port=ports[k]))
        chk = __import__("subprocess").run([IGW_BIN, "config", "check", gws[0].config_path],
                                           capture_output=True, text=True)
        if "without the JetStream backend" in chk.stdout + chk.stderr:
            skip("igw built without the JetStream backend (libnats)")
        for gw in gws:
            start(gw)
        prod = Producers(gws).start()
        events = []

        def phase(what, fn, after=None):
            t = time.time()
            fn()
            events.append((what, t))
            time.sleep(PHASE_S)
            if after is not None:
                after()
                time.sleep(1.0)

        time.sleep(PHASE_S)  # normal running
        normal_end = time.time()
        steps = os.environ.get("IT_CLUSTER_STEPS", "node,igw,cut").split(",")
        if "node" in steps:
            phase("kill -9 NATS node 0", lambda: cluster.kill9(0), lambda: cluster.start_node(0))
        if "igw" in steps:
            phase("kill -9 igw instance 0", gws[0].kill9, lambda: start(gws[0]))
        if "cut" in steps:
            phase("cut NATS node 2 off", lambda: cluster.cut(2), lambda: cluster.heal(2))
        time.sleep(PHASE_S)
        load_end = time.time()
        prod.stop = True
        for t in prod.threads:
            t.join(10)
        with prod.lock:
            acked = dict(prod.acked)
        assert len(acked) > 100, "too few accepted messages: %d" % len(acked)

        def missing():
            got = received(sink)
            return [u for u in acked if u not in got]
        def progress(left):
            """Undelivered acknowledged messages per order key."""
            per = {}
            for u in left:
                per[u.split("-")[0]] = per.get(u.split("-")[0], 0) + 1
            return " ".join("%s:%d" % kv for kv in sorted(per.items())) or "none"

        # the drain: every acknowledged message at the sink. Checked twice a second (reading the
        # sink's file more often costs the loaded machine CPU the instances need); progress per
        # order key every 10 s, so a slow drain tells itself from a stuck key
        drain_deadline = time.time() + max(10, t_start + DEADLINE_S - time.time() - 5) * SLOWDOWN
        next_report = time.time() + 10
        left = missing()
        prev = len(left)
        while left and time.time() < drain_deadline:
            time.sleep(0.5)
            left = missing()
            if left and time.time() >= next_report:
                next_report += 10
                print("  drain +%.0fs: undelivered per key %s"
                      % (time.time() - load_end, progress(left)))
                if len(left) >= prev - 4:  # (nearly) no progress in 10 s: what the nodes say
                    print("    " + "\n    ".join(cluster.stream_states(["KV_cluster_test_STATE", "cluster_test_MSG"])))
                prev = len(left)
        drain_s = time.time() - load_end
        try:
            assert not left, "every acknowledged message at the sink not met in %.0fs" % drain_s
        except AssertionError:
            print("DIAG undelivered per key:", progress(left))
            if os.environ.get("IT_CLUSTER_DIAG", "1") == "1":
                n0 = len(missing())
                print("DIAG first missing:", sorted(missing())[:4])
                for gw in gws:
                    print("\n".join([ln for ln in gw.logs().splitlines()
                                     if " INFO accepted " not in ln and " INFO delivered " not in ln][-60:]))
                    gw.stop()
                    print("\n".join(ln for ln in gw.logs().splitlines() if "JSDUMP" in ln)[:3000])
                    start(gw)
                time.sleep(10)
                print("DIAG missing before restart %d, after %d" % (n0, len(missing())))
            m = missing()
            raise AssertionError("%d of %d acknowledged messages not delivered, e.g. %s"
                                 % (len(m), len(acked), sorted(m)[:8]))
        got = received(sink)
        arrivals = sorted(t for ts in got.values() for t in ts)
        lost = [u for u in acked if u not in got]
        assert not lost, "%d acknowledged messages lost, e.g. %s" % (len(lost), lost[:5])
        # no double delivery in normal running (messages acknowledged before the first failure
        # and delivered before it)
        dup_normal = [u for u, ts in got.items() if len([t for t in ts if t < normal_end]) > 1]
        assert not dup_normal, "delivered twice in normal running: %s" % dup_normal[:5]
        dups = sum(len(ts) - 1 for ts in got.values())
        # each producer thread sends its uids in order, one after the other's 2xx, under its
        # own order key: their first arrivals at the sink keep that order
        for t in range(4):
            mine = sorted(u for u in got if u.startswith("t%d-" % t))
            firsts = [min(got[u]) for u in mine]
            assert firsts == sorted(firsts), "order key t%d delivered out of order" % t
        spread = [gw.logs().count("delivered id=") for gw in gws]
        assert all(n > 0 for n in spread), "deliveries not spread: %s" % spread
        print("  accepted %d, delivered %d (+%d repeats after failures), per instance %s, "
              "all delivered %.1fs after the load" % (len(acked), len(got), dups, spread, drain_s))
        ends = [t for _, t in events[1:]] + [load_end]
        for (what, t), t1 in zip(events, ends):
            gap = longest_gap(arrivals, t, t1)
            assert gap is not None, "deliveries did not resume after: %s" % what
            print("  %-24s deliveries paused at most %.2fs" % (what, gap))
            assert gap < 30, "deliveries paused %.1fs after: %s" % (gap, what)
        assert time.time() - t_start < DEADLINE_S
        for gw in gws:  # what the backend's checker found (js_check.c): a diverged node
            for ln in gw.logs().splitlines():
                if " WARN " in ln and "diverged" in ln:
                    print("  %s: %s" % (os.path.basename(gw.dir), ln))
        if os.environ.get("IGW_JS_DUMP") == "1":  # the backend's counters, printed at close
            for gw in gws:
                gw.stop()
                for ln in gw.logs().splitlines():
                    if "JSDUMP" in ln and "counters" in ln:
                        print("  " + ln[ln.index("JSDUMP"):])
    except BaseException:
        failed = True
        for gw in gws:
            lines = [ln for ln in gw.logs().splitlines()
                     if " INFO accepted " not in ln and " INFO delivered " not in ln]
            print("--- log of %s (without accepted/delivered lines)\n%s"
                  % (gw.dir, "\n".join(lines[-int(os.environ.get("IT_LOG_LINES", "40")):])))
        raise
    finally:
        if failed or os.environ.get("IT_CLUSTER_KEEP") == "1":  # logs, stores, the sink's file
            acked_all = {}
            if prod is not None:
                prod.stop = True
                with prod.lock:
                    acked_all = dict(prod.acked)
            with open(os.path.join(work, "acked.json"), "w") as f:
                json.dump(acked_all, f)
            for gw in gws:
                try:
                    gw.stop()
                except Exception:
                    pass
            sink.stop()
            cluster.stop()
            print("work directory kept: %s (inst*/igw.log, nats/node*.log, sink.ndjson, acked.json)"
                  % work)
        else:
            for gw in gws:
                gw.cleanup()
            sink.stop()
            cluster.cleanup()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run([test_cluster])
