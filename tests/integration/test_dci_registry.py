# SPDX-License-Identifier: Apache-2.0
"""The DCI registry facade over openIMIS (docs/DCI.md, "Registry facade"), end to end with the
real `igw serve` and the openIMIS simulator (tests/sim/openimis/) on `igw gen` data:
/registry/sync/search answered through the dci-search mediator, every search_request item,
idtype-value, predicate and expression queries, Person, Member and Group records, sort,
pagination over 10,000 matches, a search matching nothing, refusals in DCI's shapes. Each case
names the compliance requirement ids (OpenSPP spdci-compliance) it covers. Python 3 standard
library only."""
import copy
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, "..", "sim", "openimis")
sys.path.insert(0, HERE)
sys.path.insert(0, SIM)
from igwtest import IGW_BIN, IGW_FIXTURES, IGW_SRC, Gateway, run, skip  # noqa: E402

VALID = os.path.join(IGW_FIXTURES, "dci", "valid")
COMPLIANCE = os.path.join(IGW_FIXTURES, "dci", "compliance", "openspp-spdci-compliance",
                          "requirements-social.json")
AUTH = {"Content-Type": "application/json", "Authorization": "Bearer demo-token"}
PATH = "/dci/social/registry/sync/search"

CONFIG = """
http: { listen: "http://127.0.0.1:{port}", max_body: 1MiB }
queue: { path: "{dir}/queue" }
mappings: { dir: "MAPS" }
upstreams:
  openimis:
    url: "SIMURL"
    timeout: 20s
    auth: { type: login, user_file: oi.user }
channels:
  sync_search:
    listen: POST /dci/social/registry/sync/search
    dialect: dci
    answer: dci-search
    upstream: openimis
    mediate: { timeout: 60s, max_calls: 64 }
    auth: { type: bearer, tokens: [demo-token] }
"""

STATE = {}


def setup():
    if "gw" in STATE:
        return STATE["sim"], STATE["gw"], STATE["records"]
    if not os.path.exists(os.path.join(SIM, "client.py")):
        skip("tests/sim/openimis is not in this tree")
    from client import OpenImisSim  # noqa: E402
    data = os.path.join(tempfile.mkdtemp(prefix="igw-dci-reg-"), "openimis.jsonl")
    with open(data, "w") as f:
        subprocess.run([IGW_BIN, "gen", "--seed", "1", "--insurees", "10000"], stdout=f,
                       check=True, timeout=120)
    records = [json.loads(line) for line in open(data)]
    sim = OpenImisSim(data=data, rate_per_minute=0)
    text = CONFIG.replace("SIMURL", sim.url).replace("MAPS", os.path.join(IGW_SRC, "mappings"))
    gw = Gateway(text, extra_files={"oi.user": "Admin:admin123\n"}).start()
    STATE.update(sim=sim, gw=gw, records=records)
    return sim, gw, records


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
    st, _, data = gw.request("POST", PATH, json.dumps(env).encode(), headers, timeout=60)
    return st, json.loads(data) if data else None


def idq(value, rtype="Person", typ="UIN"):
    return {"reg_record_type": rtype, "query_type": "idtype-value",
            "query": {"type": typ, "value": value}}


def insurees(records):
    return [r for r in records if r.get("kind") == "insuree"]


def test_idtype_value_person_member_group():
    """SR-CORE-RG-SYNC-SEARCH-01 SR-EXTRA-RG-SYNC-SEARCH-REGRECORDS-01:
    a spec-valid sync search answered with a SearchResponse whose records are DCI Person, Member
    and Group built from openIMIS by the maps."""
    _, gw, records = setup()
    head = next(r for r in insurees(records) if r.get("head"))
    st, doc = search(gw, envelope(idq(head["chfId"]), idq(head["chfId"], "Member"),
                                  idq(head["chfId"], "Group")))
    assert st == 200, (st, doc)
    assert doc["header"]["action"] == "on-search" and doc["header"]["status"] == "succ", doc
    assert doc["header"]["total_count"] == 3 and doc["message"]["correlation_id"] == "msg-search"
    items = doc["message"]["search_response"]
    assert [i["reference_id"] for i in items] == ["ref-0", "ref-1", "ref-2"], items
    assert all(i["status"] == "succ" for i in items), items
    person = items[0]["data"]["reg_records"][0]
    assert items[0]["data"]["reg_record_type"] == "Person"
    assert {"identifier_type": "CHFID", "identifier_value": head["chfId"]} in person["identifier"]
    assert person["name"] == {"surname": head["lastName"], "given_name": head["otherNames"]}
    assert person["birth_date"] == head["dob"]
    assert person["sex"] == {"M": "male", "F": "female", "O": "other"}[head["gender"]["code"]]
    member = items[1]["data"]["reg_records"][0]
    assert member["demographic_info"] == person, member
    assert member["related_person"] == [{"relationship_type": "SELF"}], member
    group = items[2]["data"]["reg_records"][0]
    assert group["group_type"] == "3" and group["group_head_info"] == member, group
    assert group["group_size"] == len(group["member_list"]) >= 1, group
    assert items[0]["pagination"] == {"page_size": 10, "page_number": 1, "total_count": 1}


