# SPDX-License-Identifier: Apache-2.0
"""A DCI /registry/sync/search answered live from a FHIR R4 server (docs/DCI.md, "Search
answered from a FHIR server"), end to end with the real `igw serve` and the partner FHIR server
simulator (tests/sim/fhir_server.py) holding 25 Patients: the dci-fhir-search mediator turns
idtype-value, predicate and expression queries into the FHIR parameters the mapping file
declares (mappings/fhir-bundle-to-dci-search-response/dci-fhir-search), follows next links for
a page, and answers through fhir-bundle-to-dci-search-response. Each case names the compliance
requirement ids (OpenSPP spdci-compliance) it covers. Python 3 standard library only."""
import copy
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
from igwtest import IGW_BIN, IGW_FIXTURES, IGW_SRC, Gateway, run  # noqa: E402
from fhir_server import FhirServer  # noqa: E402

VALID = os.path.join(IGW_FIXTURES, "dci", "valid")
COMPLIANCE = os.path.join(IGW_FIXTURES, "dci", "compliance", "openspp-spdci-compliance",
                          "requirements-social.json")
AUTH = {"Content-Type": "application/json", "Authorization": "Bearer demo-token"}
PATH = "/dci/fhir/registry/sync/search"
FAMILIES = ["Okello", "Namara", "Achieng", "Mugisha", "Okello-Banda"]

CONFIG = """
http: { listen: "http://127.0.0.1:{port}", max_body: 1MiB }
queue: { path: "{dir}/queue" }
mappings: { dir: "MAPS" }
upstreams:
  fhir: { url: "FHIRURL", timeout: 5s }
channels:
  fhir_search:
    listen: POST /dci/fhir/registry/sync/search
    dialect: dci
    answer: dci-fhir-search
    upstream: fhir
    mediate: { timeout: 30s, max_calls: 64 }
    auth: { type: bearer, tokens: [demo-token] }
"""

STATE = {}


def patient(i):
    return {"resourceType": "Patient",
            "identifier": [{"type": {"coding": [{"code": "CHFID"}]}, "system": "urn:chfid",
                            "value": "CH%03d" % i}],
            "name": [{"family": FAMILIES[i % len(FAMILIES)], "given": ["Given%d" % i]}],
            "gender": ["male", "female"][i % 2],
            "birthDate": "19%02d-03-%02d" % (60 + i, 1 + i % 28)}


def setup():
    if "gw" in STATE:
        return STATE["fhir"], STATE["gw"]
    fhir = FhirServer()
    for i in range(25):
        st, _, data = fhir.call("POST", "/fhir/Patient", patient(i),
                                {"Content-Type": "application/fhir+json"})
        assert st == 201, (st, data)
    text = CONFIG.replace("FHIRURL", fhir.url).replace("MAPS", os.path.join(IGW_SRC, "mappings"))
    gw = Gateway(text).start()
    STATE.update(fhir=fhir, gw=gw)
    return fhir, gw


def envelope(*criteria):
    env = json.load(open(os.path.join(VALID, "sync-search.json")))
    item = env["message"]["search_request"][0]
    env["message"]["search_request"] = []
    for i, c in enumerate(criteria):
        it = copy.deepcopy(item)
        it["reference_id"] = "ref-%d" % i
        it["search_criteria"] = dict({"version": "1.0.0", "reg_type": "ns:org:RegistryType:Social",
                                      "pagination": {"page_size": 10, "page_number": 1}}, **c)
        env["message"]["search_request"].append(it)
    env["header"]["total_count"] = len(criteria)
    return env


def search(gw, env, headers=AUTH):
    st, _, data = gw.request("POST", PATH, json.dumps(env).encode(), headers, timeout=30)
    return st, json.loads(data) if data else None


def idq(value, typ="UIN"):
    return {"reg_record_type": "Person", "query_type": "idtype-value",
            "query": {"type": typ, "value": value}}


