# SPDX-License-Identifier: Apache-2.0
"""`igw queue` (docs/ADMIN-API.md, "igw queue") against the real `igw serve` and the HTTP sink
tests/sim/sink.py: help on every subcommand, the exit codes (0 done, 1 nothing to do or not
found, 2 usage, 3 credentials, 4 server or network), credentials from the environment or a file
and never from the command line, stats and show as tables and --json, release / replay / purge
of one message, retry now past an hour's backoff, edit through $EDITOR, and - where this igw has the endpoints of issue 11 item 1 -
ls with filters, bulk release with a dry run and a job, tail on the live events, and the audit
log and alerts (item 5). Python 3
standard library only."""
import http.client
import json
import os
import pty
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import IGW_BIN, SIM_DIR, Gateway, SinkAdminEnv, eventually, free_port, run  # noqa: E402

sys.path.insert(0, SIM_DIR)
from sink import Sink  # noqa: E402

TOKEN = "q-cli-s3cret"
CH_AUTH = {"Authorization": "Bearer t0k", "Content-Type": "application/json"}
SUBS = ["ls", "show", "retry", "replay", "release", "purge", "edit", "stats", "audit", "alerts",
        "tail"]

CONFIG = """
http: { listen: "http://127.0.0.1:{port}" }
admin:
  listen: "http://127.0.0.1:ADMINPORT"
  auth: { type: bearer, tokens_file: admin.tokens }
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
  slow:
    listen: POST /slow
    auth: { type: bearer, tokens: [t0k] }
    routes:
      out: { url: SINK/in/slow, retry: { base: 1h, cap: 1h, max_attempts: 5 } }
  dl:
    listen: POST /dl
    auth: { type: bearer, tokens: [t0k] }
    routes:
      out: { url: SINK/in/dl, retry: { base: 50ms, cap: 200ms, max_attempts: 2 } }
"""


