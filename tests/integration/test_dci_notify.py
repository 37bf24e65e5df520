#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""it.dci_notify: the DCI notify fan-out end to end (docs/DCI.md, "Notify"), with the real
`igw serve` and the SP-MIS receiver (tests/sim/spmis_receiver.py, verifying every callback's
signature against igw's JWKS). A partner subscribes through igw (/registry/subscribe, its
on-subscribe carries the code); openIMIS insuree events (POST /events/openimis/insuree-created,
-updated, -deleted with openIMIS's insuree JSON) go through the route map
openimis-insuree-to-dci-person and a `callback:<partner>` route with dci.notify: the partner
gets one signed notify per event with its subscription code, REGISTER / UPDATE / DEREGISTER in
order per record (the route is ordered by chfId). A partner without a subscription, an expired
or unsubscribed subscription, a filter that does not match: nothing is sent and the delivery is
`delivered` with last_error "skipped: no subscription". The receiver down for a while, and a
kill -9 of igw between the ACK and the delivery: the notify still arrives, once. A FHIR Patient
pushed to a FHIR channel (fhir-patient-to-dci-notify) is notified the same way. Each case names
the compliance requirement ids (OpenSPP spdci-compliance) it covers. Python 3 standard library
(+ python3-cryptography for the keys and the receiver's signature checks)."""
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from igwtest import (IGW_BIN, IGW_FIXTURES, IGW_SRC, SIM_DIR, Gateway, eventually,  # noqa: E402
                     free_port, run, skip)

sys.path.insert(0, SIM_DIR)
import dci_jws  # noqa: E402
import dcitest  # noqa: E402

VALID = os.path.join(IGW_FIXTURES, "dci", "valid")
COMPLIANCE = os.path.join(IGW_FIXTURES, "dci", "compliance", "openspp-spdci-compliance")
AUTH = {"Content-Type": "application/json", "Authorization": "Bearer demo-token"}
EVENTS = {"Content-Type": "application/json", "Authorization": "Bearer ev-token"}
ADMIN = {"Authorization": "Bearer view-t0ken"}
SENDER = "spmis.example.org"

CONFIG = dcitest.SUBSCRIPTION_CONFIG + """  insurees:                                # openIMIS's insuree events
    listen: POST /events/openimis/{event}
    auth: { type: bearer, tokens: [ev-token] }
    routes:
      notify_spmis:
        url: "callback:spmis"
        map: openimis-insuree-to-dci-person
        ordered_by: json:chfId
        auth: { type: bearer, token: rcv-token }
        retry: { base: 100ms, cap: 400ms, max_attempts: 400 }
        dci: { notify: { store: "{dir}/subs", record_type: Person, subscriber: SENDER } }
      notify_other:
        url: "callback:other"
        map: openimis-insuree-to-dci-person
        ordered_by: json:chfId
        retry: { base: 100ms, cap: 400ms }
        dci: { notify: { store: "{dir}/subs", subscriber: other.example.org } }
  families:                                # openIMIS's family events, as DCI Groups
    listen: POST /events/openimis-family/{event}
    auth: { type: bearer, tokens: [ev-token] }
    routes:
      notify_spmis:
        url: "callback:spmis"
        map: openimis-family-to-dci-group
        ordered_by: json:uuid
        auth: { type: bearer, token: rcv-token }
        retry: { base: 100ms, cap: 400ms, max_attempts: 400 }
        dci: { notify: { store: "{dir}/subs", record_type: Group, subscriber: SENDER } }
  fhir_patient:                            # openIMIS's FHIR rest-hook pushes, writes
    listen: POST /fhir/{type}
    dialect: fhir
    auth: { type: bearer, tokens: [fhir-token] }
    routes:
      notify_spmis:
        url: "callback:spmis"
        map: fhir-patient-to-dci-notify
        auth: { type: bearer, token: rcv-token }
        retry: { base: 100ms, cap: 400ms }
        dci: { notify: { store: "{dir}/subs", subscriber: SENDER } }
  spmis_in:                                # igw's own DCI checks on what it sent
    listen: POST /dci/check/registry/{op}
    dialect: dci
    auth: { type: bearer, tokens: [chk-token] }
    routes:
      log: { url: "file://{dir}/notify-check.ndjson" }
""".replace("SENDER", SENDER)


class Env:
    def __init__(self):
        if not dci_jws.HAVE_CRYPTO:
            skip("python3-cryptography is not installed")
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()).decode()
        self.procs = []
        self.igw_port = free_port()
        self.admin_port = free_port()
        self.rcv_port = self.spawn([os.path.join(SIM_DIR, "spmis_receiver.py"), "--port", "0",
                                    "--base", "/dci/spmis", "--token", "rcv-token", "--jwks-url",
                                    "http://127.0.0.1:%d/.well-known/jwks.json" % self.igw_port])
        self.conf = (CONFIG.replace("RCV", str(self.rcv_port))
                     .replace("ADMINPORT", str(self.admin_port))
                     .replace("MAPS", os.path.join(IGW_SRC, "mappings")))
        try:
            self.gw = Gateway(self.conf, port=self.igw_port, extra_files={
                "igw.pem": self.pem, "viewer.tokens": "view-t0ken\n"}).start()
        except BaseException:
            for p in self.procs:
                p.terminate()
            raise

    def spawn(self, argv):
        p = subprocess.Popen([sys.executable] + argv, stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline().split()
        assert line and line[0] == "READY", line
        return int(line[1])

    def rcv(self, path, body=None):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.rcv_port, path),
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def admin(self, path):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.admin_port, path),
                                     headers=ADMIN)
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def notifies(self, msg_id):
        """The notifies the receiver accepted for the queue message msg_id (its header
        message_id is notify-<id>-<route>)."""
        return [c for c in self.rcv("/_received")
                if c["path"] == "/registry/notify" and
                c["envelope"]["header"]["message_id"].startswith("notify-%s-" % msg_id)]

    def delivery(self, msg_id, route):
        m = self.admin("/admin/messages/" + msg_id)
        return [d for d in m["deliveries"] if d["route"] == "insurees." + route][0]

    def close(self):
        self.gw.cleanup()
        for p in self.procs:
            p.terminate()
            p.wait()


