#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""it.dci_subs: the registry facade's subscriptions end to end (docs/DCI.md, "Subscriptions"),
with the real `igw serve` and the SP-MIS receiver (tests/sim/spmis_receiver.py, verifying every
callback's signature against igw's JWKS). /registry/subscribe is ACKed once committed; its
`dci-subscriptions:` route writes the subscription to the store (an LMDB env of its own) and
its `callback:spmis` route (answer_from: dci-on-subscribe) POSTs the signed on-subscribe with
the codes, also across a kill -9 of igw after the ACK. /registry/unsubscribe of one's own code
gets an on-unsubscribe and ends it in the store; an unknown or another partner's code is
refused rjct.subscription_code.invalid; a bad filter is refused at intake; an expired
subscription is listed expired by GET /admin/dci/subscriptions. Each case names the compliance
requirement ids (OpenSPP spdci-compliance) it covers. Python 3 standard library
(+ python3-cryptography for the keys and the receiver's signature checks)."""
import copy
import json
import os
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from igwtest import IGW_FIXTURES, SIM_DIR, Gateway, eventually, free_port, run  # noqa: E402

sys.path.insert(0, SIM_DIR)
import dci_jws  # noqa: E402
import dcitest  # noqa: E402

VALID = os.path.join(IGW_FIXTURES, "dci", "valid")
COMPLIANCE = os.path.join(IGW_FIXTURES, "dci", "compliance", "openspp-spdci-compliance")
AUTH = {"Content-Type": "application/json", "Authorization": "Bearer demo-token"}
AUTH2 = {"Content-Type": "application/json", "Authorization": "Bearer other-token"}
ADMIN = {"Authorization": "Bearer view-t0ken"}

CONFIG = dcitest.SUBSCRIPTION_CONFIG + """  broken_subscribe:                      # its store route can never write (a map breaks it)
    listen: POST /dci/broken/registry/subscribe
    dialect: dci
    dci: { partner: [spmis] }
    routes:
      store: { url: "dci-subscriptions:{dir}/subs", map: not-a-subscription,
               retry: { base: 100ms, cap: 200ms, max_attempts: 3 } }
      on_subscribe: { url: "callback:spmis", answer_from: on_subscribe,
                      auth: { type: bearer, token: rcv-token },
                      retry: { base: 100ms, cap: 200ms, max_attempts: 200 } }
"""


class Env:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="igw-dcis-")
        pem = dcitest.read(dcitest.rsa_pems(self.dir, ("igw",))["igw"])
        maps = os.path.join(self.dir, "maps")
        os.makedirs(os.path.join(maps, "not-a-subscription"))
        with open(os.path.join(maps, "not-a-subscription", "map"), "w") as f:
            f.write("# SPDX-License-Identifier: Apache-2.0\n"
                    "map not-a-subscription from json to json\nnote = \"not a subscribe\"\n")
        self.procs = dcitest.Procs()
        self.igw_port = free_port()
        self.admin_port = free_port()
        self.receiver = self.procs.receiver(
            jwks_url="http://127.0.0.1:%d/.well-known/jwks.json" % self.igw_port)
        self.rcv_port = self.receiver.port
        conf = (CONFIG.replace("RCV", str(self.rcv_port))
                .replace("ADMINPORT", str(self.admin_port)).replace("MAPS", maps))
        try:
            self.gw = Gateway(conf, port=self.igw_port, extra_files={
                "igw.pem": pem, "viewer.tokens": "view-t0ken\n"}).start()
        except BaseException:
            self.procs.close()
            raise

    def rcv(self, path, body=None):
        return self.receiver.call(path, body)

    def received(self, mid, action):
        return self.receiver.received(mid + "-" + action)

    def subs(self):
        req = urllib.request.Request("http://127.0.0.1:%d/admin/dci/subscriptions"
                                     % self.admin_port, headers=ADMIN)
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())["subscriptions"]

    def close(self):
        self.gw.cleanup()
        self.procs.close()


ENV = None


def env():
    global ENV
    if ENV is None:
        ENV = Env()
    return ENV