def pred(*conds, **more):
    q = [{"seq_num": i + 1, "expression1": {"attribute_name": a, "operator": o,
                                            "attribute_value": v}}
         for i, (a, o, v) in enumerate(conds)]
    return dict({"reg_record_type": "Person", "query_type": "predicate", "query": q}, **more)


def chfids(item):
    return [r["identifier"][0]["identifier_value"] for r in item["data"]["reg_records"]]


def test_idtype_value():
    """SR-CORE-RG-SYNC-SEARCH-01 SR-EXTRA-RG-SYNC-SEARCH-REGRECORDS-01: an idtype-value search
    answered from the FHIR server as a DCI Person through the map; the FHIR call is the declared
    parameter (identifier), with _count."""
    fhir, gw = setup()
    st, doc = search(gw, envelope(idq("CH007"), idq("CH011", "CHFID")))
    assert st == 200, (st, doc)
    assert doc["header"]["action"] == "on-search" and doc["header"]["status"] == "succ", doc
    assert doc["message"]["correlation_id"] == "msg-search", doc["message"]
    items = doc["message"]["search_response"]
    assert [i["reference_id"] for i in items] == ["ref-0", "ref-1"], items
    person = items[0]["data"]["reg_records"][0]
    want = patient(7)
    assert items[0]["status"] == "succ" and items[0]["data"]["reg_record_type"] == "Person"
    assert person["identifier"] == [{"identifier_type": "CHFID", "identifier_value": "CH007"}]
    assert person["name"] == {"given_name": "Given7", "surname": want["name"][0]["family"]}
    assert person["sex"] == "female" and person["birth_date"] == want["birthDate"], person
    assert chfids(items[1]) == ["CH011"], items[1]
    assert items[0]["pagination"] == {"page_size": 10, "page_number": 1, "total_count": 1}
    calls = [r["path"] for r in fhir.received() if "identifier=" in r["path"]]
    assert any("identifier=CH007" in p and "_count=10" in p for p in calls), calls


def test_predicate_expression_sort():
    """SR-CORE-RG-SYNC-SEARCH-PREDICATE-01 SR-CORE-RG-SYNC-SEARCH-EXPRESSION-01: predicate and
    NoSql expression queries become family:exact and birthdate prefixes; sort becomes _sort."""
    _, gw = setup()
    want = sorted((i for i in range(25) if patient(i)["name"][0]["family"] == "Okello"
                   and patient(i)["birthDate"] >= "1970-01-01"),
                  key=lambda i: patient(i)["birthDate"], reverse=True)
    assert len(want) >= 2, want
    p = pred(("surname", "eq", "Okello"), ("birth_date", "ge", "1970-01-01"),
             sort=[{"attribute_name": "birth_date", "sort_order": "desc"}])
    e = {"reg_record_type": "Person", "query_type": "expression",
         "query": {"type": "ns:org:QueryType:NoSql", "value": {"expression": {
             "collection": "Person", "query": {"$and": [{"surname": "Okello"},
                                                        {"birth_date": {"$gte": "1970-01-01"}}]}}}},
         "sort": [{"attribute_name": "birth_date", "sort_order": "desc"}]}
    st, doc = search(gw, envelope(p, e))
    assert st == 200, (st, doc)
    for it in doc["message"]["search_response"]:
        assert it["status"] == "succ", it
        assert chfids(it) == ["CH%03d" % i for i in want], (chfids(it), want)
        assert it["pagination"]["total_count"] == len(want)


