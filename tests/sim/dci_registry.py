#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A DCI (SPDCI 1.0.0) social registry for tests and benchmarks: the external registry igw
searches as openIMIS's DCI client.

Endpoints (under --base, default "", e.g. --base /dci/social):
  POST /registry/sync/search   answered at once: a SearchResponse under a callback header
  POST /registry/search        Response ACK, then an on-search callback POSTed to the request's
                               header.sender_uri (signed; retried --retries times, 0.5 s apart)
  POST /registry/subscribe     ACK, then on-subscribe (a subscription code per item)
  POST /registry/unsubscribe   ACK, then on-unsubscribe
  POST /registry/txn/status    ACK, then txn/on-status (search transactions it answered)
  GET  /.well-known/jwks.json  its public key (callbacks are signed with it)
Control (tests only, no auth): GET /_received (requests seen, with "sig": true/false/null),
GET /_callbacks (callbacks sent: url, status, attempts), POST /_notify {"records": [...],
"event_type": "..."} sends a notify to every live subscription, POST /_control {"down": true}
makes the DCI endpoints answer 503, {"callback_delay_ms": N} delays callbacks.

The callback address: a sender_uri that ends in a DCI callback path (/registry/on-search ...) is
cut back to its /registry base; any other is taken as that base. Records: --persons N
deterministic DCI Persons (identifier UIN "UIN-<i>", given_name "Given<i>", surname
"Family<i % 50>", sex alternating), queried by idtype-value (identifier_value), predicate
(eq/in on surname, given_name, sex, identifier_value) or expression (every record). Bearer
--token is required on the DCI endpoints when set; --callback-token is sent on callbacks.
--verify-jwks URL verifies inbound signatures (refused with err.signature.invalid).
Prints "READY <port>" once listening. Needs python3-cryptography to sign (else unsigned)."""
import argparse
import http.server
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dci_jws  # noqa: E402

CALLBACK_PATHS = ("/registry/on-search", "/registry/notify", "/registry/on-subscribe",
                  "/registry/on-unsubscribe", "/registry/txn/on-status")


def person(i):
    return {
        "identifier": [{"identifier_type": "UIN", "identifier_value": "UIN-%d" % i}],
        "name": {"given_name": "Given%d" % i, "surname": "Family%d" % (i % 50)},
        "sex": "female" if i % 2 else "male",
        "birth_date": "19%02d-%02d-%02d" % (50 + i % 50, 1 + i % 12, 1 + i % 28),
    }


def attr(rec, name):
    if name in ("identifier_value", "UIN", "id"):
        return rec["identifier"][0]["identifier_value"]
    if name in ("surname", "family_name", "last_name"):
        return rec["name"]["surname"]
    if name in ("given_name", "first_name"):
        return rec["name"]["given_name"]
    return rec.get(name)


def matches(rec, qtype, query):
    if isinstance(query, list):  # a predicate list, whatever query_type says (drift 7.2)
        ok = True
        for p in query:
            e = p.get("expression1", {})
            v, op, want = attr(rec, e.get("attribute_name")), e.get("operator"), e.get("attribute_value")
            hit = (v in want) if op == "in" and isinstance(want, list) else v == want
            ok = (ok or hit) if p.get("condition") == "or" else (ok and hit)
        return ok
    if qtype == "idtype-value" and isinstance(query, dict):
        return attr(rec, "identifier_value") == str(query.get("value"))
    return True  # expression: every record (the simulator has no query engine)


def cb_base(sender_uri):
    u = sender_uri.rstrip("/")
    for p in CALLBACK_PATHS:
        if u.endswith(p):
            return u[: -len(p)] + "/registry"
    return u if u.endswith("/registry") else u + "/registry"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--base", default="")
    ap.add_argument("--persons", type=int, default=100)
    ap.add_argument("--token", default="")
    ap.add_argument("--callback-token", default="")
    ap.add_argument("--key", default=None, help="PEM private key (default: a generated RSA key)")
    ap.add_argument("--kid", default="registry-sim-1")
    ap.add_argument("--sender-id", default="registry.sim")
    ap.add_argument("--retries", type=int, default=5)
    ap.add_argument("--verify-jwks", default=None)
    ap.add_argument("--quiet-records", action="store_true", help="do not keep /_received bodies")
    args = ap.parse_args()

    signer = dci_jws.Signer(args.key, args.kid) if dci_jws.HAVE_CRYPTO else None
    records = [person(i) for i in range(args.persons)]
    lock = threading.Lock()
    st = {"received": [], "callbacks": [], "subs": {}, "txns": {}, "down": False, "delay": 0}
    jwks_cache = {}

    def envelope(header, message):
        if signer is not None:
            return signer.envelope(header, message)
        return dci_jws.plain_envelope(header, message)

    def cb_header(action, req_header, count):
        return {"version": "1.0.0", "message_id": dci_jws.new_id(), "message_ts": dci_jws.now_ts(),
                "action": action, "status": "succ", "total_count": count, "completed_count": count,
                "sender_id": args.sender_id, "receiver_id": req_header.get("sender_id", "")}

    def search_response(msg):
        out = []
        items = msg.get("search_request", [])
        if isinstance(items, dict):
            items = [items]
        for it in items:
            c = it.get("search_criteria", {})
            hits = [r for r in records if matches(r, c.get("query_type"), c.get("query"))]
            pg = c.get("pagination") or {}
            size = int(pg.get("page_size", 100) or 100)
            num = int(pg.get("page_number", 1) or 1)
            page = hits[(num - 1) * size: num * size]
            out.append({"reference_id": it.get("reference_id"), "timestamp": dci_jws.now_ts(),
                        "status": "succ",
                        "data": {"version": "1.0.0", "reg_type": c.get("reg_type", "ns:org:RegistryType:Social"),
                                 "reg_record_type": c.get("reg_record_type", "Person"), "reg_records": page},
                        "pagination": {"page_size": size, "page_number": num, "total_count": len(hits)},
                        "locale": it.get("locale", "eng")})
        return {"transaction_id": msg.get("transaction_id"), "correlation_id": dci_jws.new_id(),
                "search_response": out}

    def post_callback(url, body):
        rec = {"url": url, "status": None, "attempts": 0}
        with lock:
            st["callbacks"].append(rec)
        for _ in range(max(1, args.retries)):
            rec["attempts"] += 1
            req = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            if args.callback_token:
                req.add_header("Authorization", "Bearer " + args.callback_token)
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    rec["status"], rec["answer"] = r.status, r.read().decode(errors="replace")
            except urllib.error.HTTPError as e:
                rec["status"], rec["answer"] = e.code, e.read().decode(errors="replace")
            except OSError as e:
                rec["status"], rec["answer"] = 0, str(e)
            if rec["status"] and rec["status"] < 500:
                return  # delivered, or refused for good (4xx): no point retrying
            time.sleep(0.5)

    def later(fn):
        def run():
            if st["delay"]:
                time.sleep(st["delay"] / 1000.0)
            fn()
        threading.Thread(target=run, daemon=True).start()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, body, ctype="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/_received":
                with lock:
                    self.answer(200, json.dumps(st["received"]).encode())
            elif self.path == "/_callbacks":
                with lock:
                    self.answer(200, json.dumps(st["callbacks"]).encode())
            elif self.path == args.base + "/.well-known/jwks.json" and signer is not None:
                self.answer(200, json.dumps(signer.jwks()).encode())
            else:
                self.answer(404, json.dumps({"errors": [{"code": "err.request.not_found",
                                                         "message": "no such endpoint"}]}).encode())

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0") or 0)
            if n > (8 << 20):
                self.answer(413, b'{"errors":[{"code":"err.request.bad","message":"too large"}]}')
                return
            raw = self.rfile.read(n)
            if self.path == "/_control":
                c = json.loads(raw or b"{}")
                st["down"] = bool(c.get("down", st["down"]))
                st["delay"] = int(c.get("callback_delay_ms", st["delay"]))
                self.answer(200, b'{"ok":true}')
                return
            if self.path == "/_notify":
                self.notify(json.loads(raw or b"{}"))
                return
            if not self.path.startswith(args.base + "/registry/"):
                self.answer(404, b'{"errors":[{"code":"err.request.not_found","message":"no such endpoint"}]}')
                return
            op = self.path[len(args.base):]
            if st["down"]:
                self.answer(503, b'{"errors":[{"code":"err.service.unavailable","message":"down"}]}')
                return
            if args.token and self.headers.get("Authorization") != "Bearer " + args.token:
                self.answer(401, b'{"errors":[{"code":"err.request.unauthorized","message":"bearer token"}]}')
                return
            try:
                env = json.loads(raw)
                hdr, msg = env["header"], env.get("message", {})
                mid = hdr["message_id"]
            except (ValueError, KeyError, TypeError):
                self.answer(400, dci_jws.response("ERR", "", "err.request.bad", "not a DCI envelope"))
                return
            sig = None
            if args.verify_jwks:
                if "jwks" not in jwks_cache:
                    jwks_cache["jwks"] = dci_jws.fetch_jwks(args.verify_jwks)
                sig, why = dci_jws.verify(env, jwks_cache["jwks"])
                if sig is False:
                    self.answer(401, dci_jws.response("ERR", mid, why, "signature refused"))
                    return
            with lock:
                st["received"].append({"path": op, "sig": sig, "signed": bool(env.get("signature")),
                                       "content_type": self.headers.get("Content-Type"),
                                       "envelope": None if args.quiet_records else env})
            self.dispatch(op, hdr, msg, mid)

        def dispatch(self, op, hdr, msg, mid):
            if op == "/registry/sync/search":
                resp = search_response(msg)
                body = envelope(cb_header("on-search", hdr, len(resp["search_response"])), resp)
                self.answer(200, body)
                return
            uri = hdr.get("sender_uri") or ""
            if op not in ("/registry/search", "/registry/subscribe", "/registry/unsubscribe",
                          "/registry/txn/status"):
                self.answer(404, dci_jws.response("ERR", mid, "err.request.not_found", op))
                return
            if not uri.startswith("http"):
                self.answer(400, dci_jws.response("ERR", mid, "err.sender_uri.invalid", "sender_uri"))
                return
            base = cb_base(uri)
            self.answer(200, dci_jws.response("ACK", mid))
            if op == "/registry/search":
                resp = search_response(msg)
                with lock:
                    st["txns"][msg.get("transaction_id")] = resp
                body = envelope(cb_header("on-search", hdr, len(resp["search_response"])), resp)
                later(lambda: post_callback(base + "/on-search", body))
            elif op == "/registry/subscribe":
                subs = []
                for it in msg.get("subscribe_request", []):
                    code = "sub-" + dci_jws.new_id()[:16]
                    c = it.get("subscribe_criteria", {})
                    with lock:
                        st["subs"][code] = {"base": base, "criteria": c, "txn": msg.get("transaction_id"),
                                            "end": (c.get("frequency") or {}).get("end_time"),
                                            "receiver": hdr.get("sender_id", "")}
                    subs.append({"reference_id": it.get("reference_id"), "timestamp": dci_jws.now_ts(),
                                 "status": "succ", "subscriptions": [{
                                     "code": code, "status": "subscribe", "timestamp": dci_jws.now_ts(),
                                     "reg_event_type": c.get("reg_event_type"),
                                     "notify_record_type": c.get("notify_record_type")}]})
                resp = {"transaction_id": msg.get("transaction_id"), "correlation_id": dci_jws.new_id(),
                        "subscribe_response": subs}
                body = envelope(cb_header("on-subscribe", hdr, len(subs)), resp)
                later(lambda: post_callback(base + "/on-subscribe", body))
            elif op == "/registry/unsubscribe":
                codes = msg.get("subscription_codes", [])
                res = []
                for c in codes:
                    with lock:
                        known = st["subs"].pop(c, None) is not None
                    res.append({"code": c, "status": "unsubscribe" if known else "rjct"})
                resp = {"transaction_id": msg.get("transaction_id"), "correlation_id": dci_jws.new_id(),
                        "timestamp": dci_jws.now_ts(), "status": "succ", "subscription_status": res}
                body = envelope(cb_header("on-unsubscribe", hdr, len(res)), resp)
                later(lambda: post_callback(base + "/on-unsubscribe", body))
            else:
                q = msg.get("txnstatus_request", {})
                with lock:
                    found = st["txns"].get(q.get("attribute_value"))
                resp = {"transaction_id": msg.get("transaction_id"), "correlation_id": dci_jws.new_id(),
                        "txnstatus_response": {"txn_type": q.get("txn_type", "search"),
                                               "txn_status": found or {
                                                   "transaction_id": q.get("attribute_value"),
                                                   "correlation_id": "", "search_response": []}}}
                h = cb_header("txn-on-status", hdr, 1)
                if found is None:
                    h["status"], h["status_reason_message"] = "rjct", "unknown transaction"
                body = envelope(h, resp)
                later(lambda: post_callback(base + "/txn/on-status", body))

        def notify(self, c):
            sent = 0
            now = dci_jws.now_ts()
            with lock:
                subs = list(st["subs"].items())
            for code, s in subs:
                if s["end"] and s["end"] < now:
                    continue  # expired subscription: nothing sent
                msg = {"transaction_id": s["txn"], "notify_event": [{
                    "reference_id": dci_jws.new_id(), "timestamp": now,
                    "data": {"version": "1.0.0", "reg_type": "ns:org:RegistryType:Social",
                             "reg_event_type": c.get("event_type", "REGISTER"),
                             "reg_record_type": "Person", "reg_records": c.get("records", [])}}]}
                h = cb_header("notify", {"sender_id": s["receiver"]}, 1)
                body = envelope(h, msg)
                post_callback(s["base"] + "/notify", body)
                sent += 1
            self.answer(200, json.dumps({"sent": sent}).encode())

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
