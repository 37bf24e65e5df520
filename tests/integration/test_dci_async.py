#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""it.dci_async: the registry facade's asynchronous side end to end (docs/DCI.md,
"Asynchronous search and txn status"), with the real `igw serve`, the openIMIS simulator
(tests/sim/openimis/, `igw gen` data) and the SP-MIS receiver (tests/sim/spmis_receiver.py),
which checks every callback's signature against igw's JWKS. /registry/search is ACKed once
committed; the route `callback:spmis` with `answer_from: sync_search` runs the search at
delivery time and POSTs the signed on-search, retried while openIMIS or the receiver is down,
also across a kill -9 of igw. /registry/txn/status gets its txn/on-status the same way.
Negative: a duplicate message_id (NACK, one callback), a forged and an expired signature (401,
nothing committed), a search matching nothing. Each case names the compliance requirement ids
(OpenSPP spdci-compliance) it covers. Python 3 standard library (+ python3-cryptography)."""
import base64
import copy
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from igwtest import (IGW_BIN, IGW_FIXTURES, IGW_SRC, SIM_DIR, Gateway, eventually,  # noqa: E402
                     free_port, run, skip)

sys.path.insert(0, SIM_DIR)
sys.path.insert(0, os.path.join(SIM_DIR, "openimis"))
import dci_jws  # noqa: E402
import dcitest  # noqa: E402

VALID = os.path.join(IGW_FIXTURES, "dci", "valid")
COMPLIANCE = os.path.join(IGW_FIXTURES, "dci", "compliance", "openspp-spdci-compliance")
AUTH = {"Content-Type": "application/json", "Authorization": "Bearer demo-token"}

CONFIG = """
http: { listen: "http://127.0.0.1:{port}", max_body: 1MiB }
queue: { path: "{dir}/queue" }
mappings: { dir: "MAPS" }
signing: { key_file: igw.pem, kid: igw-1 }
upstreams:
  openimis: { url: "SIMURL", timeout: 5s, auth: { type: login, user_file: oi.user } }
partners:
  spmis:
    base_urls: ["http://127.0.0.1:RCV/dci/spmis/"]
    auth: { type: bearer, tokens: [demo-token] }
    jwks_file: spmis.jwks
    verify: true
    sign: true
  plain:                                   # a partner that takes its callbacks unsigned
    base_urls: ["http://127.0.0.1:PLAIN/dci/plain/"]
    auth: { type: bearer, tokens: [plain-token] }
    sign: false
channels:
  sync_search:
    listen: POST /dci/social/registry/sync/search
    dialect: dci
    dci: { partner: [spmis] }
    answer: dci-search
    upstream: openimis
    mediate: { timeout: 30s, max_calls: 64 }
  sync_txn_status:
    listen: POST /dci/social/registry/sync/txn/status
    dialect: dci
    dci: { partner: [spmis] }
    answer: dci-txn-status
  registry_search:
    listen: POST /dci/social/registry/search
    dialect: dci
    dci: { partner: [spmis] }
    routes:
      on_search: { url: "callback:spmis", answer_from: sync_search,
                   auth: { type: bearer, token: rcv-token },
                   retry: { base: 100ms, cap: 400ms, max_attempts: 200 } }
  plain_sync_search:                       # the sync search for the sign: false partner
    listen: POST /dci/plain/registry/sync/search
    dialect: dci
    dci: { partner: [plain] }
    answer: dci-search
    upstream: openimis
    mediate: { timeout: 30s, max_calls: 64 }
  plain_search:                            # the same search for the sign: false partner
    listen: POST /dci/plain/registry/search
    dialect: dci
    dci: { partner: [plain] }
    routes:
      on_search: { url: "callback:plain", answer_from: sync_search,
                   auth: { type: bearer, token: rcv-token },
                   retry: { base: 100ms, cap: 400ms, max_attempts: 200 } }
  registry_txn:
    listen: POST /dci/social/registry/txn/status
    dialect: dci
    dci: { partner: [spmis] }
    routes:
      on_status: { url: "callback:spmis", answer_from: sync_txn_status,
                   auth: { type: bearer, token: rcv-token },
                   retry: { base: 100ms, cap: 400ms, max_attempts: 200 } }
  relay:                                   # DCI messages forwarded to a plain http route
    listen: POST /relay
    auth: { type: bearer, tokens: [demo-token] }
    routes:
      out: { url: "http://127.0.0.1:SINK/relay", sign: true, retry: { base: 100ms, cap: 400ms } }
