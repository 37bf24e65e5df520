#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""it.payments: the payment flow (docs/PAYMENTS.md) with the real igw binary between a small
openIMIS stub and a minimal G2P Connect payment system stub (both in this file, real HTTP on
127.0.0.1): a payroll event becomes signed DisburseRequest batches (transaction_id
<payroll>-<k>, reference_id the benefit code, amounts normalised, payee_fa from the lookup);
on-disburse callbacks are correlated with the ledger and sent to openIMIS as status updates
(RECONCILED / REJECTED / PENDING) through the queue; the same event twice creates nothing; a
batch that fails is retried without resending the batches already acknowledged; refusals at
intake; mismatches reported; an overdue transaction is asked about (txn status); igw answers
txn status for its own transactions; an admin replay of confirmed payments is refused (409)
unless forced; reconciliation totals exact to the cent (JSON and CSV)."""
import base64
import csv
import http.server
import io
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import IGW_SRC, Gateway, eventually, free_port, run, skip  # noqa: E402

CONFIG = """
http: { listen: "http://127.0.0.1:{port}", max_body: 16MiB }
admin:
  listen: "http://127.0.0.1:ADMIN"
  auth: { type: bearer, tokens: [admin-token] }
  credentials:
    - { name: viewer, role: viewer, token_file: viewer.tokens }
queue: { path: "{dir}/queue" }
mappings: { dir: "MAPS" }
signing: { key_file: igw.pem, kid: igw-pay-1 }
payments:
  batch_size: 2
  sender_uri: "http://127.0.0.1:{port}/g2p/on-disburse"
  overdue_after: OVERDUE
  poll_interval: 200ms
  timeout: 5s
partners:
  paysys:
    base_urls: ["http://127.0.0.1:PAY/"]
    auth: { type: bearer, tokens: [paysys-token] }
    sign: true
channels:
  payroll:
    listen: POST /openimis/payments
    dialect: payroll
    max_body: 16MiB
    auth: { type: bearer, tokens: [openimis-token] }
    routes:
      paysys:
        url: "g2p:paysys"
        map: openimis-payroll-to-g2p-disburse
        auth: { type: bearer, token: igw-to-paysys }
        retry: { base: 100ms, cap: 300ms, max_attempts: 20 }
  g2p_callbacks:
    listen: POST /g2p/{op}
    dialect: g2p
    dci: { partner: [paysys] }
    routes:
      ledger: { url: "g2p-ledger:paysys", retry: { base: 100ms, cap: 300ms } }
      openimis:
        url: "http://127.0.0.1:OI/api/payroll/payment_status/"
        map: g2p-on-disburse-to-openimis-status
        retry: { base: 100ms, cap: 300ms }
  g2p_txn_status:
    listen: POST /g2p/disburse/sync/txn/status
    dialect: g2p
    dci: { partner: [paysys] }
    answer: g2p-txn-status
"""

OI = {"Authorization": "Bearer openimis-token", "Content-Type": "application/json"}
PS = {"Authorization": "Bearer paysys-token", "Content-Type": "application/json"}
ADMIN = {"Authorization": "Bearer admin-token"}
VIEWER = {"Authorization": "Bearer viewer-token"}


class Stub(http.server.ThreadingHTTPServer):
    """The payment system (POST /disburse, /disburse/sync/txn/status) and openIMIS
    (POST /api/payroll/payment_status/) in one server; everything received is kept."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.disburse = []     # (headers, body) of every /disburse
        self.statuses = []     # bodies received by openIMIS
        self.polls = []
        self.fail_txn = {}     # transaction_id -> how many times to answer 500
        self.txn_answer = {}   # transaction_id -> disbursements_status for txn status
        self.hold_txn = {}     # transaction_id -> threading.Event: the answer waits for it
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self):
        return self.server_address[1]

    def txns(self):
        with self.lock:
            return [b["message"]["transaction_id"] for _, b in self.disburse]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def _reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        s = self.server
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path == "/disburse":
            txn = body["message"]["transaction_id"]
            with s.lock:
                hold = s.hold_txn.pop(txn, None)
                s.seen_txn = getattr(s, "seen_txn", []) + [txn]
            if hold is not None:
                hold.wait(30)  # the sender is killed meanwhile: this answer goes nowhere
                try:
                    self._reply(503, {})
                except OSError:
                    pass
                return None
            with s.lock:
                if s.fail_txn.get(txn, 0) > 0:
                    s.fail_txn[txn] -= 1
                    return self._reply(503, {"errors": [{"code": "err.service.unavailable"}]})
                s.disburse.append((dict(self.headers), body))
            return self._reply(200, {"message": {"ack_status": "ACK", "timestamp": "2024-05-01T00:00:00Z",
                                                 "correlation_id": txn}})
        if self.path == "/disburse/sync/txn/status":
            txn = body["message"]["txnstatus_request"]["attribute_value"]
            with s.lock:
                s.polls.append(txn)
                items = s.txn_answer.get(txn)
            if items is None:
                return self._reply(404, {"message": {"ack_status": "ERR"}})
            return self._reply(200, {"header": {"version": "1.0.0", "action": "txn-on-status", "status": "succ"},
                                     "message": {"transaction_id": body["message"]["transaction_id"],
                                                 "correlation_id": "c-1",
                                                 "txnstatus_response": {"txn_type": "on-disburse", "txn_status": {
                                                     "transaction_id": txn, "disbursements_status": items}}}})
        if self.path == "/api/payroll/payment_status/":
            with s.lock:
                s.statuses.append(body)
            return self._reply(200, {"ok": True})
        self._reply(404, {})


