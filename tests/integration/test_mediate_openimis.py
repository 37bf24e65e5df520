# SPDX-License-Identifier: Apache-2.0
"""Mediation against the openIMIS simulator (tests/sim/openimis/): igw logs in as openIMIS
expects (FHIR REST login and GraphQL tokenAuth), reads an insuree through GraphQL with a request
and a response map, reads a FHIR Patient through openIMIS's own FHIR API, respects openIMIS's
rate limit (igw's own limit answers 503 before openIMIS would refuse), and answers 502 when
openIMIS refuses every token and 504 when it hangs. Skipped when the simulator is not in the tree.
Python 3 standard library only."""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, "..", "sim", "openimis")
sys.path.insert(0, HERE)
sys.path.insert(0, SIM)
from igwtest import Gateway, run, skip  # noqa: E402

MAPS = {
    "maps/chf-to-gql/map":
        "map chf-to-gql from json to json\n"
        "query = \"query($c: String!) { insurees(chfId: $c) { edges { node { chfId lastName "
        "otherNames dob } } } }\"\n"
        "variables.c = params.chfId\n",
    "maps/gql-to-insuree/map":
        "map gql-to-insuree from json to json\n"
        "chfId = data.insurees.edges[0].node.chfId\n"
        "lastName = data.insurees.edges[0].node.lastName\n",
    "oi.user": "Admin:admin123\n",
}

CONFIG = """
http: { listen: "http://127.0.0.1:{port}" }
queue: { path: "{dir}/queue" }
mappings: { dir: "{dir}/maps" }
upstreams:
  oi_gql:
    url: "SIMURL"
    rate_per_minute: RATE
    rate_burst: BURST
    auth: { type: login, user_file: oi.user, login: { preset: openimis-graphql } }
  oi_fhir:
    url: "SIMURL"
    auth: { type: login, user_file: oi.user }
channels:
  insuree:
    listen: GET /insurees/{chfId}
    answer: map
    upstream: oi_gql
    mediate: { method: POST, path: /api/graphql, request_map: chf-to-gql,
               response_map: gql-to-insuree, timeout: 2s }
  patient:
    listen: GET /fhir/Patient/{id}
    dialect: fhir
    answer: map
    upstream: oi_fhir
    mediate: { path: "/api/api_fhir_r4/Patient/{id}", timeout: 2s }
"""


def setup(rate=0, burst=0, sim_rate=0):
    if not os.path.exists(os.path.join(SIM, "client.py")):
        skip("tests/sim/openimis is not in this tree (branch i8-sim)")
    from client import OpenImisSim  # noqa: E402
    sim = OpenImisSim(rate_per_minute=sim_rate)
    text = CONFIG.replace("SIMURL", sim.url).replace("RATE", str(rate)).replace("BURST", str(burst))
    gw = Gateway(text, extra_files=MAPS).start()
    return sim, gw


def get(gw, path):
    st, h, data = gw.request("GET", path)
    return st, h, json.loads(data) if data else None


def test_graphql_and_fhir_reads():
    sim, gw = setup()
    try:
        st, _, doc = get(gw, "/insurees/070707070")
        assert st == 200 and doc == {"chfId": "070707070", "lastName": "Doe"}, (st, doc)
        st, _, doc = get(gw, "/fhir/Patient/070707071")
        assert st == 200 and doc["resourceType"] == "Patient" and doc["id"] == "070707071", doc
        st, _, doc = get(gw, "/fhir/Patient/nonexistent")
        assert st == 404 and doc["resourceType"] == "OperationOutcome", (st, doc)
        for _ in range(3):
            assert get(gw, "/insurees/070707070")[0] == 200
        log = gw.logs()
        assert log.count("upstream login upstream=oi_gql ok") == 1, log
        assert log.count("upstream login upstream=oi_fhir ok") == 1, log
        assert "admin123" not in log
        assert gw.stop() == 0
    finally:
        gw.cleanup()
        sim.stop()


def test_rate_limit_before_openimis_refuses():
    sim, gw = setup(rate=60, burst=3, sim_rate=150)
    try:
        codes = [get(gw, "/insurees/070707070")[0] for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [503, 503], codes
        assert sim.stats().get("rate_limited", 0) == 0, sim.stats()
    finally:
        gw.cleanup()
        sim.stop()


def test_token_refused_and_hang():
    sim, gw = setup()
    try:
        assert get(gw, "/fhir/Patient/070707071")[0] == 200
        sim.control(fail="token")
        st, _, doc = get(gw, "/fhir/Patient/070707071")
        assert st == 502 and doc["resourceType"] == "OperationOutcome", (st, doc)
        sim.control(fail=None)
        time.sleep(2.2)  # the login backoff after the refused renewal
        assert get(gw, "/fhir/Patient/070707071")[0] == 200
        sim.control(fail="hang", count=1)
        t0 = time.time()
        st, _, doc = get(gw, "/fhir/Patient/070707071")
        assert st == 504 and time.time() - t0 < 4, (st, time.time() - t0)
    finally:
        gw.cleanup()
        sim.stop()


if __name__ == "__main__":
    run([test_graphql_and_fhir_reads, test_rate_limit_before_openimis_refuses,
         test_token_refused_and_hang])
