# SPDX-License-Identifier: Apache-2.0
"""Finding, seeing and repairing messages through the admin API of the real `igw serve`
(docs/ADMIN-API.md): the listing's filters and their combinations, paging while messages
arrive (no duplicate, no gap), the attempt log after failures, retry now, release, edit (a
payload, or the body re-translated; the original is kept), purge, the "nothing to do" answers,
bulk repairs with a dry run and job progress, per-route stats, the event stream, and the
indexes after kill -9. Python 3 standard library only; deliveries go to tests/sim/sink.py."""
import http.client
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import Gateway, eventually, free_port, run, wait_port  # noqa: E402
import test_admin  # noqa: E402
from test_admin import ADMIN_TOKEN, write_map  # noqa: E402

CONFIG = test_admin.CONFIG + """
  slow:
    listen: POST /slow
    auth: { type: bearer, tokens: [t0k] }
    routes:
      out:
        url: SINK/in/slow
        retry: { base: 60s, cap: 60s, max_attempts: 5 }
"""


class Env(test_admin.Env):
    """test_admin's gateway plus a channel whose retries wait a minute."""

    def __init__(self):
        self.sink = test_admin.Sink()
        self.admin_port = free_port()
        cfg = CONFIG.replace("SINK", self.sink.url).replace("ADMINPORT", str(self.admin_port))
        self.gw = Gateway(cfg, extra_files={"admin.tokens": "%s\n" % ADMIN_TOKEN})
        write_map(self.gw, "v1")

    def post(self, path, doc=None):
        body = json.dumps(doc).encode() if doc is not None else None
        hdr = {"Content-Type": "application/json"} if body is not None else None
        return self.admin("POST", path, headers=hdr, body=body)

    def ls(self, query=""):
        st, _, doc = self.admin("GET", "/admin/messages" + ("?" + query if query else ""))
        assert st == 200, (query, st, doc)
        return doc

    def ids(self, query=""):
        """Every id the filter lists, following the cursor."""
        out, cur = [], None
        for _ in range(100):
            q = query + ("&" if query else "") + ("cursor=" + cur if cur else "")
            doc = self.ls(q.rstrip("&"))
            out += [it["id"] for it in doc["items"]]
            cur = doc["next"]
            if cur is None:
                return out
        raise AssertionError("cursor did not end")

    def job_done(self, jid):
        def done():
            st, _, j = self.admin("GET", "/admin/jobs/" + jid)
            assert st == 200, (st, j)
            return j if j["state"] == "done" else None
        return eventually(done, what="job %s done" % jid)


def test_list_filters():
    with Env() as e:
        e.sink.control(status_4xx=400, path="/in/dl", count=2)
        t0 = int(time.time() * 1000)
        dead = [e.accept("/dl", {"n": i}) for i in range(2)]
        ev = [e.accept("/ev", {"chfId": "c%d" % i, "note": "needle" if i == 3 else "hay"})
              for i in range(5)]
        st, _, b = e.gw.request("POST", "/dl", {"n": 9},
                                dict(test_admin.CH_AUTH, **{"Idempotency-Key": "key-9"}))
        assert st == 202, b
        idem = json.loads(b)["id"]
        eventually(lambda: all(e.states(m) == {"dl.out": "dead"} for m in dead), what="dead")
        eventually(lambda: e.states(idem) == {"dl.out": "delivered"}, what="idem delivered")
        everything = e.ids()
        assert everything == sorted(dead + ev + [idem], reverse=True), everything
        assert e.ids("channel=dl") == sorted(dead + [idem], reverse=True)
        assert e.ids("state=dead") == sorted(dead, reverse=True)
        assert e.ids("route=dl.out&state=dead") == sorted(dead, reverse=True)
        assert e.ids("route=ev.raw&state=dead") == []
        assert e.ids("channel=ev&state=dead") == []
        assert e.ids("route=ev.mapped") == sorted(ev, reverse=True)
        assert e.ids("q=needle") == [ev[3]]
        assert e.ids("q=needle&channel=dl") == []
        assert e.ids("channel=dl&idempotency_key=key-9") == [idem]
        assert e.ids("channel=ev&idempotency_key=key-9") == []
        assert e.ids("since=%d" % t0) == everything
        assert e.ids("until=%d" % t0) == []
        assert e.ids("since=%d&state=delivered&channel=dl" % t0) == [idem]
        assert e.ids("state=any&channel=ev") == sorted(ev, reverse=True)
        item = e.ls("channel=dl&state=dead&limit=1")["items"][0]
        assert item["state"] == "dead" and item["channel"] == "dl", item
        assert item["deliveries"][0]["route"] == "dl.out" and item["body_len"] > 0, item
        for bad in ("limit=0", "limit=501", "state=lost", "cursor=zz", "since=-1",
                    "idempotency_key=x", "channel=%ZZ", "route=" + "r" * 200):
            st, _, doc = e.admin("GET", "/admin/messages?" + bad)
            assert st == 400 and doc["error"]["code"] in ("bad_query", "bad_route"), (bad, st, doc)