def payroll(pid, n, amounts=None, method="mobile", currency="TZS", event=None):
    bens = []
    for i in range(n):
        amt = amounts[i] if amounts else "%d.%02d" % (10 + i, i % 100)
        bens.append({"uuid": "ben-uuid-%s-%d" % (pid, i), "code": "BEN-%s-%03d" % (pid, i), "amount": amt,
                     "individual": {"uuid": "ind-%d" % i, "first_name": "First%d" % i, "last_name": "Last",
                                    "payment": {"method": method, "provider": "mobile-pymt",
                                                "account": "2557000%05d" % i}}})
    return {"event": "payroll.approved", "event_id": event or "ev-" + pid,
            "payroll": {"uuid": pid, "name": "PAYROLL-" + pid, "currency": currency,
                        "benefit_plan": "CASH-01", "payment_date": "2024-05-01"},
            "benefits": bens}


def on_disburse(txn, items, mid):
    return {"signature": "",
            "header": {"version": "1.0.0", "message_id": mid, "message_ts": "2024-05-01T10:00:00Z",
                       "action": "on-disburse", "status": "succ", "sender_id": "paysys", "total_count": len(items)},
            "message": {"transaction_id": txn, "disbursements_status": [
                dict({"reference_id": r, "timestamp": "2024-05-01T10:00:00Z", "status": st}, **extra)
                for r, st, extra in items]}}


class Env:
    def __init__(self, overdue="0s", batch=2):
        if subprocess.run(["openssl", "version"], capture_output=True).returncode != 0:
            skip("openssl is not installed (needed for igw's signing key)")
        self.stub = Stub()
        self.admin_port = free_port()
        cfg = (CONFIG.replace("ADMIN", str(self.admin_port)).replace("PAY", str(self.stub.port))
               .replace("OI", str(self.stub.port)).replace("MAPS", os.path.join(IGW_SRC, "mappings"))
               .replace("OVERDUE", overdue).replace("batch_size: 2", "batch_size: %d" % batch))
        self.gw = Gateway(cfg, extra_files={"viewer.tokens": "viewer-token\n"})
        subprocess.run(["openssl", "genrsa", "-out", os.path.join(self.gw.dir, "igw.pem"), "2048"],
                       check=True, capture_output=True)
        self.gw.start()

    def admin(self, method, path, headers=None):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        c.request(method, path, headers=headers or ADMIN)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheader("Content-Type"), data

    def recon(self, pid):
        st, _, data = self.admin("GET", "/admin/payments/payrolls/" + pid, VIEWER)
        assert st == 200, (st, data)
        return json.loads(data)

    def close(self):
        """Stops igw with SIGTERM: it must exit 0 without a sanitizer report (IGW_SANITIZER
        builds), unless the case already failed."""
        failing = sys.exc_info()[0] is not None
        try:
            rc = self.gw.stop()
            logs = self.gw.logs()
            if not failing:
                assert rc == 0, (rc, logs[-3000:])
                for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
                    assert bad not in logs, logs[-5000:]
        finally:
            self.gw.cleanup()
            self.stub.shutdown()