ENV = None


def env():
    global ENV
    if ENV is None:
        ENV = Env()
    return ENV


def subscribe_env(e, mid, chfid, end_time="2099-01-01T00:00:00Z", event="ALL",
                  record_type="Person"):
    doc = json.load(open(os.path.join(VALID, "subscribe.json")))
    h = dict(doc["header"], message_id=mid, sender_id=SENDER, message_ts=dci_jws.now_ts(),
             total_count=1, sender_uri="http://127.0.0.1:%d/dci/spmis/" % e.rcv_port)
    m = copy.deepcopy(doc["message"])
    m["transaction_id"] = "txn-" + mid
    item = m["subscribe_request"][0]
    item["reference_id"] = "ref-" + mid
    crit = item["subscribe_criteria"]
    crit["frequency"]["end_time"] = end_time
    crit["frequency"]["start_time"] = "2026-01-01T00:00:00Z"
    crit["filter"] = {"type": "UIN", "value": chfid}
    crit["reg_event_type"] = event
    crit["notify_record_type"] = record_type
    return {"signature": "", "header": h, "message": m}


def post(e, path, body, headers=AUTH):
    st, _, data = e.gw.request("POST", path, json.dumps(body).encode(), headers, timeout=30)
    return st, json.loads(data) if data else None


def subscribe(e, mid, chfid, **kw):
    """Subscribes; returns the code from the on-subscribe, once the store holds it."""
    st, doc = post(e, "/dci/social/registry/subscribe", subscribe_env(e, mid, chfid, **kw))
    assert st == 200 and doc["message"]["ack_status"] == "ACK", (st, doc)
    cb = eventually(lambda: [c for c in e.rcv("/_received")
                             if c["envelope"]["header"]["message_id"] == mid + "-on-subscribe"],
                    timeout=20, what="on-subscribe of " + mid)[0]
    code = cb["envelope"]["message"]["subscribe_response"][0]["subscriptions"][0]["code"]
    eventually(lambda: any(s["code"] == code for s in
                           e.admin("/admin/dci/subscriptions")["subscriptions"]),
               what="stored " + code)
    return code


