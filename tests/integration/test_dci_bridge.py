#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""it.dci_bridge: the FHIR -> DCI direction of the bridge live: a FHIR R4 Patient written to a
FHIR channel of igw is delivered as a DCI notify (map fhir-patient-to-dci-notify) to the SP-MIS
receiver simulator (tests/sim/spmis_receiver.py) through a callback:<partner> route, which
checks the callback header and igw's signature (made at delivery time: the partner has sign:
true, igw has a key) against igw's JWKS and answers ACK; a resource that is not a Patient is refused at
intake (422) and never notified."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import IGW_FIXTURES, IGW_SRC, SIM_DIR, Gateway, eventually, free_port, run  # noqa: E402

sys.path.insert(0, SIM_DIR)
import dci_jws  # noqa: E402
import dcitest  # noqa: E402

CONFIG = """
http: { listen: "http://127.0.0.1:{port}" }
queue: { path: "{dir}/queue" }
mappings: { dir: "MAPS" }
signing: { key_file: igw.pem, kid: igw-1 }
partners:
  spmis: { base_urls: ["http://127.0.0.1:RCV/dci/spmis/"], sign: true }
channels:
  fhir_patient:
    listen: POST /fhir/{type}
    dialect: fhir
    auth: { type: bearer, tokens: [fhir-token] }
    routes:
      notify: { url: "callback:spmis", map: fhir-patient-to-dci-notify, retry: { base: 100ms, cap: 500ms } }
  fhir_group:
    listen: POST /fhir-groups/{type}
    dialect: fhir
    auth: { type: bearer, tokens: [fhir-token] }
    routes:
      notify: { url: "callback:spmis", map: fhir-group-to-dci-notify, retry: { base: 100ms, cap: 500ms } }
  dci_check:                               # igw's own DCI checks on what it sent
    listen: POST /dci/check/registry/{op}
    dialect: dci
    auth: { type: bearer, tokens: [chk-token] }
    routes:
      log: { url: "file://{dir}/notify-check.ndjson" }
"""

PATIENT = {"resourceType": "Patient", "id": "p-1", "meta": {"versionId": "1"},
           "identifier": [{"system": "urn:openimis:insuree:chfid", "value": "112233445"}],
           "name": [{"family": "Doe", "given": ["Jane"]}], "gender": "female", "birthDate": "1980-02-03"}
GROUP = {"resourceType": "Group", "id": "g-1", "meta": {"versionId": "2"}, "type": "person", "actual": True,
         "identifier": [{"type": {"coding": [{"code": "Code"}]}, "value": "112233445"}],
         "member": [{"entity": {"reference": "Patient/p-1", "display": "112233445"}},
                    {"entity": {"reference": "Patient/p-2"}}]}
HDRS = {"Authorization": "Bearer fhir-token", "Content-Type": "application/fhir+json"}


def test_patient_to_notify():
    igw_port = free_port()
    jwks = "http://127.0.0.1:%d/.well-known/jwks.json" % igw_port if dci_jws.HAVE_CRYPTO else None
    procs = dcitest.Procs()
    gw = None
    try:
        rcv = procs.receiver(token="", jwks_url=jwks)
        conf = CONFIG.replace("RCV", str(rcv.port)).replace("MAPS", os.path.join(IGW_SRC, "mappings"))
        gw = Gateway(conf, port=igw_port, extra_files={
            "igw.pem": dcitest.read(os.path.join(IGW_FIXTURES, "dci", "sign", "partner-a.pem"))}).start()
        st, _, body = gw.request("POST", "/fhir/Patient", PATIENT, HDRS)
        assert st in (200, 201, 202), (st, body)

        rec = eventually(rcv.received, timeout=15, what="notify received")
        env = rec[0]["envelope"]
        assert rec[0]["path"] == "/registry/notify" and env["header"]["action"] == "notify", rec
        assert env["signature"].count(".") == 2, env["signature"]  # a compact JWS
        assert rec[0]["sig"] is (True if jwks else None), rec[0]["sig"]  # checked against the JWKS
        ev = env["message"]["notify_event"][0]["data"]
        assert ev["reg_event_type"] == "REGISTER" and ev["reg_records"][0]["name"]["surname"] == "Doe", ev
        st, _, body = gw.request("POST", "/fhir/Observation", {"resourceType": "Observation", "status": "final",
                                                               "code": {"text": "x"}}, HDRS)
        assert st >= 400, (st, body)
        time.sleep(0.5)
        assert len(rcv.received()) == 1, "a resource that is not a Patient was notified"
    finally:
        if gw is not None:
            gw.cleanup()
        procs.close()


def test_group_to_notify():
    """A FHIR Group change (openIMIS's family) becomes a signed DCI notify of a Group record (map
    fhir-group-to-dci-notify): UPDATE for version 2, the members by their Patient ids and
    CHFID; igw's own DCI checks ACK the envelope; a Patient sent to the Group channel is refused."""
    igw_port = free_port()
    procs = dcitest.Procs()
    gw = None
    try:
        rcv = procs.receiver(token="")
        conf = CONFIG.replace("RCV", str(rcv.port)).replace("MAPS", os.path.join(IGW_SRC, "mappings"))
        gw = Gateway(conf, port=igw_port, extra_files={
            "igw.pem": dcitest.read(os.path.join(IGW_FIXTURES, "dci", "sign", "partner-a.pem"))}).start()
        st, _, body = gw.request("POST", "/fhir-groups/Group", GROUP, HDRS)
        assert st in (200, 201, 202), (st, body)
        rec = eventually(rcv.received, timeout=15, what="notify received")
        env = rec[0]["envelope"]
        assert rec[0]["path"] == "/registry/notify" and env["header"]["action"] == "notify", rec
        ev = env["message"]["notify_event"][0]["data"]
        assert ev["reg_event_type"] == "UPDATE" and ev["reg_record_type"] == "Group", ev
        g = ev["reg_records"][0]
        assert g["group_size"] == 2 and g["group_type"] == "3", g
        assert [m["member_identifier"][0]["identifier_value"] for m in g["member_list"]] == ["p-1", "p-2"], g
        st, _, body = gw.request("POST", "/dci/check/registry/notify", env,
                                 {"Authorization": "Bearer chk-token", "Content-Type": "application/json"})
        assert st == 200 and b'"ACK"' in body, (st, body)
        st, _, body = gw.request("POST", "/fhir-groups/Patient", PATIENT, HDRS)
        assert st >= 400, (st, body)
        time.sleep(0.5)
        assert len(rcv.received()) == 1, "a resource that is not a Group was notified"
    finally:
        if gw is not None:
            gw.cleanup()
        procs.close()


if __name__ == "__main__":
    run([test_patient_to_notify, test_group_to_notify])
