#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A partner's JWKS endpoint for tests: GET /.well-known/jwks.json answers the current contents
of --file (re-read on every request, so a test rotates keys by rewriting it) or 503 while a file
--file.down exists (the JWKS server is down). GET /count answers how many JWKS requests came in
(a test checks that unknown kids do not make igw hammer the partner). Prints "listening PORT"
once it listens. Python standard library only.
Usage: jwks_server.py --file PATH [--port N]"""
import argparse
import http.server
import os
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", required=True)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    lock = threading.Lock()
    count = [0]

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def answer(self, status, body, ctype="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/count":
                with lock:
                    n = count[0]
                self.answer(200, str(n).encode(), "text/plain")
                return
            if self.path != "/.well-known/jwks.json":
                self.answer(404, b'{"error":"not found"}')
                return
            with lock:
                count[0] += 1
            if os.path.exists(args.file + ".down"):
                self.answer(503, b'{"error":"down"}')
                return
            with open(args.file, "rb") as f:
                self.answer(200, f.read())

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), H)
    print("listening %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