class Env(SinkAdminEnv):
    def __init__(self):
        self.sink = Sink()
        self.admin_port = free_port()
        cfg = CONFIG.replace("SINK", self.sink.url).replace("ADMINPORT", str(self.admin_port))
        self.gw = Gateway(cfg, extra_files={"admin.tokens": "# admin\n%s\n" % TOKEN})
        self.url = "http://127.0.0.1:%d" % self.admin_port

    def q(self, *args, env=None, token=True, stdin=None, timeout=30):
        """Runs igw queue ARGS; returns (exit code, stdout, stderr). The token never shows."""
        e = {k: v for k, v in os.environ.items() if not k.startswith("IGW_ADMIN")}
        e["IGW_ADMIN_URL"] = self.url
        if token:
            e["IGW_ADMIN_TOKEN"] = TOKEN
        e.update(env or {})
        p = subprocess.run([IGW_BIN, "queue"] + list(args), env=e, capture_output=True,
                           text=True, timeout=timeout, input=stdin)
        assert TOKEN not in p.stdout + p.stderr, "the token was printed"
        return p.returncode, p.stdout, p.stderr

    def q_tty(self, *args, answer=""):
        """Runs igw queue ARGS with a terminal as stdin and stderr (stdout stays a pipe) and
        types answer; returns (exit code, everything on the terminal and stdout)."""
        master, slave = pty.openpty()
        e = dict(os.environ, IGW_ADMIN_URL=self.url, IGW_ADMIN_TOKEN=TOKEN)
        p = subprocess.Popen([IGW_BIN, "queue"] + list(args), env=e, stdin=slave,
                             stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        os.write(master, answer.encode())
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)  # EIO once the process closed its side
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        os.close(master)
        out = p.stdout.read()
        p.wait(timeout=30)
        text = seen.decode(errors="replace") + out
        assert TOKEN not in text
        return p.returncode, text

    def api(self, method, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            conn.request(method, path, headers={"Authorization": "Bearer " + TOKEN})
            r = conn.getresponse()
            body = r.read()
            return r.status, json.loads(body) if body else None
        finally:
            conn.close()

    def has(self, method, path):
        """Whether this igw has an endpoint (a 404 that names no endpoint is not one)."""
        st, doc = self.api(method, path)
        return not (st == 404 and "endpoint" in json.dumps(doc))

    def has_stream(self, path):
        """Whether GET path answers 200 (only the status line is read: a stream never ends)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            conn.request("GET", path, headers={"Authorization": "Bearer " + TOKEN})
            return conn.getresponse().status == 200
        finally:
            conn.close()

    def accept(self, doc):
        st, _, body = self.gw.request("POST", "/dl", doc, CH_AUTH)
        assert st == 202, (st, body)
        return json.loads(body)["id"]

    def state(self, mid):
        st, doc = self.api("GET", "/admin/messages/" + mid)
        assert st == 200, (st, doc)
        return doc["deliveries"][0]["state"]

    def dead_letter(self, doc):
        self.sink.control(status_4xx=400, path="/in/dl", match="bad")
        mid = self.accept(doc)
        eventually(lambda: self.state(mid) == "dead", timeout=15, what="dead letter")
        return mid


def test_help_usage_and_credentials():
    with Env() as e:
        rc, out, _ = e.q("--help", token=False)
        assert rc == 0 and all("igw queue " + s in out for s in SUBS), out
        assert "Exit codes" in out
        for s in SUBS:
            rc, out, _ = e.q(s, "--help", token=False)
            assert rc == 0 and out.startswith("usage: igw queue " + s), (s, rc, out)
        assert e.q("frobnicate")[0] == 2
        assert e.q("show")[0] == 2 and e.q("show", "xyz")[0] == 2
        rc, _, err = e.q("stats", "--token", TOKEN + "x", token=False)
        assert rc == 2 and "never taken on the command line" in err, err
        rc, _, err = e.q("stats", token=False)
        assert rc == 3 and "IGW_ADMIN_TOKEN" in err, err
        rc, _, err = e.q("stats", env={"IGW_ADMIN_TOKEN": "wrong"}, token=False)
        assert rc == 3 and "401" in err, err
        path = os.path.join(e.gw.dir, "my.token")
        with open(path, "w") as f:
            f.write("# the admin token\n\n  %s  \n" % TOKEN)
        assert e.q("stats", "--token-file", path, token=False)[0] == 0
        assert e.q("stats", env={"IGW_ADMIN_TOKEN_FILE": path}, token=False)[0] == 0
        assert e.q("stats", "--token-file", path + ".none", token=False)[0] == 3
        rc, _, err = e.q("stats", "--url", "http://127.0.0.1:%d" % free_port())
        assert rc == 4 and "connect" in err.lower(), err


def test_stats_show_release_replay_purge():
    with Env() as e:
        mid = e.dead_letter({"case": "bad", "n": 1})
        rc, out, _ = e.q("stats")
        assert rc == 0 and "dead 1" in out, out
        rc, out, _ = e.q("stats", "--json")
        assert rc == 0 and e.api("GET", "/admin/stats")[1]["messages"] == json.loads(out)["messages"]
        rc, out, _ = e.q("show", mid)
        assert rc == 0 and mid in out and '"bad"' in out and "dl.out  dead" in out, out
        assert "dead letter" in out and "400" in out, out
        rc, out, _ = e.q("--json", "show", mid)
        assert rc == 0 and json.loads(out)["id"] == mid
        assert e.q("show", "00000000000000ff")[0] == 1
        e.sink.control(reset=True)
        rc, out, _ = e.q("release", mid)
        assert rc == 0 and "released" in out, out
        eventually(lambda: e.state(mid) == "delivered", what="released delivery")
        # releasing again has nothing to do: the exit code follows the server's answer
        st, _ = e.api("POST", "/admin/messages/%s/release" % mid)
        rc, _, _ = e.q("release", mid)
        assert rc == (1 if st == 409 else 0), (st, rc)
        rc, out, _ = e.q("replay", mid, "--route", "dl.out")
        assert rc == 0 and "replayed" in out, out
        eventually(lambda: len(e.sink.delivered("/in/dl")) == 2, what="replayed delivery")
        assert e.q("purge", mid, "--route", "out")[0] == 2  # purge takes the whole message
        rc, out, _ = e.q("purge", mid)
        assert rc == 0 and "purged" in out, out
        assert e.q("show", mid)[0] == 1


def test_edit_through_the_editor():
    with Env() as e:
        mid = e.dead_letter({"case": "bad", "n": 2})
        # an editor that changes nothing: nothing is sent
        rc, _, err = e.q("edit", mid, env={"EDITOR": "true", "VISUAL": ""})
        assert rc == 1 and "no change" in err, err
        rc, _, err = e.q("edit", mid, env={"EDITOR": "false", "VISUAL": ""})
        assert rc == 1 and "editor failed" in err, err
        assert e.has("GET", "/admin/messages"), "no edit endpoint yet (issue 11 item 1)"
        e.sink.control(reset=True)
        rc, out, err = e.q("edit", mid, "--route", "out",
                           env={"EDITOR": "sed -i s/bad/good/", "VISUAL": ""})
        assert rc == 0 and "edited" in out, (rc, out, err)
        eventually(lambda: e.state(mid) == "delivered", what="edited delivery")
        got = [json.loads(r["body"]) for r in e.sink.delivered("/in/dl")]
        assert got == [{"case": "good", "n": 2}], got


def test_ls_bulk_and_tail():
    with Env() as e:
        assert e.has("GET", "/admin/messages"), "no message list yet (issue 11 item 1)"
        dead = [e.dead_letter({"case": "bad", "n": i}) for i in range(3)]
        e.sink.control(reset=True)
        ok = e.accept({"case": "fine"})
        eventually(lambda: e.state(ok) == "delivered", what="delivered")
        rc, out, _ = e.q("ls", "--state", "dead")
        assert rc == 0 and all(m in out for m in dead) and ok not in out, out
        rc, out, _ = e.q("ls", "--json", "--channel", "dl", "--limit", "2", "--all")
        assert rc == 0 and len(json.loads(out)["items"]) == 4, out
        rc, out, _ = e.q("release", "--route", "dl.out", "--state", "dead", "--dry-run")
        assert rc == 0 and "would change 3" in out, out
        assert e.q("release", "--route", "dl.out", "--state", "dead")[0] == 2  # no --yes, no tty
        # on a terminal: asked to confirm with the count, then a progress bar on stderr
        rc, tty = e.q_tty("release", "--route", "dl.out", "--state", "dead", answer="y\n")
        assert rc == 0 and "release 3 message(s)? [y/N]" in tty, tty
        assert "[" + "#" * 30 + "] 3/3" in tty and "3 changed" in tty, tty
        eventually(lambda: all(e.state(m) == "delivered" for m in dead), what="bulk release")
        dead2 = e.dead_letter({"case": "bad", "n": 9})
        e.sink.control(reset=True)
        rc, tty = e.q_tty("release", "--route", "dl.out", "--state", "dead", answer="n\n")
        assert rc == 1 and "nothing done" in tty and e.state(dead2) == "dead", tty
        rc, out, _ = e.q("release", "--route", "dl.out", "--state", "dead", "--yes")
        assert rc == 0 and "1 changed" in out, out
        eventually(lambda: e.state(dead2) == "delivered", what="bulk release --yes")
        rc, out, _ = e.q("release", "--route", "dl.out", "--state", "dead", "--dry-run")
        assert rc == 1, out  # nothing left to do
        assert e.has_stream("/admin/events"), "no event stream yet"
        p = subprocess.Popen([IGW_BIN, "queue", "tail", "--json", "--count", "2"],
                             env=dict(os.environ, IGW_ADMIN_URL=e.url, IGW_ADMIN_TOKEN=TOKEN),
                             stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        mid = e.accept({"case": "tail"})
        out, _ = p.communicate(timeout=20)
        kinds = [(json.loads(x)["kind"], json.loads(x)["id"]) for x in out.splitlines()]
        assert p.returncode == 0 and ("accepted", mid) in kinds, out


def test_retry_now_skips_the_backoff():
    with Env() as e:
        e.sink.control(fail=1, status=503, path="/in/slow")
        st, _, body = e.gw.request("POST", "/slow", {"case": "slow"}, CH_AUTH)
        mid = json.loads(body)["id"]
        # the first attempt failed: the next one is due in an hour
        eventually(lambda: e.api("GET", "/admin/messages/" + mid)[1]["deliveries"][0]
                   ["attempts"] == 1, what="first attempt")
        assert e.has("POST", "/admin/messages/%s/retry" % mid), "no retry-now endpoint (item 1)"
        # (the probe above was a real retry: the sink answers 200 from now on)
        eventually(lambda: e.state(mid) == "delivered", timeout=10, what="retried")
        rc, _, err = e.q("retry", mid)
        assert rc == 1 and "409" in err, (rc, err)  # nothing pending: nothing to do
        e.sink.control(fail=1, status=503, path="/in/slow")
        st, _, body = e.gw.request("POST", "/slow", {"case": "slow2"}, CH_AUTH)
        mid2 = json.loads(body)["id"]
        eventually(lambda: e.api("GET", "/admin/messages/" + mid2)[1]["deliveries"][0]
                   ["attempts"] == 1, what="first attempt")
        assert e.state(mid2) == "pending"
        rc, out, _ = e.q("retry", mid2, "--route", "slow.out")
        assert rc == 0 and "retried" in out, out
        eventually(lambda: e.state(mid2) == "delivered", timeout=10, what="retried now")


def test_audit_and_alerts():
    with Env() as e:
        assert e.has("GET", "/admin/audit"), "no audit log yet (issue 11 item 5)"
        mid = e.dead_letter({"case": "bad", "n": 3})
        eventually(lambda: any(i["state"] == "firing" for i in e.api("GET", "/admin/alerts")[1]
                               ["items"]), what="the dead-letter alert")
        rc, out, _ = e.q("alerts")
        assert rc == 0 and re.search(r"dl-dead\s+dead_letters\s+dl.out\s+1\s+firing", out), out
        assert re.search(r"dl-dead-\d+\s+dl-dead\s+dl.out\s+firing", out), out
        rc, out, _ = e.q("alerts", "--json")
        assert rc == 0 and json.loads(out)["rules"][0]["name"] == "dl-dead", out
        assert e.q("release", mid)[0] == 0
        rc, out, _ = e.q("audit")
        assert rc == 0 and re.search(r"admin\s+admin\s+release\s+" + mid, out), out
        rc, out, _ = e.q("audit", "--json", "--limit", "1")
        items = json.loads(out)["items"]
        assert rc == 0 and items[0]["action"] == "release" and items[0]["target"] == mid, out
        assert e.q("audit", "--limit", "0")[0] == 2  # the server's 400


if __name__ == "__main__":
    run([test_help_usage_and_credentials, test_stats_show_release_replay_purge,
         test_edit_through_the_editor, test_ls_bulk_and_tail, test_retry_now_skips_the_backoff,
         test_audit_and_alerts])
