# SPDX-License-Identifier: Apache-2.0
"""The admin API (docs/ADMIN-API.md) through the real `igw serve`: its own credentials (a
channel's token gets 401), stats, message info, replay re-translating with the CURRENT map after
a SIGHUP, a replay the new map refuses (422, delivery unchanged), release of a dead letter,
purge, unknown ids, and the refusal to start without admin credentials. Python 3 standard
library only; deliveries go to the HTTP sink tests/sim/sink.py."""
import http.client
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import IGW_BIN, SIM_DIR, Gateway, SinkAdminEnv, eventually, free_port, run  # noqa: E402

sys.path.insert(0, SIM_DIR)
from sink import Sink  # noqa: E402

ADMIN_TOKEN = "adm1n-t0ken"
CH_AUTH = {"Authorization": "Bearer t0k", "Content-Type": "application/json"}

CONFIG = """
http: { listen: "http://127.0.0.1:{port}" }
admin:
  listen: "http://127.0.0.1:ADMINPORT"
  auth: { type: bearer, tokens_file: admin.tokens }
queue: { path: "{dir}/queue" }
mappings: { dir: "{dir}/mappings" }
channels:
  ev:
    listen: POST /ev
    auth: { type: bearer, tokens: [t0k] }
    routes:
      mapped:
        url: SINK/in/mapped
        map: small
        retry: { base: 50ms, cap: 200ms, max_attempts: 3 }
      raw:
        url: SINK/in/raw
        retry: { base: 50ms, cap: 200ms, max_attempts: 3 }
  dl:
    listen: POST /dl
    auth: { type: bearer, tokens: [t0k] }
    routes:
      out:
        url: SINK/in/dl
        retry: { base: 50ms, cap: 200ms, max_attempts: 3 }
"""

MAP = """map small from json to json
version = "VERSION"
id = required(FIELD, "FIELD is required")
"""


def write_map(gw, version, field="chfId"):
    d = os.path.join(gw.dir, "mappings", "small")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "map"), "w") as f:
        f.write(MAP.replace("VERSION", version).replace("FIELD", field))