def openapi_check(env, path):
    """The answer against docs/openapi/admin.yaml (it.openapi's checker), when python3-yaml is
    there."""
    import test_openapi
    from igwtest import Skip
    try:
        spec = test_openapi.load_spec()
    except Skip:
        return
    st, ctype, data = env.admin("GET", path, VIEWER)
    test_openapi.check_answer(spec, "get", path, st, ctype, data)


def jws_payload(sig):
    p = sig.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def test_flow():
    env = Env()
    try:
        pid = "pr-flow-1"
        ev = payroll(pid, 5, amounts=["50", "1250.5", "0.10", "9999999999999.99", "0.20"])
        st, _, body = env.gw.request("POST", "/openimis/payments", ev, OI)
        assert st == 202, (st, body)
        first = json.loads(body)["id"]
        eventually(lambda: len(env.stub.disburse) == 3, what="three disburse batches")
        assert sorted(env.stub.txns()) == [pid + "-1", pid + "-2", pid + "-3"], env.stub.txns()
        refs = []
        for hdrs, b in env.stub.disburse:
            assert hdrs.get("Authorization") == "Bearer igw-to-paysys"
            h = b["header"]
            assert h["action"] == "disburse" and h["message_id"] == b["message"]["transaction_id"]
            assert h["sender_uri"] == "http://127.0.0.1:%d/g2p/on-disburse" % env.gw.port
            assert h["total_count"] == len(b["message"]["disbursements"])
            assert jws_payload(b["signature"]) == {"header": h, "message": b["message"]}
            for d in b["message"]["disbursements"]:
                refs.append((d["reference_id"], d["amount"], d["payee_fa"], d["currency_code"]))
        refs.sort()
        assert refs[0] == ("BEN-pr-flow-1-000", "50.00", "mobile:255700000000@mobile-pymt", "TZS"), refs[0]
        assert refs[1][1] == "1250.50" and refs[3][1] == "9999999999999.99", refs
        # the same event again: duplicate, nothing new sent
        st, _, body = env.gw.request("POST", "/openimis/payments", ev, OI)
        assert st == 202 and json.loads(body).get("id") == first, body
        # callbacks: batch 1 succ + rjct, batch 2 pdng + succ, batch 3 (one item) succ
        cbs = [on_disburse(pid + "-1", [("BEN-pr-flow-1-000", "succ", {"amount": "50.00", "currency_code": "TZS"}),
                                        ("BEN-pr-flow-1-001", "rjct", {"status_reason_code": "rjct.payee_fa.invalid"})], "cb-1"),
               on_disburse(pid + "-2", [("BEN-pr-flow-1-002", "pdng", {}), ("BEN-pr-flow-1-003", "succ", {})], "cb-2"),
               on_disburse(pid + "-3", [("BEN-pr-flow-1-004", "succ", {})], "cb-3")]
        for cb in cbs:
            st, _, body = env.gw.request("POST", "/g2p/on-disburse", cb, PS)
            assert st == 200 and json.loads(body)["message"]["ack_status"] == "ACK", (st, body)
        # a duplicated callback is NACKed and changes nothing
        st, _, body = env.gw.request("POST", "/g2p/on-disburse", cbs[0], PS)
        assert st == 200 and json.loads(body)["message"]["ack_status"] == "NACK", body
        # without the partner's token: 401, never ACKed
        st, _, body = env.gw.request("POST", "/g2p/on-disburse", cbs[0], {"Content-Type": "application/json"})
        assert st == 401, (st, body)

        def statuses():
            with env.stub.lock:
                got = {s["code"]: s["status"] for b in env.stub.statuses for s in b.get("statuses", [])}
            return got if len(got) == 5 else None
        got = eventually(statuses, what="five statuses at openIMIS")
        assert got == {"BEN-pr-flow-1-000": "RECONCILED", "BEN-pr-flow-1-001": "REJECTED",
                       "BEN-pr-flow-1-002": "PENDING", "BEN-pr-flow-1-003": "RECONCILED",
                       "BEN-pr-flow-1-004": "RECONCILED"}, got
        with env.stub.lock:
            one = [s for b in env.stub.statuses for s in b["statuses"] if s["code"] == "BEN-pr-flow-1-001"][0]
            assert env.stub.statuses[0]["payroll_id"] == pid
        assert one["reason_code"] == "rjct.payee_fa.invalid" and one["benefit_uuid"] == "ben-uuid-pr-flow-1-1", one

        def settled():
            r = env.recon(pid)
            return r if r["by_status"]["succ"]["count"] == 3 and r["by_status"]["rjct"]["count"] == 1 else None
        r = eventually(settled, what="ledger settled")
        assert r["count"] == 5
        openapi_check(env, "/admin/payments/payrolls/" + pid)
        openapi_check(env, "/admin/payments/mismatches")
        assert r["by_status"]["succ"]["totals"] == {"TZS": "10000000000050.19"}, r  # 50 + 9999999999999.99 + 0.20, exact
        assert r["by_status"]["rjct"]["totals"] == {"TZS": "1250.50"}, r
        assert r["by_status"]["pdng"]["totals"] == {"TZS": "0.10"}, r
        assert r["by_currency"]["TZS"]["total"] == "10000000001300.79", r
        st, ctype, data = env.admin("GET", "/admin/payments/payrolls/%s.csv" % pid, VIEWER)
        assert st == 200 and ctype.startswith("text/csv"), (st, ctype)
        rows = list(csv.DictReader(io.StringIO(data.decode())))
        assert len(rows) == 5 and {r["status"] for r in rows} == {"succ", "rjct", "pdng"}, rows
        row = [x for x in rows if x["code"] == "BEN-pr-flow-1-001"][0]
        assert row["transaction_id"] == pid + "-1" and row["amount"] == "1250.50" and \
            row["reason_code"] == "rjct.payee_fa.invalid", row
        # igw answers txn status for its own transactions from the ledger
        ts = {"header": {"version": "1.0.0", "message_id": "ts-1", "message_ts": "2024-05-01T10:00:00Z",
                         "action": "txn-status", "sender_id": "paysys", "total_count": 1},
              "message": {"transaction_id": "ts-1", "txnstatus_request": {
                  "reference_id": "r-1", "txn_type": "disburse", "attribute_type": "transaction_id",
                  "attribute_value": pid + "-2"}}}
        st, _, body = env.gw.request("POST", "/g2p/disburse/sync/txn/status", ts, PS)
        assert st == 200, (st, body)
        items = json.loads(body)["message"]["txnstatus_response"]["txn_status"]["disbursements_status"]
        assert {(i["reference_id"], i["status"]) for i in items} == {("BEN-pr-flow-1-002", "pdng"),
                                                                    ("BEN-pr-flow-1-003", "succ")}, items
        ts["message"]["txnstatus_request"]["attribute_value"] = "nope-1"
        st, _, body = env.gw.request("POST", "/g2p/disburse/sync/txn/status", ts, PS)
        assert st == 404, (st, body)
        # an admin replay of a payroll with confirmed payments: refused unless forced
        st, _, body = env.admin("POST", "/admin/messages/%s/replay" % first)
        assert st == 409 and b"payments_confirmed" in body, (st, body)
        st, _, body = env.admin("POST", "/admin/messages/%s/replay?force=true" % first)
        assert st == 200, (st, body)
        st, _, data = env.admin("GET", "/metrics", VIEWER)
        text = data.decode()
        assert "igw_payments_sent_total 5" in text and "igw_payments_confirmed_total 3" in text, text[-800:]
        assert "igw_payments_pending 1" in text, text[-800:]
        # the forced replay is delivered, and sends nothing again (every batch acknowledged)
        time.sleep(1.0)
        assert len(env.stub.disburse) == 3, env.stub.txns()
    finally:
        env.close()