def test_nothing_and_refusals():
    """SR-CORE-RG-SYNC-SEARCH-NEG-01 SR-SEC-AUTH-RG-SYNC-SEARCH-01: a search matching nothing is
    succ with reg_records [] and total 0; an attribute the mapping file does not declare, a
    gt on a name, an `or` across two attributes and an unknown sort are rjct per item while the
    others are answered; a
    missing token 401; a schema-invalid page size ERR."""
    _, gw = setup()
    across = {"reg_record_type": "Person", "query_type": "predicate", "query": [
        {"seq_num": 1, "expression1": {"attribute_name": "sex", "operator": "eq",
                                       "attribute_value": "male"},
         "condition": "or", "expression2": {"attribute_name": "surname", "operator": "eq",
                                            "attribute_value": "Okello"}}]}
    st, doc = search(gw, envelope(idq("CH999"), pred(("shoe_size", "eq", "3")),
                                  pred(("surname", "gt", "A")), across,
                                  dict(idq("CH001"), sort=[{"attribute_name": "shoe_size"}]),
                                  pred(("sex", "eq", "male"))))
    assert st == 200, (st, doc)
    items = doc["message"]["search_response"]
    assert items[0]["status"] == "succ" and items[0]["data"]["reg_records"] == [], items[0]
    assert items[0]["pagination"]["total_count"] == 0
    codes = [i.get("status_reason_code") for i in items[1:5]]
    assert codes == ["rjct.search_criteria.invalid"] * 3 + ["rjct.sort.invalid"], items
    assert items[5]["status"] == "succ" and items[5]["pagination"]["total_count"] == 13, items[5]
    st, doc = search(gw, envelope(idq("CH001")), {"Content-Type": "application/json"})
    assert st == 401, (st, doc)
    env = envelope(idq("CH001"))
    env["message"]["search_request"][0]["search_criteria"]["pagination"]["page_size"] = 0
    st, doc = search(gw, env)
    assert st == 400 and doc["message"]["ack_status"] == "ERR", (st, doc)


def pcond(e1, cond=None, e2=None):
    """One predicate item {expression1[, condition, expression2]} from (attr, op, value)s."""
    def ex(t):
        return {"attribute_name": t[0], "operator": t[1], "attribute_value": t[2]}
    item = {"seq_num": 1, "expression1": ex(e1)}
    if cond:
        item["condition"] = cond
    if e2:
        item["expression2"] = ex(e2)
    return item


def nosql(query):
    return {"reg_record_type": "Person", "query_type": "expression",
            "query": {"type": "ns:org:QueryType:NoSql",
                      "value": {"expression": {"collection": "Person", "query": query}}}}


