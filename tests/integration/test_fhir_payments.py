# SPDX-License-Identifier: Apache-2.0
"""FHIR Invoice and PaymentNotice read and search end to end: the real `igw serve` with the
fhir-read / fhir-search mediators in front of the openIMIS simulator's `invoice` and
`paymentInvoice` GraphQL connections (openimis-be-invoice_py), over `igw gen` data. Every search
parameter is checked against the same filter sent straight to the simulator; paging walks every
record once; _lastUpdated and the ETag follow a change; the CapabilityStatement lists both types
with their parameters; ids that are not uuids, and absent ones, are 404 OperationOutcomes.
Python 3 standard library only."""
import json
import os
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from igwtest import IGW_BIN, IGW_SRC, Gateway, run  # noqa: E402
import test_fhir_search as fs  # noqa: E402

METADATA = """
  fhir_metadata:
    listen: GET /fhir/metadata
    dialect: fhir
    auth: { type: bearer, tokens: [TOKEN] }
    answer: fhir-capabilities
"""


def env_with_data():
    fs.CONFIG = fs.CONFIG.rstrip("\n") + "\n" + METADATA if "fhir_metadata" not in fs.CONFIG else fs.CONFIG
    return fs.Env(0, gen=True)


def with_env(fn):
    def wrapped():
        env = env_with_data()
        try:
            fn(env)
        finally:
            env.close()
    wrapped.__name__ = fn.__name__
    return wrapped


def direct(env, root, args, fields="id"):
    """(totalCount, [uuid ...]) of a connection straight from the simulator, ordered by id."""
    q = '{ %s(%sorderBy: ["id"], first: 100) { totalCount edges { node { %s } } } }' % (
        root, (args + ", ") if args else "", fields)
    d = env.gql(q)["data"][root]
    return d["totalCount"], [fs_uuid(e["node"]["id"]) for e in d["edges"]]


def fs_uuid(gid):
    import base64
    return base64.b64decode(gid).decode().split(":", 1)[1]


def search(env, path):
    st, _, b = env.get(path)
    assert st == 200 and b["resourceType"] == "Bundle", (path, st, b)
    return b


def all_ids(env, path):
    got, url, pages = [], path, 0
    while url and pages < 50:
        b = search(env, url)
        got += fs.ids(b)
        nxt = [l["url"] for l in b.get("link", []) if l["relation"] == "next"]
        url = nxt[0][nxt[0].index("/fhir/"):] if nxt else None
        pages += 1
    return got


def check_param(env, typ, root, query, args):
    """The FHIR search gives exactly the records of the direct GraphQL filter."""
    total, want = direct(env, root, args)
    b = search(env, "/fhir/%s?%s&_count=100&_total=accurate" % (typ, query))
    got = fs.ids(b)
    assert b.get("total") == total, (query, b.get("total"), total)
    assert total > 0 and total <= 100 and sorted(got) == sorted(want), (query, total, got[:3], want[:3])
    assert not [e for e in b.get("entry", []) if e["search"]["mode"] == "outcome"], (query, b["entry"][-1])
    return got


