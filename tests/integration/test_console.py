# SPDX-License-Identifier: Apache-2.0
"""The web console (docs/CONSOLE.md) end to end: the real `igw serve`, the HTTP sink
tests/sim/sink.py, and Debian's headless Chromium driven by playwright-core
(tests/integration/console/, `npm ci` there; never a browser download). Cases: the assets and
their headers (no credentials, strict CSP, no inline script); sign in and see the charts move
while messages arrive; open a dead letter and release it until delivered; find a dead letter
with the state filter, edit its payload and see it delivered; release every dead letter of a
route in bulk (dry-run count in the confirmation, job progress); a viewer gets no repair button and
sees the alert the dead letter fired.
Screenshots are kept in the build directory (tests/console-artifacts/). SKIP without node,
chromium or the npm install."""
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import SIM_DIR, Gateway, SinkAdminEnv, eventually, free_port, run, skip  # noqa: E402

sys.path.insert(0, SIM_DIR)
from sink import Sink  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
E2E_DIR = os.path.join(HERE, "console")
SHOTS = os.path.join(os.getcwd(), "console-artifacts")
ADMIN_TOKEN, OPERATOR_TOKEN, VIEWER_TOKEN = "c0nsole-admin", "c0nsole-op", "c0nsole-view"
CH_AUTH = {"Authorization": "Bearer t0k", "Content-Type": "application/json"}

CONFIG = """
http: { listen: "http://127.0.0.1:{port}" }
admin:
  listen: "http://127.0.0.1:ADMINPORT"
  credentials:
    - { name: ada, role: admin, token_file: admin.tokens }
    - { name: otto, role: operator, token_file: operator.tokens }
    - { name: vera, role: viewer, token_file: viewer.tokens }
queue: { path: "{dir}/queue" }
alerts:
  channel: ops
  interval: 100ms
  rules:
    - { name: dl-dead, kind: dead_letters, route: dl.out, threshold: 1, window: 1m }
channels:
  ops:
    listen: POST /internal/alerts
    auth: { type: bearer, tokens: [never-used-token] }
    routes:
      hook: { url: SINK/hook }
  ev:
    listen: POST /ev
    auth: { type: bearer, tokens: [t0k] }
    routes:
      raw: { url: SINK/in/ev, retry: { base: 50ms, cap: 200ms, max_attempts: 3 } }
  dl:
    listen: POST /dl
    auth: { type: bearer, tokens: [t0k] }
    routes:
      out: { url: SINK/in/dl, retry: { base: 50ms, cap: 200ms, max_attempts: 2 } }
"""


def need_browser():
    if shutil.which("node") is None:
        skip("node is not installed")
    if not os.access("/usr/bin/chromium", os.X_OK):
        skip("Debian's chromium (/usr/bin/chromium) is not installed")
    if not os.path.isdir(os.path.join(E2E_DIR, "node_modules", "playwright-core")):
        skip("playwright-core is not installed (npm ci in tests/integration/console)")


