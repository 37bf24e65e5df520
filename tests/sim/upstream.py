# SPDX-License-Identifier: Apache-2.0
"""A small upstream HTTP service for the mediation tests (tests/integration/test_mediate.py):
JSON items, slow, hanging and failing endpoints, an echo, credentials checked per request
(bearer, basic, or a login token), login endpoints as openIMIS (GraphQL tokenAuth, FHIR login)
and OAuth2 client credentials give them, and counters of everything. Python standard library.

    python3 tests/sim/upstream.py --port P [--bearer T | --basic U:P | --login U:P] [--ttl S]

prints "ready <port>" once listening. Endpoints:
  GET  /items/{id}[?...]   200 {"id","name","query"}; id "missing" -> 404; id "gone" -> 410
  POST /items              201 {"created": <body>}
  GET  /slow?ms=N          answers after N ms (at most 30 s)
  GET  /hang               never answers within 60 s
  GET  /fail               500
  POST /api/graphql        tokenAuth(username, password) -> data.tokenAuth.token (a JWT)
  POST /api/api_fhir_r4/login/  {"username","password"} -> {"token","exp"}
  POST /oauth/token        grant_type=client_credentials form -> access_token, expires_in
  GET  /_stats             {"calls","logins","auth_failures","paths","auth_seen"}
  POST /_revoke            every issued token becomes invalid (the next call gets 401)
"""
import argparse
import base64
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(user, ttl):
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"username": user, "exp": int(time.time()) + ttl}).encode())
    return "%s.%s.%s" % (head, body, b64url(os.urandom(16)))


class State:
    def __init__(self, bearer=None, basic=None, login=None, ttl=300):
        self.bearer, self.basic, self.login, self.ttl = bearer, basic, login, ttl
        self.lock = threading.Lock()
        self.calls = 0
        self.logins = 0
        self.auth_failures = 0
        self.paths = []
        self.auth_seen = []
        self.tokens = {}  # token -> expiry (epoch s)
        self.issued = []  # every token handed out (tests check none reaches a log)

    def issue(self, user):
        tok = make_jwt(user, self.ttl)
        with self.lock:
            self.tokens[tok] = time.time() + self.ttl
            self.issued.append(tok)
            self.logins += 1
        return tok

    def check(self, auth):
        if self.bearer is not None:
            return auth == "Bearer " + self.bearer
        if self.basic is not None:
            return auth == "Basic " + base64.b64encode(self.basic.encode()).decode()
        if self.login is not None:
            if not auth or not auth.startswith("Bearer "):
                return False
            exp = self.tokens.get(auth[7:])
            return exp is not None and exp > time.time()
        return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, status, obj, extra=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def login_user(self, user, password):
        want = self.server.state.login
        return want is not None and want == "%s:%s" % (user, password)

    def handle_login(self, path, raw):
        st = self.server.state
        if path == "/api/graphql":
            try:
                v = json.loads(raw).get("variables", {})
            except ValueError:
                v = {}
            if "tokenAuth" in raw.decode("utf-8", "replace") and self.login_user(v.get("username"), v.get("password")):
                return self.send_json(200, {"data": {"tokenAuth": {"token": st.issue(v["username"]), "refreshExpiresIn": 0}}})
            return self.send_json(200, {"errors": [{"message": "Please enter valid credentials"}], "data": {"tokenAuth": None}})
        if path == "/api/api_fhir_r4/login/":
            try:
                v = json.loads(raw)
            except ValueError:
                v = {}
            if self.login_user(v.get("username"), v.get("password")):
                tok = st.issue(v["username"])
                return self.send_json(200, {"token": tok, "exp": int(time.time()) + st.ttl})
            return self.send_json(401, {"detail": "invalid credentials"})
        form = urllib.parse.parse_qs(raw.decode())
        if form.get("grant_type") == ["client_credentials"] and self.login_user(
                form.get("client_id", [""])[0], form.get("client_secret", [""])[0]):
            return self.send_json(200, {"access_token": st.issue("client"), "token_type": "Bearer", "expires_in": st.ttl})
        return self.send_json(401, {"error": "invalid_client"})

    def route(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        raw = self.body()
        if u.path == "/_stats":
            with st.lock:
                return self.send_json(200, {"calls": st.calls, "logins": st.logins, "auth_failures": st.auth_failures,
                                            "paths": st.paths[-50:], "auth_seen": st.auth_seen[-50:]})
        if u.path == "/_revoke":
            with st.lock:
                st.tokens.clear()
            return self.send_json(200, {})
        if u.path in ("/api/graphql", "/api/api_fhir_r4/login/", "/oauth/token") and self.command == "POST":
            return self.handle_login(u.path, raw)
        auth = self.headers.get("Authorization")
        with st.lock:
            st.calls += 1
            st.paths.append(self.command + " " + self.path)
            st.auth_seen.append(auth or "")
        if not st.check(auth):
            with st.lock:
                st.auth_failures += 1
            return self.send_json(401, {"error": "unauthorized"})
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/slow":
            time.sleep(min(int(q.get("ms", ["100"])[0]), 30000) / 1000.0)
            return self.send_json(200, {"slow": True})
        if u.path == "/hang":
            time.sleep(60)
            return self.send_json(200, {})
        if u.path == "/fail":
            return self.send_json(500, {"error": "boom"})
        if u.path.startswith("/items/"):
            item = urllib.parse.unquote(u.path[7:])
            if item == "missing":
                return self.send_json(404, {"error": "no such item"})
            if item == "gone":
                return self.send_json(410, {"error": "gone"})
            return self.send_json(200, {"id": item, "name": "item-" + item,
                                        "query": {k: v[0] for k, v in q.items()}}, {"ETag": 'W/"7"'})
        if u.path == "/items" and self.command == "POST":
            try:
                obj = json.loads(raw or b"null")
            except ValueError:
                return self.send_json(400, {"error": "not json"})
            return self.send_json(201, {"created": obj})
        return self.send_json(404, {"error": "no route"})

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = route


class Upstream:
    """The service in a thread: Upstream(...).start(); .url; .stats(); .stop()."""

    def __init__(self, port=0, **kw):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.state = State(**kw)
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = None

    @property
    def state(self):
        return self.httpd.state

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bearer")
    ap.add_argument("--basic")
    ap.add_argument("--login")
    ap.add_argument("--ttl", type=int, default=300)
    a = ap.parse_args()
    up = Upstream(a.port, bearer=a.bearer, basic=a.basic, login=a.login, ttl=a.ttl)
    print("ready %d" % up.port, flush=True)
    try:
        up.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
