# SPDX-License-Identifier: Apache-2.0
"""Translation at intake through the real `igw serve`: a route with a map receives the
translated payload and a pass-through route the original; a map that refuses the input gets 422
(an OperationOutcome on a FHIR-dialect channel) and nothing is stored; malformed XML gets 400;
SIGHUP recompiles the mappings and keeps the old ones when the new ones do not compile; an
unknown map name stops start-up. Python 3 standard library only."""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import IGW_BIN, IGW_SRC, Gateway, eventually, run  # noqa: E402

AUTH = {"Authorization": "Bearer t0k", "Content-Type": "application/json"}
INSUREE = {"chfId": "070707070", "lastName": "Doe", "otherNames": "John Baraka",
           "dob": "1950-01-01", "gender": "M", "family": {"headChfId": "070707070"},
           "healthFacility": {"code": "HF001"}, "phone": "+255700000000"}

CONFIG = """
http: { listen: "http://127.0.0.1:{port}" }
queue: { path: "{dir}/queue" }
mappings: { dir: MAPDIR }
channels:
  insurees:
    listen: POST /insurees
    auth: { type: bearer, tokens: [t0k] }
    routes:
      fhir:
        url: file://{dir}/out/patients.ndjson
        map: insuree-to-patient
        output: fhir-r4
      raw:
        url: file://{dir}/out/raw.ndjson
  strict:
    listen: POST /strict
    auth: { type: bearer, tokens: [t0k] }
    dialect: DIALECT
    routes:
      out:
        url: file://{dir}/out/strict.ndjson
        map: strict
  legacy:
    listen: POST /legacy
    auth: { type: bearer, tokens: [t0k] }
    input: xml
    routes:
      out:
        url: file://{dir}/out/legacy.ndjson
"""

STRICT_MAP = """map strict from json to json
resourceType = "Basic"
code.text = "VERSION"
subject.identifier.value = required(chfId, "chfId is required")
"""


def mapdir(tmp, version="v1", broken=False):
    """A mappings directory with the shipped insuree-to-patient map and a small strict map."""
    d = os.path.join(tmp, "mappings")
    os.makedirs(os.path.join(d, "strict"), exist_ok=True)
    src = os.path.join(IGW_SRC, "tests", "bench", "maps", "insuree-to-patient")
    dst = os.path.join(d, "insuree-to-patient")
    if not os.path.exists(dst):
        os.symlink(src, dst)
    text = STRICT_MAP.replace("VERSION", version)
    if broken:
        text += "oops = unknownfunction(1)\n"
    with open(os.path.join(d, "strict", "map"), "w") as f:
        f.write(text)
    return d


def gateway(dialect="plain"):
    gw = Gateway(CONFIG.replace("DIALECT", dialect))
    cfg = gw.config_text.replace("MAPDIR", mapdir(gw.dir))
    with open(gw.config_path, "w") as f:
        f.write(cfg)
    return gw


def lines(gw, name):
    path = os.path.join(gw.dir, "out", name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(x) for x in f if x.strip()]


def test_route_gets_translated_payload_and_raw_route_the_original():
    gw = gateway().start()
    try:
        st, _, body = gw.request("POST", "/insurees", INSUREE, AUTH)
        assert st == 202, body
        pats = eventually(lambda: lines(gw, "patients.ndjson"), what="patient delivered")
        raws = eventually(lambda: lines(gw, "raw.ndjson"), what="raw delivered")
        p = pats[0]
        assert p["resourceType"] == "Patient", p
        assert p["identifier"][0]["value"] == "070707070"
        assert p["name"][0]["given"] == ["John", "Baraka"]
        assert p["gender"] == "male"
        assert raws[0] == INSUREE
    finally:
        gw.cleanup()