def test_predicate_expression_sort_nothing():
    """SR-CORE-RG-SYNC-SEARCH-PREDICATE-01 SR-CORE-RG-SYNC-SEARCH-EXPRESSION-01: predicate and
    expression queries; sort; a search matching nothing is succ with no records; an item igw
    cannot answer is rjct while the others are answered."""
    _, gw, records = setup()
    ins = insurees(records)
    name = ins[5]["lastName"]
    want = sorted((r for r in ins if r["lastName"] == name and r["dob"] >= "1980-01-01"),
                  key=lambda r: r["dob"], reverse=True)
    pred = {"reg_record_type": "Person", "query_type": "predicate",
            "query": [{"seq_num": 1,
                       "expression1": {"attribute_name": "surname", "operator": "eq",
                                       "attribute_value": name},
                       "condition": "and",
                       "expression2": {"attribute_name": "birth_date", "operator": "ge",
                                       "attribute_value": "1980-01-01"}}],
            "sort": [{"attribute_name": "birth_date", "sort_order": "desc"}],
            "pagination": {"page_size": 100, "page_number": 1}}
    expr = {"reg_record_type": "Person", "query_type": "expression",
            "query": {"type": "ns:org:QueryType:NoSql",
                      "value": {"expression": {"collection": "Person", "query": {
                          "$and": [{"surname": name}, {"birth_date": {"$gte": "1980-01-01"}}]}}}},
            "sort": [{"attribute_name": "birth_date", "sort_order": "desc"}],
            "pagination": {"page_size": 100, "page_number": 1}}
    nothing = idq("999999999")
    bad = {"reg_record_type": "Person", "query_type": "predicate",
           "query": [{"seq_num": 1, "expression1": {"attribute_name": "shoe_size",
                                                    "operator": "eq", "attribute_value": 3}}]}
    st, doc = search(gw, envelope(pred, expr, nothing, bad))
    assert st == 200, (st, doc)
    items = doc["message"]["search_response"]
    for it in items[:2]:
        got = [r["birth_date"] for r in it["data"]["reg_records"]]
        assert got and got == [r["dob"] for r in want][:100], (len(got), len(want))
        assert it["pagination"]["total_count"] == len(want)
    assert items[2]["status"] == "succ" and items[2]["data"]["reg_records"] == [], items[2]
    assert items[2]["pagination"]["total_count"] == 0
    assert items[3]["status"] == "rjct", items[3]
    assert items[3]["status_reason_code"] == "rjct.search_criteria.invalid", items[3]


def test_in_or_not_over_openimis():
    """SR-CORE-RG-SYNC-SEARCH-PREDICATE-01 SR-CORE-RG-SYNC-SEARCH-EXPRESSION-01: a negated
    ordered condition (predicate condition not, NoSql $not) is answered as the opposite order
    (not gt = le); in, an or of one attribute, and a not of an exact value become a list
    (resp. :not) the search map can only express through a declared in= (not=) GraphQL
    argument, which openIMIS's insurees query has none of: refused per item with that reason,
    the other items answered."""
    _, gw, records = setup()
    ins = insurees(records)
    name = ins[5]["lastName"]
    want = sorted(r["chfId"] for r in ins if r["lastName"] == name and r["dob"] <= "1980-01-01")
    big = {"page_size": 100, "page_number": 1}
    negated = {"reg_record_type": "Person", "query_type": "predicate", "pagination": big,
               "query": [{"seq_num": 1, "expression1": {"attribute_name": "surname",
                                                        "operator": "eq",
                                                        "attribute_value": name},
                          "condition": "not",
                          "expression2": {"attribute_name": "birth_date", "operator": "gt",
                                          "attribute_value": "1980-01-01"}}]}
    expr = {"reg_record_type": "Person", "query_type": "expression", "pagination": big,
            "query": {"type": "ns:org:QueryType:NoSql", "value": {"expression": {
                "collection": "Person",
                "query": {"surname": name, "birth_date": {"$not": {"$gt": "1980-01-01"}}}}}}}

    def one(attr, op, value, cond=None, e2=None):
        item = {"seq_num": 1, "expression1": {"attribute_name": attr, "operator": op,
                                              "attribute_value": value}}
        if cond:
            item.update(condition=cond, expression2={"attribute_name": e2[0], "operator": e2[1],
                                                      "attribute_value": e2[2]})
        return {"reg_record_type": "Person", "query_type": "predicate", "query": [item]}
    listed = [one("UIN", "in", "%s,%s" % (ins[1]["chfId"], ins[2]["chfId"])),
              one("UIN", "eq", ins[1]["chfId"], "or", ("UIN", "eq", ins[2]["chfId"])),
              one("surname", "eq", name, "not", ("sex", "eq", "male"))]
    st, doc = search(gw, envelope(negated, expr, *listed))
    assert st == 200, (st, doc)
    items = doc["message"]["search_response"]
    for it in items[:2]:
        got = sorted(r["identifier"][0]["identifier_value"] for r in it["data"]["reg_records"])
        assert it["status"] == "succ" and got == want, (it.get("status_reason_message"), got, want)
    for it in items[2:]:
        assert it["status"] == "rjct", it
        assert it["status_reason_code"] == "rjct.search_criteria.invalid", it
    assert "list of values" in items[2]["status_reason_message"], items[2]
    assert "list of values" in items[3]["status_reason_message"], items[3]
    assert "sex:not" in items[4]["status_reason_message"], items[4]


