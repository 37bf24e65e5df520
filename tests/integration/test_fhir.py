# SPDX-License-Identifier: Apache-2.0
"""FHIR-facing channels end to end: the real `igw serve` between producers and the partner FHIR
server simulator (tests/sim/fhir_server.py). openIMIS events and legacy XML are translated and
delivered by conditional update (a resend updates, never duplicates); POST/PUT /fhir/{type},
transaction and batch Bundles get FHIR answers; a Subscription rest-hook notification is fanned
out to two routes; bad resources get an OperationOutcome and are not stored; 412 dead-letters,
409 is retried. Every case gets its own simulator and gateway (fresh(): no case depends on
another or on their order). Python 3 standard library only."""
import functools
import json
import os
import re
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
from igwtest import IGW_SRC, Gateway, eventually, run  # noqa: E402
from fhir_server import FhirServer  # noqa: E402

MAPS = os.path.join(IGW_SRC, "mappings")
FHIR = "application/fhir+json"
HDR = {"Content-Type": FHIR}
HOOK = {"Content-Type": "application/json", "Authorization": "Bearer hook-secret"}
LOCATION = re.compile(r"^/fhir/Patient/([A-Za-z0-9.-]{1,64})/_history/([0-9a-f]{16})$")

CONFIG = """
http: { listen: "http://127.0.0.1:{port}", max_body: 16MiB }
queue: { path: "{dir}/queue" }
mappings: { dir: "MAPS" }
channels:
  insurees:
    listen: POST /events/openimis/insuree
    routes:
      partner:
        url: "FHIRURL"
        map: openimis-insuree-to-patient
        output: fhir-r4
        fhir: { conditional: identifier }
        retry: { base: 50ms, cap: 200ms, max_attempts: 30 }
  claims_xml:
    listen: POST /legacy/claims
    input: xml
    routes:
      partner:
        url: "FHIRURL"
        map: legacy-claim-xml-to-claim
        output: fhir-r4
        fhir: { conditional: identifier }
        retry: { base: 50ms, cap: 200ms }
  enrolments_xml:
    listen: POST /legacy/enrolments
    input: xml
    routes:
      partner:
        url: "FHIRURL"
        map: legacy-enrolment-xml-to-bundle
        output: fhir-r4
        fhir: { conditional: identifier }
        retry: { base: 50ms, cap: 200ms }
  fhir_create:
    listen: POST /fhir/{type}
    dialect: fhir
    max_body: 1MiB
    content_types: [application/fhir+json, application/json]
    routes:
      partner:
        url: "FHIRURL"
        fhir: { conditional: identifier }
        retry: { base: 50ms, cap: 200ms }
  fhir_update:
    listen: PUT /fhir/{type}/{id}
    dialect: fhir
    content_types: [application/fhir+json, application/json]
    routes:
      partner:
        url: "FHIRURL"
        fhir: { conditional: identifier }
        retry: { base: 50ms, cap: 200ms }
  fhir_bundle:
    listen: POST /fhir
    dialect: fhir
    fhir: { interaction: bundle }
    content_types: [application/fhir+json, application/json]
    routes:
      partner:
        url: "FHIRURL"
        fhir: { conditional: identifier }
        retry: { base: 50ms, cap: 200ms }
  openimis_hook:
    listen: POST /hooks/openimis/patient
    dialect: fhir
    fhir: { interaction: notification }
    auth: { type: bearer, tokens: [hook-secret] }
    content_types: [application/json, application/fhir+json]
    routes:
      partner:
        url: "FHIRURL"
        fhir: { conditional: identifier }
        retry: { base: 50ms, cap: 200ms, max_attempts: 2 }
      audit:
        url: "file://{dir}/out/hook.ndjson"
"""

STATE = {}


def fresh(case):
    """Runs case with its own partner FHIR server simulator and gateway (gw(), sim()), both
    stopped and removed when it ends, whatever the outcome."""
    @functools.wraps(case)
    def wrapper():
        server = FhirServer()
        g = Gateway(CONFIG.replace("FHIRURL", server.url).replace("MAPS", MAPS))
        STATE.update(gw=g, sim=server)
        try:
            g.start()
            case()
        finally:
            STATE.clear()
            try:
                g.cleanup()
            finally:
                server.stop()
    return wrapper