def test_in_or_not():
    """SR-CORE-RG-SYNC-SEARCH-PREDICATE-01 SR-CORE-RG-SYNC-SEARCH-EXPRESSION-01: the operator
    in, the condition or (one attribute) and the condition not, in predicates and NoSql
    expressions ($in, $or, $ne, $not), become FHIR comma lists (OR), :not on tokens and
    negated date prefixes; the records are exactly those the conditions select. Refused per
    item: not in, an or of ordered operators, not on a name."""
    fhir, gw = setup()
    P = {i: patient(i) for i in range(25)}

    def ids(pick):
        return sorted("CH%03d" % i for i in P if pick(P[i]))

    def fam(r):
        return r["name"][0]["family"]
    big = {"page_size": 100, "page_number": 1}

    def q(query_items):
        return {"reg_record_type": "Person", "query_type": "predicate", "query": query_items,
                "pagination": big}
    cases = [
        (q([pcond(("UIN", "in", "CH001, CH004,CH999"))]), ["CH001", "CH004"]),
        (q([pcond(("surname", "eq", "Okello"), "or", ("surname", "in", "Namara"))]),
         ids(lambda r: fam(r) in ("Okello", "Namara"))),
        (dict(nosql({"$or": [{"surname": "Okello"}, {"surname": {"$in": ["Namara"]}}]}),
              pagination=big), ids(lambda r: fam(r) in ("Okello", "Namara"))),
        (q([pcond(("sex", "eq", "male"), "not", ("UIN", "eq", "CH000"))]),
         ids(lambda r: r["gender"] == "male" and r["identifier"][0]["value"] != "CH000")),
        (q([pcond(("birth_date", "gt", "1970-01-01"), "not")]),
         ids(lambda r: r["birthDate"] <= "1970-01-01")),
        (dict(nosql({"sex": {"$ne": "male"}, "birth_date": {"$not": {"$lt": "1980-01-01"}}}),
              pagination=big),
         ids(lambda r: r["gender"] != "male" and r["birthDate"] >= "1980-01-01")),
    ]
    st, doc = search(gw, envelope(*[c for c, _ in cases]))
    assert st == 200, (st, doc)
    items = doc["message"]["search_response"]
    for (crit, want), it in zip(cases, items):
        assert it["status"] == "succ", (crit, it)
        assert sorted(chfids(it)) == want, (crit["query"], chfids(it), want)
        assert it["pagination"]["total_count"] == len(want), it["pagination"]
    calls = [r["path"] for r in fhir.received()]
    assert any("identifier=CH001%2CCH004%2CCH999" in c for c in calls), calls
    assert any("identifier%3Anot=CH000" in c or "identifier:not=CH000" in c for c in calls), calls
    refused = [q([pcond(("UIN", "in", "CH001"), "not")]),
               q([pcond(("birth_date", "gt", "1970-01-01"), "or", ("birth_date", "lt", "1965-01-01"))]),
               q([pcond(("sex", "eq", "male"), "not", ("surname", "eq", "Okello"))])]
    st, doc = search(gw, envelope(*refused))
    assert st == 200, (st, doc)
    items = doc["message"]["search_response"]
    assert [i["status_reason_code"] for i in items] == ["rjct.search_criteria.invalid"] * 3, items
    assert "not in" in items[0]["status_reason_message"], items[0]
    assert "or joins" in items[1]["status_reason_message"], items[1]
    assert "not applies" in items[2]["status_reason_message"], items[2]


def test_pages_by_next_links():
    """SR-CORE-RG-SYNC-SEARCH-01 (pagination): 25 matches read as pages of 10 through the FHIR
    server's next links: each record once, the total on every page (also on a page past the
    end, which is empty)."""
    _, gw = setup()
    seen = []
    for page in (1, 2, 3, 4):
        q = pred(("birth_date", "ge", "1900-01-01"),
                 pagination={"page_size": 10, "page_number": page})
        st, doc = search(gw, envelope(q))
        assert st == 200, (page, st, doc)
        it = doc["message"]["search_response"][0]
        assert it["status"] == "succ", it
        assert it["pagination"]["page_number"] == page, it["pagination"]
        assert len(chfids(it)) == [10, 10, 5, 0][page - 1], (page, chfids(it))
        assert it["pagination"]["total_count"] == 25, it["pagination"]
        seen += chfids(it)
    assert sorted(seen) == ["CH%03d" % i for i in range(25)], seen


def test_upstream_down():
    """The FHIR server busy (503): igw answers 503 with the spec's transport error body
    (err.service.unavailable), never a crash; the next search is answered."""
    fhir, gw = setup()
    fhir.control(path="/fhir/Patient", fail=1, status=503)
    st, doc = search(gw, envelope(idq("CH001")))
    assert st == 503 and doc["errors"][0]["code"] == "err.service.unavailable", (st, doc)
    st, doc = search(gw, envelope(idq("CH001")))
    assert st == 200 and chfids(doc["message"]["search_response"][0]) == ["CH001"], doc


def own_maps(gw_dir, decl):
    """A mappings directory of its own: the shipped answer map and a dci-fhir-search file."""
    src = os.path.join(IGW_SRC, "mappings", "fhir-bundle-to-dci-search-response")
    dst = os.path.join(gw_dir, "maps", "fhir-bundle-to-dci-search-response")
    shutil.copytree(src, dst)
    with open(os.path.join(dst, "dci-fhir-search"), "w") as f:
        f.write(decl)
    return os.path.dirname(dst)


