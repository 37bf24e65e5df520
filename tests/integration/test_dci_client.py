#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""it.dci_client: igw as openIMIS's DCI client against tests/sim/dci_registry.py (a real DCI
registry server): openIMIS's plain JSON search becomes a DCI SearchRequest that igw signs
(checked by the registry against igw's JWKS) and sends synchronously, or commits and delivers
asynchronously; the registry's signed on-search callback is verified, correlated with the
pending transaction and delivered to openIMIS (tests/sim/sink.py) through the
dci-search-response-to-openimis map. Negative: a callback of an unknown transaction (200 ERR
err.request.not_found, nothing delivered), a forged signature (401 err.signature.invalid), a
schema-invalid callback (400), a request the map cannot express, a callback repeated (NACK)."""
import json
import os
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import IGW_FIXTURES, IGW_SRC, SIM_DIR, Gateway, eventually, free_port, run  # noqa: E402

sys.path.insert(0, SIM_DIR)
import dci_jws  # noqa: E402
import dcitest  # noqa: E402

CONFIG = """
http: { listen: "http://127.0.0.1:{port}", max_body: 1MiB }
queue: { path: "{dir}/queue" }
mappings: { dir: "MAPS" }
signing: { key_file: igw.pem, kid: igw-1 }
upstreams:
  registry: { url: "http://127.0.0.1:REG", timeout: 5s, auth: { type: bearer, token_file: reg.token } }
partners:
  registry: { base_urls: ["http://127.0.0.1:REG/"], jwks_url: "http://127.0.0.1:REG/.well-known/jwks.json", verify: true }
channels:
  spmis_search:
    listen: POST /spmis/search
    dialect: dci
    dci: { action: search }
    answer: dci-client
    auth: { type: bearer, tokens: [openimis-token] }
    mediate: { request_map: openimis-search-to-dci-search }
    routes:
      registry: { url: "http://127.0.0.1:REG/registry/search", retry: { base: 100ms, cap: 500ms },
                  auth: { type: bearer, token: reg-token } }
  spmis_sync_search:
    listen: POST /spmis/sync/search
    answer: dci-client
    upstream: registry
    auth: { type: bearer, tokens: [openimis-token] }
    dci: { partner: [registry] }
    mediate: { path: /registry/sync/search, request_map: openimis-search-to-dci-search,
               response_map: dci-search-response-to-openimis }
  spmis_subscribe:                         # openIMIS hands over DCI requests as they are
    listen: POST /spmis/subscribe
    dialect: dci
    dci: { action: subscribe }
    answer: dci-client
    auth: { type: bearer, tokens: [openimis-token] }
    mediate: { request_map: dci-envelope }
    routes:
      registry: { url: "http://127.0.0.1:REG/registry/subscribe", retry: { base: 100ms, cap: 500ms },
                  auth: { type: bearer, token: reg-token } }
  spmis_unsubscribe:
    listen: POST /spmis/unsubscribe
    dialect: dci
    dci: { action: unsubscribe }
    answer: dci-client
    auth: { type: bearer, tokens: [openimis-token] }
    mediate: { request_map: dci-envelope }
    routes:
      registry: { url: "http://127.0.0.1:REG/registry/unsubscribe", retry: { base: 100ms, cap: 500ms },
                  auth: { type: bearer, token: reg-token } }
  spmis_raw_search:
    listen: POST /spmis/raw/search
    dialect: dci
    dci: { action: search }
    answer: dci-client
    auth: { type: bearer, tokens: [openimis-token] }
    mediate: { request_map: dci-envelope }
    routes:
      registry: { url: "http://127.0.0.1:REG/registry/search", retry: { base: 100ms, cap: 500ms },
                  auth: { type: bearer, token: reg-token } }
  spmis_callbacks:
    listen: POST /dci/spmis/registry/{op}
    dialect: dci
    answer: dci-callback
    dci: { partner: [registry], requests: spmis_search, sender_id: openimis.igw }
    routes:
      openimis: { url: "http://127.0.0.1:SINK/openimis/dci-results", map: dci-search-response-to-openimis,
                  retry: { base: 100ms, cap: 500ms } }
"""

TOKEN = {"Authorization": "Bearer openimis-token", "Content-Type": "application/json"}


class Env:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="igw-dcic-")
        pems = dcitest.rsa_pems(self.dir, ("igw", "registry", "forger"))
        self.reg_key = dci_jws.Signer(pems["registry"], "registry-sim-1")
        self.forger = dci_jws.Signer(pems["forger"], "registry-sim-1")
        maps = os.path.join(self.dir, "maps")  # the shipped maps and the test's dci-envelope
        os.makedirs(maps)
        shipped = os.path.join(IGW_SRC, "mappings")
        for name in os.listdir(shipped):
            os.symlink(os.path.join(shipped, name), os.path.join(maps, name))
        os.symlink(os.path.join(IGW_SRC, "tests", "fixtures", "dci", "client-maps", "dci-envelope"),
                   os.path.join(maps, "dci-envelope"))
        self.procs = dcitest.Procs()
        self.sink_log = os.path.join(self.dir, "sink.ndjson")
        self.sink_port = self.procs.spawn([os.path.join(SIM_DIR, "sink.py"), "--port", "0", "--log",
                                           self.sink_log])
        self.igw_port = free_port()
        self.reg_port = self.procs.spawn([os.path.join(SIM_DIR, "dci_registry.py"), "--port", "0",
                                          "--persons", "60", "--key", pems["registry"], "--token",
                                          "reg-token", "--verify-jwks",
                                          "http://127.0.0.1:%d/.well-known/jwks.json" % self.igw_port])
        conf = (CONFIG.replace("REG", str(self.reg_port)).replace("SINK", str(self.sink_port))
                .replace("MAPS", maps))
        self.gw = Gateway(conf, port=self.igw_port, extra_files={
            "igw.pem": dcitest.read(pems["igw"]), "reg.token": "reg-token\n"}).start()

    def get(self, port, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return json.loads(r.read())

    def sink(self):
        if not os.path.exists(self.sink_log):
            return []
        with open(self.sink_log) as f:
            return [json.loads(x) for x in f if x.strip()]

    def close(self):
        self.gw.cleanup()
        self.procs.close()


ENV = None


def env():
    global ENV
    if ENV is None:
        ENV = Env()
    return ENV


def callback(txn, signer=None, drop_status=False, mid=None):
    h = {"version": "1.0.0", "message_id": mid or dci_jws.new_id(), "message_ts": dci_jws.now_ts(),
         "action": "on-search", "status": "succ", "total_count": 1, "sender_id": "registry.sim"}
    if drop_status:
        del h["status"]
    m = {"transaction_id": txn, "correlation_id": "c-1", "search_response": [{
        "reference_id": txn + "-1", "timestamp": dci_jws.now_ts(), "status": "succ",
        "data": {"reg_records": [{"identifier": [{"identifier_type": "UIN", "identifier_value": "X-1"}]}]},
        "pagination": {"page_size": 10, "page_number": 1, "total_count": 1}}]}
    return (signer or env().reg_key).envelope(h, m)


def test_sync_search_signed_and_mapped():
    e = env()
    st, _, body = e.gw.request("POST", "/spmis/sync/search", {
        "transaction_id": "S-1", "identifier": {"type": "UIN", "value": "UIN-3"}}, TOKEN)
    assert st == 200, (st, body)
    out = json.loads(body)
    assert out["transaction_id"] == "S-1" and out["status"] == "succ", out
    persons = out["results"][0]["persons"]
    assert [p["chfId"] for p in persons] == ["UIN-3"] and persons[0]["gender"] == "F", out
    rec = [r for r in e.get(e.reg_port, "/_received") if r["path"] == "/registry/sync/search"]
    assert rec and rec[-1]["sig"] is True, rec  # igw's signature verified with igw's JWKS
    # predicate, paged: Family3 has persons 3 and 53; page 1 of size 1 holds one, total 2
    st, _, body = e.gw.request("POST", "/spmis/sync/search", {
        "transaction_id": "S-2", "where": [{"attribute": "surname", "value": "Family3"}],
        "page_size": 1}, TOKEN)
    r0 = json.loads(body)["results"][0]
    assert st == 200 and r0["total"] == 2 and len(r0["persons"]) == 1, body


def test_sync_search_refusals():
    e = env()
    st, _, body = e.gw.request("POST", "/spmis/sync/search", {"transaction_id": "S-3"}, TOKEN)
    assert st in (400, 422) and b"identifier" in body, (st, body)
    st, _, _ = e.gw.request("POST", "/spmis/sync/search", {"transaction_id": "S-4"},
                            {"Content-Type": "application/json"})
    assert st == 401, st


def test_async_search_callback_delivered():
    e = env()
    st, _, body = e.gw.request("POST", "/spmis/search", {
        "transaction_id": "A-1", "identifier": {"type": "UIN", "value": "UIN-7"},
        "sender_uri": "http://127.0.0.1:%d/dci/spmis/registry/on-search" % e.igw_port}, TOKEN)
    ack = json.loads(body)
    assert st == 200 and ack["message"]["ack_status"] == "ACK", (st, body)

    def delivered():
        return [r for r in e.sink() if '"A-1"' in (r.get("body") or "")]
    got = eventually(delivered, timeout=15, what="on-search delivered to openIMIS")
    out = json.loads(got[0]["body"])
    assert out["transaction_id"] == "A-1" and out["results"][0]["persons"][0]["chfId"] == "UIN-7", out
    rec = [r for r in e.get(e.reg_port, "/_received") if r["path"] == "/registry/search"]
    assert rec and rec[-1]["sig"] is True, rec
    cbs = e.get(e.reg_port, "/_callbacks")
    assert any(json.loads(c["answer"])["message"]["ack_status"] == "ACK" for c in cbs if c["status"] == 200), cbs
    # the same transaction again from openIMIS: one transaction, a duplicate NACK
    st, _, body = e.gw.request("POST", "/spmis/search", {
        "transaction_id": "A-1", "identifier": {"type": "UIN", "value": "UIN-7"},
        "sender_uri": "http://127.0.0.1:%d/dci/spmis/registry/on-search" % e.igw_port}, TOKEN)
    assert json.loads(body)["message"]["error"]["code"] == "rjct.message_id.duplicate", body


def test_idempotency_key_refused():
    """An Idempotency-Key header on openIMIS's async request would replace the key its
    callbacks are matched by: refused 400 with a clear error, nothing sent."""
    e = env()
    n = len(e.get(e.reg_port, "/_received"))
    st, _, body = e.gw.request("POST", "/spmis/search", {
        "transaction_id": "IK-1", "identifier": {"type": "UIN", "value": "UIN-7"}},
        dict(TOKEN, **{"Idempotency-Key": "k-1"}))
    assert st == 400 and b"Idempotency-Key" in body, (st, body)
    time.sleep(0.5)
    assert len(e.get(e.reg_port, "/_received")) == n


def test_client_requests_spec_valid():
    """What igw as the client sends the registry (recorded by the registry simulator, which
    requires its bearer token: SP-SEC-CL-AUTH-01): SP-CORE-CL-SEARCH-01 and
    SP-CORE-CL-SYNC-SEARCH-01 (spec-valid, signed), SP-CORE-CL-CONTENTTYPE-01,
    SP-CORE-CL-HEADER-VERSION-01, SP-CORE-CL-HEADER-SENDERID-01, SP-CORE-CL-HEADER-RECEIVERID-01,
    SP-CORE-CL-HEADER-SENDERURI-01 (async), SP-CORE-CL-MSG-TXNID-01, SP-CORE-CL-QUERY-IDTYPE-01,
    SP-CORE-CL-QUERY-PREDICATE-01; SP-CORE-CL-SEARCH-ACK-01 (the registry's ACK taken: the
    delivery is done, not retried)."""
    e = env()
    st, _, body = e.gw.request("POST", "/spmis/sync/search", {
        "transaction_id": "P-1", "registry_id": "registry.sim",
        "where": [{"attribute": "given_name", "op": "eq", "value": "Given3"}]}, TOKEN)
    assert st == 200, (st, body)
    rec = e.get(e.reg_port, "/_received")
    by_path = {}
    for r in rec:
        by_path.setdefault(r["path"], []).append(r)
    assert by_path.get("/registry/search") and by_path.get("/registry/sync/search"), by_path.keys()
    qtypes = set()
    for path, rs in by_path.items():
        for r in rs:
            hdr, msg = r["envelope"]["header"], r["envelope"]["message"]
            assert r["sig"] is True and r["content_type"].startswith("application/json"), r
            assert hdr["version"] == "1.0.0" and hdr["sender_id"] == "openimis.igw", hdr
            if msg.get("transaction_id") == "P-1":  # receiver_id is openIMIS's registry_id
                assert hdr.get("receiver_id") == "registry.sim", hdr
            assert msg.get("transaction_id"), msg
            if path == "/registry/search":
                assert hdr.get("sender_uri", "").startswith("http"), hdr
            qtypes |= {it["search_criteria"]["query_type"] for it in msg["search_request"]}
    assert {"idtype-value", "predicate"} <= qtypes, qtypes
    assert [r for r in e.get(e.reg_port, "/_received") if r["path"] == "/registry/search"
            and r["envelope"]["message"]["transaction_id"] == "A-1"], "A-1 not sent"


def raw_request(e, name, mid, mutate):
    """A fixture request (tests/fixtures/dci/valid/<name>.json) as openIMIS hands it to igw:
    its header and message, with igw's sender_id and its SP-MIS callback address."""
    doc = json.load(open(os.path.join(IGW_FIXTURES, "dci", "valid", name + ".json")))
    h = dict(doc["header"], message_id=mid, message_ts=dci_jws.now_ts(), sender_id="openimis.igw",
             receiver_id="registry.sim",
             sender_uri="http://127.0.0.1:%d/dci/spmis/registry/" % e.igw_port)
    m = dict(doc["message"], transaction_id="txn-" + mid)
    mutate(m)
    return {"header": h, "message": m}


def sent_to_registry(e, path, mid):
    """The request the registry simulator received on path with header.message_id mid."""
    got = eventually(lambda: [r for r in e.get(e.reg_port, "/_received") if r["path"] == path
                              and r["envelope"]["header"]["message_id"] == mid],
                     timeout=15, what="%s %s at the registry" % (path, mid))
    assert len(got) == 1, got
    return got[0]


def test_client_subscribe_unsubscribe_expression():
    """SP-CORE-CL-SUBSCRIBE-01, SP-CORE-CL-UNSUBSCRIBE-01, SP-CORE-CL-QUERY-EXPRESSION-01: igw as
    the client sends the registry a spec-valid subscribe, unsubscribe and expression search:
    each is checked against the endpoint's schema before the ACK, signed with igw's key
    (verified by the registry against igw's JWKS), sent with the bearer token, answered ACK by
    the registry (so delivered once, not retried); a subscribe the schema refuses is not ACKed
    and never sent."""
    e = env()

    def post(path, body):
        st, _, data = e.gw.request("POST", path, body, TOKEN)
        return st, json.loads(data)

    def crit(m):
        m["subscribe_request"][0]["subscribe_criteria"]["filter"]["value"] = "UIN-9"
    st, ack = post("/spmis/subscribe", raw_request(e, "subscribe", "CS-1", crit))
    assert st == 200 and ack["message"]["ack_status"] == "ACK", (st, ack)
    r = sent_to_registry(e, "/registry/subscribe", "CS-1")
    env_ = r["envelope"]
    assert r["sig"] is True and env_["header"]["action"] == "subscribe", r
    it = env_["message"]["subscribe_request"][0]
    assert it["subscribe_criteria"]["filter"] == {"type": "UIN", "value": "UIN-9"}, it

    def codes(m):
        m["subscription_codes"] = ["sub-0001"]
        m["timestamp"] = dci_jws.now_ts()
    st, ack = post("/spmis/unsubscribe", raw_request(e, "unsubscribe", "CU-1", codes))
    assert st == 200 and ack["message"]["ack_status"] == "ACK", (st, ack)
    r = sent_to_registry(e, "/registry/unsubscribe", "CU-1")
    assert r["sig"] is True and r["envelope"]["message"]["subscription_codes"] == ["sub-0001"], r

    def expression(m):
        c = m["search_request"][0]["search_criteria"]
        c["query_type"] = "expression"
        c["query"] = {"type": "ns:org:QueryType:NoSql", "value": {"expression": {
            "collection": "Person", "query": {"$and": [{"surname": "Family3"},
                                                     {"birth_date": {"$gte": "1980-01-01"}}]}}}}
        c.pop("sort", None)
    st, ack = post("/spmis/raw/search", raw_request(e, "search", "CE-1", expression))
    assert st == 200 and ack["message"]["ack_status"] == "ACK", (st, ack)
    r = sent_to_registry(e, "/registry/search", "CE-1")
    c = r["envelope"]["message"]["search_request"][0]["search_criteria"]
    assert r["sig"] is True and c["query_type"] == "expression", r
    assert c["query"]["value"]["expression"]["collection"] == "Person", c

    def bad(m):
        m["subscribe_request"][0]["subscribe_criteria"]["filter"] = 42
    st, ans = post("/spmis/subscribe", raw_request(e, "subscribe", "CS-BAD", bad))
    assert st == 400 and ans["message"]["ack_status"] == "ERR", (st, ans)
    time.sleep(0.5)
    got = [r["envelope"]["header"]["message_id"] for r in e.get(e.reg_port, "/_received")]
    assert "CS-BAD" not in got, got
    assert [got.count(mid) for mid in ("CS-1", "CU-1", "CE-1")] == [1, 1, 1], got  # not retried


def test_registry_err_is_dead_lettered():
    """SP-CORE-CL-SEARCH-ERR-01: the registry answers igw's async search 400 ERR (it takes
    only http callback addresses, the request names a urn): igw takes it as final, one attempt
    and a dead letter (kept in the log), no retry storm, nothing delivered to openIMIS."""
    e = env()
    st, _, body = e.gw.request("POST", "/spmis/search", {
        "transaction_id": "E-1", "identifier": {"type": "UIN", "value": "UIN-7"},
        "sender_uri": "urn:spmis:callbacks"}, TOKEN)
    assert st == 200 and json.loads(body)["message"]["ack_status"] == "ACK", (st, body)

    def sent():
        return [r for r in e.get(e.reg_port, "/_received") if r["path"] == "/registry/search"
                and r["envelope"]["message"]["transaction_id"] == "E-1"]
    eventually(sent, timeout=15, what="E-1 sent")
    eventually(lambda: "dead" in e.gw.logs() and "HTTP 400" in e.gw.logs(), timeout=10,
               what="E-1 dead-lettered")
    time.sleep(1.0)
    assert len(sent()) == 1, "an ERR answer was retried"
    assert not [r for r in e.sink() if '"E-1"' in (r.get("body") or "")]


def test_compliance_ids_exist():
    """Every compliance id named in this file is in the catalogue."""
    import re
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "dci",
                        "compliance", "openspp-spdci-compliance", "requirements-social.json")
    known = {r["id"] for r in json.load(open(path))["requirements"]}
    named = set(re.findall(r"\bSP-[A-Z]+-CL-[A-Z0-9-]+-\d\d\b", open(os.path.abspath(__file__)).read()))
    assert named and named <= known, named - known


