# SPDX-License-Identifier: Apache-2.0
"""Start and drive the openIMIS simulator from a Python test (standard library only):

    sys.path.insert(0, "<repo>/tests/sim/openimis")
    from client import OpenImisSim
    sim = OpenImisSim(data="x.jsonl", rate_per_minute=0)    # starts server.py on a free port
    sim.login()                                             # Admin / admin123, keeps the JWT
    status, body = sim.gql('{ insurees(first: 5) { totalCount } }')
    sim.control(fail="500", count=1); sim.mutate(kind="insuree", chfId="...", set={"lastName": "X"})
    sim.stop()
"""
import base64
import http.client
import json
import os
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.py")
SAMPLE = os.path.join(HERE, "sample.jsonl")


class OpenImisSim:
    def __init__(self, data=SAMPLE, port=0, users=None, rate_per_minute=0, page_max=100, token_ttl=None,
                 fail=None, extra=None, timeout=60.0):
        cmd = [sys.executable, SERVER, "--port", str(port), "--data", data,
               "--rate-per-minute", str(rate_per_minute), "--page-max", str(page_max)]
        if users:
            cmd += ["--users", users]
        if token_ttl is not None:
            cmd += ["--token-ttl", str(token_ttl)]
        if fail:
            cmd += ["--fail", fail]
        cmd += list(extra or [])
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = [None]

        def read():
            line[0] = self.proc.stdout.readline()
        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(timeout)
        if not line[0] or not line[0].startswith("ready "):
            self.proc.kill()
            err = self.proc.stderr.read()
            raise RuntimeError("openIMIS simulator did not start: %r %s" % (line[0], err))
        self.port = int(line[0].split()[1])
        self.url = "http://127.0.0.1:%d" % self.port
        self.token = None
        self._conn = None

    def request(self, method, path, body=None, headers=None, timeout=30):
        """One request on a kept-alive connection -> (status, headers dict, parsed JSON or text)."""
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            self._conn.timeout = timeout
            if self._conn.sock is not None:
                self._conn.sock.settimeout(timeout)
            try:
                self._conn.request(method, path, data, hdrs)
                r = self._conn.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, ConnectionError, OSError) as e:
                self._conn.close()
                self._conn = None
                # a kept-alive connection the server closed is retried once; a timeout is not
                if attempt or isinstance(e, TimeoutError):
                    raise
        text = raw.decode("utf-8", "replace")
        try:
            out = json.loads(text) if text else None
        except ValueError:
            out = text
        return r.status, {k.lower(): v for k, v in r.getheaders()}, out

    def auth_header(self, token=None):
        tok = token or self.token
        return {"Authorization": "Bearer " + tok} if tok else {}

    def login(self, username="Admin", password="admin123"):
        status, _, body = self.request("POST", "/api/graphql", {
            "query": "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }",
            "variables": {"u": username, "p": password}})
        tok = ((body or {}).get("data") or {}).get("tokenAuth") if isinstance(body, dict) else None
        if status != 200 or not tok:
            raise RuntimeError("login failed: %s %s" % (status, body))
        self.token = tok["token"]
        return self.token

    def gql(self, query, variables=None, token=None, headers=None):
        hdrs = dict(self.auth_header(token), **(headers or {}))
        status, _, body = self.request("POST", "/api/graphql", {"query": query, "variables": variables}, hdrs)
        return status, body

    def fhir(self, path, token=None, headers=None):
        hdrs = dict(self.auth_header(token), **(headers or {}))
        status, h, body = self.request("GET", "/api/api_fhir_r4/" + path.lstrip("/"), None, hdrs)
        return status, body

    def control(self, **cmd):
        return self.request("POST", "/__sim/control", cmd)[2]

    def mutate(self, **cmd):
        return self.request("POST", "/__sim/mutate", cmd)

    def stats(self):
        return self.request("GET", "/__sim/stats")[2]

    def payment_status(self, payroll_id=None, benefits=True, reset=False):
        """The payment statuses received on /api/payroll/payment_status/ (payments.Receiver.view)."""
        q = "?benefits=%d" % (1 if benefits else 0) + ("&payroll_id=" + payroll_id if payroll_id else "")
        if reset:
            return self.request("POST", "/__sim/payment_status" + q, {"reset": True})[2]
        return self.request("GET", "/__sim/payment_status" + q)[2]

    def stop(self):
        if self._conn is not None:
            self._conn.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}