def test_refusals():
    env = Env()
    try:
        cases = [
            ("not json", b"{nope", 400, "invalid_json"),
            ("no payroll uuid", dict(payroll("x", 1), payroll={"currency": "TZS"}), 400, "invalid_payroll"),
            ("no event_id", dict(payroll("pr-r1", 1), event_id=""), 400, "invalid_payroll"),
            ("another event", dict(payroll("pr-r7", 1), event="payroll.rejected"), 400, "unsupported_event"),
            ("unknown currency", payroll("pr-r2", 1, currency="ABC"), 400, "invalid_currency"),
            ("fraction without minor unit", payroll("pr-r3", 1, amounts=["10.50"], currency="XOF"), 400, "invalid_amount"),
            ("unresolvable address", payroll("pr-r4", 1, method="carrier-pigeon"), 422, "translation_failed"),
        ]
        for amt in ["1.", ".5", "1e3", "-1.00", "1.234", "10000000000000.00", ""]:
            cases.append(("amount " + amt, payroll("pr-a", 1, amounts=[amt]), 400, "invalid_amount"))
        dup = payroll("pr-r5", 2)
        dup["benefits"][1]["code"] = dup["benefits"][0]["code"]
        cases.append(("duplicate code", dup, 400, "duplicate_benefit"))
        for name, body, want, code in cases:
            st, _, data = env.gw.request("POST", "/openimis/payments", body, OI)
            assert st == want, (name, st, data)
            if code:
                assert json.loads(data)["error"]["code"] == code, (name, data)
        st, _, _ = env.gw.request("POST", "/openimis/payments", payroll("pr-r6", 1), {"Content-Type": "application/json"})
        assert st == 401
        # a number amount with exact text is accepted and normalised
        st, _, data = env.gw.request("POST", "/openimis/payments",
                                     json.dumps(payroll("pr-ok", 1)).replace('"10.00"', '10.5'), OI)
        assert st == 202, data
        eventually(lambda: len(env.stub.disburse) == 1, what="the one valid payroll sent")
        assert env.stub.disburse[0][1]["message"]["disbursements"][0]["amount"] == "10.50"
        # bad callbacks: not an on-disburse, a bad status, no transaction
        bad = on_disburse("pr-ok-1", [("BEN-pr-ok-000", "done", {})], "bad-1")
        st, _, data = env.gw.request("POST", "/g2p/on-disburse", bad, PS)
        assert st == 400 and json.loads(data)["message"]["ack_status"] == "ERR", data
        bad = on_disburse("pr-ok-1", [("BEN-pr-ok-000", "succ", {})], "bad-2")
        bad["header"]["action"] = "on-search"
        st, _, data = env.gw.request("POST", "/g2p/on-disburse", bad, PS)
        assert st == 400 and b"rjct.action.invalid" in data, data
    finally:
        env.close()