def subscribe_env(e, mid, end_time="2099-01-01T00:00:00Z", sender="spmis.example.org",
                  base="/dci/spmis/", value="123456789", nitems=1):
    doc = json.load(open(os.path.join(VALID, "subscribe.json")))
    h = dict(doc["header"], message_id=mid, sender_id=sender, message_ts=dci_jws.now_ts(),
             total_count=nitems, sender_uri="http://127.0.0.1:%d%s" % (e.rcv_port, base))
    m = copy.deepcopy(doc["message"])
    m["transaction_id"] = "txn-" + mid
    item = m["subscribe_request"][0]
    item["subscribe_criteria"]["frequency"]["end_time"] = end_time
    item["subscribe_criteria"]["filter"]["value"] = value
    m["subscribe_request"] = []
    for i in range(nitems):
        it = copy.deepcopy(item)
        it["reference_id"] = "ref-%s-%d" % (mid, i)
        m["subscribe_request"].append(it)
    return {"signature": "", "header": h, "message": m}


def unsubscribe_env(e, mid, codes, sender="spmis.example.org"):
    doc = json.load(open(os.path.join(VALID, "unsubscribe.json")))
    h = dict(doc["header"], message_id=mid, sender_id=sender, message_ts=dci_jws.now_ts(),
             sender_uri="http://127.0.0.1:%d/dci/spmis/" % e.rcv_port)
    m = dict(doc["message"], transaction_id="txn-" + mid, timestamp=dci_jws.now_ts(),
             subscription_codes=codes)
    return {"signature": "", "header": h, "message": m}


def post(e, path, body, headers=AUTH):
    st, _, data = e.gw.request("POST", path, json.dumps(body).encode(), headers, timeout=30)
    return st, json.loads(data) if data else None


def one_callback(e, mid, action, timeout=20.0):
    try:
        got = eventually(lambda: e.received(mid, action), timeout=timeout,
                         what=action + " of " + mid)
    except AssertionError as x:
        raise AssertionError("%s; igw's log ends: %s" % (x, e.gw.logs()[-2000:]))
    assert len(got) == 1, got
    return got[0]


def subscribe(e, mid, **kw):
    st, doc = post(e, "/dci/social/registry/subscribe", subscribe_env(e, mid, **kw))
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    return doc


def codes_of(cb):
    return [s["code"] for it in cb["envelope"]["message"]["subscribe_response"]
            for s in it["subscriptions"]]


def stored(e, code):
    got = [s for s in e.subs() if s["code"] == code]
    return got[0] if got else None


def test_subscribe_on_subscribe_with_codes():
    """SR-CORE-RG-ASYNC-SUBSCRIBE-01, SR-CORE-RG-ASYNC-SUBSCRIBE-CB-01: a spec-valid subscribe
    is ACKed; the signed on-subscribe comes to the partner's /registry/on-subscribe with one
    item per subscribe_request item, status succ, a code each; the store holds them live."""
    e = env()
    ack = subscribe(e, "sb-1", nitems=2)
    cb = one_callback(e, "sb-1", "on-subscribe")
    assert cb["path"] == "/registry/on-subscribe" and cb["sig"] is True, cb
    env_ = cb["envelope"]
    assert env_["header"]["action"] == "on-subscribe" and env_["header"]["status"] == "succ"
    msg = env_["message"]
    assert msg["correlation_id"] == ack["message"]["correlation_id"], (msg, ack)
    assert [it["reference_id"] for it in msg["subscribe_response"]] == ["ref-sb-1-0",
                                                                        "ref-sb-1-1"]
    assert all(it["status"] == "succ" for it in msg["subscribe_response"])
    codes = codes_of(cb)
    assert len(set(codes)) == 2 and all(len(c) == 36 for c in codes), codes
    info = msg["subscribe_response"][0]["subscriptions"][0]
    assert info["status"] == "subscribe" and info["notify_record_type"] == "Member", info
    assert info["filter"] == {"type": "UIN", "value": "123456789"}, info
    for c in codes:  # in the store already when the on-subscribe came (no waiting)
        rec = stored(e, c)
        assert rec is not None, ("on-subscribe before the store knew", c)
        assert rec["state"] == "live" and rec["partner"] == "spmis.example.org", rec
        assert rec["reg_type"] == "ns:org:RegistryType:Social", rec


