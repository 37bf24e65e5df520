#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A G2P Connect payment system (disbursement API 1.0.0) for tests and benchmarks: the payment
system igw disburses to. Python 3 standard library (+ python3-cryptography to sign/verify).

    python3 g2p_payments.py [--port 0] [--base /g2p] [--state FILE] [--token T]
        [--callback-url URL] [--callback-token T] [--verify-jwks URL] [--key PEM] [--kid K]
        [--stage-delay-ms 200] [--ack-delay-ms 0] [--stages pdng] [--reject-rate 0] [--dup-rate 0] [--seed 1]
        [--limit 1000000.00] [--max-batch 10000] [--callback-give-up-s 600] [--callback-batch 0]

Endpoints (under --base):
  POST /disburse                 async: checks the envelope (header.action "disburse",
                                 message.transaction_id, 1..--max-batch disbursements) and answers
                                 the ACK at once (ERR with the spec's rjct.* code otherwise); then
                                 signed on-disburse callbacks, one per stage per transaction
                                 (or per --callback-batch statuses of it): each
                                 --stages status (default "pdng"), then the final succ/rjct,
                                 --stage-delay-ms apart
  POST /disburse/sync/disburse   the same, answered at once with the final DisburseResponse
  POST /disburse/txn/status      ACK, then txn/on-status (TxnStatusResponse) to the callback base
  POST /disburse/sync/txn/status answered at once; attribute_type transaction_id or
                                 reference_id_list; the statuses as they stand now
  GET  /.well-known/jwks.json    its public key (callbacks are signed with it)

Callbacks go to --callback-url when given, else to the request's header.sender_uri (a URI
ending in /on-disburse is taken as is, any other gets /on-disburse appended; txn/on-status goes
to the same base + /disburse/txn/on-status). They carry --callback-token as a bearer token and
are retried (0.5 s doubling to 5 s) until a 2xx or a 4xx, for --callback-give-up-s.

Per disbursement: the amount must match ^\\d{1,13}\\.\\d{1,2}$ (rjct.amount.invalid), payer_fa and
payee_fa id-type:id@provider (rjct.payer_fa.invalid / rjct.payee_fa.invalid), currency_code an
ISO 4217 code (rjct.currency_code.invalid). Rules then reject: a payee account ending in "13"
(rjct.payee_fa.invalid, "invalid account"), an amount over --limit (rjct.amount.invalid,
"insufficient funds": the spec has no funds code), and a --reject-rate share drawn from the
reference_id's hash (rjct.payee_fa.invalid, "account closed"; the same reference always gets
the same draw). Everything else succeeds. A reference_id already received is never paid again:
the new receipt is counted as a duplicate (rjct.reference_id.duplicate when its amount, payee or
currency differs: a conflict), and the first decision is reported again.

State: every receipt, decision and delivered callback is appended to --state (JSON lines) and
replayed at start, so a restarted simulator keeps what it paid and resumes undelivered callbacks.
Without --key its RSA signing key is kept in --state + ".key.pem" (made at the first start), so
its JWKS stays the same across restarts.

Control (tests only, no auth, outside --base):
  GET  /_stats      {distinct_reference_ids, received, duplicates, conflicts, executed,
                    paid_twice: [refs], by_status, totals_minor {status: {currency: n}},
                    transactions, callbacks {sent, delivered, failed, dup_sent, pending},
                    callback_errors (the last 20 non-2xx answers: url, status, answer),
                    requests {path: n}, sig {ok, bad, none}, down}
  GET  /_payments[?ref=R]  per reference_id: txn, amount, currency, payee_fa, status, reason,
                    executed (times paid), received (times received), txns (every txn it came in)
  GET  /_received   the last 200 requests (path, sig, transaction_id, count)
  POST /_control    {"down_s": N, "mode": "503"|"refuse"}: for N s the API answers 503 (or the
                    port refuses connections; control too) and no callback is sent;
                    {"pause_callbacks": bool}, {"stage_delay_ms": N}, {"ack_delay_ms": N}, {"reject_rate": x},
                    {"dup_rate": x}, {"limit": "123.45"}