"""


class Env:
    def __init__(self):
        if not os.path.exists(os.path.join(SIM_DIR, "openimis", "client.py")):
            skip("tests/sim/openimis is not in this tree")
        self.dir = tempfile.mkdtemp(prefix="igw-dcia-")
        pems = dcitest.rsa_pems(self.dir, ("igw", "spmis", "forger"))
        from client import OpenImisSim
        self.spmis = dci_jws.Signer(pems["spmis"], "spmis-1")
        self.forger = dci_jws.Signer(pems["forger"], "spmis-1")
        data = os.path.join(self.dir, "openimis.jsonl")
        with open(data, "w") as f:
            subprocess.run([IGW_BIN, "gen", "--seed", "3", "--insurees", "200"], stdout=f,
                           check=True, timeout=120)
        self.records = [json.loads(line) for line in open(data)]
        self.sim = OpenImisSim(data=data, rate_per_minute=0)
        self.procs = dcitest.Procs()
        self.igw_port = free_port()
        self.sink_log = os.path.join(self.dir, "sink.ndjson")
        self.sink_port = self.procs.spawn([os.path.join(SIM_DIR, "sink.py"), "--port", "0",
                                           "--log", self.sink_log])
        self.receiver = self.procs.receiver(
            jwks_url="http://127.0.0.1:%d/.well-known/jwks.json" % self.igw_port)
        self.rcv_port = self.receiver.port
        self.plain = self.procs.receiver(base="/dci/plain")  # checks no signature
        conf = (CONFIG.replace("RCV", str(self.rcv_port)).replace("PLAIN", str(self.plain.port))
                .replace("SINK", str(self.sink_port)).replace("SIMURL", self.sim.url)
                .replace("MAPS", os.path.join(IGW_SRC, "mappings")))
        self.gw = Gateway(conf, port=self.igw_port, extra_files={
            "igw.pem": dcitest.read(pems["igw"]), "oi.user": "Admin:admin123\n",
            "spmis.jwks": json.dumps(self.spmis.jwks())}).start()

    def rcv(self, path, body=None):
        return self.receiver.call(path, body)

    def received(self, mid):
        return self.receiver.received(mid + "-on-search")

    def sink(self):
        if not os.path.exists(self.sink_log):
            return []
        with open(self.sink_log) as f:
            return [json.loads(x) for x in f if x.strip()]

    def close(self):
        self.gw.cleanup()
        self.sim.stop()
        self.procs.close()


ENV = None
CORR = {}  # message_id -> the correlation_id of its ACK


def env():
    global ENV
    if ENV is None:
        ENV = Env()
    return ENV


def chfids(e):
    return [r["chfId"] for r in e.records if r.get("kind") == "insuree"]


def search_env(e, mid, value, sender_uri=True):
    doc = json.load(open(os.path.join(VALID, "sync-search.json")))
    h = dict(doc["header"], message_id=mid, sender_id="spmis.example.org",
             message_ts=dci_jws.now_ts())
    if sender_uri:
        h["sender_uri"] = "http://127.0.0.1:%d/dci/spmis/" % e.rcv_port
    m = copy.deepcopy(doc["message"])
    m["transaction_id"] = "txn-" + mid
    crit = m["search_request"][0]["search_criteria"]
    crit.update(reg_record_type="Person", query={"type": "UIN", "value": value})
    crit.pop("sort", None)
    return h, m


def post(e, path, body):
    st, _, data = e.gw.request("POST", path, body, AUTH, timeout=30)
    return st, json.loads(data) if data else None


def async_search(e, mid, value, signer=None):
    h, m = search_env(e, mid, value)
    return post(e, "/dci/social/registry/search", (signer or e.spmis).envelope(h, m))


def sync_answer(e, mid, value):
    h, m = search_env(e, mid, value, sender_uri=False)
    st, doc = post(e, "/dci/social/registry/sync/search", e.spmis.envelope(h, m))
    assert st == 200, (st, doc)
    return doc


def one_callback(e, mid, timeout=20.0):
    try:
        got = eventually(lambda: e.received(mid), timeout=timeout, what="on-search of " + mid)
    except AssertionError as x:
        raise AssertionError("%s; igw's log ends: %s" % (x, e.gw.logs()[-2000:]))
    assert len(got) == 1, got
    return got[0]


def test_async_search_signed_on_search():
    """SR-CORE-RG-ASYNC-SEARCH-CB-01 SR-CORE-RG-ASYNC-SEARCH-01 CRVS-CORE-RG-ASYNC-SEARCH-01
    CRVS-CORE-RG-SYNC-SEARCH-01 (the CRVS profile's same endpoints): ACK after
    the commit; the on-search is POSTed to the partner's base URL chosen by sender_uri, signed
    with igw's key (verified by the receiver against igw's JWKS), with the bearer token of the
    route, and it is the same answer the sync facade gives."""
    e = env()
    uin = chfids(e)[5]
    st, doc = async_search(e, "as-1", uin)
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    CORR["as-1"] = doc["message"]["correlation_id"]
    cb = one_callback(e, "as-1")
    assert cb["envelope"]["message"]["correlation_id"] == CORR["as-1"], cb  # the ACK's
    assert cb["path"] == "/registry/on-search" and cb["sig"] is True, cb
    env_ = cb["envelope"]
    assert env_["header"]["action"] == "on-search" and env_["header"]["status"] == "succ"
    assert env_["header"]["message_id"] == "as-1-on-search", env_["header"]
    assert env_["message"]["transaction_id"] == "txn-as-1"
    item = env_["message"]["search_response"][0]
    recs = item["data"]["reg_records"]
    assert item["status"] == "succ" and len(recs) == 1, item
    assert recs[0]["identifier"][0]["identifier_value"] == uin, recs
    sync = sync_answer(e, "as-1s", uin)["message"]["search_response"][0]
    assert sync["data"]["reg_records"] == recs, (sync, recs)


def test_nothing_matches():
    """SR-CORE-RG-ASYNC-SEARCH-CB-01: a search matching nothing is answered succ with no
    records and a total of 0."""
    e = env()
    st, doc = async_search(e, "as-none", "NOSUCH0000")
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    item = one_callback(e, "as-none")["envelope"]["message"]["search_response"][0]
    assert item["status"] == "succ" and item["data"]["reg_records"] == [], item
    assert item["pagination"]["total_count"] == 0, item


def test_duplicate_message_id():
    """SR-CORE-RG-ASYNC-SEARCH-01: the same message_id again from the same sender is NACKed
    rjct.message_id.duplicate and makes no second transaction: one on-search only."""
    e = env()
    uin = chfids(e)[6]
    h, m = search_env(e, "as-dup", uin)
    body = e.spmis.envelope(h, m)
    st, doc = post(e, "/dci/social/registry/search", body)
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    st, doc = post(e, "/dci/social/registry/search", body)
    assert st == 200 and doc["message"]["ack_status"] == "NACK", (st, doc)
    assert doc["message"]["error"]["code"] == "rjct.message_id.duplicate", doc
    one_callback(e, "as-dup")
    time.sleep(1.0)
    assert len(e.received("as-dup")) == 1


def test_unsigned_on_search_for_sign_false_partner():
    """SR-CORE-RG-ASYNC-SEARCH-CB-01: a partner configured sign: false gets its on-search
    unsigned (signature empty, as the spec allows), while the sign: true partner's is signed
    (the first case); the same for the sync search's answer."""
    e = env()
    h, m = search_env(e, "as-plain", chfids(e)[13])
    h["sender_uri"] = "http://127.0.0.1:%d/dci/plain/" % e.plain.port
    st, _, data = e.gw.request("POST", "/dci/plain/registry/search",
                               json.dumps({"signature": "", "header": h, "message": m}),
                               {"Content-Type": "application/json",
                                "Authorization": "Bearer plain-token"}, timeout=30)
    doc = json.loads(data)
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    got = eventually(lambda: e.plain.received("as-plain-on-search"), timeout=20,
                     what="the plain partner's on-search")
    env_ = got[0]["envelope"]
    assert env_.get("signature", "") in ("", None), env_.get("signature")
    assert env_["message"]["search_response"][0]["status"] == "succ", env_
    # the sync answers too: unsigned for the sign: false partner, a JWS for the other
    h, m = search_env(e, "ss-plain", chfids(e)[13], sender_uri=False)
    st, _, data = e.gw.request("POST", "/dci/plain/registry/sync/search",
                               json.dumps({"signature": "", "header": h, "message": m}),
                               {"Content-Type": "application/json",
                                "Authorization": "Bearer plain-token"}, timeout=30)
    doc = json.loads(data)
    assert st == 200 and doc["signature"] == "", (st, doc.get("signature"))
    assert doc["message"]["search_response"][0]["status"] == "succ", doc
    assert sync_answer(e, "ss-signed", chfids(e)[13])["signature"].count(".") == 2