def event(e, kind, chfid, key, last="Doe"):
    body = {"chfId": chfid, "lastName": last, "otherNames": "Jane", "dob": "1990-04-01",
            "gender": {"code": "F"}}
    h = dict(EVENTS, **{"Idempotency-Key": key})
    st, _, data = e.gw.request("POST", "/events/openimis/insuree-" + kind, json.dumps(body),
                               h, timeout=30)
    assert st == 202, (st, data)
    return json.loads(data)["id"]


def test_family_event_as_group():
    """SR-CORE-SP-NOTIFY-01: an openIMIS family event (map openimis-family-to-dci-group) goes to
    the subscription for Group records whose filter names the head's CHFID, as a Group with the
    code; the Person subscriptions of the same CHFID get nothing from it."""
    e = env()
    person = subscribe(e, "sb-fam-p", "100000020")
    code = subscribe(e, "sb-fam-g", "100000020", record_type="Group")
    fam = {"uuid": "5d419fda-e60d-40fc-922d-8368e5470a17", "address": "Plot 207",
           "headInsuree": {"uuid": "d6df6916-d60c-4510-ab00-9b19e020fdc8", "chfId": "100000020",
                           "lastName": "Doe", "otherNames": "Jane"},
           "members": [{"chfId": "100000020", "lastName": "Doe", "otherNames": "Jane"}],
           "poverty": False}
    st, _, data = e.gw.request("POST", "/events/openimis-family/family-created", json.dumps(fam),
                               dict(EVENTS, **{"Idempotency-Key": "fam-created"}), timeout=30)
    assert st == 202, (st, data)
    i = json.loads(data)["id"]
    cb = eventually(lambda: e.notifies(i), timeout=20, what="family notify")
    assert len(cb) == 1, cb
    ev = cb[0]["envelope"]["message"]["notify_event"]
    assert [x["subscription_code"] for x in ev] == [code] and code != person, ev
    d = ev[0]["data"]
    assert d["reg_record_type"] == "Group" and d["reg_event_type"] == "REGISTER", d
    ids = {g["identifier_value"] for g in d["reg_records"][0]["group_identifier"]}
    assert "100000020" in ids and d["reg_records"][0]["group_size"] == 1, d


def wait_delivered(e, msg_id, route, timeout=20.0):
    try:
        return eventually(lambda: (lambda d: d if d["state"] == "delivered" else None)(
            e.delivery(msg_id, route)), timeout=timeout, what="%s delivered" % route)
    except AssertionError as x:
        raise AssertionError("%s: %s; igw's log ends: %s" % (x, e.delivery(msg_id, route),
                                                            e.gw.logs()[-1500:]))


def test_subscribe_then_events_in_order():
    """SR-CORE-RG-ASYNC-SUBSCRIBE-01, SR-CORE-RG-ASYNC-SUBSCRIBE-CB-01, SR-CORE-SP-NOTIFY-01:
    a partner subscribes (on-subscribe with the code); insuree created, updated, deleted events
    become three signed notifies to its /registry/notify, each with the subscription's code,
    reg_event_type REGISTER, UPDATE, DEREGISTER in that order, the Person through the map."""
    e = env()
    code = subscribe(e, "sb-a", "100000001")
    ids = [event(e, k, "100000001", "a-" + k, last=k.title())
           for k in ("created", "updated", "deleted")]
    got = []
    for i in ids:
        try:
            got += eventually(lambda: e.notifies(i), timeout=20, what="notify of " + i)
        except AssertionError as x:
            raise AssertionError("%s: %s; igw's log ends: %s" % (
                x, e.delivery(i, "notify_spmis"), e.gw.logs()[-1500:]))
    assert len(got) == 3, got
    evs = []
    for cb, i in zip(got, ids):
        assert cb["sig"] is True, cb
        env_ = cb["envelope"]
        h, m = env_["header"], env_["message"]
        assert h["action"] == "notify" and h["status"] == "succ", h
        assert h["receiver_id"] == SENDER and h["sender_id"] == "openimis.igw", h
        assert h["total_count"] == 1 and len(m["notify_event"]) == 1, env_
        item = m["notify_event"][0]
        assert item["subscription_code"] == code, item
        assert item["reference_id"] == "%s-%s" % (i, code), item
        d = item["data"]
        assert d["reg_record_type"] == "Person" and d["reg_type"] == "ns:org:RegistryType:Social"
        rec = d["reg_records"][0]
        assert {"identifier_type": "CHFID", "identifier_value": "100000001"} in rec["identifier"]
        evs.append((d["reg_event_type"], rec["name"]["surname"]))
    assert evs == [("REGISTER", "Created"), ("UPDATE", "Updated"),
                   ("DEREGISTER", "Deleted")], evs
    # the order per record: each notify was delivered after the one before it
    ts = [wait_delivered(e, i, "notify_spmis")["last_attempt_ms"] for i in ids]
    assert ts == sorted(ts), ts