Prints "READY <port>" once listening."""
import argparse
import decimal
import hashlib
import heapq
import http.server
import json
import os
import random
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dci_jws  # noqa: E402

AMOUNT_RE = re.compile(r"^\d{1,13}\.\d{1,2}$")
FA_RE = re.compile(r"^[a-zA-Z0-9.:_-]+@[a-zA-Z0-9.-]+$")
ISO4217 = set("AED AFN ALL AMD AOA ARS AUD AZN BAM BDT BGN BHD BIF BOB BRL BWP BYN CAD CDF CHF CLP "
              "CNY COP CRC CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD GBP GEL GHS GMD GNF GTQ HKD "
              "HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KRW KWD KZT LAK LBP "
              "LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK "
              "NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD "
              "SLE SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS "
              "VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL".split())
MAX_BODY = 16 << 20


def minor(amount):
    """'50.5' -> 5050 (exact; amounts have at most 2 decimals)."""
    return int(decimal.Decimal(amount) * 100)


def draw(ref, seed):
    """A value in [0, 1) fixed by reference_id and seed (restart-stable)."""
    h = hashlib.sha256(("%s:%s" % (seed, ref)).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2.0 ** 64


class State:
    """Payments by reference_id, transactions, journal."""

    def __init__(self, path):
        self.lock = threading.RLock()
        self.pay = {}          # ref -> entry
        self.txns = {}         # txn id -> {cb, refs, stage (delivered), n_stages}
        self.counts = {"received": 0, "duplicates": 0, "conflicts": 0}
        self.path = path
        self.f = None
        if path:
            if os.path.exists(path):
                with open(path, "r", encoding="utf-8") as f:
                    for line in f:
                        try:
                            self.apply(json.loads(line))
                        except ValueError:
                            pass  # a torn last line after kill -9
            self.f = open(path, "a", encoding="utf-8")

    def apply(self, ev):
        t = ev["t"]
        if t == "pay":
            e = ev["e"]
            self.pay[e["ref"]] = e
            self.counts["received"] += 1
        elif t == "dup":
            e = self.pay.get(ev["ref"])
            self.counts["received"] += 1
            self.counts["duplicates"] += 1
            if ev.get("conflict"):
                self.counts["conflicts"] += 1
            if e is not None:
                e["received"] += 1
                if ev["txn"] not in e["txns"]:
                    e["txns"].append(ev["txn"])
        elif t == "txn":
            old = self.txns.get(ev["id"])
            self.txns[ev["id"]] = {"cb": ev["cb"], "refs": (old["refs"] if old else []) + ev["refs"],
                                   "stage": 0, "n": ev["n"], "ts": ev["ts"]}
        elif t == "refs":
            self.txns[ev["id"]]["refs"].extend(ev["refs"])
        elif t == "delivered":
            x = self.txns.get(ev["id"])
            if x is not None:
                x["stage"] = max(x["stage"], ev["stage"])
                if x["stage"] >= x["n"]:
                    for r in x["refs"]:
                        if r in self.pay:
                            self.pay[r]["status"] = self.pay[r]["final"]

    def log(self, ev):
        with self.lock:
            self.apply(ev)
            if self.f:
                self.f.write(json.dumps(ev, separators=(",", ":")) + "\n")
                self.f.flush()


def main():
    ap = argparse.ArgumentParser(description="G2P Connect payment system simulator")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--base", default="/g2p")
    ap.add_argument("--state", default=None)
    ap.add_argument("--token", default="")
    ap.add_argument("--callback-url", default=None)
    ap.add_argument("--callback-token", default="")
    ap.add_argument("--verify-jwks", default=None)
    ap.add_argument("--key", default=None)
    ap.add_argument("--kid", default="payments-sim-1")
    ap.add_argument("--sender-id", default="payments.sim")
    ap.add_argument("--stage-delay-ms", type=int, default=200)
    ap.add_argument("--ack-delay-ms", type=int, default=0, help="hold each /disburse this long before the ACK")
    ap.add_argument("--stages", default="pdng", help="comma-separated interim statuses (rcvd,pdng)")
    ap.add_argument("--reject-rate", type=float, default=0.0)
    ap.add_argument("--dup-rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", default="1000000.00")
    ap.add_argument("--max-batch", type=int, default=10000)
    ap.add_argument("--callback-give-up-s", type=float, default=600)
    ap.add_argument("--callback-concurrency", type=int, default=4)
    ap.add_argument("--callback-batch", type=int, default=0, help="statuses per callback (0: the whole transaction)")
    args = ap.parse_args()

    signer = None
    if dci_jws.HAVE_CRYPTO:
        key = args.key
        if key is None and args.state:
            # a restarted payment system keeps its signing key (igw has its JWKS cached)
            key = args.state + ".key.pem"
            if not os.path.exists(key):
                from cryptography.hazmat.primitives import serialization
                pem = dci_jws.Signer(None, args.kid).key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
                with open(key + ".tmp", "wb") as f:
                    f.write(pem)
                os.replace(key + ".tmp", key)
        signer = dci_jws.Signer(key, args.kid)
    state = State(args.state)
    cfg = {"stage_delay_ms": args.stage_delay_ms, "ack_delay_ms": args.ack_delay_ms, "reject_rate": args.reject_rate, "dup_rate": args.dup_rate,
           "limit": decimal.Decimal(args.limit), "pause": False, "down_until": 0.0, "mode": "503"}
    stages = [s for s in args.stages.split(",") if s]
    rng = random.Random(args.seed)
    st = {"requests": {}, "sig": {"ok": 0, "bad": 0, "none": 0}, "received": [], "cb_errors": [],
          "cb": {"sent": 0, "delivered": 0, "failed": 0, "dup_sent": 0, "pending": 0}}
    jwks = {}
    heap = []
    cv = threading.Condition()
    sem = threading.Semaphore(max(1, args.callback_concurrency))

    def envelope(header, message):
        return signer.envelope(header, message) if signer else dci_jws.plain_envelope(header, message)

    def down():
        return time.time() < cfg["down_until"]

    def decide(d):
        """(status, reason code, message) for a valid disbursement."""
        acct = d["payee_fa"].split("@")[0].split(":")[-1]
        if acct.endswith("13"):
            return "rjct", "rjct.payee_fa.invalid", "invalid account"
        if decimal.Decimal(d["amount"]) > cfg["limit"]:
            return "rjct", "rjct.amount.invalid", "insufficient funds"
        if cfg["reject_rate"] and draw(d["reference_id"], args.seed) < cfg["reject_rate"]:
            return "rjct", "rjct.payee_fa.invalid", "account closed"
        return "succ", None, None

    def check(d):
        if not isinstance(d, dict) or not isinstance(d.get("reference_id"), str) or not d["reference_id"]:
            return "rjct.reference_id.invalid", "reference_id"
        if not isinstance(d.get("amount"), str) or not AMOUNT_RE.match(d["amount"]):
            return "rjct.amount.invalid", "amount does not match ^\\d{1,13}\\.\\d{1,2}$"
        if not isinstance(d.get("payer_fa"), str) or not FA_RE.match(d["payer_fa"]):
            return "rjct.payer_fa.invalid", "payer_fa is not id-type:id@provider"
        if not isinstance(d.get("payee_fa"), str) or not FA_RE.match(d["payee_fa"]):
            return "rjct.payee_fa.invalid", "payee_fa is not id-type:id@provider"
        if d.get("currency_code") not in ISO4217:
            return "rjct.currency_code.invalid", "currency_code is not ISO 4217"
        return None, None

    def status_item(ref, status=None):
        e = state.pay[ref]
        s = status or e["status"]
        out = {"reference_id": ref, "timestamp": dci_jws.now_ts(), "status": s, "amount": e["amount"],
               "payer_fa": e["payer_fa"], "payee_fa": e["payee_fa"], "currency_code": e["currency"]}
        if s == "rjct" and e["reason"]:
            out["status_reason_code"] = e["reason"]
            out["status_reason_message"] = e["reason_msg"]
        return out

    def receive(txn, items):
        """Records a transaction's disbursements; returns the refs it covers (new or not)."""
        refs = []
        with state.lock:
            for d in items:
                code, why = check(d)
                ref = d.get("reference_id") if isinstance(d, dict) else None
                if not isinstance(ref, str) or not ref:
                    continue  # cannot be reported without a reference
                refs.append(ref)
                old = state.pay.get(ref)
                if old is not None:
                    same = (old["amount"] == d.get("amount") and old["payee_fa"] == d.get("payee_fa")
                            and old["currency"] == d.get("currency_code"))
                    state.log({"t": "dup", "ref": ref, "txn": txn, "conflict": not same})
                    continue
                if code:
                    status, reason, msg = "rjct", code, why
                else:
                    status, reason, msg = decide(d)
                e = {"ref": ref, "txn": txn, "txns": [txn], "amount": d.get("amount"),
                     "currency": d.get("currency_code"), "payer_fa": d.get("payer_fa"),
                     "payee_fa": d.get("payee_fa"), "final": status, "reason": reason, "reason_msg": msg,
                     "status": "rjct" if code else "rcvd", "executed": 1 if status == "succ" else 0, "received": 1,
                     "ts": time.time()}
                state.log({"t": "pay", "e": e})
        return refs

    def cb_url(kind, uri):
        u = (args.callback_url or uri or "").rstrip("/")
        if u.endswith("/on-disburse"):
            u = u[: -len("/on-disburse")]
        return u + ("/on-disburse" if kind == "on-disburse" else "/disburse/txn/on-status")

    def cb_header(action, count):
        return {"version": "1.0.0", "message_id": dci_jws.new_id(), "message_ts": dci_jws.now_ts(),
                "action": action, "status": "succ", "total_count": count, "completed_count": count,
                "sender_id": args.sender_id, "receiver_id": "igw", "is_msg_encrypted": False}

    def post(url, body):
        """True once delivered (2xx); False when refused for good or given up."""
        delay, t0 = 0.5, time.time()
        while True:
            while down() or cfg["pause"]:
                time.sleep(0.2)
            with state.lock:
                st["cb"]["sent"] += 1
            req = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            if args.callback_token:
                req.add_header("Authorization", "Bearer " + args.callback_token)
            code, answer = 0, ""
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    code = r.status
                    r.read()
            except urllib.error.HTTPError as e:
                code, answer = e.code, e.read()[:300].decode("utf-8", "replace")
            except OSError as e:
                code, answer = 0, str(e)[:300]
            if code < 200 or code >= 300:
                with state.lock:
                    st["cb_errors"].append({"url": url, "status": code, "answer": answer})
                    del st["cb_errors"][:-20]
            if 200 <= code < 300:
                with state.lock:
                    st["cb"]["delivered"] += 1
                return True
            if 400 <= code < 500 and code not in (408, 429):
                with state.lock:
                    st["cb"]["failed"] += 1
                return False
            if time.time() - t0 > args.callback_give_up_s:
                with state.lock:
                    st["cb"]["failed"] += 1
                return False
            time.sleep(delay)
            delay = min(5.0, delay * 2)

    def schedule(when, job):
        with cv:
            heapq.heappush(heap, (when, id(job), job))
            st["cb"]["pending"] = len(heap)
            cv.notify()

    def send_stage(txn, stage):
        """Stage 1..n: the interim statuses, then the final one (n = len(stages) + 1)."""
        with state.lock:
            x = state.txns.get(txn)
            if x is None or x["stage"] >= stage:
                return
            final = stage >= x["n"]
            refs = list(dict.fromkeys(x["refs"]))
            for r in refs:
                e = state.pay.get(r)
                if e is not None:
                    e["status"] = e["final"] if final or e["status"] == "rjct" else stages[stage - 1]
            items = [status_item(r) for r in refs if r in state.pay]
            url = x["cb"]
        size = args.callback_batch if args.callback_batch > 0 else max(1, len(items))
        ok = True
        for k in range(0, len(items), size):
            msg = {"transaction_id": txn, "correlation_id": "corr-" + txn,
                   "disbursements_status": items[k:k + size]}
            body = envelope(cb_header("on-disburse", len(msg["disbursements_status"])), msg)
            with sem:
                sent = post(url, body)
                if sent and rng.random() < cfg["dup_rate"]:
                    with state.lock:
                        st["cb"]["dup_sent"] += 1
                    post(url, body)
            ok = ok and sent
        if ok:
            state.log({"t": "delivered", "id": txn, "stage": stage})
        if not final:
            schedule(time.time() + cfg["stage_delay_ms"] / 1000.0, ("stage", txn, stage + 1))

    def worker():
        while True:
            with cv:
                while not heap or heap[0][0] > time.time():
                    cv.wait(0.1 if not heap else max(0.0, min(0.5, heap[0][0] - time.time())))
                _, _, job = heapq.heappop(heap)
                st["cb"]["pending"] = len(heap)
            kind = job[0]
            if kind == "stage":
                threading.Thread(target=send_stage, args=(job[1], job[2]), daemon=True).start()
            else:
                threading.Thread(target=job[1], daemon=True).start()

    threading.Thread(target=worker, daemon=True).start()
    # resume what a previous run had not delivered
    for tid, x in list(state.txns.items()):
        if x["stage"] < x["n"]:
            schedule(time.time() + 0.5, ("stage", tid, x["stage"] + 1))

    def txn_status(q):
        """DisburseResponse for a TxnStatusRequest's txnstatus_request, or None when unknown."""
        typ, val = q.get("attribute_type"), q.get("attribute_value")
        with state.lock:
            if typ == "transaction_id":
                x = state.txns.get(val)
                if x is None:
                    return None
                refs = list(dict.fromkeys(x["refs"]))
            elif typ == "reference_id_list" and isinstance(val, list):
                refs = [r for r in val if r in state.pay]
            else:
                return None
            return {"transaction_id": val if typ == "transaction_id" else "",
                    "disbursements_status": [status_item(r) for r in refs if r in state.pay]}

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, status, body):
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            if u.path == "/_stats":
                return self.answer(200, stats())
            if u.path == "/_payments":
                q = urllib.parse.parse_qs(u.query)
                with state.lock:
                    if "ref" in q:
                        return self.answer(200, {r: state.pay[r] for r in q["ref"] if r in state.pay})
                    return self.answer(200, state.pay)
            if u.path == "/_received":
                with state.lock:
                    return self.answer(200, st["received"][-200:])
            if u.path == args.base + "/.well-known/jwks.json" and signer is not None:
                return self.answer(200, signer.jwks())
            self.answer(404, {"errors": [{"code": "err.request.not_found", "message": "no such endpoint"}]})

        def do_POST(self):
            try:
                n = int(self.headers.get("Content-Length", "0") or 0)
            except ValueError:
                n = -1
            if n < 0 or n > MAX_BODY:
                self.close_connection = True
                return self.answer(413, dci_jws.response("ERR", "", "rjct.total_count.limit_exceeded", "too large"))
            raw = self.rfile.read(n)
            if self.path == "/_control":
                try:
                    return self.answer(200, control(json.loads(raw or b"{}")))
                except (ValueError, TypeError, decimal.InvalidOperation) as e:
                    return self.answer(400, {"error": str(e)})
            if not self.path.startswith(args.base + "/"):
                return self.answer(404, dci_jws.response("ERR", "", "err.request.not_found", "no such endpoint"))
            op = self.path[len(args.base):]
            with state.lock:
                st["requests"][op] = st["requests"].get(op, 0) + 1
            if down():
                return self.answer(503, dci_jws.response("ERR", "", "err.service.unavailable", "down"))
            if args.token and self.headers.get("Authorization") != "Bearer " + args.token:
                return self.answer(401, dci_jws.response("ERR", "", "err.request.unauthorized", "bearer token"))
            try:
                env = json.loads(raw)
                hdr, msg = env["header"], env.get("message")
                mid = hdr["message_id"]
                if not isinstance(msg, dict):
                    raise TypeError("message")
            except (ValueError, KeyError, TypeError):
                return self.answer(400, dci_jws.response("ERR", "", "err.request.bad", "not a G2P envelope"))
            sig = None
            if args.verify_jwks:
                if not env.get("signature"):
                    sig = False
                else:
                    if "k" not in jwks:
                        try:
                            jwks["k"] = dci_jws.fetch_jwks(args.verify_jwks)
                        except (OSError, ValueError):
                            return self.answer(503, dci_jws.response("ERR", mid, "err.service.unavailable",
                                                                     "cannot fetch the sender's JWKS"))
                    sig, _ = dci_jws.verify(env, jwks["k"])
                    if sig is False:
                        jwks.pop("k", None)  # a rotated key: fetch again next time
                with state.lock:
                    st["sig"]["ok" if sig else "bad" if sig is False else "none"] += 1
                if sig is False:
                    return self.answer(401, dci_jws.response("ERR", mid, "err.signature.invalid",
                                                             "signature refused"))
            with state.lock:
                st["received"].append({"path": op, "sig": sig, "transaction_id": msg.get("transaction_id"),
                                       "count": len(msg.get("disbursements") or [])})
                del st["received"][:-1000]
            self.dispatch(op, hdr, msg, mid)

        def dispatch(self, op, hdr, msg, mid):
            if op in ("/disburse", "/disburse/sync/disburse"):
                if hdr.get("action") != "disburse":
                    return self.answer(400, dci_jws.response("ERR", mid, "rjct.action.invalid", "action"))
                txn, items = msg.get("transaction_id"), msg.get("disbursements")
                if not isinstance(txn, str) or not txn or not isinstance(items, list):
                    return self.answer(400, dci_jws.response("ERR", mid, "err.request.bad",
                                                             "transaction_id and disbursements are required"))
                if not items or len(items) > args.max_batch:
                    return self.answer(400, dci_jws.response("ERR", mid, "rjct.total_count.limit_exceeded",
                                                             "1..%d disbursements" % args.max_batch))
                uri = hdr.get("sender_uri") or ""
                if op == "/disburse" and not (args.callback_url or uri.startswith("http")):
                    return self.answer(400, dci_jws.response("ERR", mid, "err.sender_uri.invalid", "sender_uri"))
                if cfg["ack_delay_ms"]:
                    time.sleep(cfg["ack_delay_ms"] / 1000.0)
                refs = receive(txn, items)
                if op == "/disburse/sync/disburse":
                    with state.lock:
                        for r in refs:
                            state.pay[r]["status"] = state.pay[r]["final"]
                        out = {"transaction_id": txn, "correlation_id": "corr-" + txn,
                               "disbursements_status": [status_item(r) for r in dict.fromkeys(refs)]}
                    return self.answer(200, envelope(cb_header("on-disburse", len(refs)), out))
                with state.lock:
                    known = state.txns.get(txn)
                    if known is not None and known["stage"] >= known["n"]:
                        # a re-sent transaction already finished: report its statuses again
                        state.log({"t": "txn", "id": txn, "cb": cb_url("on-disburse", uri), "refs": refs,
                                   "n": len(stages) + 1, "ts": time.time()})
                    elif known is None:
                        state.log({"t": "txn", "id": txn, "cb": cb_url("on-disburse", uri), "refs": refs,
                                   "n": len(stages) + 1, "ts": time.time()})
                    else:
                        state.log({"t": "refs", "id": txn, "refs": [r for r in refs if r not in known["refs"]]})
                        known = "running"
                self.answer(200, dci_jws.response("ACK", mid))
                if known != "running":
                    schedule(time.time() + cfg["stage_delay_ms"] / 1000.0, ("stage", txn, 1))
                return
            if op in ("/disburse/txn/status", "/disburse/sync/txn/status"):
                q = msg.get("txnstatus_request")
                if not isinstance(q, dict):
                    return self.answer(400, dci_jws.response("ERR", mid, "err.request.bad", "txnstatus_request"))
                found = txn_status(q)
                h = cb_header("txn-on-status", 1 if found else 0)
                if found is None:
                    h["status"], h["status_reason_code"] = "rjct", "rjct.srch_transaction_id.not_found"
                    h["status_reason_message"] = "unknown transaction"
                    found = {"transaction_id": str(q.get("attribute_value")), "disbursements_status": []}
                resp = {"transaction_id": msg.get("transaction_id"), "correlation_id": dci_jws.new_id(),
                        "txnstatus_response": {"txn_type": "on-disburse", "txn_status": found}}
                body = envelope(h, resp)
                if op == "/disburse/sync/txn/status":
                    return self.answer(200, body)
                uri = hdr.get("sender_uri") or ""
                if not (args.callback_url or uri.startswith("http")):
                    return self.answer(400, dci_jws.response("ERR", mid, "err.sender_uri.invalid", "sender_uri"))
                self.answer(200, dci_jws.response("ACK", mid))
                url = cb_url("txn/on-status", uri)
                schedule(time.time(), ("fn", lambda: post(url, body)))
                return
            self.answer(404, dci_jws.response("ERR", mid, "rjct.action.not_supported", op))

    def stats():
        with state.lock:
            by, tot = {}, {}
            for e in state.pay.values():
                by[e["status"]] = by.get(e["status"], 0) + 1
                if e["amount"] and AMOUNT_RE.match(e["amount"]):
                    t = tot.setdefault(e["status"], {})
                    t[e["currency"]] = t.get(e["currency"], 0) + minor(e["amount"])
            return {"distinct_reference_ids": len(state.pay), "received": state.counts["received"],
                    "duplicates": state.counts["duplicates"], "conflicts": state.counts["conflicts"],
                    "executed": sum(e["executed"] for e in state.pay.values()),
                    "paid_twice": [r for r, e in state.pay.items() if e["executed"] > 1],
                    "by_status": by, "totals_minor": tot, "transactions": len(state.txns),
                    "transactions_open": sum(1 for x in state.txns.values() if x["stage"] < x["n"]),
                    "callbacks": dict(st["cb"]), "callback_errors": list(st["cb_errors"]), "requests": dict(st["requests"]), "sig": dict(st["sig"]),
                    "down": down()}

    srv_box = {}

    def control(c):
        if not isinstance(c, dict):
            raise ValueError("a JSON object is expected")
        for k in ("stage_delay_ms", "ack_delay_ms", "reject_rate", "dup_rate"):
            if k in c:
                cfg[k] = type(cfg[k])(c[k])
        if "limit" in c:
            cfg["limit"] = decimal.Decimal(str(c["limit"]))
        if "pause_callbacks" in c:
            cfg["pause"] = bool(c["pause_callbacks"])
        if "down_s" in c:
            cfg["down_until"] = time.time() + float(c["down_s"])
            if c.get("mode") == "refuse":
                threading.Thread(target=refuse, args=(float(c["down_s"]),), daemon=True).start()
        return {"stage_delay_ms": cfg["stage_delay_ms"], "reject_rate": cfg["reject_rate"],
                "dup_rate": cfg["dup_rate"], "limit": str(cfg["limit"]), "pause_callbacks": cfg["pause"],
                "down": down()}

    def refuse(secs):
        time.sleep(0.1)  # let the control answer go out
        srv = srv_box["srv"]
        srv.shutdown()
        srv.server_close()
        time.sleep(secs)
        srv_box["srv"] = serve(srv.server_address[1])

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
                super().handle_error(request, client_address)   # a peer killed mid-request is normal here

    def serve(port):
        srv = Server(("127.0.0.1", port), H)
        srv.daemon_threads = True
        srv.request_queue_size = 64
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return srv

    srv_box["srv"] = serve(args.port)
    print("READY %d" % srv_box["srv"].server_address[1], flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