def gw():
    return STATE["gw"]


def sim():
    return STATE["sim"]


def read(path):
    with open(os.path.join(MAPS, path), "rb") as f:
        return f.read()


def expected(path):
    return json.loads(read(path))


def strip(res):
    """A resource without the server-assigned parts (id, meta) for comparison."""
    return {k: v for k, v in res.items() if k not in ("id", "meta")}


def with_value(resources, value):
    return [r for r in resources
            if any(i.get("value") == value for i in r.get("identifier") or [])]


def patient(value, family="Kamau", rid=None):
    res = {"resourceType": "Patient",
           "identifier": [{"system": "https://partner.example.org/chfid", "value": value}],
           "name": [{"family": family, "given": ["Ann"]}], "gender": "female",
           "birthDate": "1990-04-01"}
    if rid:
        res["id"] = rid
    return res


def outcome_of(status_body):
    body = json.loads(status_body)
    assert body["resourceType"] == "OperationOutcome", body
    assert body["issue"], body
    return body


def dead_letters(route):
    return [ln for ln in gw().logs().splitlines()
            if "dead-letter" in ln and ("route=%s " % route) in ln]


def received_count(path_prefix):
    return len(sim().received(path_prefix))


# ---- openIMIS events and legacy XML -> the partner FHIR server -----------------------------


@fresh
def test_insuree_event_is_conditional_update():
    event = json.loads(read("openimis-insuree-to-patient/tests/minimal/input.json"))
    want = expected("openimis-insuree-to-patient/tests/minimal/expected.json")
    st, _, body = gw().request("POST", "/events/openimis/insuree", event,
                               {"Content-Type": "application/json"})
    assert st == 202, (st, body)
    stored = eventually(lambda: with_value(sim().store("Patient"), event["chfId"]),
                        what="Patient stored")
    assert len(stored) == 1 and strip(stored[0]) == strip(want), stored
    puts = sim().received("/fhir/Patient?identifier=")
    assert puts and puts[0]["method"] == "PUT" and puts[0]["status"] == 201, puts
    # a resend (a new message, as openIMIS would send after a timeout) updates the same Patient
    st, _, _ = gw().request("POST", "/events/openimis/insuree", event,
                            {"Content-Type": "application/json"})
    assert st == 202
    eventually(lambda: len([r for r in sim().received("/fhir/Patient?identifier=" + event["chfId"])
                            if r["status"] == 200]) == 1, what="second PUT answered 200")
    stored = with_value(sim().store("Patient"), event["chfId"])
    assert len(stored) == 1 and stored[0]["meta"]["versionId"] == "2", stored


@fresh
def test_legacy_claim_xml_to_claim():
    want = expected("legacy-claim-xml-to-claim/tests/fixture-claim-submit/expected.json")
    st, _, body = gw().request("POST", "/legacy/claims",
                               read("legacy-claim-xml-to-claim/tests/fixture-claim-submit/input.xml"),
                               {"Content-Type": "application/xml"})
    assert st == 202, (st, body)
    value = want["identifier"][0]["value"]
    stored = eventually(lambda: with_value(sim().store("Claim"), value), what="Claim stored")
    assert len(stored) == 1 and strip(stored[0]) == strip(want), stored


@fresh
def test_legacy_enrolment_xml_to_transaction():
    base = "legacy-enrolment-xml-to-bundle/tests/single-family/"
    bundle = expected(base + "expected.json")
    for attempt in (1, 2):  # the second send is a resend of the same file
        st, _, body = gw().request("POST", "/legacy/enrolments", read(base + "input.xml"),
                                   {"Content-Type": "application/xml"})
        assert st == 202, (st, body)
        eventually(lambda: len([r for r in sim().received("/fhir")
                                if r["path"] == "/fhir" and r["status"] == 200]) == attempt,
                   what="transaction %d processed" % attempt)
    for e in bundle["entry"]:
        res = e["resource"]
        value = [i["value"] for i in res["identifier"]][-1]
        stored = with_value(sim().store(res["resourceType"]), value)
        assert len(stored) == 1, (res["resourceType"], value, stored)
    # references to the Bundle's urn:uuid fullUrls were resolved by the server
    pn = sim().store("PaymentNotice")
    assert pn and pn[0]["request"]["reference"].startswith("Coverage/"), pn