def test_notify_passes_igws_own_dci_checks():
    """SR-CORE-SP-NOTIFY-01: the notifies igw sent are spec-valid NotifyEventRequests: igw's own
    DCI dialect (its checks generated from the SPDCI OpenAPI) ACKs them on a /registry/notify
    endpoint: REGISTER, and openIMIS's UPDATE and DEREGISTER (tolerated drift: the Social
    Registry text's enum has only REGISTER and NewHouseHoldMember)."""
    e = env()
    subscribe(e, "sb-chk", "100000009")
    for kind, want in (("created", "REGISTER"), ("updated", "UPDATE"), ("deleted", "DEREGISTER")):
        i = event(e, kind, "100000009", "chk-" + kind)
        cb = eventually(lambda: e.notifies(i), timeout=20, what="notify " + kind)[0]
        assert cb["envelope"]["message"]["notify_event"][0]["data"]["reg_event_type"] == want, cb
        st, ans = post(e, "/dci/check/registry/notify", cb["envelope"],
                       {"Content-Type": "application/json", "Authorization": "Bearer chk-token"})
        assert st == 200 and ans["message"]["ack_status"] == "ACK", (kind, st, ans)


def test_partner_without_subscription_gets_nothing():
    """The second partner has no subscription: its route sends nothing, and the delivery is
    `delivered` with last_error "skipped: no subscription" (a send would have been a 404 from
    the receiver, which does not serve /dci/other/, and a dead letter)."""
    e = env()
    i = event(e, "created", "100000002", "b-created")
    d = wait_delivered(e, i, "notify_other")
    assert d["last_error"] == "skipped: no subscription", d
    d = wait_delivered(e, i, "notify_spmis")  # spmis has no subscription for this one either
    assert d["last_error"] == "skipped: no subscription", d
    assert e.notifies(i) == []
    assert 'skipped="no subscription"' in e.gw.logs()


def test_filter_expired_unsubscribed_event_type():
    """A subscription whose filter does not match the record, an expired one (end_time passed),
    an unsubscribed one (SR-CORE-RG-ASYNC-UNSUBSCRIBE-01) and one for REGISTER only receiving
    an UPDATE: no notify, the deliveries delivered (skipped)."""
    e = env()
    subscribe(e, "sb-f", "100000003")                       # filter: another CHFID
    subscribe(e, "sb-old", "100000004", end_time="2026-01-01T00:00:00+01:00")
    code = subscribe(e, "sb-un", "100000005")
    subscribe(e, "sb-reg", "100000006", event="REGISTER")
    un = json.load(open(os.path.join(VALID, "unsubscribe.json")))
    un["header"].update(message_id="un-1", sender_id=SENDER, message_ts=dci_jws.now_ts(),
                        sender_uri="http://127.0.0.1:%d/dci/spmis/" % e.rcv_port)
    un["message"].update(transaction_id="txn-un-1", timestamp=dci_jws.now_ts(),
                         subscription_codes=[code])
    st, ans = post(e, "/dci/social/registry/unsubscribe", un)
    assert st == 200 and ans["message"]["ack_status"] == "ACK", (st, ans)
    eventually(lambda: [s for s in e.admin("/admin/dci/subscriptions")["subscriptions"]
                        if s["code"] == code and s["state"] == "ended"], what="ended")
    ids = [event(e, "created", "100000007", "f-created"),    # matches no filter
           event(e, "created", "100000004", "old-created"),  # expired
           event(e, "created", "100000005", "un-created"),    # unsubscribed
           event(e, "updated", "100000006", "reg-updated")]  # REGISTER only
    for i in ids:
        d = wait_delivered(e, i, "notify_spmis")
        assert d["last_error"] == "skipped: no subscription", (i, d)
        assert e.notifies(i) == [], i
    # and the REGISTER-only subscription does get a REGISTER
    i = event(e, "created", "100000006", "reg-created")
    got = eventually(lambda: e.notifies(i), timeout=20, what="REGISTER notify")
    assert got[0]["envelope"]["message"]["notify_event"][0]["data"]["reg_event_type"] == \
        "REGISTER"