def test_pages_by_offset():
    """SR-CORE-RG-SYNC-SEARCH-01 (pagination): with `paging offset` page 3 is one FHIR call with
    _offset=20 instead of two next links."""
    fhir, _ = setup()
    gw = Gateway(CONFIG.replace("FHIRURL", fhir.url).replace("/dci/fhir/", "/dci/off/"))
    maps = own_maps(gw.dir, "record Person Patient map fhir-bundle-to-dci-search-response "
                            "paging offset\nparam birth_date date birthdate\n")
    text = open(gw.config_path).read().replace('"MAPS"', '"%s"' % maps)
    open(gw.config_path, "w").write(text)
    gw.start()
    try:
        fhir.control(reset=True, keep_store=True)
        q = pred(("birth_date", "ge", "1900-01-01"), pagination={"page_size": 10, "page_number": 3})
        st, _, data = gw.request("POST", "/dci/off/registry/sync/search",
                                 json.dumps(envelope(q)).encode(), AUTH, timeout=30)
        doc = json.loads(data)
        assert st == 200, (st, doc)
        it = doc["message"]["search_response"][0]
        assert chfids(it) == ["CH%03d" % i for i in range(20, 25)], it
        assert it["pagination"] == {"page_size": 10, "page_number": 3, "total_count": 25}, it
        calls = [r["path"] for r in fhir.received() if r["path"].startswith("/fhir/Patient")]
        assert len(calls) == 1 and "_offset=20" in calls[0], calls
    finally:
        assert gw.stop() == 0
        gw.cleanup()


def test_bad_declaration_refused_by_config_check():
    """A line the dci-fhir-search file cannot read, or a record naming a map that is not there:
    `igw config check` refuses the configuration (file and line for the first), as serve
    would."""
    gw = Gateway(CONFIG.replace("FHIRURL", "http://127.0.0.1:9/fhir"))
    maps = own_maps(gw.dir, "record Person Patient map fhir-bundle-to-dci-search-response\n"
                            "param surname text family\n")
    text = open(gw.config_path).read().replace('"MAPS"', '"%s"' % maps)
    open(gw.config_path, "w").write(text)
    try:
        r = subprocess.run([IGW_BIN, "config", "check", gw.config_path], cwd=gw.dir,
                           capture_output=True, timeout=20)
        out = (r.stdout + r.stderr).decode()
        assert r.returncode != 0, out
        assert "dci-fhir-search:2:" in out, out
        with open(os.path.join(maps, "fhir-bundle-to-dci-search-response", "dci-fhir-search"),
                  "w") as f:
            f.write("record Person Patient map no-such-map\n")
        r = subprocess.run([IGW_BIN, "config", "check", gw.config_path], cwd=gw.dir,
                           capture_output=True, timeout=20)
        out = (r.stdout + r.stderr).decode()
        assert r.returncode != 0 and "no-such-map" in out, out
    finally:
        gw.cleanup()


def test_compliance_ids_exist():
    """Every compliance id named in this file is in the catalogue."""
    import re
    known = {r["id"] for r in json.load(open(COMPLIANCE))["requirements"]}
    text = open(os.path.abspath(__file__)).read()
    named = set(re.findall(r"\b(?:SR|FR)-[A-Z]+-[A-Z0-9-]+-\d\d\b", text))
    assert named and named <= known, named - known


def test_zz_stop():
    if "gw" in STATE:
        gw, fhir = STATE.pop("gw"), STATE.pop("fhir")
        try:
            assert gw.stop() == 0
        finally:
            gw.cleanup()
            fhir.stop()


if __name__ == "__main__":
    run([test_idtype_value, test_predicate_expression_sort, test_nothing_and_refusals,
         test_in_or_not,
         test_pages_by_next_links, test_upstream_down, test_pages_by_offset,
         test_bad_declaration_refused_by_config_check, test_compliance_ids_exist, test_zz_stop])
