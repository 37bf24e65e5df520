#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An SP-MIS callback receiver (DCI SPDCI 1.0.0) for tests and benchmarks: what a DCI client
(an SP-MIS such as openIMIS) serves for a registry's callbacks.

Endpoints (under --base, default ""): POST /registry/on-search, /registry/notify,
/registry/on-subscribe, /registry/on-unsubscribe, /registry/txn/on-status. Each checks the
bearer token (--token; 401 HttpErrorResponse err.request.unauthorized), the envelope (a JSON
object with a callback header: message_id, message_ts with a zone, action matching the path,
status one of rcvd/pdng/succ/rjct; 400 ERR err.request.bad otherwise), the signature when
--jwks-url is given (401 err.signature.missing / err.signature.invalid), a repeated
(sender_id, message_id) (200 NACK rjct.message_id.duplicate), then records the callback and
answers 200 with a Response ACK. GET /_received lists the callbacks accepted (path, envelope,
signature verdict); GET /_count answers how many; POST /_control {"fail": N, "status": 503}
makes the next N callbacks fail (a receiver down for a while).
Prints "READY <port>" once listening. Python standard library (+ python3-cryptography to verify).
Usage: spmis_receiver.py [--port N] [--base /dci/spmis] [--token T] [--jwks-url URL]"""
import argparse
import http.server
import json
import os
import re
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dci_jws  # noqa: E402

PATHS = {"/registry/on-search": ("on-search", "search"), "/registry/notify": ("notify",),
         "/registry/on-subscribe": ("on-subscribe", "subscribe"),
         "/registry/on-unsubscribe": ("on-unsubscribe", "unsubscribe"),
         "/registry/txn/on-status": ("txn-on-status", "txn/on-status", "on-status")}
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d(:?\d\d)?)$")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--base", default="")
    ap.add_argument("--token", default="")
    ap.add_argument("--jwks-url", default=None)
    ap.add_argument("--keep", type=int, default=100000, help="callbacks kept for /_received")
    args = ap.parse_args()
    lock = threading.Lock()
    st = {"received": [], "count": 0, "seen": set(), "fail": 0, "status": 503}
    jwks = {}

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, body):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def err(self, status, code, msg):
            self.answer(status, json.dumps({"errors": [{"code": code, "message": msg}]}).encode())

        def do_GET(self):
            with lock:
                if self.path == "/_received":
                    self.answer(200, json.dumps(st["received"]).encode())
                elif self.path == "/_count":
                    self.answer(200, str(st["count"]).encode())
                else:
                    self.err(404, "err.request.not_found", "no such endpoint")

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0") or 0)
            if n > (16 << 20):
                self.err(413, "err.request.bad", "too large")
                return
            raw = self.rfile.read(n)
            if self.path == "/_control":
                c = json.loads(raw or b"{}")
                with lock:
                    st["fail"] = int(c.get("fail", 0))
                    st["status"] = int(c.get("status", 503))
                self.answer(200, b'{"ok":true}')
                return
            op = self.path[len(args.base):] if self.path.startswith(args.base) else ""
            if op not in PATHS:
                self.err(404, "err.request.not_found", "no such endpoint")
                return
            with lock:
                if st["fail"] > 0:
                    st["fail"] -= 1
                    self.err(st["status"], "err.service.unavailable", "down for a while")
                    return
            if args.token and self.headers.get("Authorization") != "Bearer " + args.token:
                self.err(401, "err.request.unauthorized", "bearer token")
                return
            try:
                env = json.loads(raw)
                hdr = env["header"]
                mid = hdr["message_id"]
            except (ValueError, KeyError, TypeError):
                self.answer(400, dci_jws.response("ERR", "", "err.request.bad", "not a DCI envelope"))
                return
            bad = None
            if not isinstance(hdr.get("message_ts"), str) or not TS.match(hdr["message_ts"]):
                bad = "header.message_ts"
            elif hdr.get("action") not in PATHS[op]:
                bad = "header.action"
            elif hdr.get("status") not in ("rcvd", "pdng", "succ", "rjct"):
                bad = "header.status"
            if bad:
                self.answer(400, dci_jws.response("ERR", mid, "err.request.bad", bad + ": invalid"))
                return
            sig = None
            if args.jwks_url:
                if "k" not in jwks:
                    jwks["k"] = dci_jws.fetch_jwks(args.jwks_url)
                sig, why = dci_jws.verify(env, jwks["k"])
                if sig is False and why == "err.signature.invalid":
                    jwks["k"] = dci_jws.fetch_jwks(args.jwks_url)  # a rotation: fetch once more
                    sig, why = dci_jws.verify(env, jwks["k"])
                if sig is False:
                    self.err(401, why, "signature refused")
                    return
            key = (hdr.get("sender_id", ""), mid)
            with lock:
                if key in st["seen"]:
                    dup = True
                else:
                    dup = False
                    st["seen"].add(key)
                    st["count"] += 1
                    if len(st["received"]) < args.keep:
                        st["received"].append({"path": op, "sig": sig, "envelope": env})
            if dup:
                self.answer(200, dci_jws.response("NACK", mid, "rjct.message_id.duplicate", "seen"))
            else:
                self.answer(200, dci_jws.response("ACK", mid))

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), H)
    srv.daemon_threads = True
    print("READY %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