def test_paging_while_messages_arrive():
    with Env() as e:
        first = [e.accept("/dl", {"n": i}) for i in range(23)]
        seen, cur = [], None
        while True:
            doc = e.ls("channel=dl&limit=5" + ("&cursor=" + cur if cur else ""))
            seen += [it["id"] for it in doc["items"]]
            e.accept("/dl", {"n": "late"})  # arrives between pages
            e.accept("/ev", {"chfId": "x"})
            cur = doc["next"]
            if cur is None:
                break
        assert seen == sorted(first, reverse=True), (seen, first)  # no duplicate, no gap


def test_attempt_log_after_failures():
    with Env() as e:
        e.sink.control(fail=2, status=503, path="/in/dl")
        mid = e.accept("/dl", {"n": 1})
        eventually(lambda: e.states(mid) == {"dl.out": "delivered"}, what="delivered")
        d = e.info(mid)["deliveries"][0]
        log = d["attempt_log"]
        assert [a["n"] for a in log] == [1, 2, 3], d
        assert [a["result"] for a in log] == ["retry", "retry", "delivered"], log
        assert log[0]["status"] == 503 and log[1]["status"] == 503, log
        assert "503" in log[0]["error"] and log[2]["error"] == "", log
        assert all(a["duration_ms"] >= 0 and a["time_ms"] > 0 for a in log), log
        assert log[0]["time_ms"] <= log[1]["time_ms"] <= log[2]["time_ms"], log
        assert d["attempts_total"] == 3 and d["attempts_omitted"] == 0, d


def test_retry_now_and_nothing_to_do():
    with Env() as e:
        e.sink.control(fail=1, status=503, path="/in/slow")
        mid = e.accept("/slow", {"n": 1})
        eventually(lambda: e.info(mid)["deliveries"][0]["attempts"] == 1, what="first failure")
        d = e.info(mid)["deliveries"][0]
        assert d["state"] == "pending" and d["next_due_ms"] > time.time() * 1000 + 30000, d
        st, _, doc = e.post("/admin/messages/%s/retry" % mid)
        assert st == 200 and doc["status"] == "retried", (st, doc)
        eventually(lambda: e.states(mid) == {"slow.out": "delivered"}, timeout=5,
                   what="delivered without waiting for the backoff")
        st, _, doc = e.post("/admin/messages/%s/retry" % mid)
        assert st == 409 and doc["error"]["code"] == "nothing_to_do", (st, doc)
        st, _, doc = e.post("/admin/messages/%s/release" % mid)
        assert st == 409 and doc["error"]["code"] == "nothing_to_do", (st, doc)
        st, _, doc = e.post("/admin/messages/00000000000fffff/retry")
        assert st == 404, doc


def test_edit_payload_keeps_the_original():
    with Env() as e:
        e.sink.control(status_4xx=400, path="/in/dl", count=1)
        mid = e.accept("/dl", {"n": 1})
        eventually(lambda: e.states(mid) == {"dl.out": "dead"}, what="dead")
        st, _, doc = e.post("/admin/messages/%s/edit" % mid,
                            {"route": "out", "payload": '{"n":99}'})
        assert st == 200 and doc["status"] == "edited" and doc["routes"] == ["dl.out"], doc
        eventually(lambda: e.states(mid) == {"dl.out": "delivered"}, what="edited delivered")
        assert e.bodies("/in/dl") == [{"n": 99}]
        info = e.info(mid)
        assert json.loads(info["body"]) == {"n": 1}, info  # the original is kept
        assert json.loads(info["deliveries"][0]["payload"]) == {"n": 99}, info
        for bad in ({"payload": "x"}, {"route": "out"}, {"body": "{}", "route": "out"},
                    {"route": "out", "payload": 5}, []):
            st, _, doc = e.post("/admin/messages/%s/edit" % mid, bad)
            assert st == 400, (bad, st, doc)
        st, _, doc = e.post("/admin/messages/%s/edit" % mid, {"route": "nope", "payload": "x"})
        assert st == 404, doc
        st, _, doc = e.admin("POST", "/admin/messages/%s/edit" % mid)
        assert st == 400 and doc["error"]["code"] == "body_required", doc