@with_env
def test_invoice_read_search_paging(env):
    total, uuids = direct(env, "invoice", "")
    assert total > 20, total
    # paging: every invoice once, in the default order (the uuid)
    got = all_ids(env, "/fhir/Invoice?_count=7")
    assert len(got) == total and len(set(got)) == total, (len(got), total)
    assert got == sorted(got), "default order is the uuid"
    # read, with ETag and Last-Modified from dateUpdated
    st, hd, r = env.get("/fhir/Invoice/" + uuids[0])
    assert st == 200 and r["resourceType"] == "Invoice" and r["id"] == uuids[0], (st, r)
    assert hd.get("etag", "").startswith('W/"') and hd.get("last-modified"), hd
    # every parameter against the direct filter
    node = env.gql('{ invoice(id: "%s") { edges { node { code thirdpartyId dateInvoice status } } } }'
                   % uuids[0])["data"]["invoice"]["edges"][0]["node"]
    assert check_param(env, "Invoice", "invoice", "identifier=" + node["code"],
                       'code: "%s"' % node["code"]) == [uuids[0]]
    for code, up in (("draft", 0), ("balanced", 2)):
        check_param(env, "Invoice", "invoice", "status=" + code, 'status: "%d"' % up)
    check_param(env, "Invoice", "invoice", "status=http://hl7.org/fhir/invoice-status|balanced", 'status: "2"')
    b = search(env, "/fhir/Invoice?status=cancelled")
    assert fs.ids(b) == [], b
    b = search(env, "/fhir/Invoice?status=other-system|balanced")
    assert fs.ids(b) == [], b
    check_param(env, "Invoice", "invoice", "date=ge2024-01-01", 'dateInvoice_Gte: "2024-01-01"')
    check_param(env, "Invoice", "invoice", "date=2023", 'dateInvoice_Gte: "2023-01-01", dateInvoice_Lte: "2023-12-31"')
    check_param(env, "Invoice", "invoice", "date=" + node["dateInvoice"], 'dateInvoice: "%s"' % node["dateInvoice"])
    check_param(env, "Invoice", "invoice", "recipient=Patient/" + node["thirdpartyId"],
                'thirdpartyId: "%s"' % node["thirdpartyId"])
    check_param(env, "Invoice", "invoice", "recipient=" + node["thirdpartyId"],
                'thirdpartyId: "%s"' % node["thirdpartyId"])
    for q in ("recipient=Organization/" + node["thirdpartyId"], "recipient=not-a-uuid", "_id=nope"):
        b = search(env, "/fhir/Invoice?" + q)
        assert fs.ids(b) == [], (q, b)
    assert fs.ids(search(env, "/fhir/Invoice?_id=" + uuids[1])) == [uuids[1]]
    check_param(env, "Invoice", "invoice", "_lastUpdated=ge2024-06-01", 'dateUpdated_Gte: "2024-06-01T00:00:00"')
    # sort by date, descending, then the uuid
    b = search(env, "/fhir/Invoice?_sort=-date&_count=50")
    dates = [e["resource"]["date"] for e in b["entry"] if e["search"]["mode"] == "match"]
    assert dates == sorted(dates, reverse=True) and len(dates) == min(50, total), dates[:5]


@with_env
def test_payment_notice_read_search(env):
    total, uuids = direct(env, "paymentInvoice", "")
    assert total > 20, total
    got = all_ids(env, "/fhir/PaymentNotice?_count=9")
    assert len(got) == total and len(set(got)) == total, (len(got), total)
    st, hd, r = env.get("/fhir/PaymentNotice/" + uuids[0])
    assert st == 200 and r["resourceType"] == "PaymentNotice" and r["id"] == uuids[0], (st, r)
    assert r["request"]["reference"].startswith("Invoice/") and r["status"] == "active", r
    etag = hd.get("etag")
    # the request points at an Invoice igw can read
    st, _, inv = env.get("/fhir/" + r["request"]["reference"])
    assert st == 200 and inv["resourceType"] == "Invoice", (st, inv)
    assert check_param(env, "PaymentNotice", "paymentInvoice", "identifier=" + uuids[0],
                       'id: "%s"' % uuids[0]) == [uuids[0]]
    assert fs.ids(search(env, "/fhir/PaymentNotice?identifier=RCP1")) == []
    paid = check_param(env, "PaymentNotice", "paymentInvoice", "payment-status=paid", 'reconciliationStatus: "0"')
    cleared = check_param(env, "PaymentNotice", "paymentInvoice",
                          "payment-status=http://terminology.hl7.org/CodeSystem/paymentstatus|cleared",
                          'reconciliationStatus: "1"')
    assert len(paid) + len(cleared) == total and not set(paid) & set(cleared)
    check_param(env, "PaymentNotice", "paymentInvoice", "created=ge2024-01-01",
                'dateCreated_Gte: "2024-01-01T00:00:00"')
    check_param(env, "PaymentNotice", "paymentInvoice", "created=lt2023-07",
                'dateCreated_Lt: "2023-07-01T00:00:00"')
    # unsupported parameters are reported (status and request are not filterable upstream)
    b = search(env, "/fhir/PaymentNotice?status=active&_count=1")
    out = [e for e in b["entry"] if e["search"]["mode"] == "outcome"]
    assert out and "status" in json.dumps(out), b["entry"]
    st, _, oo = env.get("/fhir/PaymentNotice?request=Invoice/x", headers={"Prefer": "handling=strict"})
    assert st == 400 and oo["resourceType"] == "OperationOutcome", (st, oo)
    # a change: _lastUpdated finds it, the ETag moves
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 2))
    req = urllib.request.Request("http://127.0.0.1:%d/__sim/mutate" % env.simport, data=json.dumps(
        {"kind": "payment", "uuid": uuids[0], "set": {"reconciliationStatus": 0}}).encode(),
        headers={"Content-Type": "application/json"})
    json.load(urllib.request.urlopen(req, timeout=5))
    assert fs.ids(search(env, "/fhir/PaymentNotice?_lastUpdated=ge" + since)) == [uuids[0]]
    st, hd, r = env.get("/fhir/PaymentNotice/" + uuids[0])
    assert st == 200 and r["paymentStatus"]["coding"][0]["code"] == "paid", r
    assert hd.get("etag") != etag, (etag, hd.get("etag"))


