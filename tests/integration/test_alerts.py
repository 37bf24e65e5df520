# SPDX-License-Identifier: Apache-2.0
"""Alerts (docs/ALERTS.md) through the real `igw serve` with a real webhook sink: a
dead-letter rule fires once for a burst of dead letters (not once per message) and resolves once
when the window has passed; a circuit-open rule fires once the circuit stayed open; a storage
rule fires; a queue-depth rule stays quiet; every transition arrives at the webhook as JSON
through the queue (a message of the alert channel) and GET /admin/alerts lists rules and
incidents; config check refuses a rule on an unknown route. Python 3 standard library;
deliveries go to the HTTP sink tests/sim/sink.py."""
import http.client
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import IGW_BIN, SIM_DIR, Gateway, SinkAdminEnv, eventually, free_port, run  # noqa: E402

sys.path.insert(0, SIM_DIR)
from sink import Sink  # noqa: E402

TOKEN = "al-t0ken"
CH_AUTH = {"Authorization": "Bearer t0k", "Content-Type": "application/json"}
CONFIG = """
http: { listen: "http://127.0.0.1:{port}" }
admin:
  listen: "http://127.0.0.1:ADMINPORT"
  credentials: [{ name: ops, role: viewer, token_file: ops.tokens }]
queue: { path: "{dir}/queue", map_size: 1MiB }
alerts:
  channel: ops
  interval: 100ms
  rules:
    - { name: dl-dead, kind: dead_letters, route: dl.out, threshold: 3, window: 1500ms }
    - { name: flaky-open, kind: circuit_open, route: fl.out, window: 300ms }
    - { name: depth, kind: queue_depth, threshold: 100000 }
    - { name: disk, kind: storage, threshold: 1 }
    - { name: fl-depth, kind: queue_depth, route: fl.out, threshold: 0 }
    - { name: fl-old, kind: oldest_pending, route: fl.out, window: 300ms }
channels:
  dl:
    listen: POST /dl
    auth: { type: bearer, tokens: [t0k] }
    routes:
      out: { url: SINK/in/dl }
  fl:
    listen: POST /fl
    auth: { type: bearer, tokens: [t0k] }
    routes:
      out:
        url: SINK/in/fl
        retry: { base: 50ms, cap: 100ms, max_attempts: 100 }
        circuit: { failures: 2, open_for: 200ms }
  ops:
    listen: POST /internal/alerts
    auth: { type: bearer, tokens: [never-used-token] }
    routes:
      hook: { url: SINK/hook }
"""