class Env(SinkAdminEnv):
    """A sink and a gateway with the admin API; use as a context manager."""

    def __init__(self):
        self.sink = Sink()
        self.admin_port = free_port()
        cfg = CONFIG.replace("SINK", self.sink.url).replace("ADMINPORT", str(self.admin_port))
        self.gw = Gateway(cfg, extra_files={"admin.tokens": "# demo\n%s\n" % ADMIN_TOKEN})
        write_map(self.gw, "v1")

    def admin(self, method, path, token=ADMIN_TOKEN, headers=None, body=None):
        """Returns (status, headers dict, parsed JSON body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            h = dict(headers or {})
            if token is not None:
                h["Authorization"] = "Bearer " + token
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(data)
        finally:
            conn.close()

    def accept(self, path, doc):
        st, _, body = self.gw.request("POST", path, doc, CH_AUTH)
        assert st == 202, (st, body)
        return json.loads(body)["id"]

    def info(self, mid):
        st, _, doc = self.admin("GET", "/admin/messages/" + mid)
        assert st == 200, (st, doc)
        return doc

    def states(self, mid):
        return {d["route"]: d["state"] for d in self.info(mid)["deliveries"]}

    def bodies(self, path):
        return [json.loads(r["body"]) for r in self.sink.delivered(path)]


def test_admin_auth_is_its_own():
    with Env() as e:
        st, hdr, doc = e.admin("GET", "/admin/health", token=None)
        assert st == 401 and doc["error"]["code"] == "unauthorized", doc
        assert "bearer" in hdr["www-authenticate"].lower()
        st, _, doc = e.admin("GET", "/admin/stats", token="t0k")  # a channel's token
        assert st == 401, doc
        st, _, doc = e.admin("GET", "/admin/health")
        assert st == 200 and doc == {"status": "ok"}, doc
        # the admin token is no channel credential either
        st, _, _ = e.gw.request("POST", "/ev", {"chfId": "1"},
                                {"Authorization": "Bearer " + ADMIN_TOKEN,
                                 "Content-Type": "application/json"})
        assert st == 401, st
        st, hdr, doc = e.admin("POST", "/admin/stats")
        assert st == 405 and hdr["allow"] == "GET", (st, doc)
        st, _, doc = e.admin("GET", "/admin/nothing")
        assert st == 404, doc
        st, hdr, doc = e.admin("POST", "/admin/messages/0000000000000001/replay", body=b"{}")
        assert st == 413 and hdr.get("connection") == "close", (st, doc)


def test_stats_and_message_info():
    with Env() as e:
        mid = e.accept("/ev", {"chfId": "42", "name": "Ada"})
        eventually(lambda: e.states(mid) == {"ev.mapped": "delivered", "ev.raw": "delivered"},
                   what="both delivered")
        st, _, s = e.admin("GET", "/admin/stats")
        assert st == 200, s
        assert s["messages"] == 1 and s["delivered"] == 2 and s["pending"] == 0, s
        for k in ("inflight", "dead", "map_size", "map_used", "full"):
            assert k in s, (k, s)
        doc = e.info(mid)
        assert doc["id"] == mid and doc["channel"] == "ev", doc
        assert doc["content_type"] == "application/json"
        assert json.loads(doc["body"]) == {"chfId": "42", "name": "Ada"}, doc
        assert doc["metadata"]["method"] == "POST" and doc["metadata"]["target"] == "/ev", doc
        d = {x["route"]: x for x in doc["deliveries"]}
        assert d["ev.mapped"]["attempts"] == 1 and d["ev.raw"]["attempts"] == 1, d


def test_replay_retranslates_with_the_current_map():
    with Env() as e:
        mid = e.accept("/ev", {"chfId": "7"})
        eventually(lambda: e.bodies("/in/mapped") and e.bodies("/in/raw"), what="v1 delivered")
        assert e.bodies("/in/mapped") == [{"version": "v1", "id": "7"}]
        write_map(e.gw, "v2")
        e.gw.proc.send_signal(signal.SIGHUP)
        eventually(lambda: "mappings reloaded" in e.gw.logs(), what="reload")
        st, _, doc = e.admin("POST", "/admin/messages/%s/replay?route=mapped" % mid)
        assert st == 200 and doc["routes"] == ["ev.mapped"], (st, doc)
        got = eventually(lambda: len(e.bodies("/in/mapped")) == 2 and e.bodies("/in/mapped"),
                         what="replayed delivery")
        assert got[1] == {"version": "v2", "id": "7"}, got
        assert len(e.bodies("/in/raw")) == 1  # only the route asked for
        eventually(lambda: e.states(mid)["ev.mapped"] == "delivered", what="delivered again")
        # without ?route every route is replayed; the pass-through one gets the original again
        st, _, doc = e.admin("POST", "/admin/messages/%s/replay" % mid)
        assert st == 200 and sorted(doc["routes"]) == ["ev.mapped", "ev.raw"], doc
        eventually(lambda: len(e.bodies("/in/raw")) == 2, what="raw replayed")
        assert e.bodies("/in/raw")[1] == {"chfId": "7"}
        st, _, doc = e.admin("POST", "/admin/messages/%s/replay?route=nope" % mid)
        assert st == 404, doc
        assert e.gw.stop() == 0, e.gw.logs()[-2000:]  # clean shutdown (sanitizers: no report)


def test_replay_refused_by_the_new_map_is_422_and_changes_nothing():
    with Env() as e:
        mid = e.accept("/ev", {"chfId": "8"})
        eventually(lambda: e.states(mid) == {"ev.mapped": "delivered", "ev.raw": "delivered"},
                   what="delivered")
        before = e.info(mid)["deliveries"]
        write_map(e.gw, "v3", field="nationalId")
        e.gw.proc.send_signal(signal.SIGHUP)
        eventually(lambda: "mappings reloaded" in e.gw.logs(), what="reload")
        st, _, doc = e.admin("POST", "/admin/messages/%s/replay" % mid)
        assert st == 422 and doc["error"]["code"] == "translation_failed", (st, doc)
        assert "nationalId is required" in doc["error"]["message"], doc
        assert e.info(mid)["deliveries"] == before
        assert len(e.bodies("/in/mapped")) == 1 and len(e.bodies("/in/raw")) == 1


def test_release_of_a_dead_letter():
    with Env() as e:
        e.sink.control(status_4xx=400, path="/in/dl", count=1)
        mid = e.accept("/dl", {"n": 1})
        eventually(lambda: e.states(mid) == {"dl.out": "dead"}, what="dead-lettered")
        d = e.info(mid)["deliveries"][0]
        assert d["dead_letter"]["status"] == 400 and d["last_status"] == 400, d
        assert "rejected by sink" in d["dead_letter"]["response"], d
        st, _, s = e.admin("GET", "/admin/stats")
        assert s["dead"] == 1, s
        st, _, doc = e.admin("POST", "/admin/messages/%s/release" % mid)
        assert st == 200 and doc["status"] == "released", doc
        eventually(lambda: e.states(mid) == {"dl.out": "delivered"}, what="delivered after release")
        assert e.bodies("/in/dl") == [{"n": 1}]
        assert e.admin("GET", "/admin/stats")[2]["dead"] == 0


def test_purge_and_unknown_ids():
    with Env() as e:
        mid = e.accept("/dl", {"n": 2})
        eventually(lambda: e.states(mid) == {"dl.out": "delivered"}, what="delivered")
        st, _, doc = e.admin("DELETE", "/admin/messages/" + mid)
        assert st == 200 and doc["status"] == "purged", doc
        st, _, doc = e.admin("GET", "/admin/messages/" + mid)
        assert st == 404 and doc["error"]["code"] == "not_found", doc
        for method, suffix in (("GET", ""), ("POST", "/replay"), ("POST", "/release"),
                               ("DELETE", "")):
            st, _, doc = e.admin(method, "/admin/messages/00000000000fffff" + suffix)
            assert st == 404, (method, suffix, st, doc)
        st, _, doc = e.admin("GET", "/admin/messages/xyz")
        assert st == 400 and doc["error"]["code"] == "bad_id", doc
        assert e.gw.stop() == 0, e.gw.logs()[-2000:]


def test_admin_listen_without_auth_stops_start_up():
    gw = Gateway("admin: { listen: \"http://127.0.0.1:1\" }\nqueue: { path: \"{dir}/queue\" }\n")
    try:
        p = subprocess.run([IGW_BIN, "serve", "--config", gw.config_path], cwd=gw.dir,
                           capture_output=True, timeout=20)
        assert p.returncode != 0, p
        assert b"admin" in p.stderr and b"auth" in p.stderr, p.stderr
    finally:
        gw.cleanup()


if __name__ == "__main__":
    run([test_admin_auth_is_its_own,
         test_stats_and_message_info,
         test_replay_retranslates_with_the_current_map,
         test_replay_refused_by_the_new_map_is_422_and_changes_nothing,
         test_release_of_a_dead_letter,
         test_purge_and_unknown_ids,
         test_admin_listen_without_auth_stops_start_up])
