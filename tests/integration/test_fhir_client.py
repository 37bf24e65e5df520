# SPDX-License-Identifier: Apache-2.0
"""A stock FHIR client from npm (fhir-kit-client, tests/integration/fhir_client/, installed with
`npm ci` from the committed package-lock.json) drives metadata, search, read, create, update,
patch, transaction and batch against the real `igw serve`: reads and searches over the openIMIS
simulator (tests/sim/openimis/, data from `igw gen`), writes delivered to the partner FHIR
server simulator (tests/sim/fhir_server.py), PATCH read from it. SKIP when node or npm is
missing, the package cannot be installed, or this igw lacks what the configuration needs (the
mediation engine, the read/search mediators, `igw gen`, the openIMIS simulator).
Python 3 standard library only."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
from igwtest import IGW_BIN, IGW_SRC, Gateway, eventually, free_port, run, skip  # noqa: E402
from fhir_server import FhirServer  # noqa: E402

CLIENT = os.path.join(HERE, "fhir_client")
SIM = os.path.join(IGW_SRC, "tests", "sim", "openimis", "server.py")
TOKEN = "client-token"
PARTNER_ID = "pk1"

CONFIG = """
http: { listen: "http://127.0.0.1:{port}", max_body: 1MiB }
queue: { path: "{dir}/queue" }
mappings: { dir: "MAPS" }
upstreams:
  openimis:
    url: "http://127.0.0.1:SIMPORT"
    timeout: 5s
    auth: { type: login, user_file: openimis.user, login: { preset: openimis-graphql } }
  partner: { url: "FHIRURL", timeout: 5s }
channels:
  fhir_metadata:
    listen: GET /fhir/metadata
    dialect: fhir
    answer: fhir-capabilities
    auth: { type: bearer, tokens: [TOKEN] }
  fhir_read:
    listen: GET /fhir/{type}/{id}
    dialect: fhir
    answer: fhir-read
    upstream: openimis
    auth: { type: bearer, tokens: [TOKEN] }
  fhir_search:
    listen: GET /fhir/{type}
    dialect: fhir
    answer: fhir-search
    upstream: openimis
    auth: { type: bearer, tokens: [TOKEN] }
  fhir_create:
    listen: POST /fhir/{type}
    dialect: fhir
    auth: { type: bearer, tokens: [TOKEN] }
    routes:
      partner: { url: "FHIRURL", fhir: { conditional: identifier } }
  fhir_update:
    listen: PUT /fhir/{type}/{id}
    dialect: fhir
    answer: fhir-if-match
    upstream: partner
    auth: { type: bearer, tokens: [TOKEN] }
    routes:
      partner: { url: "FHIRURL", fhir: { conditional: identifier } }
  fhir_patch:
    listen: PATCH /fhir/{type}/{id}
    dialect: fhir
    answer: fhir-patch
    upstream: partner
    auth: { type: bearer, tokens: [TOKEN] }
    routes:
      partner: { url: "FHIRURL", fhir: { conditional: identifier } }
  fhir_bundle:
    listen: POST /fhir
    dialect: fhir
    fhir: { interaction: bundle }
    auth: { type: bearer, tokens: [TOKEN] }
    routes:
      partner: { url: "FHIRURL", fhir: { conditional: identifier } }
"""


def npm_install(work):
    """Copies the client package into work and installs it from the lock file; SKIP if it
    cannot be installed here."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        skip("node/npm not installed")
    for name in ("package.json", "package-lock.json", "client.mjs"):
        shutil.copy(os.path.join(CLIENT, name), work)
    r = subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=work,
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        skip("npm ci failed (no registry access?): " + (r.stderr.strip().splitlines() or [""])[-1])


def start_openimis(work):
    data = os.path.join(work, "data.jsonl")
    with open(data, "w") as f:
        r = subprocess.run([IGW_BIN, "gen", "--seed", "1", "--insurees", "200"], stdout=f,
                           stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0 or not os.path.exists(SIM):
        skip("needs `igw gen` and tests/sim/openimis/server.py")
    port = free_port()
    sim = subprocess.Popen([sys.executable, SIM, "--port", str(port), "--data", data],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = sim.stdout.readline().decode()
    assert line.startswith("ready"), "openIMIS simulator did not start: %r" % line
    return sim, port


def test_fhir_kit_client_drives_igw():
    work = tempfile.mkdtemp(prefix="igw-fkc-")
    partner = sim = g = None
    try:
        npm_install(work)
        sim, simport = start_openimis(work)
        partner = FhirServer()
        g = Gateway(CONFIG.replace("FHIRURL", partner.url).replace("SIMPORT", str(simport))
                    .replace("TOKEN", TOKEN).replace("MAPS", os.path.join(IGW_SRC, "mappings")),
                    extra_files={"openimis.user": "Admin:admin123\n"})
        chk = subprocess.run([IGW_BIN, "config", "check", g.config_path], capture_output=True,
                             text=True)
        if chk.returncode != 0:
            skip("igw does not accept this configuration yet: "
                 + (chk.stdout + chk.stderr).strip().splitlines()[-1][:200])
        g.start()
        # the partner already holds the Patient the client updates and patches
        seed = {"resourceType": "Patient", "id": PARTNER_ID, "gender": "female",
                "identifier": [{"system": "https://partner.example.org/chfid", "value": "FKC-P"}],
                "name": [{"family": "Kamau"}]}
        st, _, body = partner.call("PUT", "/fhir/Patient/" + PARTNER_ID, seed,
                                   {"Content-Type": "application/fhir+json"})
        assert st in (200, 201), (st, body)
        r = subprocess.run(["node", "client.mjs", "http://127.0.0.1:%d/fhir" % g.port, TOKEN,
                            PARTNER_ID], cwd=work, capture_output=True, text=True, timeout=120)
        print(r.stdout, end="")
        assert r.returncode == 0, r.stdout + r.stderr + g.logs()[-2000:]
        steps = [ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("ok ")]
        assert steps == ["metadata", "search", "read", "create", "update", "patch",
                         "transaction", "batch"], steps

        def delivered():
            store = partner.store("Patient")
            values = {i["value"] for p in store for i in p.get("identifier", [])}
            mine = [p for p in store if p["id"] == PARTNER_ID]
            puts = [r for r in partner.received("/fhir/Patient?identifier=")
                    if "FKC-P" in r["path"] and r["status"] == 200]
            # the update and the patch both arrive (the patch is the last write); the patch
            # read the partner's state, which may predate the update's delivery (both are
            # asynchronous), so the family the patch carries is either
            return ({"FKC-1", "FKC-T", "FKC-B"} <= values and mine and
                    mine[0]["gender"] == "male" and len(puts) >= 2 and
                    any('"Otieno"' in r["body"] for r in puts))
        eventually(delivered, timeout=15, what="the client's writes at the partner")
    finally:
        if g is not None:
            g.cleanup()
        if partner is not None:
            partner.stop()
        if sim is not None:
            sim.terminate()
            sim.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run([test_fhir_kit_client_drives_igw])
