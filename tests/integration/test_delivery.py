# SPDX-License-Identifier: Apache-2.0
"""Delivery through the real `igw serve`: retries, dead letters, Retry-After, per-key order,
idempotent resend, file:// output and timeouts, against the HTTP sink tests/sim/sink.py.
Python 3 standard library only."""
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import SIM_DIR, Gateway, eventually, run  # noqa: E402

sys.path.insert(0, SIM_DIR)
from sink import Sink  # noqa: E402

TOKEN = "t0k"
AUTH = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}

CONFIG = """
http: { listen: "http://127.0.0.1:{port}" }
queue: { path: "{dir}/queue" }
channels:
  ev:
    listen: POST /events/{event}
    auth: { type: bearer, tokens: [t0k] }
    routes:
      sink:
        url: SINK_URL/in/PATH
        timeout: TIMEOUT
        retry: { base: 50ms, cap: 200ms, max_attempts: MAX_ATTEMPTS }
EXTRA
"""


def config(sink, path, max_attempts=10, timeout="5s", extra=""):
    return (CONFIG.replace("SINK_URL", sink.url).replace("PATH", path)
            .replace("MAX_ATTEMPTS", str(max_attempts)).replace("TIMEOUT", timeout)
            .replace("EXTRA", extra))


class Env:
    """A sink and a gateway for one test; use as a context manager."""

    def __init__(self, path, **kw):
        self.sink = Sink()
        self.gw = Gateway(config(self.sink, path, **kw))
        self.path = "/in/" + path

    def __enter__(self):
        try:
            self.gw.start()
        except Exception:
            self.sink.stop()
            raise
        return self

    def __exit__(self, *exc):
        try:
            if exc[0] is None:
                check_clean_stop(self.gw)
            else:
                sys.stderr.write("--- igw log ---\n%s\n" % self.gw.logs()[-4000:])
        finally:
            self.gw.cleanup()
            self.sink.stop()

    def send(self, body, headers=None, event="e"):
        h = dict(AUTH)
        h.update(headers or {})
        status, _, data = self.gw.request("POST", "/events/" + event, body=body, headers=h)
        assert status in (200, 202), "accept failed: %s %r" % (status, data)
        return json.loads(data) if data else {}

    def delivered(self):
        return self.sink.delivered(self.path)

    def received(self):
        return self.sink.received(self.path)


def check_clean_stop(gw):
    """SIGTERM: exit 0 and no sanitizer report (when built with IGW_SANITIZER)."""
    gw.stop_clean()


def body_of(rec):
    return json.loads(rec["body"])


def test_delivered_after_failures():
    with Env("retry") as e:
        e.sink.control(fail=3, status=503)
        uid = uuid.uuid4().hex
        e.send({"uid": uid})
        eventually(lambda: len(e.delivered()) == 1, timeout=10, what="delivery on the 4th attempt")
        recs = e.received()
        assert [r["status"] for r in recs] == [503, 503, 503, 200], recs
        assert [r["headers"]["x-igw-attempt"] for r in recs] == ["1", "2", "3", "4"]
        keys = {r["headers"]["idempotency-key"] for r in recs}
        assert len(keys) == 1, keys
        assert body_of(recs[-1])["uid"] == uid


def test_dead_letter_after_max_attempts():
    with Env("dead", max_attempts=3) as e:
        e.sink.control(fail=100, status=503)
        e.send({"uid": uuid.uuid4().hex})
        eventually(lambda: "retries exhausted: HTTP 503" in e.gw.logs(), timeout=10,
                   what="dead-letter log line")
        time.sleep(0.5)
        assert len(e.received()) == 3, e.received()


def test_4xx_dead_at_once():
    with Env("reject") as e:
        e.sink.control(status_4xx=422)
        e.send({"uid": uuid.uuid4().hex})
        eventually(lambda: "status=422" in e.gw.logs(), timeout=10, what="dead-letter log line")
        time.sleep(0.5)
        assert len(e.received()) == 1, e.received()