def test_refusals():
    """SR-CORE-RG-SYNC-SEARCH-NEG-01 SR-SEC-AUTH-RG-SYNC-SEARCH-01:
    a schema-invalid request is ERR with the spec's code, a missing token 401, an unknown record
    type and a bad operator rjct per item."""
    _, gw, _ = setup()
    env = envelope(idq("1"))
    env["message"]["search_request"][0]["search_criteria"]["pagination"]["page_size"] = 0
    st, doc = search(gw, env)
    assert st == 400 and doc["message"]["ack_status"] == "ERR", (st, doc)
    assert doc["message"]["error"]["code"] == "rjct.pagination.invalid", doc
    env = envelope(idq("1"))
    del env["header"]["message_id"]
    st, doc = search(gw, env)
    assert st == 400 and doc["message"]["ack_status"] == "ERR", (st, doc)
    st, doc = search(gw, envelope(idq("1")), {"Content-Type": "application/json"})
    assert st == 401, (st, doc)
    st, doc = search(gw, envelope(idq("1", "Farmer"), dict(idq("1"), query_type="predicate",
                                                           query=[{"seq_num": 1, "expression1": {
                                                               "attribute_name": "surname",
                                                               "operator": "gt",
                                                               "attribute_value": "A"}}])))
    assert st == 200, (st, doc)
    codes = [i.get("status_reason_code") for i in doc["message"]["search_response"]]
    assert codes == ["rjct.search_criteria.invalid"] * 2, doc
    st, doc = search(gw, envelope(dict(idq("1"), sort=[{"attribute_name": "shoe_size",
                                                        "sort_order": "asc"}]),
                                  dict(idq("1/2")), idq("1", "Group")))
    assert st == 200, (st, doc)
    items = doc["message"]["search_response"]
    assert items[0]["status_reason_code"] == "rjct.sort.invalid", items[0]
    assert items[1]["status"] == "rjct", items[1]    # openIMIS refuses such a CHFID
    assert items[2]["status"] == "succ", items[2]


def test_10000_matches_paged():
    """SR-CORE-RG-SYNC-SEARCH-01 (pagination): 10,000 matches read page by page, each record
    once, the total on every page, a page past the end empty."""
    sim, gw, records = setup()
    ins = insurees(records)
    allq = {"reg_record_type": "Person", "query_type": "predicate",
            "query": [{"seq_num": 1, "expression1": {"attribute_name": "birth_date",
                                                     "operator": "ge",
                                                     "attribute_value": "1900-01-01"}}]}
    seen = []
    for page in range(1, 12):
        q = dict(allq, pagination={"page_size": 1000, "page_number": page})
        st, doc = search(gw, envelope(q))
        assert st == 200, (page, st, doc)
        it = doc["message"]["search_response"][0]
        assert it["pagination"]["total_count"] == len(ins), it["pagination"]
        ids = [r["identifier"][0]["identifier_value"] for r in it["data"]["reg_records"]]
        assert len(ids) == (1000 if page <= len(ins) // 1000 else 0), (page, len(ids))
        seen += ids
    assert len(seen) == len(set(seen)) == len(ins) == 10000, (len(seen), len(set(seen)))
    assert set(seen) == {r["chfId"] for r in ins}


def test_compliance_ids_exist():
    """Every compliance id named in this file is in the catalogue."""
    import re
    known = {r["id"] for r in json.load(open(COMPLIANCE))["requirements"]}
    text = open(os.path.abspath(__file__)).read()
    named = set(re.findall(r"\b(?:SR|FR)-[A-Z]+-[A-Z0-9-]+-\d\d\b", text))
    assert named and named <= known, named - known


def test_zz_stop():
    if "gw" in STATE:
        gw, sim = STATE.pop("gw"), STATE.pop("sim")
        try:
            assert gw.stop() == 0
        finally:
            gw.cleanup()
            sim.stop()


if __name__ == "__main__":
    run([test_idtype_value_person_member_group, test_predicate_expression_sort_nothing,
         test_in_or_not_over_openimis,
         test_refusals, test_10000_matches_paged, test_compliance_ids_exist, test_zz_stop])
