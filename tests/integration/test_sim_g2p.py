# SPDX-License-Identifier: Apache-2.0
"""The G2P Connect payment system simulator (tests/sim/g2p_payments.py) on its own: what igw's
payment tests rely on (ACK then staged, signed on-disburse callbacks, the rejection rules and
their spec codes, paid-once per reference_id, signature checks, going down, restart from its
state file, txn status). The test process plays igw: it signs its requests and receives the
callbacks."""
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import igwtest  # noqa: E402

sys.path.insert(0, igwtest.SIM_DIR)
import dci_jws  # noqa: E402

SIM = os.path.join(igwtest.SIM_DIR, "g2p_payments.py")


class Igw:
    """The callback receiver (on-disburse, txn/on-status) and igw's JWKS."""

    def __init__(self):
        self.signer = dci_jws.Signer(None, "igw-test-1") if dci_jws.HAVE_CRYPTO else None
        self.got = []
        self.status = 200
        me = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                body = json.dumps(me.signer.jwks() if me.signer else {"keys": []}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                st = me.status
                if st == 200:
                    me.got.append((self.path, self.headers.get("Authorization"), json.loads(raw)))
                body = b'{"message":{"ack_status":"ACK"}}'
                self.send_response(st)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def url(self, p):
        return "http://127.0.0.1:%d%s" % (self.port, p)

    def callbacks(self, txn=None, path="/g2p/on-disburse"):
        return [b for (p, _, b) in self.got if p == path
                and (txn is None or b["message"]["transaction_id"] == txn)]

    def stop(self):
        self.srv.shutdown()


class Sim:
    def __init__(self, *extra, state=None, port=0):
        self.state = state or os.path.join(tempfile.mkdtemp(prefix="g2p-sim-"), "state.jsonl")
        self.args = [sys.executable, SIM, "--port", str(port), "--state", self.state, "--stage-delay-ms", "100",
                     "--token", "tok", "--callback-token", "cbtok"] + list(extra)
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("READY "), line
        self.port = int(line.split()[1])

    def call(self, method, path, body=None, token="tok"):
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def stats(self):
        return self.call("GET", "/_stats")[1]

    def kill(self):
        self.proc.kill()
        self.proc.wait()


def disbursement(ref, amount="50.00", acct="255700000001", cur="TZS"):
    return {"reference_id": ref, "payer_fa": "account:100200@treasury", "payee_fa": "mobile:%s@mobile-pymt" % acct,
            "amount": amount, "currency_code": cur}


def request(igw, txn, items, signed=True):
    hdr = {"version": "1.0.0", "message_id": dci_jws.new_id(), "message_ts": dci_jws.now_ts(),
           "action": "disburse", "sender_id": "igw", "sender_uri": igw.url("/g2p/on-disburse"),
           "total_count": len(items), "is_msg_encrypted": False}
    msg = {"transaction_id": txn, "disbursements": items}
    if signed and igw.signer:
        return igw.signer.envelope(hdr, msg)
    return dci_jws.plain_envelope(hdr, msg)


def final_statuses(igw, txn):
    out = {}
    for b in igw.callbacks(txn):
        for s in b["message"]["disbursements_status"]:
            if s["status"] in ("succ", "rjct"):
                out[s["reference_id"]] = s
    return out


def test_disburse_stages_rules_and_signature():
    if not dci_jws.HAVE_CRYPTO:
        igwtest.skip("python3-cryptography is not installed (signatures)")
    igw = Igw()
    sim = Sim("--verify-jwks", igw.url("/jwks.json"), "--limit", "1000.00")
    try:
        items = [disbursement("B-1", "50.00"), disbursement("B-2", "12.5", acct="255700000013"),
                 disbursement("B-3", "1000.01"), disbursement("B-4", "5.123"),
                 disbursement("B-5", "7.00", cur="ZZZ"), disbursement("B-6", "0.99", cur="USD")]
        st, ack = sim.call("POST", "/g2p/disburse", request(igw, "T-1", items))
        assert st == 200 and ack["message"]["ack_status"] == "ACK", (st, ack)
        # unsigned and wrongly signed requests are refused with the DCI error code
        st, err = sim.call("POST", "/g2p/disburse", request(igw, "T-x", items, signed=False))
        assert st == 401 and err["message"]["error"]["code"] == "err.signature.invalid", err
        st, _ = sim.call("POST", "/g2p/disburse", request(igw, "T-y", items), token="wrong")
        assert st == 401
        fin = igwtest.eventually(lambda: len(final_statuses(igw, "T-1")) == 6 and final_statuses(igw, "T-1"),
                                 what="final callbacks")
        assert fin["B-1"]["status"] == "succ"
        assert fin["B-2"]["status_reason_code"] == "rjct.payee_fa.invalid"
        assert fin["B-3"]["status_reason_code"] == "rjct.amount.invalid"
        assert fin["B-3"]["status_reason_message"] == "insufficient funds"
        assert fin["B-4"]["status_reason_code"] == "rjct.amount.invalid"
        assert fin["B-5"]["status_reason_code"] == "rjct.currency_code.invalid"
        assert fin["B-6"]["status"] == "succ"
        cbs = igw.callbacks("T-1")
        assert cbs[0]["message"]["disbursements_status"][0]["status"] == "pdng", cbs[0]
        assert cbs[0]["header"]["action"] == "on-disburse"
        jwks = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/g2p/.well-known/jwks.json" % sim.port).read())
        for b in cbs:
            assert dci_jws.verify(b, jwks)[0] is True
        assert all(a == "Bearer cbtok" for (_, a, _) in igw.got)
        s = sim.stats()
        assert s["distinct_reference_ids"] == 6 and s["executed"] == 2, s
        assert s["totals_minor"]["succ"] == {"TZS": 5000, "USD": 99}, s
        assert s["sig"]["ok"] >= 1 and s["sig"]["bad"] == 1, s
    finally:
        sim.kill()
        igw.stop()


def test_paid_once_duplicates_and_conflicts():
    igw = Igw()
    sim = Sim("--dup-rate", "1.0")
    try:
        sim.call("POST", "/g2p/disburse", request(igw, "T-1", [disbursement("R-1"), disbursement("R-2")]))
        igwtest.eventually(lambda: len(final_statuses(igw, "T-1")) == 2, what="final")
        # the same transaction again (a retry), then the same reference in another one, changed
        sim.call("POST", "/g2p/disburse", request(igw, "T-1", [disbursement("R-1"), disbursement("R-2")]))
        sim.call("POST", "/g2p/disburse", request(igw, "T-2", [disbursement("R-1", "99.00")]))
        igwtest.eventually(lambda: sim.stats()["received"] == 5, what="receipts")
        s = sim.stats()
        assert s["executed"] == 2 and s["paid_twice"] == [] and s["duplicates"] == 3 and s["conflicts"] == 1, s
        assert s["totals_minor"]["succ"] == {"TZS": 10000}, s
        igwtest.eventually(lambda: sim.stats()["callbacks"]["dup_sent"] >= 2, what="duplicated callbacks")
        p = sim.call("GET", "/_payments?ref=R-1")[1]["R-1"]
        assert p["executed"] == 1 and p["received"] == 3 and p["txns"] == ["T-1", "T-2"], p
    finally:
        sim.kill()
        igw.stop()


def test_down_refuse_and_callback_retry():
    igw = Igw()
    sim = Sim()
    try:
        sim.call("POST", "/_control", {"down_s": 1.0})
        st, _ = sim.call("POST", "/g2p/disburse", request(igw, "T-1", [disbursement("D-1")]))
        assert st == 503
        time.sleep(1.1)
        sim.call("POST", "/_control", {"down_s": 1.0, "mode": "refuse"})
        time.sleep(0.4)
        try:
            sim.call("POST", "/g2p/disburse", request(igw, "T-1", [disbursement("D-1")]))
            raise AssertionError("connection accepted while refusing")
        except urllib.error.URLError:
            pass
        igwtest.eventually(lambda: sim.call("GET", "/_stats")[0] == 200, what="back up")
        igw.status = 503    # igw down: the callbacks are retried until it answers
        st, _ = sim.call("POST", "/g2p/disburse", request(igw, "T-1", [disbursement("D-1")]))
        assert st == 200
        time.sleep(1.0)
        assert final_statuses(igw, "T-1") == {}
        igw.status = 200
        fin = igwtest.eventually(lambda: final_statuses(igw, "T-1"), what="callback after retries")
        assert fin["D-1"]["status"] == "succ"
    finally:
        sim.kill()
        igw.stop()


def test_restart_keeps_payments_and_resumes_callbacks():
    if not dci_jws.HAVE_CRYPTO:
        igwtest.skip("python3-cryptography is not installed (the simulator's JWKS)")
    igw = Igw()
    sim = Sim("--reject-rate", "0.3")
    try:
        items = [disbursement("S-%d" % i, "%d.%02d" % (i, i % 100)) for i in range(1, 201)]
        sim.call("POST", "/_control", {"pause_callbacks": True})
        sim.call("POST", "/g2p/disburse", request(igw, "T-1", items))
        before = sim.call("GET", "/_payments")[1]
        jwks1 = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/g2p/.well-known/jwks.json" % sim.port).read())
        sim.kill()
        sim = Sim("--reject-rate", "0.3", state=sim.state)
        after = sim.call("GET", "/_payments")[1]
        jwks2 = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/g2p/.well-known/jwks.json" % sim.port).read())
        assert jwks2 == jwks1, "the signing key changed across the restart"
        assert {r: e["final"] for r, e in before.items()} == {r: e["final"] for r, e in after.items()}
        rj = sum(1 for e in after.values() if e["final"] == "rjct")
        assert 30 < rj < 90, rj
        fin = igwtest.eventually(lambda: len(final_statuses(igw, "T-1")) == 200 and final_statuses(igw, "T-1"),
                                 what="resumed callbacks")
        assert sum(1 for s in fin.values() if s["status"] == "rjct") == rj
        sim.call("POST", "/g2p/disburse", request(igw, "T-1", items[:10]))   # re-sent after restart
        igwtest.eventually(lambda: sim.stats()["duplicates"] == 10, what="dups")
        assert sim.stats()["executed"] == 200 - rj
        assert sim.stats()["paid_twice"] == []
    finally:
        sim.kill()
        igw.stop()


def test_txn_status_sync_and_async():
    igw = Igw()
    sim = Sim()
    try:
        sim.call("POST", "/g2p/disburse", request(igw, "T-9", [disbursement("Q-1"), disbursement("Q-2", acct="913")]))
        igwtest.eventually(lambda: len(final_statuses(igw, "T-9")) == 2, what="final")

        def ask(path, typ, val):
            hdr = {"version": "1.0.0", "message_id": dci_jws.new_id(), "message_ts": dci_jws.now_ts(),
                   "action": "txn/status", "sender_id": "igw", "sender_uri": igw.url("/g2p/on-disburse")}
            msg = {"transaction_id": "S-1", "txnstatus_request": {"reference_id": "q1", "txn_type": "disburse",
                                                                  "attribute_type": typ, "attribute_value": val}}
            return sim.call("POST", path, dci_jws.plain_envelope(hdr, msg))

        st, body = ask("/g2p/disburse/sync/txn/status", "transaction_id", "T-9")
        sts = body["message"]["txnstatus_response"]["txn_status"]["disbursements_status"]
        assert st == 200 and {s["reference_id"]: s["status"] for s in sts} == {"Q-1": "succ", "Q-2": "rjct"}, body
        st, body = ask("/g2p/disburse/sync/txn/status", "reference_id_list", ["Q-2", "nope"])
        assert [s["reference_id"] for s in body["message"]["txnstatus_response"]["txn_status"]
                ["disbursements_status"]] == ["Q-2"]
        st, body = ask("/g2p/disburse/sync/txn/status", "transaction_id", "unknown")
        assert body["header"]["status"] == "rjct", body
        st, ack = ask("/g2p/disburse/txn/status", "transaction_id", "T-9")
        assert ack["message"]["ack_status"] == "ACK"
        cb = igwtest.eventually(lambda: igw.callbacks(path="/g2p/disburse/txn/on-status"), what="txn/on-status")
        assert cb[0]["message"]["txnstatus_response"]["txn_type"] == "on-disburse"
    finally:
        sim.kill()
        igw.stop()


def test_bad_envelopes():
    igw = Igw()
    sim = Sim("--max-batch", "3")
    try:
        st, b = sim.call("POST", "/g2p/disburse", b"not json")
        assert st == 400 and b["message"]["ack_status"] == "ERR"
        st, b = sim.call("POST", "/g2p/disburse", request(igw, "T", [disbursement("x")] * 4))
        assert st == 400 and b["message"]["error"]["code"] == "rjct.total_count.limit_exceeded", b
        env = json.loads(request(igw, "T", [disbursement("x")]))
        env["header"]["action"] = "search"
        st, b = sim.call("POST", "/g2p/disburse", env)
        assert st == 400 and b["message"]["error"]["code"] == "rjct.action.invalid", b
        st, b = sim.call("POST", "/g2p/disburse/sync/disburse", request(igw, "T-s", [disbursement("y")]))
        assert st == 200 and b["message"]["disbursements_status"][0]["status"] == "succ", b
    finally:
        sim.kill()
        igw.stop()


if __name__ == "__main__":
    igwtest.run([test_disburse_stages_rules_and_signature, test_paid_once_duplicates_and_conflicts,
                 test_down_refuse_and_callback_retry, test_restart_keeps_payments_and_resumes_callbacks,
                 test_txn_status_sync_and_async, test_bad_envelopes])