# ---- POST/PUT /fhir/{type}, transaction and batch ------------------------------------------


@fresh
def test_create_answers_201_with_location_and_stores():
    res = patient("C-100")
    st, hdrs, body = gw().request("POST", "/fhir/Patient", res, HDR)
    assert st == 201, (st, body)
    m = LOCATION.match(hdrs.get("location", ""))
    assert m, hdrs
    out = json.loads(body)
    assert out["resourceType"] == "Patient" and out["id"] == m.group(1), out
    assert out["meta"]["versionId"] == m.group(2) and out["name"] == res["name"], out
    assert hdrs["content-type"].startswith(FHIR)
    stored = eventually(lambda: with_value(sim().store("Patient"), "C-100"), what="stored")
    assert strip(stored[0]) == strip(res), stored
    # the resource's own id is kept
    st, hdrs, _ = gw().request("POST", "/fhir/Patient", patient("C-101", rid="own-1"), HDR)
    assert st == 201 and LOCATION.match(hdrs["location"]).group(1) == "own-1", hdrs
    # an Idempotency-Key repeat: the first message's Location, 200
    h = dict(HDR, **{"Idempotency-Key": "create-C-102"})
    st1, h1, _ = gw().request("POST", "/fhir/Patient", patient("C-102"), h)
    st2, h2, _ = gw().request("POST", "/fhir/Patient", patient("C-102"), h)
    assert (st1, st2) == (201, 200) and h1["location"] == h2["location"], (h1, h2)


@fresh
def test_update_answers_200():
    res = patient("U-200", rid="u200")
    st, hdrs, body = gw().request("PUT", "/fhir/Patient/u200", res, HDR)
    assert st == 200, (st, body)
    assert LOCATION.match(hdrs["location"]).group(1) == "u200", hdrs
    eventually(lambda: with_value(sim().store("Patient"), "U-200"), what="stored")
    # the id of the body must be the id of the URL
    st, _, body = gw().request("PUT", "/fhir/Patient/other", res, HDR)
    assert st == 400, (st, body)
    assert any(i.get("expression") == ["Patient.id"] for i in outcome_of(body)["issue"]), body


@fresh
def test_transaction_and_batch_responses():
    entries = [{"fullUrl": "urn:uuid:7d3c3f6e-8f0b-4d8e-9a55-1f1b2b8c9a01",
                "resource": patient("T-300"),
                "request": {"method": "PUT", "url": "Patient?identifier=T-300"}},
               {"fullUrl": "urn:uuid:7d3c3f6e-8f0b-4d8e-9a55-1f1b2b8c9a02",
                "resource": patient("T-301", rid="t301"),
                "request": {"method": "POST", "url": "Patient"}},
               {"request": {"method": "DELETE", "url": "Patient/nobody"}}]
    st, _, body = gw().request("POST", "/fhir", {"resourceType": "Bundle", "type": "transaction",
                                                 "entry": entries}, HDR)
    assert st == 200, (st, body)
    out = json.loads(body)
    assert out["resourceType"] == "Bundle" and out["type"] == "transaction-response", out
    statuses = [e["response"]["status"] for e in out["entry"]]
    assert statuses == ["200 OK", "201 Created", "204 No Content"], out
    assert out["entry"][1]["response"]["location"].startswith("Patient/t301/_history/"), out
    eventually(lambda: with_value(sim().store("Patient"), "T-301"), what="transaction stored")
    assert with_value(sim().store("Patient"), "T-300")
    st, _, body = gw().request("POST", "/fhir", {"resourceType": "Bundle", "type": "batch",
                                                 "entry": entries[1:2]}, HDR)
    out = json.loads(body)
    assert st == 200 and out["type"] == "batch-response" and len(out["entry"]) == 1, out
    # a Bundle of another type, and an entry without request, are refused
    st, _, body = gw().request("POST", "/fhir", {"resourceType": "Bundle", "type": "collection"},
                               HDR)
    assert st == 400 and outcome_of(body), body
    st, _, body = gw().request("POST", "/fhir", {"resourceType": "Bundle", "type": "batch",
                                                 "entry": [{"resource": patient("T-9")}]}, HDR)
    assert st == 400 and "Bundle.entry[0].request" in body.decode(), body


