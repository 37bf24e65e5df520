# SPDX-License-Identifier: Apache-2.0
"""An openIMIS simulator: the subset of openIMIS's GraphQL API (/api/graphql) and of its FHIR R4
API (/api/api_fhir_r4/) that igw uses, over records loaded from JSONL (igw gen), with openIMIS's
login (GraphQL tokenAuth and POST /api/api_fhir_r4/login/, HS256 JWTs), page cap and rate limit.
Python 3 standard library only. See tests/sim/openimis/README.md.

    python3 server.py --port P --data FILE.jsonl [--users FILE] [--rate-per-minute N]
                      [--page-max 100] [--token-ttl S] [--fail hang|500|token] [--host 127.0.0.1]

Prints "ready <port>" on stdout once listening (--port 0 picks a free port)."""
import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import execute  # noqa: E402
import fhir  # noqa: E402
import payments  # noqa: E402
from store import LoadError, Store  # noqa: E402

MAX_BODY = 10 << 20                   # DATA_UPLOAD_MAX_MEMORY_SIZE
REFRESH_DELTA = 30 * 86400            # JWT_REFRESH_EXPIRATION_DELTA
FAIL_MODES = (None, "hang", "500", "token")
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large", 429: "Too Many Requests",
           500: "Internal Server Error"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_dec(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Auth:
    """openIMIS's JWTs: HS256 over the payload {username, exp, origIat, jti, nbf}."""

    def __init__(self, users, ttl, secret=None):
        self.users = users
        self.ttl = ttl
        self.secret = secret or os.urandom(32)
        self.refuse = False           # --fail token: every presented token is refused
        self.cookie_token = None
        self.issued = 0

    def _sign(self, payload):
        head = b64url(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
        body = b64url(json.dumps(payload, separators=(",", ":")).encode())
        sig = hmac.new(self.secret, ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest()
        self.issued += 1
        return "%s.%s.%s" % (head, body, b64url(sig))

    def issue(self, username, orig_iat=None):
        now = int(time.time())
        payload = {"username": username, "exp": now + self.ttl, "origIat": orig_iat or now,
                   "jti": str(uuid.uuid4()), "nbf": now}
        return self._sign(payload), payload

    def decode(self, token):
        """-> payload; ValueError with graphql_jwt's message."""
        if self.refuse:
            raise ValueError("Error decoding signature")
        parts = str(token or "").split(".")
        if len(parts) != 3:
            raise ValueError("Error decoding signature")
        try:
            sig = b64url_dec(parts[2])
            payload = json.loads(b64url_dec(parts[1]))
            head = json.loads(b64url_dec(parts[0]))
        except Exception:
            raise ValueError("Error decoding signature")
        want = hmac.new(self.secret, ("%s.%s" % (parts[0], parts[1])).encode(), hashlib.sha256).digest()
        if head.get("alg") != "HS256" or not hmac.compare_digest(sig, want):
            raise ValueError("Error decoding signature")
        if not isinstance(payload, dict) or "username" not in payload:
            raise ValueError("Invalid payload")
        now = time.time()
        if not isinstance(payload.get("exp"), (int, float)) or payload["exp"] <= now:
            raise ValueError("Signature has expired")
        if isinstance(payload.get("nbf"), (int, float)) and payload["nbf"] > now + 5:
            raise ValueError("Error decoding signature")
        if payload["username"] not in self.users:
            raise ValueError("Please enter valid credentials")
        return payload

    def login(self, username, password):
        want = self.users.get(username)
        if want is None or not hmac.compare_digest(str(want).encode(), str(password).encode()):
            return None
        token, payload = self.issue(username)
        return {"token": token, "payload": payload, "refreshExpiresIn": payload["origIat"] + REFRESH_DELTA}

    def refresh(self, token):
        payload = self.decode(token)
        if payload["origIat"] + REFRESH_DELTA < time.time():
            raise ValueError("Refresh has expired")
        token, payload = self.issue(payload["username"], payload["origIat"])
        return {"token": token, "payload": payload, "refreshExpiresIn": payload["origIat"] + REFRESH_DELTA}

    def verify(self, token):
        return {"payload": self.decode(token)}


class Sim:
    """Everything the handlers share."""

    def __init__(self, store, auth, page_max, rate, fail, hang_ms):
        self.store = store
        self.auth = auth
        self.page_max = page_max
        self.rate = rate
        self.lock = threading.Lock()
        self.windows = {}                 # client address -> (minute, count)
        self.fail = {"mode": fail, "count": None, "hang_ms": hang_ms, "status": 500, "path": "/api/"}
        auth.refuse = fail == "token"
        self.cache = {}
        self.payments = payments.Receiver()
        self.api_token = None             # --api-token: a static bearer also accepted on payment_status
        self.gen = 0                      # grows on every control command: ends running hangs
        self.stats = {}
        self.reset_stats()

    def reset_stats(self):
        self.stats = {"requests": 0, "graphql": 0, "fhir": 0, "login": 0, "rate_limited": 0, "failed": 0,
                      "hung": 0, "unauthorized": 0, "status": {}, "roots": {}, "in_flight": 0,
                      "max_in_flight": 0, "queries": []}

    def count(self, key, n=1):
        with self.lock:
            self.stats[key] = self.stats.get(key, 0) + n

    def rate_ok(self, addr):
        """django-ratelimit: a fixed window per minute and client address."""
        if not self.rate:
            return True
        minute = int(time.time() // 60)
        with self.lock:
            m, c = self.windows.get(addr, (minute, 0))
            if m != minute:
                m, c = minute, 0
            c += 1
            self.windows[addr] = (m, c)
            if len(self.windows) > 10000:
                self.windows = {addr: (m, c)}
            return c <= self.rate

    def take_fail(self, path):
        """The failure to inject into this request, or None (a counted rule ends by itself)."""
        with self.lock:
            f = self.fail
            if f["mode"] in (None, "token") or not path.startswith(f["path"]):
                return None
            out = {"mode": f["mode"], "hang_ms": f["hang_ms"], "status": f["status"], "gen": self.gen}
            if f["count"] is not None:
                f["count"] -= 1
                if f["count"] <= 0:
                    f["mode"], f["count"] = None, None
            return out

    def control(self, cmd):
        with self.lock:
            self.gen += 1
            if cmd.get("reset"):
                self.fail = {"mode": None, "count": None, "hang_ms": 30000, "status": 500, "path": "/api/"}
                self.auth.refuse = False
                self.windows = {}
                self.reset_stats()
            if "fail" in cmd:
                mode = cmd["fail"]
                mode = None if mode in (None, "", "none") else str(mode)
                if mode not in FAIL_MODES:
                    raise ValueError("fail must be one of hang, 500, token or null")
                self.fail["mode"] = mode
                self.fail["count"] = cmd.get("count")
                self.auth.refuse = mode == "token"
            for k in ("hang_ms", "status", "path"):
                if k in cmd:
                    self.fail[k] = cmd[k]
            if "rate_per_minute" in cmd:
                self.rate = int(cmd["rate_per_minute"])
                self.windows = {}
            if "page_max" in cmd:
                self.page_max = int(cmd["page_max"])
            if "token_ttl" in cmd:
                self.auth.ttl = int(cmd["token_ttl"])
            return {"fail": self.fail["mode"], "count": self.fail["count"], "hang_ms": self.fail["hang_ms"],
                    "status": self.fail["status"], "path": self.fail["path"], "rate_per_minute": self.rate,
                    "page_max": self.page_max, "token_ttl": self.auth.ttl}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 300                      # an idle kept-alive connection is closed after this     # headers and body are two writes: no 40 ms delayed-ACK stall
    server_version = "openimis-sim/1"
    sim = None

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body, ctype="application/json", headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status, REASONS.get(status))
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        if self.path.startswith("/__sim/"):
            return
        with self.sim.lock:
            st = self.sim.stats["status"]
            st[str(status)] = st.get(str(status), 0) + 1

    def _body(self):
        n = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise ValueError("chunked bodies are not accepted")
        try:
            n = int(n or 0)
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            raise ValueError("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def _dispatch(self, method):
        sim = self.sim
        url = urlsplit(self.path)
        path = url.path
        try:
            body = self._body()
        except ValueError as e:
            return self._send(400, {"errors": [{"message": str(e)}]})
        if path.startswith("/__sim/"):
            return self._control(method, path, body)
        with sim.lock:
            sim.stats["requests"] += 1
            sim.stats["in_flight"] += 1
            sim.stats["max_in_flight"] = max(sim.stats["max_in_flight"], sim.stats["in_flight"])
        try:
            self._api(method, path, url.query, body)
        finally:
            with sim.lock:
                sim.stats["in_flight"] -= 1

    def _api(self, method, path, query, body):
        sim = self.sim
        if path.startswith("/api/") and not sim.rate_ok(self.client_address[0]):
            sim.count("rate_limited")
            return self._send(429, {"detail": "Rate limit exceeded"})
        fail = sim.take_fail(path)
        if fail and fail["mode"] == "hang":
            sim.count("hung")
            deadline = time.time() + fail["hang_ms"] / 1000.0
            while time.time() < deadline and sim.gen == fail["gen"]:
                time.sleep(0.05)
        elif fail and fail["mode"] == "500":
            sim.count("failed")
            return self._send(int(fail["status"]), b"<h1>Server Error (500)</h1>", "text/html")
        if path == "/api/graphql":
            return self._graphql(method, query, body)
        if path == payments.PATH:
            return self._payment_status(method, body)
        if path.startswith(fhir.BASE):
            sim.count("fhir")
            status, out, headers = fhir.handle(self, method, path, query, body)
            return self._send(status, out, headers.pop("Content-Type", "application/json"), headers)
        self._send(404, b"<h1>Not Found</h1>", "text/html")

    def _payment_status(self, method, body):
        sim = self.sim
        if method != "POST":
            return self._send(405, {"detail": 'Method "%s" not allowed.' % method}, headers={"Allow": "POST"})
        user, err = self.user_from_headers()
        static = sim.api_token and self.headers.get("Authorization", "") == "Bearer " + sim.api_token
        if user is None and not static:
            sim.count("unauthorized")
            return self._send(401, {"detail": err or "Authentication credentials were not provided."})
        try:
            req = json.loads(body or b"null")
        except ValueError:
            return self._send(400, {"errors": [{"message": "JSON parse error"}]})
        status, out = sim.payments.post(req)
        self._send(status, out)

    def user_from_headers(self):
        """-> (username or None, error message or None): Bearer header (case-insensitive prefix),
        else the JWT cookie, else anonymous. 'JWT <token>' is not a Bearer header."""
        auth = self.headers.get("Authorization", "")
        token = None
        parts = auth.split()
        if len(parts) == 2 and parts[0].lower() == "bearer":
            token = parts[1]
        else:
            for c in self.headers.get("Cookie", "").split(";"):
                k, _, v = c.strip().partition("=")
                if k == "JWT" and v:
                    token = v
        if token is None:
            return None, None
        try:
            return self.sim.auth.decode(token)["username"], None
        except ValueError as e:
            return None, str(e)

    def _graphql(self, method, query, body):
        sim = self.sim
        sim.count("graphql")
        if method == "GET":
            qs = parse_qs(query)
            req = {"query": (qs.get("query") or [None])[0], "operationName": (qs.get("operationName") or [None])[0]}
            try:
                req["variables"] = json.loads(qs["variables"][0]) if "variables" in qs else None
            except ValueError:
                return self._send(400, {"errors": [{"message": "Variables are invalid JSON."}]})
        elif method == "POST":
            ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if ctype == "application/graphql":
                req = {"query": body.decode("utf-8", "replace")}
            else:
                try:
                    req = json.loads(body or b"{}")
                except ValueError:
                    return self._send(400, {"errors": [{"message": "POST body sent invalid JSON."}]})
                if isinstance(req, list):
                    return self._send(400, {"errors": [{"message": "Batch GraphQL requests are not enabled."}]})
                if not isinstance(req, dict):
                    return self._send(400, {"errors": [{"message": "POST body sent invalid JSON."}]})
        else:
            return self._send(405, {"errors": [{"message": "GraphQL only supports GET and POST requests."}]},
                              headers={"Allow": "GET, POST"})
        q = req.get("query")
        if method == "GET" and isinstance(q, str) and q.lstrip().startswith("mutation"):
            return self._send(405, {"errors": [{"message": "Can only perform a mutation operation from a POST "
                                                           "request."}]}, headers={"Allow": "POST"})
        user, err = self.user_from_headers()
        if err:
            sim.count("unauthorized")
            return self._send(401, {"errors": [{"message": err}]})
        ctx = execute.Ctx(sim.store, user, sim.page_max, sim.auth, sim.cache)
        status, out = execute.execute(ctx, q, req.get("variables"), req.get("operationName"))
        with sim.lock:
            roots = sim.stats["roots"]
            for r in ctx.roots_used:
                roots[r] = roots.get(r, 0) + 1
            if "tokenAuth" in ctx.roots_used:
                sim.stats["login"] += 1
            qs_ = sim.stats["queries"]
            qs_.append({"query": q[:4000] if isinstance(q, str) else None, "variables": req.get("variables"),
                        "status": status})
            del qs_[:-100]
        headers = {}
        if ctx.set_cookie:
            headers["Set-Cookie"] = "JWT=%s; HttpOnly; Max-Age=%d; Path=/; SameSite=Lax" % (ctx.set_cookie,
                                                                                              sim.auth.ttl)
        self._send(status, out, headers=headers)

    def _control(self, method, path, body):
        sim = self.sim
        try:
            cmd = json.loads(body or b"{}") if method == "POST" else {}
            if not isinstance(cmd, dict):
                raise ValueError("a JSON object is expected")
            if path == "/__sim/control" and method == "POST":
                return self._send(200, sim.control(cmd))
            if path == "/__sim/mutate" and method == "POST":
                cmds = cmd.get("changes") if isinstance(cmd.get("changes"), list) else [cmd]
                uuids = [sim.store.mutate(c) for c in cmds]
                return self._send(200, {"uuids": uuids, "version": sim.store.version})
            if path == "/__sim/payment_status":
                if method == "POST" and cmd.get("reset"):
                    sim.payments.reset()
                q = parse_qs(urlsplit(self.path).query)
                return self._send(200, sim.payments.view((q.get("payroll_id") or [None])[0],
                                                         (q.get("benefits") or ["1"])[0] != "0"))
            if path == "/__sim/stats" and method == "GET":
                with sim.lock:
                    out = json.loads(json.dumps(sim.stats))
                out["records"] = sim.store.counts()
                out["tokens_issued"] = sim.auth.issued
                return self._send(200, out)
        except (ValueError, KeyError, TypeError) as e:
            return self._send(400, {"error": str(e)})
        self._send(404, {"error": "unknown control endpoint"})


def load_users(path):
    if not path:
        return {"Admin": "admin123"}
    with open(path, "r", encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, dict):
        return {str(k): str(v) for k, v in data.items()}
    return {str(u["username"]): str(u["password"]) for u in data}


def main(argv=None):
    ap = argparse.ArgumentParser(description="openIMIS simulator (GraphQL + FHIR R4 subset)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--data", required=True, help="JSONL records (igw gen); - reads stdin")
    ap.add_argument("--users", help="JSON {username: password} or [{username, password}]; default Admin/admin123")
    ap.add_argument("--rate-per-minute", type=int, default=150, help="per client address; 0 = no limit")
    ap.add_argument("--page-max", type=int, default=100, help="RELAY_CONNECTION_MAX_LIMIT")
    ap.add_argument("--token-ttl", type=int, default=86400, help="JWT lifetime in seconds")
    ap.add_argument("--fail", choices=["hang", "500", "token"], help="start failing this way")
    ap.add_argument("--hang-ms", type=int, default=30000, help="how long --fail hang holds a request")
    ap.add_argument("--api-token", help="a static bearer token accepted on /api/payroll/payment_status/")
    a = ap.parse_args(argv)
    store = Store()
    t0 = time.time()
    try:
        store.load_jsonl(a.data)
        users = load_users(a.users)
    except (OSError, LoadError, ValueError, KeyError) as e:
        print("openimis-sim: %s" % e, file=sys.stderr)
        return 2
    sim = Sim(store, Auth(users, a.token_ttl), a.page_max, a.rate_per_minute, a.fail, a.hang_ms)
    sim.api_token = a.api_token
    Handler.sim = sim
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.daemon_threads = True
    srv.request_queue_size = 128
    print("openimis-sim: %s loaded in %.2fs" % (json.dumps(store.counts()), time.time() - t0), file=sys.stderr,
          flush=True)
    print("ready %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