def test_idempotency_key_does_not_override_dci_key():
    """SR-CORE-RG-ASYNC-SEARCH-01: on a DCI channel the transaction is sender_id + message_id:
    an Idempotency-Key header is ignored, so the same message_id with another Idempotency-Key
    is still NACKed rjct.message_id.duplicate (one on-search), and two message_ids with the
    same Idempotency-Key are two transactions."""
    e = env()
    h, m = search_env(e, "as-idem", chfids(e)[14])
    body = e.spmis.envelope(h, m)
    for key, ack in (("idem-A", "ACK"), ("idem-B", "NACK")):
        st, _, data = e.gw.request("POST", "/dci/social/registry/search", body,
                                   dict(AUTH, **{"Idempotency-Key": key}), timeout=30)
        doc = json.loads(data)
        assert st == 200 and doc["message"]["ack_status"] == ack, (key, st, doc)
    assert doc["message"]["error"]["code"] == "rjct.message_id.duplicate", doc
    h2, m2 = search_env(e, "as-idem2", chfids(e)[14])
    st, _, data = e.gw.request("POST", "/dci/social/registry/search", e.spmis.envelope(h2, m2),
                               dict(AUTH, **{"Idempotency-Key": "idem-A"}), timeout=30)
    doc = json.loads(data)
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    one_callback(e, "as-idem")
    one_callback(e, "as-idem2")
    time.sleep(1.0)
    assert len(e.received("as-idem")) == 1


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def expired_envelope(e, h, m):
    """Signed by the partner's own key but with a protected-header exp an hour ago."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    hs, ms = json.dumps(h, separators=(",", ":")), json.dumps(m, separators=(",", ":"))
    prot = b64u(json.dumps({"alg": "RS256", "kid": "spmis-1", "typ": "JWT",
                            "exp": int(time.time()) - 3600}).encode())
    inp = prot + "." + b64u(('{"header":' + hs + ',"message":' + ms + "}").encode())
    sig = inp + "." + b64u(e.spmis.key.sign(inp.encode(), padding.PKCS1v15(), hashes.SHA256()))
    return ('{"signature":' + json.dumps(sig) + ',"header":' + hs + ',"message":' + ms +
            "}").encode()


def test_forged_and_expired_signature():
    """SR-SEC-SIG-RG-01 SR-SEC-AUTH-RG-ASYNC-SEARCH-01: a forged signature (another key with the partner's kid) and an
    expired one are refused 401 err.signature.invalid on the async endpoint; nothing is
    committed, so no callback follows."""
    e = env()
    uin = chfids(e)[7]
    st, doc = async_search(e, "as-forged", uin, signer=e.forger)
    assert st == 401, (st, doc)
    assert "err.signature.invalid" in json.dumps(doc), doc
    h, m = search_env(e, "as-expired", uin)
    st, doc = post(e, "/dci/social/registry/search", expired_envelope(e, h, m))
    assert st == 401 and "err.signature.invalid" in json.dumps(doc), (st, doc)
    time.sleep(1.0)
    assert e.received("as-forged") == [] and e.received("as-expired") == []


def test_callback_endpoint_down_then_back():
    """SR-CORE-RG-ASYNC-SEARCH-CB-01: the receiver answers 503 to the first callbacks (down
    for a while); igw retries and the on-search arrives once it is back."""
    e = env()
    e.rcv("/_control", {"fail": 3, "status": 503})
    st, doc = async_search(e, "as-down", chfids(e)[8])
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    cb = one_callback(e, "as-down")
    assert cb["sig"] is True
    assert e.rcv("/_control", {"fail": 0})["ok"]


def test_openimis_down_during_async_search():
    """SR-CORE-RG-ASYNC-SEARCH-CB-01: openIMIS failing while the search is due delays the
    on-search (each failure a retried attempt), never loses or refuses the ACKed request."""
    e = env()
    uin = chfids(e)[9]
    e.sim.control(fail="500", status=500, count=None)
    try:
        st, doc = async_search(e, "as-oidown", uin)
        assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
        time.sleep(1.5)
        assert e.received("as-oidown") == [], "answered while openIMIS was down"
    finally:
        e.sim.control(fail=None)
    recs = one_callback(e, "as-oidown")["envelope"]["message"]["search_response"][0]
    assert recs["data"]["reg_records"][0]["identifier"][0]["identifier_value"] == uin, recs


def test_kill9_between_ack_and_callback():
    """SR-CORE-RG-ASYNC-SEARCH-CB-01: kill -9 of igw after the ACK and before the callback got
    through; after a restart on the same queue the on-search still arrives, once (the
    receiver would NACK a second one with the same message_id: none comes)."""
    e = env()
    uin = chfids(e)[10]
    e.rcv("/_control", {"fail": 100000, "status": 503})
    st, doc = async_search(e, "as-kill", uin)
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    time.sleep(0.8)  # some attempts refused by the receiver
    e.gw.kill9()
    e.rcv("/_control", {"fail": 0})
    e.gw.start()
    cb = one_callback(e, "as-kill", timeout=30.0)
    item = cb["envelope"]["message"]["search_response"][0]
    assert item["data"]["reg_records"][0]["identifier"][0]["identifier_value"] == uin, item
    assert cb["envelope"]["header"]["message_id"] == "as-kill-on-search"
    time.sleep(1.0)
    assert len(e.received("as-kill")) == 1


def test_stop_while_searching():
    """SR-CORE-RG-ASYNC-SEARCH-CB-01: igw stopped (SIGTERM) while the search of an ACKed request
    hangs in openIMIS: it stops cleanly and in time (the mediation answered 503, the attempt a
    retry), and after a restart the on-search arrives."""
    e = env()
    uin = chfids(e)[12]
    e.sim.control(fail="hang", hang_ms=20000, count=None)
    try:
        st, doc = async_search(e, "as-stop", uin)
        assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
        time.sleep(0.7)  # the search is in flight upstream
        t0 = time.time()
        assert e.gw.stop() == 0
        assert time.time() - t0 < 12, "igw took %.1fs to stop" % (time.time() - t0)
    finally:
        e.sim.control(fail=None)
    e.gw.start()
    item = one_callback(e, "as-stop", timeout=30.0)["envelope"]["message"]["search_response"][0]
    assert item["data"]["reg_records"][0]["identifier"][0]["identifier_value"] == uin, item


def test_async_txn_status_on_status():
    """SR-CORE-RG-ASYNC-TXNSTATUS-CB-01 CRVS-CORE-RG-TXN-STATUS-01: /registry/txn/status is
    ACKed and its txn/on-status callback, answered from igw's own state, reports the earlier
    search's callback delivered (succ), signed; for a transaction igw does not know, the
    txn/on-status still comes, its header status rjct with the reason."""
    e = env()
    one_callback(e, "as-1")  # delivered by the first case
    h = {"version": "1.0.0", "message_id": "ts-1", "message_ts": dci_jws.now_ts(),
         "action": "txn-status", "sender_id": "spmis.example.org",
         "sender_uri": "http://127.0.0.1:%d/dci/spmis/" % e.rcv_port, "total_count": 1,
         "is_msg_encrypted": False}
    m = {"transaction_id": "txn-ts-1",
         "txnstatus_request": {"reference_id": "ref-ts-1", "txn_type": "search",
                               "attribute_type": "correlation_id",
                               "attribute_value": CORR["as-1"]}}
    st, doc = post(e, "/dci/social/registry/txn/status", e.spmis.envelope(h, m))
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    try:
        got = eventually(lambda: [c for c in e.rcv("/_received") if c["path"] ==
                                  "/registry/txn/on-status"], timeout=20, what="txn/on-status")
    except AssertionError as x:
        raise AssertionError("%s; igw's log ends: %s" % (x, e.gw.logs()[-2000:]))
    assert len(got) == 1 and got[0]["sig"] is True, got
    txt = json.dumps(got[0]["envelope"]["message"])
    assert '"succ"' in txt and "callback delivered" in txt, txt
    # a transaction igw does not know: still a txn/on-status, its header status rjct
    h2 = dict(h, message_id="ts-2", message_ts=dci_jws.now_ts())
    m2 = copy.deepcopy(m)
    m2["transaction_id"] = "txn-ts-2"
    m2["txnstatus_request"]["attribute_value"] = "00000000000fffff"
    st, doc = post(e, "/dci/social/registry/txn/status", e.spmis.envelope(h2, m2))
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    got = eventually(lambda: [c for c in e.rcv("/_received") if c["path"] ==
                              "/registry/txn/on-status" and
                              c["envelope"]["header"]["message_id"] == "ts-2-status"],
                     timeout=20, what="txn/on-status of an unknown transaction")
    hdr = got[0]["envelope"]["header"]
    assert hdr["status"] == "rjct" and "no transaction" in hdr["status_reason_message"], hdr
    assert got[0]["sig"] is True


def test_schema_invalid_refused():
    """SR-CORE-RG-ASYNC-SEARCH-NEG-01 CRVS-CORE-RG-ASYNC-SEARCH-NEG-01
    CRVS-CORE-RG-SYNC-SEARCH-NEG-01: an async search without sender_uri and a sync search with a
    page size of 0 are refused 400 ERR with the spec's codes; nothing is committed."""
    e = env()
    h, m = search_env(e, "as-neg", chfids(e)[11], sender_uri=False)
    st, doc = post(e, "/dci/social/registry/search", e.spmis.envelope(h, m))
    assert st == 400 and doc["message"]["ack_status"] == "ERR", (st, doc)
    assert doc["message"]["error"]["code"] == "err.sender_uri.invalid", doc
    h, m = search_env(e, "as-neg2", chfids(e)[11], sender_uri=False)
    m["search_request"][0]["search_criteria"]["pagination"]["page_size"] = 0
    st, doc = post(e, "/dci/social/registry/sync/search", e.spmis.envelope(h, m))
    assert st == 400 and doc["message"]["error"]["code"] == "rjct.pagination.invalid", (st, doc)
    time.sleep(0.5)
    assert e.received("as-neg") == []


def test_route_sign_and_relay():
    """Route option sign: true: an unsigned DCI envelope is signed at delivery time with
    igw's key over the exact header and message sent (verified against igw's JWKS); an
    envelope that carries a signature (a relayed sender's) is forwarded byte for byte."""
    e = env()
    h = {"version": "1.0.0", "message_id": "rl-1", "message_ts": dci_jws.now_ts(),
         "action": "notify", "status": "succ", "sender_id": "igw", "total_count": 1}
    m = {"transaction_id": "t-rl-1", "notify_event": [{"reference_id": "r", "timestamp":
                                                         dci_jws.now_ts(), "data": {"x": 1.5}}]}
    st, _, _ = e.gw.request("POST", "/relay", dci_jws.plain_envelope(h, m), AUTH)
    assert st in (200, 202), st
    relayed = e.forger.envelope(dict(h, message_id="rl-2"), m)
    st, _, _ = e.gw.request("POST", "/relay", relayed, AUTH)
    assert st in (200, 202), st
    got = eventually(lambda: e.sink() if len(e.sink()) >= 2 else None, timeout=15,
                     what="two relayed messages")
    by = {json.loads(r["body"])["header"]["message_id"]: r["body"] for r in got}
    signed = json.loads(by["rl-1"])
    jwks = dci_jws.fetch_jwks("http://127.0.0.1:%d/.well-known/jwks.json" % e.igw_port)
    ok, why = dci_jws.verify(signed, jwks)
    assert ok is True, why
    assert signed["header"] == h and signed["message"] == m, signed
    assert by["rl-2"].encode() == relayed, "a relayed signed message was changed"


def test_compliance_ids_exist():
    """Every compliance id named in this file is in the catalogue."""
    import re
    known = set()
    for cat in ("requirements-social.json", "requirements-crvs.json"):
        known |= {r["id"] for r in json.load(open(os.path.join(COMPLIANCE, cat)))["requirements"]}
    text = open(os.path.abspath(__file__)).read()
    named = set(re.findall(r"\b(?:SR|CRVS)-[A-Z]+-[A-Z]+-[A-Z0-9-]+-\d\d\b", text))
    assert named and named <= known, named - known


def test_zz_stop():
    """igw stops cleanly (SIGTERM) with the answer_from deliveries done."""
    assert env().gw.stop() == 0


def main():
    try:
        run([test_async_search_signed_on_search, test_nothing_matches, test_duplicate_message_id,
             test_unsigned_on_search_for_sign_false_partner,
             test_idempotency_key_does_not_override_dci_key,
             test_forged_and_expired_signature, test_callback_endpoint_down_then_back,
             test_openimis_down_during_async_search, test_kill9_between_ack_and_callback,
             test_stop_while_searching,
             test_async_txn_status_on_status, test_schema_invalid_refused, test_route_sign_and_relay,
             test_compliance_ids_exist, test_zz_stop])
    finally:
        if ENV is not None:
            ENV.close()


if __name__ == "__main__":
    main()