def test_edit_body_retranslates():
    with Env() as e:
        mid = e.accept("/ev", {"chfId": "5"})
        eventually(lambda: e.states(mid) == {"ev.mapped": "delivered", "ev.raw": "delivered"},
                   what="both delivered")  # an edit while one is in flight is 409 in_flight
        st, _, doc = e.post("/admin/messages/%s/edit" % mid, {"body": '{"chfId":"55"}'})
        assert st == 200 and sorted(doc["routes"]) == ["ev.mapped", "ev.raw"], doc
        eventually(lambda: len(e.bodies("/in/mapped")) == 2 and len(e.bodies("/in/raw")) == 2,
                   what="edited deliveries")
        assert e.bodies("/in/mapped")[1] == {"version": "v1", "id": "55"}
        assert e.bodies("/in/raw")[1] == {"chfId": "55"}  # pass-through carries the edit
        assert json.loads(e.info(mid)["body"]) == {"chfId": "5"}  # the original is kept
        eventually(lambda: e.states(mid) == {"ev.mapped": "delivered", "ev.raw": "delivered"},
                   what="edited ones delivered")
        st, _, doc = e.post("/admin/messages/%s/edit" % mid, {"body": '{"other":1}'})
        assert st == 422 and doc["error"]["code"] == "translation_failed", (st, doc)
        st, _, doc = e.post("/admin/messages/%s/edit" % mid, {"body": "not json"})
        assert st == 422, (st, doc)


def test_purge_by_post():
    with Env() as e:
        mid = e.accept("/dl", {"n": 1})
        eventually(lambda: e.states(mid) == {"dl.out": "delivered"}, what="delivered")
        st, _, doc = e.post("/admin/messages/%s/purge" % mid)
        assert st == 200 and doc["status"] == "purged", doc
        st, _, doc = e.post("/admin/messages/%s/purge" % mid)
        assert st == 404, doc
        assert mid not in e.ids()


def test_bulk_dry_run_and_job():
    with Env() as e:
        e.sink.control(status_4xx=400, path="/in/dl", count=4)
        dead = [e.accept("/dl", {"n": i}) for i in range(4)]
        ok = e.accept("/ev", {"chfId": "1"})
        eventually(lambda: all(e.states(m) == {"dl.out": "dead"} for m in dead), what="dead")
        eventually(lambda: e.states(ok) == {"ev.mapped": "delivered", "ev.raw": "delivered"},
                   what="ev delivered")
        flt = {"filter": {"route": "dl.out"}, "dry_run": True}
        st, _, doc = e.post("/admin/bulk/release", flt)
        assert st == 200 and doc == {"dry_run": True, "action": "release", "count": 4}, doc
        assert all(e.states(m) == {"dl.out": "dead"} for m in dead)  # a dry run changes nothing
        st, _, doc = e.post("/admin/bulk/replay", {"filter": {"channel": "ev"}, "dry_run": True})
        assert st == 200 and doc["count"] == 1, doc
        st, _, job = e.post("/admin/bulk/release", {"filter": {"route": "dl.out"}})
        assert st == 202 and job["action"] == "release", (st, job)
        j = e.job_done(job["id"])
        assert j["total"] == 4 and j["done"] == 4 and j["changed"] == 4 and j["failed"] == 0, j
        eventually(lambda: all(e.states(m) == {"dl.out": "delivered"} for m in dead),
                   what="released and delivered")
        st, _, doc = e.post("/admin/bulk/release", flt)
        assert st == 200 and doc["count"] == 0, doc  # nothing left to release
        st, _, job = e.post("/admin/bulk/release", {"filter": {"route": "dl.out"}})
        j = e.job_done(job["id"])
        assert j["total"] == 0 and j["changed"] == 0, j
        st, _, job = e.post("/admin/bulk/purge", {"filter": {"channel": "dl"}})
        assert e.job_done(job["id"])["changed"] == 4
        assert e.ids("channel=dl") == [] and e.ids() == [ok]
        for bad in (b"", b"[]", b'{"filter":{"state":"lost"}}', b'{"dry_run":"yes"}'):
            st, _, doc = e.admin("POST", "/admin/bulk/retry", body=bad)
            assert st == 400, (bad, st, doc)
        st, _, doc = e.post("/admin/bulk/explode", {})
        assert st == 404, doc
        st, _, doc = e.admin("GET", "/admin/jobs/ffffffffffffffff")
        assert st == 404, doc