def test_map_refusal_is_422_and_nothing_is_stored():
    gw = gateway().start()
    try:
        st, hdr, body = gw.request("POST", "/strict", {"name": "x"}, AUTH)
        assert st == 422, (st, body)
        err = json.loads(body)["error"]
        assert err["code"] == "translation_failed"
        assert "chfId is required" in err["message"] and "strict/map:4:" in err["message"], err
        st, _, body = gw.request("POST", "/strict", {"chfId": "1"}, AUTH)
        assert st == 202, body
        got = eventually(lambda: lines(gw, "strict.ndjson"), what="strict delivered")
        assert got == [{"resourceType": "Basic", "code": {"text": "v1"},
                        "subject": {"identifier": {"value": "1"}}}], got
    finally:
        gw.cleanup()


def test_fhir_dialect_answers_with_operation_outcome():
    gw = gateway(dialect="fhir").start()
    try:
        st, hdr, body = gw.request("POST", "/strict", {"name": "x"}, AUTH)
        assert st == 422, (st, body)
        assert hdr["content-type"] == "application/fhir+json"
        oo = json.loads(body)
        assert oo["resourceType"] == "OperationOutcome"
        assert oo["issue"][0]["severity"] == "error" and oo["issue"][0]["code"] == "processing"
        assert "chfId is required" in oo["issue"][0]["diagnostics"]
        st, hdr, body = gw.request("POST", "/strict", b"{not json", AUTH)
        assert st == 400 and json.loads(body)["issue"][0]["code"] == "invalid", body
        st, hdr, body = gw.request("POST", "/strict", {"chfId": "1"}, {"Content-Type": "application/json"})
        assert st == 401 and json.loads(body)["issue"][0]["code"] == "login", body
    finally:
        gw.cleanup()


def test_malformed_xml_is_400_with_line_and_column():
    gw = gateway().start()
    try:
        hdr = {"Authorization": "Bearer t0k", "Content-Type": "application/xml"}
        st, _, body = gw.request("POST", "/legacy", "<Claim>\n  <Details></Claim>", hdr)
        assert st == 400, body
        err = json.loads(body)["error"]
        assert err["code"] == "invalid_xml" and "line 2" in err["message"], err
        st, _, body = gw.request("POST", "/legacy", "<Claim><Details/></Claim>", hdr)
        assert st == 202, body
    finally:
        gw.cleanup()


def test_sighup_reloads_and_keeps_old_maps_on_error():
    gw = gateway().start()
    try:
        mapdir(gw.dir, version="v2")
        gw.proc.send_signal(signal.SIGHUP)
        eventually(lambda: "mappings reloaded" in gw.logs(), what="reload log line")
        assert gw.request("POST", "/strict", {"chfId": "2"}, AUTH)[0] == 202
        mapdir(gw.dir, version="v3", broken=True)
        gw.proc.send_signal(signal.SIGHUP)
        eventually(lambda: "mappings not reloaded" in gw.logs(), what="reload error log line")
        assert "unknownfunction" in gw.logs()
        assert gw.request("POST", "/strict", {"chfId": "3"}, AUTH)[0] == 202
        got = eventually(lambda: len(lines(gw, "strict.ndjson")) == 2 and lines(gw, "strict.ndjson"),
                         what="two deliveries")
        versions = sorted((x["subject"]["identifier"]["value"], x["code"]["text"]) for x in got)
        assert versions == [("2", "v2"), ("3", "v2")], versions
        assert gw.stop() == 0
    finally:
        gw.cleanup()


def test_unknown_map_stops_start_up():
    gw = gateway()
    try:
        cfg = gw.config_text.replace("MAPDIR", mapdir(gw.dir)).replace("map: strict", "map: nosuchmap")
        with open(gw.config_path, "w") as f:
            f.write(cfg)
        p = subprocess.run([IGW_BIN, "serve", "--config", gw.config_path], cwd=gw.dir,
                           capture_output=True, timeout=20)
        assert p.returncode == 1, p
        assert b"unknown map 'nosuchmap'" in p.stderr, p.stderr
    finally:
        gw.cleanup()


if __name__ == "__main__":
    run([test_route_gets_translated_payload_and_raw_route_the_original,
         test_map_refusal_is_422_and_nothing_is_stored,
         test_fhir_dialect_answers_with_operation_outcome,
         test_malformed_xml_is_400_with_line_and_column,
         test_sighup_reloads_and_keeps_old_maps_on_error,
         test_unknown_map_stops_start_up])