# ---- Subscription rest-hook --------------------------------------------------------------


def hook_lines():
    path = os.path.join(gw().dir, "out", "hook.ndjson")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(ln) for ln in f if ln.strip()]


@fresh
def test_subscription_notification_fans_out():
    res = patient("S-400", rid="s400")
    st, _, body = gw().request("POST", "/hooks/openimis/patient", res, HOOK)
    assert st == 200, (st, body)
    assert outcome_of(body)["issue"][0]["severity"] == "information"
    eventually(lambda: with_value(sim().store("Patient"), "S-400"), what="partner route")
    eventually(lambda: any(ln.get("id") == "s400" for ln in hook_lines()), what="audit route")
    # an id-only notification (empty body) is accepted and fanned out
    n = len(hook_lines())
    st, _, body = gw().request("POST", "/hooks/openimis/patient", b"", HOOK)
    assert st == 200, (st, body)
    eventually(lambda: len(hook_lines()) == n + 1, what="empty notification delivered")
    # a Bundle notification is validated
    bad = {"resourceType": "Bundle", "type": "history", "entry": [{"resource": {
        "resourceType": "Patient", "gender": "sometimes"}}]}
    st, _, body = gw().request("POST", "/hooks/openimis/patient", bad, HOOK)
    assert st == 400 and "Bundle.entry[0].resource" in body.decode(), body
    good = {"resourceType": "Bundle", "type": "history", "entry": [{"resource": res,
            "request": {"method": "PUT", "url": "Patient/s400"},
            "response": {"status": "200"}}]}
    n = len(hook_lines())
    st, _, body = gw().request("POST", "/hooks/openimis/patient", good, HOOK)
    # a history Bundle cannot be sent to a FHIR base by the conditional-update route: certain
    # to fail there, so refused at intake (422) instead of acknowledged and dead-lettered
    assert st == 422 and "only transaction and batch" in body.decode(), (st, body)
    time.sleep(0.3)
    assert len(hook_lines()) == n, "a refused notification reached the audit route"
    assert not [ln for ln in dead_letters("openimis_hook.partner")
                if "only transaction and batch" in ln], gw().logs()
    # without the configured header: refused
    st, _, body = gw().request("POST", "/hooks/openimis/patient", res,
                               {"Content-Type": "application/json"})
    assert st == 401 and outcome_of(body), body


# ---- bad resources -------------------------------------------------------------------------