def test_callback_unknown_transaction_is_err():
    e = env()
    n = len(e.sink())
    st, _, body = e.gw.request("POST", "/dci/spmis/registry/on-search", callback("NO-SUCH"),
                               {"Content-Type": "application/json"})
    m = json.loads(body)["message"]
    assert st == 200 and m["ack_status"] == "ERR" and m["error"]["code"] == "err.request.not_found", body
    time.sleep(0.5)
    assert len(e.sink()) == n, "a callback of no transaction was delivered"


def test_callback_forged_and_invalid():
    e = env()
    eventually(lambda: e.sink(), timeout=15, what="a first transaction") if not e.sink() else None
    st, _, body = e.gw.request("POST", "/dci/spmis/registry/on-search", callback("A-1", signer=e.forger),
                               {"Content-Type": "application/json"})
    assert st == 401 and b"err.signature.invalid" in body, (st, body)
    st, _, body = e.gw.request("POST", "/dci/spmis/registry/on-search", callback("A-1", drop_status=True),
                               {"Content-Type": "application/json"})
    assert st == 400 and b"ERR" in body, (st, body)


def test_callback_known_repeated():
    e = env()
    test_async = [r for r in e.sink() if '"A-1"' in (r.get("body") or "")]
    if not test_async:
        test_async_search_callback_delivered()
    body = callback("A-1", mid="cb-repeat-1")
    st, _, b1 = e.gw.request("POST", "/dci/spmis/registry/on-search", body, {"Content-Type": "application/json"})
    st2, _, b2 = e.gw.request("POST", "/dci/spmis/registry/on-search", body, {"Content-Type": "application/json"})
    assert st == 200 and json.loads(b1)["message"]["ack_status"] == "ACK", b1
    assert st2 == 200 and json.loads(b2)["message"]["error"]["code"] == "rjct.message_id.duplicate", b2


def main():
    try:
        run([test_sync_search_signed_and_mapped, test_sync_search_refusals,
             test_async_search_callback_delivered, test_callback_unknown_transaction_is_err,
             test_callback_forged_and_invalid, test_callback_known_repeated,
             test_idempotency_key_refused, test_client_requests_spec_valid,
             test_registry_err_is_dead_lettered, test_client_subscribe_unsubscribe_expression,
             test_compliance_ids_exist])
    finally:
        if ENV is not None:
            ENV.close()


if __name__ == "__main__":
    main()