def test_retry_between_batches():
    env = Env()
    try:
        pid = "pr-retry"
        env.stub.fail_txn[pid + "-2"] = 2  # the second batch fails twice, then goes
        st, _, _ = env.gw.request("POST", "/openimis/payments", payroll(pid, 5), OI)
        assert st == 202
        eventually(lambda: len(env.stub.disburse) == 3, what="all three batches")
        assert env.stub.txns() == [pid + "-1", pid + "-2", pid + "-3"], env.stub.txns()
        # a second event with the same benefits (another event_id, another payroll) sends nothing
        ev = payroll("pr-retry-again", 5, event="ev-other")
        for b in ev["benefits"]:
            b["code"] = b["code"].replace("pr-retry-again", pid)
        st, _, _ = env.gw.request("POST", "/openimis/payments", ev, OI)
        assert st == 202
        eventually(lambda: "igw_payments_skipped_total 5" in env.admin("GET", "/metrics")[2].decode(),
                   what="five benefits skipped")
        assert len(env.stub.disburse) == 3
    finally:
        env.close()


def test_kill9_between_batches():
    """igw killed with SIGKILL while the payment system holds batch 2's answer: after the
    restart batch 1 (acknowledged, in the ledger) is not sent again, batch 2 is sent again with
    the same transaction_id and reference_ids, batch 3 follows."""
    env = Env()
    try:
        pid = "pr-kill"
        hold = threading.Event()
        env.stub.hold_txn[pid + "-2"] = hold
        st, _, _ = env.gw.request("POST", "/openimis/payments", payroll(pid, 5), OI)
        assert st == 202
        eventually(lambda: pid + "-2" in getattr(env.stub, "seen_txn", []), what="batch 2 in flight")
        env.gw.kill9()
        hold.set()
        env.gw.start()
        eventually(lambda: len(env.stub.disburse) == 3, timeout=20, what="batches after the restart")
        assert env.stub.txns() == [pid + "-1", pid + "-2", pid + "-3"], env.stub.txns()
        assert env.stub.seen_txn.count(pid + "-1") == 1, env.stub.seen_txn
        second = [b for _, b in env.stub.disburse if b["message"]["transaction_id"] == pid + "-2"][0]
        assert [d["reference_id"] for d in second["message"]["disbursements"]] == \
            ["BEN-pr-kill-002", "BEN-pr-kill-003"], second
        eventually(lambda: env.recon(pid)["by_status"]["sent"]["count"] == 5, what="all 5 in the ledger")
    finally:
        env.close()