def raw(data, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", gw().port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        while b"\r\n\r\n" not in out or len(out) < 40:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        head, _, rest = out.partition(b"\r\n\r\n")
        m = re.search(rb"content-length: *(\d+)", head, re.I)
        while m and len(rest) < int(m.group(1)):
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head.decode(), rest
    finally:
        s.close()


@fresh
def test_bad_resources_get_outcome_and_are_not_stored():
    before = received_count("/fhir")
    cases = [
        ("wrong type", "/fhir/Patient", json.dumps(patient("B-1")).replace(
            '"Patient"', '"Organization"', 1).encode(), 400),
        ("missing required", "/fhir/Observation", json.dumps(
            {"resourceType": "Observation", "identifier": [{"value": "B-2"}]}).encode(), 400),
        ("broken reference", "/fhir/Patient", json.dumps(dict(
            patient("B-3"), managingOrganization={"reference": "not a reference"})).encode(),
         400),
        ("unknown type", "/fhir/Patiant", json.dumps(patient("B-4")).encode(), 404),
        ("invalid UTF-8", "/fhir/Patient", b'{"resourceType":"Patient","identifier":[{"value":'
         b'"B-5"}],"name":[{"family":"\xc3\x28"}]}', 400),
        ("deep nesting", "/fhir/Patient", b'{"resourceType":"Patient","extension":'
         + b"[" * 10000 + b"]" * 10000 + b"}", 400),
    ]
    for what, path, body, want in cases:
        st, hdrs, data = gw().request("POST", path, body, HDR)
        assert st == want, (what, st, data)
        assert hdrs["content-type"].startswith(FHIR), (what, hdrs)
        oo = outcome_of(data)
        assert all(i["severity"] in ("error", "fatal") for i in oo["issue"]), (what, oo)
    # several issues are all listed
    two = {"resourceType": "Patient", "gender": "sometimes", "birthDate": "yesterday"}
    st, _, data = gw().request("POST", "/fhir/Patient", two, HDR)
    assert st == 400 and len(outcome_of(data)["issue"]) >= 2, data
    # 10 MB: 413 as an OperationOutcome, before the body is sent
    head, data = raw(b"POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     b"application/fhir+json\r\nContent-Length: 10485760\r\n"
                     b"Expect: 100-continue\r\n\r\n")
    assert head.startswith("HTTP/1.1 413"), head
    assert outcome_of(data)["issue"][0]["code"] == "too-long", data
    time.sleep(0.5)
    assert received_count("/fhir") == before, sim().received("/fhir")[before:]
    for v in ("B-1", "B-2", "B-3", "B-4", "B-5"):
        assert not with_value(sim().store("Patient") + sim().store("Organization"), v), v


# ---- delivery failures ---------------------------------------------------------------------


@fresh
def test_412_is_dead_lettered():
    ident = {"type": {"coding": [{"code": "Code"}]}, "value": "412000001"}
    sim().control(seed=[{"resourceType": "Patient", "identifier": [ident]},
                        {"resourceType": "Patient", "identifier": [ident]}])
    st, _, _ = gw().request("POST", "/events/openimis/insuree",
                            {"chfId": "412000001", "lastName": "Twice", "otherNames": "Ann",
                             "dob": "1970-01-01"}, {"Content-Type": "application/json"})
    assert st == 202
    lines = eventually(lambda: [ln for ln in dead_letters("insurees.partner")
                                if "status=412" in ln], what="412 dead letter")
    assert "attempts=1" in lines[0], lines
    assert len(sim().received("/fhir/Patient?identifier=412000001")) == 1
    assert len(with_value(sim().store("Patient"), "412000001")) == 2


@fresh
def test_409_is_retried_then_delivered():
    sim().control(conflict=2, path="/fhir/Patient", method="PUT")
    st, _, _ = gw().request("POST", "/events/openimis/insuree",
                            {"chfId": "409000001", "lastName": "Busy", "otherNames": "Bo",
                             "dob": "1971-01-01"}, {"Content-Type": "application/json"})
    assert st == 202
    eventually(lambda: with_value(sim().store("Patient"), "409000001"), what="delivered")
    statuses = [r["status"] for r in sim().received("/fhir/Patient?identifier=409000001")]
    assert statuses == [409, 409, 201], statuses
    assert not [ln for ln in dead_letters("insurees.partner") if "409" in ln]


@fresh
def test_503_is_retried():
    sim().control(fail=1, status=503, path="/fhir/Patient", method="PUT")
    gw().request("POST", "/fhir/Patient", patient("R-503"), HDR)
    eventually(lambda: with_value(sim().store("Patient"), "R-503"), what="delivered after 503")


def main():
    run([test_insuree_event_is_conditional_update, test_legacy_claim_xml_to_claim,
         test_legacy_enrolment_xml_to_transaction,
         test_create_answers_201_with_location_and_stores, test_update_answers_200,
         test_transaction_and_batch_responses, test_subscription_notification_fans_out,
         test_bad_resources_get_outcome_and_are_not_stored, test_412_is_dead_lettered,
         test_409_is_retried_then_delivered, test_503_is_retried])


if __name__ == "__main__":
    main()