def test_stats_per_channel_and_route():
    with Env() as e:
        e.sink.control(status_4xx=400, path="/in/dl", count=1)
        e.sink.control(fail=1, status=503, path="/in/slow")
        d = e.accept("/dl", {"n": 1})
        s1 = e.accept("/slow", {"n": 1})
        eventually(lambda: e.states(d) == {"dl.out": "dead"}, what="dead")
        eventually(lambda: e.info(s1)["deliveries"][0]["attempts"] == 1, what="slow retry")
        st, _, s = e.admin("GET", "/admin/stats")
        assert st == 200 and s["messages"] == 2, s
        assert s["deliveries"] == {"pending": 1, "inflight": 0, "delivered": 0, "dead": 1}, s
        ch = {c["channel"]: c for c in s["channels"]}
        assert ch["dl"]["messages"] == 1 and ch["dl"]["deliveries"]["dead"] == 1, ch
        assert ch["slow"]["deliveries"]["pending"] == 1, ch
        rt = {r["route"]: r for r in s["routes"]}
        assert rt["slow.out"]["deliveries"]["pending"] == 1, rt
        assert rt["slow.out"]["oldest_pending_age_ms"] >= 0, rt
        assert rt["slow.out"]["oldest_pending_ms"] is not None, rt
        assert rt["dl.out"]["oldest_pending_ms"] is None, rt
        assert all(r["circuit"] in ("closed", "open", "half_open") for r in s["routes"]), rt
        # configured routes without deliveries are listed too, with their circuit
        assert rt["ev.raw"]["deliveries"]["pending"] == 0 and rt["ev.raw"]["circuit"] == "closed"


def test_event_stream():
    with Env() as e:
        s = socket.create_connection(("127.0.0.1", e.admin_port), timeout=10)
        s.sendall(b"GET /admin/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + ADMIN_TOKEN.encode() + b"\r\n\r\n")
        buf = b""
        while b": connected" not in buf:
            buf += s.recv(4096)
        assert buf.startswith(b"HTTP/1.1 200") and b"text/event-stream" in buf, buf
        mid = e.accept("/dl", {"n": 1})
        deadline = time.time() + 10
        while b"event: delivered" not in buf and time.time() < deadline:
            buf += s.recv(4096)
        s.close()
        text = buf.decode()
        assert "event: accepted" in text and "event: delivered" in text, text
        data = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
        kinds = [(x["kind"], x["id"]) for x in data]
        assert ("accepted", mid) in kinds and ("delivered", mid) in kinds, kinds
        st, _, doc = e.admin("GET", "/admin/events", token="wrong")
        assert st == 401, doc
        # a stream still open (and not read) at shutdown does not hold it up
        s2 = socket.create_connection(("127.0.0.1", e.admin_port), timeout=10)
        s2.sendall(b"GET /admin/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                   + ADMIN_TOKEN.encode() + b"\r\n\r\n")
        assert s2.recv(4096).startswith(b"HTTP/1.1 200")
        for i in range(50):
            e.accept("/dl", {"n": i})
        assert e.gw.stop() == 0, e.gw.logs()[-2000:]
        s2.close()


def test_indexes_after_kill9():
    with Env() as e:
        e.sink.control(status_4xx=400, path="/in/dl", count=3)
        e.sink.control(fail=4, status=503, path="/in/raw")  # retries; below the breaker's 5
        e.sink.control(hang_ms=3000, hang=3, path="/in/mapped")  # in flight at the kill
        ids = [e.accept("/dl", {"n": i}) for i in range(6)]
        ids += [e.accept("/ev", {"chfId": "k%d" % i}) for i in range(10)]
        eventually(lambda: e.ids("state=inflight"), what="deliveries in flight")
        e.gw.kill9()
        e.gw.start()
        wait_port(e.admin_port, proc=e.gw.proc)
        st, _, s = e.admin("GET", "/admin/stats")
        assert s["messages"] == 16, s

        def settled():
            d = e.admin("GET", "/admin/stats")[2]["deliveries"]
            return d["pending"] == 0 and d["inflight"] == 0
        eventually(settled, timeout=20, what="every delivery delivered or dead")
        # every state filter lists exactly the messages whose deliveries are in that state
        for state in ("pending", "inflight", "delivered", "dead"):
            listed = set(e.ids("state=" + state))
            truth = {m for m in ids if state in e.states(m).values()}
            assert listed == truth, (state, listed, truth)
            for route in ("dl.out", "ev.raw", "ev.mapped"):
                listed = set(e.ids("route=%s&state=%s" % (route, state)))
                truth = {m for m in ids if e.states(m).get(route) == state}
                assert listed == truth, (route, state, listed, truth)
        rt = {r["route"]: r["deliveries"] for r in e.admin("GET", "/admin/stats")[2]["routes"]}
        total = sum(sum(v.values()) for v in rt.values())
        assert total == 6 + 20, rt
        assert set(e.ids("channel=dl")) == set(ids[:6]) and set(e.ids()) == set(ids)


if __name__ == "__main__":
    run([test_list_filters,
         test_paging_while_messages_arrive,
         test_attempt_log_after_failures,
         test_retry_now_and_nothing_to_do,
         test_edit_payload_keeps_the_original,
         test_edit_body_retranslates,
         test_purge_by_post,
         test_bulk_dry_run_and_job,
         test_stats_per_channel_and_route,
         test_event_stream,
         test_indexes_after_kill9])