def test_mismatch():
    env = Env()
    try:
        pid = "pr-mm"
        env.gw.request("POST", "/openimis/payments", payroll(pid, 2), OI)
        eventually(lambda: len(env.stub.disburse) == 1, what="the batch")
        cb = on_disburse(pid + "-1", [("BEN-pr-mm-000", "succ", {"amount": "99.00"}),
                                      ("BEN-UNKNOWN", "succ", {}),
                                      ("BEN-pr-mm-001", "succ", {"currency_code": "USD"})], "mm-1")
        st, _, body = env.gw.request("POST", "/g2p/on-disburse", cb, PS)
        assert st == 200 and json.loads(body)["message"]["ack_status"] == "ACK", body

        def listed():
            st, _, data = env.admin("GET", "/admin/payments/mismatches", VIEWER)
            m = json.loads(data)["mismatches"]
            return m if len(m) == 3 else None
        m = eventually(listed, what="three mismatches")
        assert {x["reference_id"] for x in m} == {"BEN-pr-mm-000", "BEN-UNKNOWN", "BEN-pr-mm-001"}, m
        assert all(set(x) == {"time", "reference_id", "transaction_id", "payroll", "status", "amount",
                              "currency", "why"} for x in m), m
        r = env.recon(pid)
        assert r["by_status"]["sent"]["count"] == 2 and len(r["mismatches"]) == 2, r
        assert "igw_payments_mismatches_total 3" in env.admin("GET", "/metrics")[2].decode()
        time.sleep(0.5)
        with env.stub.lock:
            assert all(not b.get("statuses") for b in env.stub.statuses), env.stub.statuses
    finally:
        env.close()


def test_overdue_poll():
    env = Env(overdue="1s")
    try:
        pid = "pr-poll"
        env.stub.txn_answer[pid + "-1"] = [{"reference_id": "BEN-pr-poll-000", "timestamp": "2024-05-01T10:00:00Z",
                                            "status": "succ", "amount": "10.00", "currency_code": "TZS"},
                                           {"reference_id": "BEN-pr-poll-001", "timestamp": "2024-05-01T10:00:00Z",
                                            "status": "rjct", "status_reason_code": "rjct.amount.invalid"}]
        env.gw.request("POST", "/openimis/payments", payroll(pid, 2), OI)

        def polled():
            r = env.recon(pid)
            return r if r["by_status"]["succ"]["count"] == 1 and r["by_status"]["rjct"]["count"] == 1 else None
        eventually(polled, timeout=15, what="the overdue transaction asked about and settled")
        assert pid + "-1" in env.stub.polls

        def told():
            with env.stub.lock:
                got = {s["code"]: s["status"] for b in env.stub.statuses for s in b.get("statuses", [])}
            return got if len(got) == 2 else None
        # the answer went through the callback channel: openIMIS is told as for a callback
        got = eventually(told, what="openIMIS told what the poll learnt")
        assert got == {"BEN-pr-poll-000": "RECONCILED", "BEN-pr-poll-001": "REJECTED"}, got
    finally:
        env.close()


def test_large_payroll():
    """10,000 benefits (a 2.5 MB event) in batches of 500: 20 signed transactions, the totals
    exact; one callback of 500 items applied."""
    env = Env(batch=500)
    try:
        pid = "pr-big"
        st, _, body = env.gw.request("POST", "/openimis/payments", payroll(pid, 10000), OI, timeout=60)
        assert st == 202, body
        eventually(lambda: len(env.stub.disburse) == 20, timeout=60, what="20 batches")
        assert sorted(env.stub.txns()) == sorted("%s-%d" % (pid, k) for k in range(1, 21))
        refs = [d["reference_id"] for _, b in env.stub.disburse for d in b["message"]["disbursements"]]
        assert len(refs) == 10000 and len(set(refs)) == 10000
        r = env.recon(pid)
        # sum(10 + i) + sum(i % 100) / 100 for i < 10000
        assert r["count"] == 10000 and r["by_currency"]["TZS"]["total"] == "50099950.00", r["by_currency"]
        items = [(refs_i, "succ", {}) for refs_i in
                 [d["reference_id"] for _, b in env.stub.disburse if b["message"]["transaction_id"] == pid + "-1"
                  for d in b["message"]["disbursements"]]]
        st, _, body = env.gw.request("POST", "/g2p/on-disburse", on_disburse(pid + "-1", items, "big-1"), PS)
        assert st == 200, body
        eventually(lambda: env.recon(pid)["by_status"]["succ"]["count"] == 500, what="500 confirmed")
    finally:
        env.close()


if __name__ == "__main__":
    run([test_flow, test_refusals, test_retry_between_batches, test_kill9_between_batches,
         test_mismatch, test_overdue_poll, test_large_payroll])