@with_env
def test_not_found_and_metadata(env):
    for path in ("/fhir/Invoice/00000000-0000-4000-8000-000000000000", "/fhir/Invoice/INV-000001",
                 "/fhir/PaymentNotice/00000000-0000-4000-8000-000000000000", "/fhir/PaymentNotice/x"):
        st, _, b = env.get(path)
        assert st == 404 and b["resourceType"] == "OperationOutcome", (path, st, b)
    st, _, cs = env.get("/fhir/metadata")
    assert st == 200 and cs["resourceType"] == "CapabilityStatement", (st, cs)
    res = {r["type"]: r for r in cs["rest"][0]["resource"]}
    want = {"Invoice": {"identifier", "status", "date", "recipient", "_id", "_lastUpdated"},
            "PaymentNotice": {"identifier", "payment-status", "created", "_id", "_lastUpdated"}}
    for t, params in want.items():
        assert t in res, sorted(res)
        have = {p["name"] for p in res[t].get("searchParam", [])}
        assert params <= have, (t, have)
        assert {"read", "search-type"} <= {i["code"] for i in res[t]["interaction"]}, res[t]


def test_demo_config_routes_them():
    """deploy/examples/fhir-facade.yaml as shipped (ports, queue and mappings paths swapped):
    Invoice and PaymentNotice read and search, and its CapabilityStatement lists both."""
    env = env_with_data()
    demo = None
    try:
        src = os.path.join(IGW_SRC, "deploy", "examples")
        with open(os.path.join(src, "fhir-facade.yaml")) as f:
            cfg = f.read()
        cfg = (cfg.replace("http://127.0.0.1:7400", "http://127.0.0.1:{port}")
               .replace("http://127.0.0.1:8000", "http://127.0.0.1:%d" % env.simport)
               .replace("var/demo-fhir/queue", "{dir}/queue")
               .replace("dir: mappings", "dir: " + fs.MAPS))
        with open(os.path.join(src, "secrets", "openimis-demo.user")) as f:
            user = f.read()
        demo = Gateway(cfg, extra_files={"secrets/openimis-demo.user": user})
        chk = subprocess.run([IGW_BIN, "config", "check", demo.config_path], capture_output=True, text=True)
        assert chk.returncode == 0, chk.stdout + chk.stderr
        demo.start()
        h = {"Authorization": "Bearer demo-token", "Accept": "application/fhir+json"}
        for t, q in (("Invoice", "status=balanced&date=ge2023"), ("PaymentNotice", "payment-status=cleared")):
            st, _, body = demo.request("GET", "/fhir/%s?%s&_count=3" % (t, q), headers=h)
            b = json.loads(body)
            got = fs.ids(b)
            assert st == 200 and len(got) == 3, (t, st, b)
            st, _, body = demo.request("GET", "/fhir/%s/%s" % (t, got[0]), headers=h)
            assert st == 200 and json.loads(body)["id"] == got[0], (t, st, body[:200])
        st, _, body = demo.request("GET", "/fhir/metadata", headers=h)
        types = {r["type"] for r in json.loads(body)["rest"][0]["resource"]}
        assert st == 200 and {"Invoice", "PaymentNotice"} <= types, (st, types)
    finally:
        if demo is not None:
            demo.cleanup()
        env.close()


if __name__ == "__main__":
    run([test_invoice_read_search_paging, test_payment_notice_read_search, test_not_found_and_metadata,
         test_demo_config_routes_them])