def patient(pid, chfid, version):
    return {"resourceType": "Patient", "id": pid, "meta": {"versionId": version},
            "identifier": [{"type": {"coding": [{"code": "CHFID"}]},
                            "system": "urn:openimis:insuree:chfid", "value": chfid}],
            "name": [{"family": "Roe", "given": ["Ann"]}], "gender": "female",
            "birthDate": "1981-02-03"}


def notifies_of_chfid(e, chfid):
    out = []
    for c in e.rcv("/_received"):
        if c["path"] != "/registry/notify":
            continue
        for it in c["envelope"]["message"]["notify_event"]:
            ids = it["data"]["reg_records"][0].get("identifier", [])
            if any(i.get("identifier_value") == chfid for i in ids):
                out.append(c)
                break
    return out


def test_fhir_patient_push():
    """SR-CORE-SP-NOTIFY-01: a FHIR Patient pushed to a FHIR channel (openIMIS's rest-hook
    Subscription, or a write through igw) through fhir-patient-to-dci-notify: the envelope's
    record and event type (REGISTER for version 1, UPDATE after) go to the matching
    subscription, with its code; a Patient no subscription matches is skipped."""
    e = env()
    code = subscribe(e, "sb-fhir", "100000020")
    h = {"Authorization": "Bearer fhir-token", "Content-Type": "application/fhir+json"}
    for v in ("1", "2"):
        st, _, body = e.gw.request("POST", "/fhir/Patient", json.dumps(patient("p-20", "100000020",
                                                                            v)), h, timeout=30)
        assert st in (200, 201, 202), (st, body)
    got = eventually(lambda: (lambda g: g if len(g) == 2 else None)(
        notifies_of_chfid(e, "100000020")), timeout=20, what="two FHIR notifies")
    evs = sorted(c["envelope"]["message"]["notify_event"][0]["data"]["reg_event_type"]
                 for c in got)
    assert evs == ["REGISTER", "UPDATE"], evs
    for c in got:
        assert c["sig"] is True, c
        assert c["envelope"]["message"]["notify_event"][0]["subscription_code"] == code, c
    st, _, body = e.gw.request("POST", "/fhir/Patient",
                               json.dumps(patient("p-21", "100000021", "1")), h, timeout=30)
    assert st in (200, 201, 202), (st, body)
    eventually(lambda: any("route=fhir_patient.notify_spmis" in ln and
                           'skipped="no subscription"' in ln for ln in e.gw.logs().splitlines()),
               what="the unmatched Patient skipped")
    assert notifies_of_chfid(e, "100000021") == []


def test_receiver_down_then_back():
    """SR-CORE-SP-NOTIFY-01: the partner refuses (503) for a while: the notify is retried with
    the route's backoff and arrives once it is back."""
    e = env()
    subscribe(e, "sb-down", "100000010")
    e.rcv("/_control", {"fail": 100000, "status": 503})
    i = event(e, "updated", "100000010", "down-updated")
    eventually(lambda: e.delivery(i, "notify_spmis")["attempts"] >= 2, timeout=20,
               what="two refused attempts")
    assert e.notifies(i) == []
    e.rcv("/_control", {"fail": 0})
    got = eventually(lambda: e.notifies(i), timeout=20, what="notify after the receiver is back")
    assert len(got) == 1 and got[0]["sig"] is True, got
    wait_delivered(e, i, "notify_spmis")