class Env(SinkAdminEnv):
    def __init__(self):
        self.sink = Sink()
        self.admin_port = free_port()
        cfg = CONFIG.replace("SINK", self.sink.url).replace("ADMINPORT", str(self.admin_port))
        self.gw = Gateway(cfg, extra_files={"ops.tokens": TOKEN + "\n"})

    def alerts(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            conn.request("GET", "/admin/alerts", headers={"Authorization": "Bearer " + TOKEN})
            r = conn.getresponse()
            doc = json.loads(r.read())
            assert r.status == 200, (r.status, doc)
            return doc
        finally:
            conn.close()

    def hooks(self, alert=None):
        out = [json.loads(r["body"]) for r in self.sink.delivered("/hook")]
        return [h for h in out if alert is None or h["alert"] == alert]


def test_incidents_fire_and_resolve_once():
    with Env() as e:
        e.sink.control(path="/in/dl", status_4xx=400)
        e.sink.control(path="/in/fl", fail=1000000, status=503)
        for i in range(6):  # six dead letters: one incident
            assert e.gw.request("POST", "/dl", {"n": i}, CH_AUTH)[0] == 202
        eventually(lambda: [h["status"] for h in e.hooks("dl-dead")] == ["firing"],
                   what="dl-dead firing at the webhook")
        fired = e.hooks("dl-dead")[0]
        assert fired["kind"] == "dead_letters" and fired["route"] == "dl.out", fired
        assert fired["value"] >= 3 and fired["threshold"] == 3, fired
        eventually(lambda: [h["status"] for h in e.hooks("dl-dead")] == ["firing", "resolved"],
                   timeout=10, what="dl-dead resolved")
        res = e.hooks("dl-dead")[1]
        assert res["incident"] == fired["incident"] and res["resolved_ms"] >= res["started_ms"]
        # the circuit: fires once, while the sink keeps failing
        assert e.gw.request("POST", "/fl", {"n": 1}, CH_AUTH)[0] == 202
        eventually(lambda: [h["status"] for h in e.hooks("flaky-open")] == ["firing"],
                   what="flaky-open firing")
        e.sink.control(reset=True, keep_records=True)
        eventually(lambda: [h["status"] for h in e.hooks("flaky-open")] == ["firing", "resolved"],
                   timeout=10, what="flaky-open resolved once the sink recovered")
        # the route's own depth and oldest pending age (the queue's per-route counters): the
        # held delivery fired each once, its delivery resolved each once
        for name in ("fl-depth", "fl-old"):
            eventually(lambda: [h["status"] for h in e.hooks(name)] == ["firing", "resolved"],
                       timeout=10, what=name + " fired and resolved")
            fired = e.hooks(name)[0]
            assert fired["route"] == "fl.out", fired
        assert e.hooks("fl-depth")[0]["kind"] == "queue_depth" and \
            e.hooks("fl-depth")[0]["value"] >= 1, e.hooks("fl-depth")
        assert e.hooks("fl-old")[0]["kind"] == "oldest_pending" and \
            e.hooks("fl-old")[0]["value"] >= 300, e.hooks("fl-old")
        # storage over 1 % of a 1 MiB queue: firing, and only once
        assert [h["status"] for h in e.hooks("disk")] == ["firing"], e.hooks("disk")
        assert e.hooks("depth") == []
        time.sleep(0.5)  # a few more evaluations: still no duplicates
        assert len(e.hooks("dl-dead")) == 2 and len(e.hooks("disk")) == 1, e.hooks()
        assert len(e.hooks("fl-depth")) == 2 and len(e.hooks("fl-old")) == 2, e.hooks()
        doc = e.alerts()
        rules = {r["name"]: r for r in doc["rules"]}
        assert rules["dl-dead"]["state"] == "ok" and rules["disk"]["state"] == "firing", rules
        assert rules["depth"]["state"] == "ok" and rules["depth"]["route"] is None, rules
        items = doc["items"]
        assert [i["alert"] for i in items].count("dl-dead") == 1, items
        dl = [i for i in items if i["alert"] == "dl-dead"][0]
        assert dl["state"] == "resolved" and dl["queued"] is True, dl
        assert items[0]["started_ms"] >= items[-1]["started_ms"], items  # newest first
        # each transition was a message of the alert channel, in the queue like any other
        logs = e.gw.logs()
        assert "alert firing name=dl-dead" in logs and "alert resolved name=dl-dead" in logs
        assert e.alerts()["rules"][0]["name"] == "dl-dead"


def test_config_refuses_bad_rules():
    import tempfile
    import shutil
    d = tempfile.mkdtemp(prefix="igw-al-")
    try:
        base = CONFIG.replace("SINK", "http://127.0.0.1:9").replace("ADMINPORT", "1")
        base = base.replace("{port}", "2").replace("{dir}", d)
        with open(os.path.join(d, "ops.tokens"), "w") as f:
            f.write("x\n")
        cases = [(base.replace("route: dl.out, threshold: 3", "route: dl.nope, threshold: 3"),
                  'no route "dl.nope"'),
                 (base.replace("channel: ops", "channel: nope"), 'no channel "nope"'),
                 (base.replace("kind: storage, threshold: 1", "kind: storage, threshold: 101"),
                  "1..100"),
                 (base.replace("{ name: disk, kind: storage,",
                               "{ name: disk, kind: storage, route: dl.out,"),
                  "takes no route"),
                 (base.replace("kind: oldest_pending, route: fl.out, window: 300ms",
                               "kind: oldest_pending, route: fl.out, window: 0s"),
                  "window must be above 0"),
                 (base.replace("kind: queue_depth, route: fl.out,",
                               "kind: queue_depth, route: fl.nope,"),
                  'no route "fl.nope"'),
                 (base.replace("kind: circuit_open, route: fl.out,", "kind: circuit_open,"),
                  "needs route")]
        for text, want in cases:
            p = os.path.join(d, "igw.conf")
            with open(p, "w") as f:
                f.write(text)
            r = subprocess.run([IGW_BIN, "config", "check", p], capture_output=True, text=True)
            assert r.returncode != 0 and want in r.stderr, (want, r.stderr)
            assert "igw.conf:" in r.stderr, r.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    run([test_incidents_fire_and_resolve_once, test_config_refuses_bad_rules])