class Env(SinkAdminEnv):
    def __init__(self):
        self.sink = Sink()
        self.admin_port = free_port()
        cfg = CONFIG.replace("SINK", self.sink.url).replace("ADMINPORT", str(self.admin_port))
        self.gw = Gateway(cfg, extra_files={"admin.tokens": ADMIN_TOKEN + "\n",
                                            "operator.tokens": OPERATOR_TOKEN + "\n",
                                            "viewer.tokens": VIEWER_TOKEN + "\n"})

    def get(self, path, token=ADMIN_TOKEN, method="GET"):
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            h = {"Authorization": "Bearer " + token} if token else {}
            conn.request(method, path, headers=h)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def has_stream(self, path):
        """Whether GET path answers 200 (only the status line is read: a stream never ends)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            conn.request("GET", path, headers={"Authorization": "Bearer " + ADMIN_TOKEN})
            return conn.getresponse().status == 200
        finally:
            conn.close()

    def accept(self, path, doc):
        st, _, body = self.gw.request("POST", path, doc, CH_AUTH)
        assert st == 202, (st, body)
        return json.loads(body)["id"]

    def state(self, mid, route):
        st, _, body = self.get("/admin/messages/" + mid)
        assert st == 200, (st, body)
        return {d["route"]: d["state"] for d in json.loads(body)["deliveries"]}[route]

    def dead_letter(self):
        """A message of channel dl whose delivery the sink refused (400 for "bad")."""
        self.sink.control(status_4xx=400, path="/in/dl", match="bad")
        mid = self.accept("/dl", {"case": "bad", "n": 1})
        eventually(lambda: self.state(mid, "dl.out") == "dead", timeout=15, what="dead letter")
        return mid

    def browser(self, scenario, token, **extra):
        os.makedirs(SHOTS, exist_ok=True)
        env = dict(os.environ, IGW_CONSOLE_URL="http://127.0.0.1:%d/console/" % self.admin_port,
                   IGW_CONSOLE_TOKEN=token, IGW_SHOTS=SHOTS, **extra)
        p = subprocess.run(["node", os.path.join(E2E_DIR, "console_e2e.mjs"), scenario],
                           cwd=E2E_DIR, env=env, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, (p.returncode, p.stdout[-3000:], p.stderr[-3000:])
        line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")][-1]
        res = json.loads(line[7:])
        assert res["problems"] == [], res["problems"]  # no CSP violation, no script error
        return res


def test_assets_and_their_headers():
    with Env() as e:
        st, h, body = e.get("/console/", token=None)
        assert st == 200 and h["content-type"] == "text/html; charset=utf-8", (st, h)
        csp = h["content-security-policy"]
        for d in ("default-src 'none'", "script-src 'self'", "style-src 'self'",
                  "connect-src 'self'", "frame-ancestors 'none'"):
            assert d in csp, (d, csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
        assert h["x-content-type-options"] == "nosniff" and h["cache-control"] == "no-cache", h
        html = body.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script in index.html"
        assert " style=" not in html and " on" not in re.sub(r"<!--.*?-->", "", html).replace(
            " one", ""), "inline style or handler"
        st, h, body = e.get("/console/console.js", token=None)
        assert st == 200 and h["content-type"].startswith("text/javascript"), (st, h)
        assert b"innerHTML" not in body, "values go in as text only"
        st, h, _ = e.get("/console/console.css", token=None)
        assert st == 200 and h["content-type"].startswith("text/css"), (st, h)
        assert e.get("/console", token=None)[0] == 200
        assert e.get("/console/nothing.js", token=None)[0] == 404
        assert e.get("/console/../admin/stats", token=None)[0] in (400, 401, 404)
        st, h, _ = e.get("/console/", token=None, method="POST")
        assert st == 405 and h["allow"] == "GET, HEAD", (st, h)
        # the data keeps its credentials
        assert e.get("/admin/stats", token=None)[0] == 401


def test_sign_in_and_the_charts_move():
    need_browser()
    with Env() as e:
        stop = threading.Event()

        def traffic():
            n = 0
            while not stop.is_set() and n < 400:
                e.accept("/ev", {"n": n})
                n += 1
                stop.wait(0.1)

        t = threading.Thread(target=traffic, daemon=True)
        t.start()
        try:
            res = e.browser("charts", OPERATOR_TOKEN)
        finally:
            stop.set()
            t.join(10)
        assert res["who"] == "otto (operator)", res
        assert res["before"] != res["after"], res
        assert float(res["accepted"].split()[0]) > 0, res
        if e.has_stream("/admin/events"):  # rates counted from the live events
            assert res["source"] == "rates from the live event stream", res
        st, _, body = e.get("/admin/stats")
        if "routes" in json.loads(body):  # stats per route (issue 11 item 1)
            assert "ev.raw" in res["routes"], res
        assert os.path.getsize(os.path.join(SHOTS, "console-overview.png")) > 10000


def test_release_a_dead_letter_until_delivered():
    need_browser()
    with Env() as e:
        mid = e.dead_letter()
        e.sink.control(reset=True)  # the destination is fixed: the same payload now goes through
        res = e.browser("release", OPERATOR_TOKEN, IGW_MSG_ID=mid, IGW_ROUTE="dl.out")
        assert "400" in res["deadLetter"], res
        assert e.state(mid, "dl.out") == "delivered"
        got = [json.loads(r["body"]) for r in e.sink.delivered("/in/dl")]
        assert got == [{"case": "bad", "n": 1}], got
        assert e.get("/admin/audit")[0] == 200  # the release is in the audit log, by its name
        assert any("otto" in r and "release" in r and mid in r for r in res["audit"]), res


def test_find_edit_and_deliver_a_dead_letter():
    need_browser()
    with Env() as e:
        assert e.get("/admin/messages?state=dead")[0] == 200  # the listing is served
        mid = e.dead_letter()
        res = e.browser("find_edit", OPERATOR_TOKEN, IGW_MSG_ID=mid, IGW_ROUTE="dl.out")
        assert mid in res["listed"] and '"bad"' in res["original"], res
        assert e.state(mid, "dl.out") == "delivered"
        got = [json.loads(r["body"]) for r in e.sink.delivered("/in/dl")]
        assert got == [{"case": "good", "n": 1}], got


def test_bulk_release_of_a_route():
    need_browser()
    with Env() as e:
        assert e.get("/admin/messages?state=dead")[0] == 200  # the listing is served
        dead = [e.dead_letter() for _ in range(3)]
        e.sink.control(reset=True)
        res = e.browser("bulk", OPERATOR_TOKEN, IGW_ROUTE="dl.out", IGW_EXPECT=str(len(dead)))
        assert sorted(res["listed"]) == sorted(dead), res
        assert res["question"].startswith("release 3 message(s)"), res
        assert "3 changed" in res["progress"], res
        eventually(lambda: all(e.state(m, "dl.out") == "delivered" for m in dead),
                   what="all released and delivered")


def test_a_viewer_gets_no_repair_action():
    need_browser()
    with Env() as e:
        mid = e.dead_letter()
        res = e.browser("viewer", VIEWER_TOKEN, IGW_MSG_ID=mid)
        assert res["who"] == "vera (viewer)" and res["buttons"] == [], res
        # the dead letter fired the alert rule: the alerts page shows the rule and the incident
        assert any(r.startswith("dl-dead") and "firing" in r for r in res["rules"]), res
        assert any("dl-dead" in r and "firing" in r for r in res["incidents"]), res


if __name__ == "__main__":
    run([test_assets_and_their_headers, test_sign_in_and_the_charts_move,
         test_release_a_dead_letter_until_delivered, test_find_edit_and_deliver_a_dead_letter,
         test_bulk_release_of_a_route, test_a_viewer_gets_no_repair_action])