def test_no_on_subscribe_before_the_store_has_it():
    """SR-CORE-RG-ASYNC-SUBSCRIBE-CB-01: the on-subscribe waits until its codes are in the store
    (the callback's mediator answers a transient "not yet" and the route retries): a subscribe
    whose store write can never succeed (its store route is dead-lettered) never gets an
    on-subscribe, so the partner never holds a code the store does not know."""
    e = env()
    doc = subscribe_env(e, "sb-nostore")
    st, ans = post(e, "/dci/broken/registry/subscribe", doc)
    assert st == 200 and ans["message"]["ack_status"] == "ACK", (st, ans)
    import uuid
    code = str(uuid.uuid5(uuid.NAMESPACE_URL, "spmis.example.org\nsb-nostore\nref-sb-nostore-0"))
    time.sleep(2.0)  # the store route gave up long ago (3 attempts of 100-200 ms)
    assert stored(e, code) is None
    assert e.received("sb-nostore", "on-subscribe") == [], "a code the store does not know"


def test_kill9_after_ack():
    """SR-CORE-RG-ASYNC-SUBSCRIBE-CB-01: kill -9 of igw after the ACK, the receiver refusing
    meanwhile: after a restart the subscription is stored and its on-subscribe arrives once."""
    e = env()
    e.rcv("/_control", {"fail": 100000, "status": 503})
    subscribe(e, "sb-kill")
    e.gw.kill9()
    e.rcv("/_control", {"fail": 0})
    e.gw.start()
    cb = one_callback(e, "sb-kill", "on-subscribe", timeout=30.0)
    code = codes_of(cb)[0]
    rec = eventually(lambda: stored(e, code), what="stored after restart")
    assert rec["state"] == "live", rec
    time.sleep(0.8)
    assert len(e.received("sb-kill", "on-subscribe")) == 1


def test_unsubscribe_own_code():
    """SR-CORE-RG-ASYNC-UNSUBSCRIBE-01, SR-CORE-RG-ASYNC-UNSUBSCRIBE-CB-01: unsubscribe of one's
    own code is ACKed; the on-unsubscribe lists it `unsubscribe`, status succ; the store marks
    it ended."""
    e = env()
    subscribe(e, "sb-un")
    code = codes_of(one_callback(e, "sb-un", "on-subscribe"))[0]
    eventually(lambda: stored(e, code), what="stored")
    st, doc = post(e, "/dci/social/registry/unsubscribe", unsubscribe_env(e, "un-1", [code]))
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    cb = one_callback(e, "un-1", "on-unsubscribe")
    assert cb["sig"] is True, cb
    msg = cb["envelope"]["message"]
    assert msg["status"] == "succ" and cb["envelope"]["header"]["status"] == "succ", msg
    assert msg["subscription_status"] == [{"code": code, "status": "unsubscribe"}], msg
    eventually(lambda: stored(e, code)["state"] == "ended", what="ended in the store")


def test_unknown_and_foreign_code_refused():
    """SR-CORE-RG-ASYNC-UNSUBSCRIBE-CB-01: an unknown code, and a code of another partner, are
    refused rjct.subscription_code.invalid (the spec's UnSubscribeStatusReasonCode); the
    foreign subscription stays live."""
    e = env()
    # a subscription of partner "other" (its on-subscribe goes to its own base URL, not
    # served by the receiver; only the store matters here)
    st, doc = post(e, "/dci/social/registry/subscribe",
                   subscribe_env(e, "sb-other", sender="other.example.org",
                                 base="/dci/other/"), AUTH2)
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    import uuid
    ns = uuid.NAMESPACE_URL
    foreign = str(uuid.uuid5(ns, "other.example.org\nsb-other\nref-sb-other-0"))
    eventually(lambda: stored(e, foreign), what="the other partner's subscription stored")
    st, doc = post(e, "/dci/social/registry/unsubscribe",
                   unsubscribe_env(e, "un-bad", ["no-such-code", foreign]))
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    cb = one_callback(e, "un-bad", "on-unsubscribe")
    msg = cb["envelope"]["message"]
    assert msg["status"] == "rjct", msg
    assert msg["status_reason_code"] == "rjct.subscription_code.invalid", msg
    assert "no-such-code" in msg["status_reason_message"] and foreign in \
        msg["status_reason_message"], msg
    assert msg["subscription_status"] == [], msg
    time.sleep(0.5)
    assert stored(e, foreign)["state"] == "live"


def test_codes_are_uuid5():
    """The code is uuid5(URL namespace, sender_id \\n message_id \\n reference_id), so a retry
    or a restart writes the same record."""
    import uuid
    e = env()
    subscribe(e, "sb-uuid")
    code = codes_of(one_callback(e, "sb-uuid", "on-subscribe"))[0]
    assert code == str(uuid.uuid5(uuid.NAMESPACE_URL, "spmis.example.org\nsb-uuid\nref-sb-uuid-0"))


