# SPDX-License-Identifier: Apache-2.0
"""A real HTTP sink for delivery tests (Python 3 standard library only).

    python3 sink.py --port N --log FILE [--host 127.0.0.1]

Records every request (method, path, headers, body, the status it answered) as one NDJSON line
in FILE and in memory, and answers 200 unless a rule says otherwise. Rules are set with
POST /_control (JSON); GET /_received returns the records. See tests/sim/README.md.

With --port 0 the sink picks a free port. In every case it prints "READY <port>" on stdout
once it is listening.
"""
import argparse
import base64
import json
import os
import random
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class State:
    def __init__(self, log_path):
        self.lock = threading.Lock()
        self.rules = []
        self.records = []
        self.delay_ms = 0
        self.seq = 0
        self.rng = random.Random(int(os.environ.get("IGW_SINK_SEED", "0")) or None)
        self.log = open(log_path, "a", encoding="utf-8") if log_path else None

    def reset(self, keep_records=False):
        with self.lock:
            self.rules = []
            self.delay_ms = 0
            if not keep_records:
                self.records = []

    def add_rule(self, rule):
        with self.lock:
            self.rules.append(rule)

    def match(self, path, body):
        """Returns the first rule that applies to this request (and uses one of its count)."""
        with self.lock:
            for rule in self.rules:
                if rule.get("count") is not None and rule["count"] <= 0:
                    continue
                if "path" in rule and not path.startswith(rule["path"]):
                    continue
                if "match" in rule and rule["match"].encode() not in body:
                    continue
                if "ratio" in rule and self.rng.random() >= float(rule["ratio"]):
                    continue
                if rule.get("count") is not None:
                    rule["count"] -= 1
                return dict(rule)
        return None

    def record(self, rec):
        with self.lock:
            self.seq += 1
            rec["seq"] = self.seq
            self.records.append(rec)
            if self.log:
                self.log.write(json.dumps(rec) + "\n")
                self.log.flush()

    def snapshot(self, path=None):
        with self.lock:
            return [r for r in self.records if path is None or r["path"].startswith(path)]


def control_rules(cmd):
    """Turns a /_control command into rules (see README)."""
    rules = []
    base = {k: cmd[k] for k in ("path", "match") if k in cmd}
    if cmd.get("fail"):
        r = dict(base, count=int(cmd["fail"]), status=int(cmd.get("status", 503)))
        if "retry_after" in cmd:
            r["retry_after"] = cmd["retry_after"]
        if "hang_ms" in cmd:
            r["hang_ms"] = int(cmd["hang_ms"])
        rules.append(r)
    elif cmd.get("hang_ms"):
        rules.append(dict(base, count=int(cmd.get("hang", 1)), hang_ms=int(cmd["hang_ms"])))
    if cmd.get("status_4xx"):
        count = cmd.get("count")
        rules.append(dict(base, count=None if count is None else int(count),
                          status=int(cmd["status_4xx"]),
                          body=cmd.get("body", '{"error":"rejected by sink"}')))
    if cmd.get("flaky"):  # a share of every request fails: {"flaky": 0.3, "status": 503}
        rules.append(dict(base, count=None, ratio=float(cmd["flaky"]),
                          status=int(cmd.get("status", 503))))
    if cmd.get("stall"):  # a share of every request hangs, then 200: {"stall": 0.01, ...}
        rules.insert(0, dict(base, count=None, ratio=float(cmd["stall"]),
                             hang_ms=int(cmd.get("stall_ms", 1000))))
    for r in cmd.get("rules", []):
        rules.append(dict(r))
    return rules


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the gateway's curl expects
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server_version = "igw-sink/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()  # here, not in the accepting thread
        super().setup()

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body=b"", headers=None):
        if isinstance(body, str):
            body = body.encode()
        try:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _control(self, body):
        state = self.server.state
        try:
            cmd = json.loads(body or b"{}")
        except ValueError:
            return self._send(400, '{"error":"bad json"}')
        if cmd.get("reset"):
            state.reset(keep_records=bool(cmd.get("keep_records")))
        if "delay_ms" in cmd:
            state.delay_ms = int(cmd["delay_ms"])
        for r in control_rules(cmd):
            state.add_rule(r)
        return self._send(200, json.dumps({"rules": state.rules}))

    def _received(self):
        q = parse_qs(urlparse(self.path).query)
        recs = self.server.state.snapshot(q.get("path", [None])[0])
        return self._send(200, json.dumps(recs))

    def _deliver(self, body):
        state = self.server.state
        t0 = time.time()
        path = urlparse(self.path).path
        rule = state.match(path, body)
        status = 200
        headers = {}
        reply = '{"ok":true}'
        if rule:
            if rule.get("hang_ms"):
                time.sleep(rule["hang_ms"] / 1000.0)
            status = int(rule.get("status", 200))
            reply = rule.get("body", reply if status < 300 else '{"error":"sink failure"}')
            if "retry_after" in rule:
                headers["Retry-After"] = rule["retry_after"]
        if state.delay_ms:
            time.sleep(state.delay_ms / 1000.0)
        try:
            text, b64 = body.decode("utf-8"), None
        except UnicodeDecodeError:
            text, b64 = None, base64.b64encode(body).decode()
        rec = {"t": t0, "method": self.command, "path": path,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": text, "status": status}
        if b64 is not None:
            rec["body_b64"] = b64
        state.record(rec)
        self._send(status, reply, headers)

    def _dispatch(self):
        body = self._body()
        path = urlparse(self.path).path
        if path == "/_control" and self.command == "POST":
            return self._control(body)
        if path == "/_received" and self.command == "GET":
            return self._received()
        return self._deliver(body)

    do_POST = do_PUT = do_PATCH = do_GET = do_DELETE = _dispatch


class Sink:
    """Runs sink.py as a subprocess for Python tests:

        sink = Sink(log_path); sink.control(fail=3, status=503); sink.received("/in"); sink.stop()
    """

    def __init__(self, log_path=None, port=0, tls=None):
        import subprocess
        cmd = [sys.executable, os.path.abspath(__file__), "--port", str(port)]
        if log_path:
            cmd += ["--log", log_path]
        if tls:
            cmd += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError("sink did not start: %r" % line)
        self.port = int(line.split()[1])
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)
        self.tls = bool(tls)

    def _call(self, method, path, body=None):
        import http.client
        if self.tls:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                               context=ssl._create_unverified_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def control(self, **cmd):
        status, data = self._call("POST", "/_control", json.dumps(cmd).encode())
        if status != 200:
            raise RuntimeError("sink control failed: %s %r" % (status, data))
        return json.loads(data)

    def received(self, path=None):
        q = "/_received" + ("?path=" + path if path else "")
        status, data = self._call("GET", q)
        if status != 200:
            raise RuntimeError("sink /_received failed: %s" % status)
        return json.loads(data)

    def delivered(self, path=None):
        """Records answered with 2xx."""
        return [r for r in self.received(path) if 200 <= r["status"] < 300]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


class Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that vanished (the gateway killed mid-request) is normal here."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", default=None, help="NDJSON file of every request")
    ap.add_argument("--tls-cert", default=None, help="PEM certificate: serve https")
    ap.add_argument("--tls-key", default=None, help="PEM private key for --tls-cert")
    args = ap.parse_args()
    srv = Server((args.host, args.port), Handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    srv.state = State(args.log)
    print("READY %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
