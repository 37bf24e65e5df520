# SPDX-License-Identifier: Apache-2.0
"""What a stock FHIR client expects of igw's FHIR channels (docs/FHIR-CHANNELS.md, "What a FHIR
client gets"), with the real `igw serve` and the partner FHIR server simulator
(tests/sim/fhir_server.py): `[base]` and `[base]/`, OperationOutcomes for 404 and 405 under the
base, Accept/_format negotiation (406) and Content-Type (415), ETag and Last-Modified, Prefer:
return=, update by id and conditional update delivered as a FHIR server's would be, and writes
certain to fail on a conditional-update route refused at intake (422, nothing stored).
Python 3 standard library only."""
import functools
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
from igwtest import IGW_SRC, Gateway, eventually, run  # noqa: E402
from fhir_server import FhirServer  # noqa: E402

FHIR = "application/fhir+json"
HDR = {"Content-Type": FHIR, "Authorization": "Bearer rest-token"}
AUTH = {"Authorization": "Bearer rest-token"}
ETAG = re.compile(r'^W/"([0-9a-f]{16})"$')
HTTP_DATE = re.compile(r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$")

CONFIG = """
http: { listen: "http://127.0.0.1:{port}", max_body: 16MiB }
queue: { path: "{dir}/queue" }
mappings: { dir: "MAPS" }
channels:
  fhir_create:
    listen: POST /fhir/{type}
    dialect: fhir
    auth: { type: bearer, tokens: [rest-token] }
    routes:
      partner: { url: "FHIRURL", fhir: { conditional: identifier }, retry: { base: 50ms, cap: 200ms } }
  fhir_update:
    listen: PUT /fhir/{type}/{id}
    dialect: fhir
    auth: { type: bearer, tokens: [rest-token] }
    routes:
      partner: { url: "FHIRURL", fhir: { conditional: identifier }, retry: { base: 50ms, cap: 200ms } }
  fhir_conditional_update:
    listen: PUT /fhir/{type}
    dialect: fhir
    auth: { type: bearer, tokens: [rest-token] }
    routes:
      partner: { url: "FHIRURL", fhir: { conditional: identifier }, retry: { base: 50ms, cap: 200ms } }
  fhir_bundle:
    listen: POST /fhir
    dialect: fhir
    fhir: { interaction: bundle }
    auth: { type: bearer, tokens: [rest-token] }
    routes:
      partner: { url: "FHIRURL", fhir: { conditional: identifier }, retry: { base: 50ms, cap: 200ms } }
"""

STATE = {}


def fresh(case):
    """Runs case with its own simulator and gateway, both removed when it ends."""
    @functools.wraps(case)
    def wrapper():
        server = FhirServer()
        g = Gateway(CONFIG.replace("FHIRURL", server.url)
                    .replace("MAPS", os.path.join(IGW_SRC, "mappings")))
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


def patient(value, rid=None, family="Kamau"):
    res = {"resourceType": "Patient",
           "identifier": [{"system": "https://partner.example.org/chfid", "value": value}],
           "name": [{"family": family, "given": ["Ann"]}], "gender": "female"}
    if rid:
        res["id"] = rid
    return res


def with_value(value):
    return [r for r in sim().store("Patient")
            if any(i.get("value") == value for i in r.get("identifier") or [])]


def outcome(body, code=None):
    out = json.loads(body)
    assert out["resourceType"] == "OperationOutcome" and out["issue"], out
    if code:
        assert out["issue"][0]["code"] == code, out
    return out


@fresh
def test_base_with_and_without_slash():
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": patient("B-1"), "request": {"method": "POST", "url": "Patient"}}]}
    for path in ("/fhir", "/fhir/"):
        st, hdrs, body = gw().request("POST", path, bundle, HDR)
        assert st == 200, (path, st, body)
        assert json.loads(body)["type"] == "batch-response", body
    # [base]/Patient/ is [base]/Patient too
    st, _, body = gw().request("POST", "/fhir/Patient/", patient("B-2"), HDR)
    assert st == 201, (st, body)


@fresh
def test_404_and_405_under_the_base_are_outcomes():
    st, hdrs, body = gw().request("GET", "/fhir/Patient/1/_history/2/x", None, AUTH)
    assert st == 404 and hdrs["content-type"].startswith(FHIR), (st, body)
    outcome(body, "not-found")
    st, hdrs, body = gw().request("DELETE", "/fhir/Patient/1", None, AUTH)
    assert st == 405 and "PUT" in hdrs.get("allow", ""), (st, hdrs)
    outcome(body, "not-supported")
    # outside any FHIR base: igw's plain JSON error as before
    st, hdrs, body = gw().request("GET", "/elsewhere", None, AUTH)
    assert st == 404 and json.loads(body)["error"]["status"] == 404, body
    # an unknown resource type under the base
    st, _, body = gw().request("POST", "/fhir/Nonsense", patient("X"), HDR)
    assert st == 404, (st, body)
    outcome(body, "not-found")


@fresh
def test_negotiation_406_and_415():
    cases = [("/fhir/Patient?_format=xml", {}),
             ("/fhir/Patient?_format=application/fhir%2Bxml", {}),
             ("/fhir/Patient", {"Accept": "application/fhir+xml"}),
             ("/fhir/Patient", {"Accept": "application/fhir+json;q=0, application/xml"})]
    for path, extra in cases:
        st, hdrs, body = gw().request("POST", path, patient("N-1"), dict(HDR, **extra))
        assert st == 406 and hdrs["content-type"].startswith(FHIR), (path, extra, st, body)
        outcome(body, "not-supported")
    for path, extra in [("/fhir/Patient?_format=json", {}),
                        ("/fhir/Patient?_format=application/fhir%2Bjson", {}),
                        ("/fhir/Patient", {"Accept": "application/fhir+json"}),
                        ("/fhir/Patient", {"Accept": "application/xml;q=0.9, */*;q=0.1"})]:
        st, _, body = gw().request("POST", path, patient("N-2"), dict(HDR, **extra))
        assert st == 201, (path, extra, st, body)
    st, _, body = gw().request("POST", "/fhir/Patient", "<Patient/>",
                               dict(HDR, **{"Content-Type": "application/fhir+xml"}))
    assert st == 415, (st, body)
    outcome(body, "not-supported")
    time.sleep(0.3)
    assert not with_value("N-1"), "a refused request was delivered"


@fresh
def test_etag_last_modified_and_prefer():
    st, hdrs, body = gw().request("POST", "/fhir/Patient", patient("P-1"), HDR)
    assert st == 201, (st, body)
    m = ETAG.match(hdrs.get("etag", ""))
    assert m, hdrs
    assert HTTP_DATE.match(hdrs.get("last-modified", "")), hdrs
    assert json.loads(body)["meta"]["versionId"] == m.group(1), body
    assert hdrs["location"].endswith("/_history/" + m.group(1)), hdrs
    st, hdrs, body = gw().request("POST", "/fhir/Patient", patient("P-2"),
                                  dict(HDR, Prefer="return=minimal"))
    assert st == 201 and body == b"" and ETAG.match(hdrs["etag"]) and hdrs["location"], (st, body)
    st, hdrs, body = gw().request("PUT", "/fhir/Patient/p3", patient("P-3", rid="p3"),
                                  dict(HDR, Prefer="return=OperationOutcome"))
    assert st == 200 and ETAG.match(hdrs["etag"]), (st, hdrs)
    assert outcome(body)["issue"][0]["severity"] == "information", body
    st, hdrs, body = gw().request("PUT", "/fhir/Patient/p4", patient("P-4", rid="p4"),
                                  dict(HDR, Prefer="return=representation"))
    assert st == 200 and json.loads(body)["id"] == "p4", body


@fresh
def test_update_by_id_on_conditional_route_is_delivered():
    # the documented configuration: PUT [base]/Patient/{id} with fhir.conditional: identifier
    st, _, body = gw().request("POST", "/fhir/Patient", patient("U-1"), HDR)
    assert st == 201, body
    first = eventually(lambda: with_value("U-1"), what="created at the partner")
    st, _, body = gw().request("PUT", "/fhir/Patient/123", patient("U-1", rid="123",
                                                                     family="Otieno"), HDR)
    assert st == 200, (st, body)
    eventually(lambda: [r for r in with_value("U-1") if r["name"][0]["family"] == "Otieno"],
               what="updated at the partner")
    assert len(with_value("U-1")) == 1 and with_value("U-1")[0]["id"] == first[0]["id"]
    assert "dead-letter" not in gw().logs(), gw().logs()


@fresh
def test_conditional_update_end_to_end():
    path = "/fhir/Patient?identifier=https://partner.example.org/chfid%7CC-9"
    st, hdrs, body = gw().request("PUT", path, patient("C-9"), HDR)
    assert st == 200 and ETAG.match(hdrs["etag"]), (st, body)
    eventually(lambda: with_value("C-9"), what="conditional update delivered")
    st, _, body = gw().request("PUT", path, patient("C-9", family="Wanjiru"), HDR)
    assert st == 200, body
    eventually(lambda: [r for r in with_value("C-9") if r["name"][0]["family"] == "Wanjiru"],
               what="second conditional update")
    assert len(with_value("C-9")) == 1
    # PUT [base]/Patient without an id or a search is not an update
    st, _, body = gw().request("PUT", "/fhir/Patient", patient("C-10"), HDR)
    assert st == 400, (st, body)
    outcome(body)


@fresh
def test_certain_failures_refused_at_intake():
    nobody = {"resourceType": "Patient", "name": [{"family": "NoIdentifier"}]}
    for method, path, res in [("POST", "/fhir/Patient", nobody),
                              ("PUT", "/fhir/Patient/n1", dict(nobody, id="n1"))]:
        st, _, body = gw().request(method, path, res, HDR)
        assert st == 422, (method, path, st, body)
        out = outcome(body, "processing")
        assert "identifier" in out["issue"][0]["diagnostics"], out
    time.sleep(0.3)
    assert not [r for r in sim().store("Patient") if r["name"][0]["family"] == "NoIdentifier"]
    assert not sim().received("/Patient"), sim().received()


if __name__ == "__main__":
    run([v for k, v in sorted(globals().items()) if k.startswith("test_")])