def test_bad_filter_refused():
    """SR-CORE-RG-ASYNC-SUBSCRIBE-NEG-01, SR-CORE-RG-ASYNC-UNSUBSCRIBE-NEG-01: a subscribe
    whose filter is not a query (a number), or without subscribe_criteria, and an unsubscribe
    without subscription_codes, are refused at intake (HTTP 4xx or ERR), nothing committed:
    no callback comes."""
    e = env()
    for mid, mutate in (("sb-badf", lambda m: m["subscribe_request"][0]["subscribe_criteria"]
                         .__setitem__("filter", 42)),
                        ("sb-nocrit", lambda m: m["subscribe_request"][0]
                         .pop("subscribe_criteria"))):
        doc = subscribe_env(e, mid)
        mutate(doc["message"])
        st, ans = post(e, "/dci/social/registry/subscribe", doc)
        assert st >= 400 or ans["message"]["ack_status"] == "ERR", (mid, st, ans)
    doc = unsubscribe_env(e, "un-nocodes", [])
    doc["message"].pop("subscription_codes")
    st, ans = post(e, "/dci/social/registry/unsubscribe", doc)
    assert st >= 400 or ans["message"]["ack_status"] == "ERR", (st, ans)
    time.sleep(0.8)
    assert not e.received("sb-badf", "on-subscribe") and not e.received("sb-nocrit",
                                                                        "on-subscribe")
    assert not e.received("un-nocodes", "on-unsubscribe")


def test_missing_token_refused():
    """SR-SEC-AUTH-RG-ASYNC-SUBSCRIBE-01, SR-SEC-AUTH-RG-ASYNC-UNSUBSCRIBE-01: no bearer token,
    401/403, nothing committed."""
    e = env()
    h = {"Content-Type": "application/json"}
    st, _ = post(e, "/dci/social/registry/subscribe", subscribe_env(e, "sb-noauth"), h)
    assert st in (401, 403), st
    st, _ = post(e, "/dci/social/registry/unsubscribe", unsubscribe_env(e, "un-noauth", ["x"]), h)
    assert st in (401, 403), st


def test_expired_subscription_shown_expired():
    """An expired subscription (end_time passed) is stored and listed `expired` (it matches no
    notify); a live one `live`."""
    e = env()
    subscribe(e, "sb-old", end_time="2026-01-01T00:00:00+01:00")
    code = codes_of(one_callback(e, "sb-old", "on-subscribe"))[0]
    rec = eventually(lambda: stored(e, code), what="stored")
    assert rec["state"] == "expired", rec


def test_internal_answer_channels_not_endpoints():
    """The answer_from channels answer only igw's own routes: a request from outside is 404."""
    e = env()
    st, ans = post(e, "/dci/social/_igw/on-subscribe", subscribe_env(e, "sb-direct"))
    assert st == 404, (st, ans)


def test_admin_needs_a_token():
    """GET /admin/dci/subscriptions needs an admin credential (viewer)."""
    e = env()
    req = urllib.request.Request("http://127.0.0.1:%d/admin/dci/subscriptions" % e.admin_port)
    try:
        urllib.request.urlopen(req, timeout=5)
        raise AssertionError("no 401")
    except urllib.error.HTTPError as x:
        assert x.code == 401, x.code


def test_compliance_ids_exist():
    """Every compliance id named in this file is in the catalogue."""
    import re
    known = {r["id"] for r in
             json.load(open(os.path.join(COMPLIANCE, "requirements-social.json")))["requirements"]}
    text = open(os.path.abspath(__file__)).read()
    named = set(re.findall(r"\bSR-[A-Z]+-[A-Z]+-[A-Z0-9-]+-\d\d\b", text))
    assert named and named <= known, named - known


def test_zz_stop():
    """igw stops cleanly (SIGTERM)."""
    assert env().gw.stop() == 0


def main():
    try:
        run([test_subscribe_on_subscribe_with_codes, test_no_on_subscribe_before_the_store_has_it,
             test_kill9_after_ack,
             test_unsubscribe_own_code, test_unknown_and_foreign_code_refused,
             test_codes_are_uuid5, test_bad_filter_refused, test_missing_token_refused,
             test_expired_subscription_shown_expired, test_internal_answer_channels_not_endpoints,
             test_admin_needs_a_token, test_compliance_ids_exist, test_zz_stop])
    finally:
        if ENV is not None:
            ENV.close()


if __name__ == "__main__":
    main()