def test_kill9_between_accept_and_delivery():
    """kill -9 of igw after the event was accepted (202) and before its notify got through
    (the receiver refusing meanwhile): after a restart the notify arrives, once (the same
    message_id on every attempt: the partner's duplicate check would drop a repeat)."""
    e = env()
    subscribe(e, "sb-kill", "100000011")
    e.rcv("/_control", {"fail": 100000, "status": 503})
    i = event(e, "created", "100000011", "kill-created")
    eventually(lambda: e.delivery(i, "notify_spmis")["attempts"] >= 1, timeout=20,
               what="a refused attempt")
    e.gw.kill9()
    e.rcv("/_control", {"fail": 0})
    e.gw.start()
    got = eventually(lambda: e.notifies(i), timeout=30, what="notify after the restart")
    time.sleep(0.8)
    got = e.notifies(i)
    assert len(got) == 1, got
    assert got[0]["envelope"]["header"]["message_id"] == "notify-%s-notify_spmis" % i, got


def config_check(text):
    d = tempfile.mkdtemp(prefix="igw-dcin-chk-")
    with open(os.path.join(d, "igw.conf"), "w") as f:
        f.write(text.replace("{port}", str(free_port())).replace("{dir}", d))
    for name, content in (("igw.pem", env().pem), ("viewer.tokens", "view-t0ken\n")):
        with open(os.path.join(d, name), "w") as f:
            f.write(content)
    p = subprocess.run([IGW_BIN, "config", "check", os.path.join(d, "igw.conf")],
                       cwd=d, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def test_config_check_refusals():
    """igw config check refuses what serve would: a notify route whose store no
    dci-subscriptions: route writes, without a map, without a store, to an unknown partner, on
    a channel whose requests carry no event type; and passes the test's own config."""
    e = env()
    rc, out = config_check(e.conf)
    assert rc == 0, out
    cases = [
        (('store: "{dir}/subs", record_type', 'store: "{dir}/elsewhere", record_type'),
         "is not the directory of a dci-subscriptions: route"),
        (("map: openimis-insuree-to-dci-person\n        ordered_by: json:chfId\n"
          "        auth: { type: bearer, token: rcv-token }",
          "ordered_by: json:chfId\n        auth: { type: bearer, token: rcv-token }"),
         "dci.notify needs a map"),
        (('notify: { store: "{dir}/subs", subscriber: other.example.org }',
          'notify: { subscriber: other.example.org }'), "store"),
        (('url: "callback:other"', 'url: "callback:nobody"'), "names no partner"),
        (("listen: POST /events/openimis/{event}", "listen: POST /events/openimis/insuree"),
         "carry no event type"),
    ]
    for (old, new), want in cases:
        assert old in e.conf, old
        rc, out = config_check(e.conf.replace(old, new, 1))
        assert rc != 0 and want in out, (want, rc, out)
        assert "igw.conf:" in out, out  # file:line:column


def test_compliance_ids_exist():
    """Every compliance id named in this file is in the catalogue."""
    import re
    known = {r["id"] for r in
             json.load(open(os.path.join(COMPLIANCE, "requirements-social.json")))["requirements"]}
    text = open(os.path.abspath(__file__)).read()
    named = set(re.findall(r"\bSR-[A-Z]+-[A-Z]+-[A-Z0-9-]+-\d\d\b", text))
    assert named and named <= known, named - known


def test_zz_stop():
    """igw stops cleanly (SIGTERM): exit 0, no sanitizer report in its log."""
    env().gw.stop_clean()


def main():
    try:
        run([test_subscribe_then_events_in_order, test_notify_passes_igws_own_dci_checks,
             test_partner_without_subscription_gets_nothing,
             test_filter_expired_unsubscribed_event_type, test_fhir_patient_push,
             test_family_event_as_group,
             test_receiver_down_then_back, test_kill9_between_accept_and_delivery,
             test_config_check_refusals, test_compliance_ids_exist, test_zz_stop])
    finally:
        if ENV is not None:
            ENV.close()


if __name__ == "__main__":
    main()