def test_retry_after_honoured():
    with Env("ra") as e:
        e.sink.control(fail=1, status=503, retry_after="1")
        e.send({"uid": uuid.uuid4().hex})
        eventually(lambda: len(e.delivered()) == 1, timeout=10, what="delivery")
        recs = e.received()
        assert len(recs) == 2, recs
        gap = recs[1]["t"] - recs[0]["t"]
        assert 0.95 <= gap < 3.0, "second attempt after %.3fs, want >= 1s (Retry-After)" % gap


def test_per_key_order():
    extra = "        ordered_by: json:chfId\n        concurrency: 8\n"
    with Env("ord", extra=extra) as e:
        sent = {"A": [], "B": [], "C": []}
        first = uuid.uuid4().hex
        e.sink.control(fail=2, status=503, match=first)
        for i in range(30):
            key = "ABC"[i % 3]
            uid = first if i == 0 else uuid.uuid4().hex
            e.send({"chfId": key, "seq": i, "uid": uid})
            sent[key].append(uid)
        eventually(lambda: len(e.delivered()) == 30, timeout=20, what="30 deliveries")
        recs = e.received()
        for key, uids in sent.items():
            got = [body_of(r)["uid"] for r in recs if body_of(r)["chfId"] == key]
            ok = [body_of(r)["uid"] for r in recs
                  if body_of(r)["chfId"] == key and r["status"] == 200]
            assert ok == uids, "key %s delivered out of order" % key
            # no request for a message before its predecessor was delivered
            nxt = 0
            for r in (r for r in recs if body_of(r)["chfId"] == key):
                assert body_of(r)["uid"] == uids[nxt], "key %s: request ahead of order" % key
                if r["status"] == 200:
                    nxt += 1
            assert len(got) == len(uids) + (2 if key == "A" else 0)


def test_idempotent_resend():
    with Env("idem") as e:
        uid = uuid.uuid4().hex
        a = e.send({"uid": uid}, headers={"Idempotency-Key": "order-" + uid})
        b = e.send({"uid": uid}, headers={"Idempotency-Key": "order-" + uid})
        if a.get("id") is not None or b.get("id") is not None:
            assert a.get("id") == b.get("id"), (a, b)
        eventually(lambda: len(e.delivered()) == 1, timeout=10, what="one delivery")
        time.sleep(0.7)
        assert len(e.received()) == 1, e.received()


def test_file_route():
    sink = Sink()
    gw = Gateway(CONFIG.replace("SINK_URL/in/PATH", "file://out/day/events.ndjson")
                 .replace("TIMEOUT", "5s").replace("MAX_ATTEMPTS", "5").replace("EXTRA", ""))
    try:
        gw.start()
        bodies = ['{"uid":"%s","n":%d}' % (uuid.uuid4().hex, i) for i in range(5)]
        for b in bodies:
            st, _, data = gw.request("POST", "/events/e", body=b, headers=AUTH)
            assert st in (200, 202), (st, data)
        path = os.path.join(gw.dir, "out", "day", "events.ndjson")

        def lines():
            with open(path, "rb") as f:
                return f.read().decode().splitlines()
        eventually(lambda: len(lines()) == 5, timeout=10, what="5 lines in the file")
        assert lines() == bodies, lines()
        assert os.stat(path).st_mode & 0o777 == 0o640
        check_clean_stop(gw)
    finally:
        gw.cleanup()
        sink.stop()


def test_hang_timeout_retry():
    with Env("hang", timeout="500ms") as e:
        e.sink.control(hang_ms=3000, hang=1)
        t0 = time.time()
        e.send({"uid": uuid.uuid4().hex})
        eventually(lambda: len(e.delivered()) >= 1, timeout=10, what="delivery after timeout")
        took = time.time() - t0
        ok = [r for r in e.delivered() if r["headers"]["x-igw-attempt"] == "2"]
        assert ok, e.received()
        assert took < 2.9, "the retry waited for the hung request (%.2fs)" % took


if __name__ == "__main__":
    run([test_delivered_after_failures, test_dead_letter_after_max_attempts,
         test_4xx_dead_at_once, test_retry_after_honoured, test_per_key_order,
         test_idempotent_resend, test_file_route, test_hang_timeout_retry])
