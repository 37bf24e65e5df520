# SPDX-License-Identifier: Apache-2.0
"""The openIMIS simulator (tests/sim/openimis/server.py) against what openIMIS does: GraphQL
login (tokenAuth, refreshToken, verifyToken) and the REST login, Bearer/cookie/JWT-prefix handling,
expired and bad tokens, every filter kind of the list queries, relay paging with graphene cursors
(first/after, last/before, offset), the 100 cap and --page-max, orderBy, graphene's error answers,
the rate limit (429), the control endpoints (fail 500/hang/token, mutate with history rows,
stats), the FHIR R4 read/search subset, and loading and walking 10,000 insurees. Every case starts
its own simulator on a free port. Python 3 standard library only."""
import base64
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "sim", "openimis"))
from igwtest import IGW_BIN, run  # noqa: E402
from client import OpenImisSim, basic  # noqa: E402

TMP = tempfile.mkdtemp(prefix="igw-sim-openimis-")
CONN = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { %s } }"


def started(**kw):
    sim = OpenImisSim(**kw)
    sim.login()
    return sim


def data(body, field):
    assert "errors" not in body, body
    return body["data"][field]


def nodes(body, field):
    return [e["node"] for e in data(body, field)["edges"]]


def chfids(sim, args):
    st, body = sim.gql('{ insurees%s { edges { node { chfId } } } }' % ("(%s)" % args if args else ""))
    assert st == 200, (st, body)
    return sorted(n["chfId"] for n in nodes(body, "insurees"))


def synth(path, insurees, seed=1):
    """igw gen's format (docs/SYNTHETIC-DATA.md), small and deterministic, for when igw gen is
    not built: one region/district/ward, 4 villages, families of 4, one policy each, claims."""
    rnd = random.Random(seed)
    u = lambda: str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    out = [{"kind": "meta", "format": "igw-gen/1", "seed": seed, "insurees": insurees}]
    locs, parent = [], None
    for i, t in enumerate("RDW"):
        rec = {"kind": "location", "id": i + 1, "uuid": u(), "code": "L%d" % i, "name": "Loc%d" % i, "type": t,
               "parent": {"uuid": parent["uuid"]} if parent else None, "validityFrom": "2020-01-01T00:00:00",
               "validityTo": None}
        out.append(rec)
        parent = rec
    for v in range(4):
        rec = {"kind": "location", "id": 4 + v, "uuid": u(), "code": "V%d" % v, "name": "Village%d" % v, "type": "V",
               "parent": {"uuid": parent["uuid"]}, "validityFrom": "2020-01-01T00:00:00", "validityTo": None}
        out.append(rec)
        locs.append(rec)
    prod = {"kind": "product", "id": 1, "uuid": u(), "code": "SP001", "name": "Basic", "location": None,
            "dateFrom": "2020-01-01T00:00:00", "dateTo": "2030-01-01T00:00:00"}
    out.append(prod)
    names = ["Mwangi", "Okafor", "Sharma", "Kabila", "Dubois", "Haddad", "Otieno", "Mensah"]
    n = fam_id = pol_id = claim_id = 0
    while n < insurees:
        fam_id += 1
        fam = {"kind": "family", "id": fam_id, "uuid": u(), "headInsuree": None, "location": {"uuid": rnd.choice(locs)["uuid"]},
               "poverty": rnd.random() < 0.2, "validityFrom": "2023-01-01T00:00:00", "validityTo": None}
        members = []
        for m in range(min(4, insurees - n)):
            n += 1
            ins = {"kind": "insuree", "id": n, "uuid": u(), "chfId": "%09d" % (100000000 + n * 7),
                   "lastName": rnd.choice(names), "otherNames": "Given%d" % n,
                   "dob": "%04d-%02d-%02d" % (rnd.randint(1940, 2024), rnd.randint(1, 12), rnd.randint(1, 28)),
                   "gender": {"code": rnd.choice("MF")}, "marital": "N", "head": m == 0,
                   "family": {"uuid": fam["uuid"]}, "status": "AC",
                   "validityFrom": "2023-01-%02dT00:00:00" % (1 + n % 28), "validityTo": None}
            members.append(ins)
        fam["headInsuree"] = {"uuid": members[0]["uuid"], "chfId": members[0]["chfId"]}
        out.append(fam)
        out.extend(members)
        pol_id += 1
        out.append({"kind": "policy", "id": pol_id, "uuid": u(), "family": {"uuid": fam["uuid"]},
                    "product": {"uuid": prod["uuid"]}, "stage": "N", "status": 2, "value": 100.0,
                    "enrollDate": "2024-01-01", "startDate": "2024-01-01", "effectiveDate": "2024-01-01",
                    "expiryDate": "2024-12-31", "insurees": [{"uuid": m["uuid"]} for m in members],
                    "premiums": [{"uuid": u(), "amount": 60.0}], "validityFrom": "2024-01-01T00:00:00"})
        claim_id += 1
        out.append({"kind": "claim", "id": claim_id, "uuid": u(), "code": "CL%08d" % claim_id,
                    "dateClaimed": "2024-06-01", "dateFrom": "2024-06-01", "status": 4, "visitType": "O",
                    "insuree": {"uuid": members[0]["uuid"]}, "claimed": 10.0 + claim_id, "items": [], "services": []})
    with open(path, "w") as f:
        for r in out:
            f.write(json.dumps(r) + "\n")
    return path


def gen_10k():
    """igw gen --seed 1 --insurees 10000 when the binary has gen, else synth(); -> (path, source)."""
    path = os.path.join(TMP, "10k.jsonl")
    if os.path.exists(path):
        return path, open(path + ".src").read()
    src = "synth"
    if os.path.exists(IGW_BIN):
        r = subprocess.run([IGW_BIN, "gen", "--seed", "1", "--insurees", "10000", "--out", path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        if r.returncode == 0 and os.path.getsize(path) > 0:
            src = "igw gen"
    if src == "synth":
        synth(path, 10000)
    open(path + ".src", "w").write(src)
    return path, src


# ------------------------------------------------------------------ login and tokens
def test_login_graphql_and_rest():
    sim = OpenImisSim()
    try:
        st, body = sim.gql('mutation { tokenAuth(username: "Admin", password: "admin123") '
                           '{ token payload refreshExpiresIn } }')
        tok = data(body, "tokenAuth")
        assert st == 200 and tok["token"].count(".") == 2, body
        head = json.loads(base64.urlsafe_b64decode(tok["token"].split(".")[0] + "=="))
        assert head["alg"] == "HS256", head
        p = tok["payload"]
        assert p["username"] == "Admin" and p["exp"] > time.time() + 3600 and "jti" in p and "origIat" in p, p
        assert tok["refreshExpiresIn"] == p["origIat"] + 30 * 86400
        # the JWT cookie (HttpOnly) set by jwt_cookie
        st, h, _ = sim.request("POST", "/api/graphql", {"query": 'mutation { tokenAuth(username: "Admin", '
                                                                   'password: "admin123") { token } }'})
        assert "JWT=" in h.get("set-cookie", "") and "HttpOnly" in h["set-cookie"], h
        cookie = h["set-cookie"].split(";")[0]
        st, _, body = sim.request("POST", "/api/graphql", {"query": "{ insurees { totalCount } }"}, {"Cookie": cookie})
        assert data(body, "insurees")["totalCount"] == 5, body
        # wrong password
        st, body = sim.gql('mutation { tokenAuth(username: "Admin", password: "nope") { token } }')
        assert st == 200 and body["errors"][0]["message"] == "Please enter valid credentials", body
        assert body["data"]["tokenAuth"] is None
        # REST login
        st, _, body = sim.request("POST", "/api/api_fhir_r4/login/", {"username": "Admin", "password": "admin123"})
        assert st == 200 and body["token"].count(".") == 2 and body["exp"] > time.time(), body
        st, _, body = sim.request("POST", "/api/api_fhir_r4/login/", {"username": "Admin", "password": "x"})
        assert st == 401 and body == "INCORRECT_CREDENTIALS", (st, body)
        st, _, body = sim.request("POST", "/api/api_fhir_r4/login/", {"username": "Admin"})
        assert st == 400 and body == "Missing username or password", (st, body)
    finally:
        sim.stop()


def test_token_handling():
    users = os.path.join(TMP, "users.json")
    with open(users, "w") as f:
        json.dump({"Admin": "admin123", "igw": "s3cret"}, f)
    sim = OpenImisSim(users=users)
    try:
        tok = sim.login("igw", "s3cret")
        q = "{ insurees { totalCount } }"
        assert data(sim.gql(q)[1], "insurees")["totalCount"] == 5
        # the Bearer prefix is case-insensitive; "JWT <token>" is not read (anonymous)
        st, body = sim.gql(q, headers={"Authorization": "bearer " + tok})
        assert st == 200 and data(body, "insurees")["totalCount"] == 5
        sim.token = None
        st, body = sim.gql(q, headers={"Authorization": "JWT " + tok})
        assert st == 200 and body["errors"][0]["message"] == "unauthorized" and body["data"]["insurees"] is None, body
        st, body = sim.gql(q)
        assert st == 200 and body["errors"][0]["message"] == "unauthorized", body
        # a tampered signature: 401 with graphql_jwt's message
        bad = tok[:-3] + ("AAA" if tok[-3:] != "AAA" else "BBB")
        st, body = sim.gql(q, token=bad)
        assert st == 401 and body == {"errors": [{"message": "Error decoding signature"}]}, (st, body)
        st, body = sim.gql(q, token="not-a-jwt")
        assert st == 401, (st, body)
        # refresh and verify
        st, body = sim.gql('mutation($t: String) { refreshToken(token: $t) { token payload } }', {"t": tok})
        new = data(body, "refreshToken")
        assert new["token"] != tok and new["payload"]["username"] == "igw", body
        st, body = sim.gql('mutation { verifyToken(token: "%s") { payload } }' % new["token"])
        assert data(body, "verifyToken")["payload"]["username"] == "igw", body
    finally:
        sim.stop()


def test_expired_token():
    sim = OpenImisSim(token_ttl=1)
    try:
        tok = sim.login()
        assert sim.gql("{ insurees { totalCount } }")[0] == 200
        time.sleep(2.1)
        st, body = sim.gql("{ insurees { totalCount } }", token=tok)
        assert st == 401 and body["errors"][0]["message"] == "Signature has expired", (st, body)
        st, body = sim.fhir("Patient/", token=tok)
        assert st == 401 and body["resourceType"] == "OperationOutcome", (st, body)
        st, body = sim.gql('mutation { refreshToken(token: "%s") { token } }' % tok, token="")
        assert body["errors"][0]["message"] == "Signature has expired", body
        sim.login()                     # a new login gives a working token again
        assert data(sim.gql("{ insurees { totalCount } }")[1], "insurees")["totalCount"] == 5
    finally:
        sim.stop()


# ------------------------------------------------------------------ filters
def test_insuree_filters():
    sim = started()
    try:
        assert chfids(sim, 'lastName_Icontains: "DOE"') == ["070707070", "070707071", "070707072"]
        assert chfids(sim, 'lastName: "Doe"') == ["070707070", "070707071"]
        assert chfids(sim, 'lastName_Iexact: "doe"') == ["070707070", "070707071"]
        assert chfids(sim, 'lastName_Istartswith: "doe-"') == ["070707072"]
        assert chfids(sim, 'otherNames_Icontains: "A"') == ["070707071", "100000001", "100000002"]
        assert chfids(sim, 'chfId: "100000002"') == ["100000002"]
        assert chfids(sim, 'chfId_Istartswith: "1000"') == ["100000001", "100000002"]
        assert chfids(sim, 'dob_Gte: "1982-11-02"') == ["070707071", "070707072", "100000002"]
        assert chfids(sim, 'dob_Gt: "1982-11-02", dob_Lt: "2015-06-30"') == ["100000002"]
        assert chfids(sim, 'dob: "1975-01-15"') == ["100000001"]
        assert chfids(sim, 'gender_Code: "F"') == ["070707071", "100000001"]
        assert chfids(sim, 'marital: "S"') == ["070707072", "100000002"]
        assert chfids(sim, 'status: "IN"') == ["100000002"]
        assert chfids(sim, "status: IN") == ["100000002"]           # the enum form the frontend sends
        assert chfids(sim, "head: true") == ["070707070", "100000001"]
        assert chfids(sim, "passport_Isnull: false") == ["100000001"]
        assert chfids(sim, 'email_Icontains: "doe"') == ["070707070"]
        assert chfids(sim, 'validityFrom_Gte: "2024-04-01T00:00:00.000Z"') == ["070707072", "100000001", "100000002"]
        # parentLocation: a region (level 0) through currentVillage, else the family's village
        assert chfids(sim, 'parentLocation: "a0000000-0000-4000-8000-000000000005", parentLocationLevel: 0') == \
            ["070707072", "100000001", "100000002"]
        st, body = sim.gql('{ insurees(parentLocation: "a0000000-0000-4000-8000-000000000005") { totalCount } }')
        assert st == 200 and body["data"]["insurees"] is None and body["errors"], body
        # the excluded insuree number is never listed; family_Isnull
        assert "999999999" not in chfids(sim, "")
        assert chfids(sim, "family_Isnull: true") == []
        # variables of every scalar type
        st, body = sim.gql('query q($d: Date, $g: String, $n: Int) { insurees(dob_Lte: $d, gender_Code: $g, first: $n) '
                           '{ totalCount edges { node { chfId } } } }', {"d": "1981-01-01", "g": "F", "n": 1})
        assert data(body, "insurees")["totalCount"] == 1 and nodes(body, "insurees")[0]["chfId"] == "100000001"
    finally:
        sim.stop()


def test_other_list_filters():
    sim = started()
    try:
        def q(text):
            st, body = sim.gql(text)
            assert st == 200, (st, body)
            return body
        b = q('{ families(headInsuree_LastName_Icontains: "mwa") { totalCount edges { node { uuid members { totalCount } } } } }')
        assert data(b, "families")["totalCount"] == 1 and nodes(b, "families")[0]["members"]["totalCount"] == 2
        b = q('{ families(members_ChfId: "070707072") { edges { node { headInsuree { chfId } } } } }')
        assert [n["headInsuree"]["chfId"] for n in nodes(b, "families")] == ["070707070"]
        b = q('{ families(location_Parent_Parent_Uuid: "a0000000-0000-4000-8000-000000000006", poverty: true) { totalCount } }')
        assert data(b, "families")["totalCount"] == 1
        b = q('{ policies(status: 2, product_Code: "BCUL0001") { edges { node { uuid value sumPremiums } } } }')
        assert [n["uuid"] for n in nodes(b, "policies")] == ["f0000000-0000-4000-8000-000000000001"]
        b = q('{ policies(expiryDate_Lt: "2025-01-01", balanceGte: 1000) { edges { node { uuid } } } }')
        assert [n["uuid"] for n in nodes(b, "policies")] == ["f0000000-0000-4000-8000-000000000002"]
        b = q('{ insureePolicy(insuree_ChfId: "070707071") { edges { node { policy { uuid } insuree { chfId } } } } }')
        assert [n["policy"]["uuid"] for n in nodes(b, "insureePolicy")] == ["f0000000-0000-4000-8000-000000000001"]
        b = q('{ claims(claimed_Gte: "5000", status_Gt: 4) { edges { node { code approved } } } }')
        assert [n["code"] for n in nodes(b, "claims")] == ["CLM-0002"]
        b = q('{ claims(insuree_ChfId: "070707070", dateClaimed_Gte: "2024-01-01") { edges { node { code '
              'items { qtyProvided item { code } } services { service { code } } healthFacility { code } } } } }')
        c = nodes(b, "claims")
        assert len(c) == 1 and c[0]["items"][0]["item"]["code"] == "0001" and c[0]["healthFacility"]["code"] == "RV01"
        b = q('{ claims(healthFacility_Location_Uuid: "a0000000-0000-4000-8000-000000000006", items: ["0001"]) { totalCount } }')
        assert data(b, "claims")["totalCount"] == 0
        b = q('{ claims(services: ["I113"]) { edges { node { code } } } }')
        assert [n["code"] for n in nodes(b, "claims")] == ["CLM-0002"]
        b = q('{ healthFacilities(location_Parent_Uuid: "a0000000-0000-4000-8000-000000000001") { edges { node { code } } } }')
        assert [n["code"] for n in nodes(b, "healthFacilities")] == ["RV01"]
        b = q('{ healthFacilities(name_Icontains: "centre", level: "C") { totalCount } }')
        assert data(b, "healthFacilities")["totalCount"] == 1
        b = q('{ locations(type: "D", orderBy: "code") { edges { node { code parent { code } } } } }')
        assert [(n["code"], n["parent"]["code"]) for n in nodes(b, "locations")] == [("R1D1", "R1"), ("R2D1", "R2")]
        b = q('{ locations(parent_Uuid_In: "a0000000-0000-4000-8000-000000000001,a0000000-0000-4000-8000-000000000005") '
              '{ edges { node { code } } } }')
        assert sorted(n["code"] for n in nodes(b, "locations")) == ["R1D1", "R2D1"]
        b = q('{ locations(code_Ne: "R1", type: "R") { edges { node { code } } } }')
        assert [n["code"] for n in nodes(b, "locations")] == ["R2"]
        b = q('{ products(search: "ultha") { edges { node { code dateFrom } } } }')
        assert nodes(b, "products") == [{"code": "BCUL0001", "dateFrom": "2020-01-01T00:00:00"}]
        b = q('{ familyMembers(familyUuid: "d0000000-0000-4000-8000-000000000001") { edges { node { chfId head } } } }')
        assert [n["chfId"] for n in nodes(b, "familyMembers")] == ["070707070", "070707071", "070707072"]
        b = q('{ policiesByInsuree(chfId: "070707071", activeOrLastExpiredOnly: true) { totalCount edges { node { '
              'policyUuid productCode status balance expiryDate } } } }')
        assert nodes(b, "policiesByInsuree") == [{"policyUuid": "f0000000-0000-4000-8000-000000000001",
                                                  "productCode": "BCUL0001", "status": 2, "balance": 0.0,
                                                  "expiryDate": "2025-03-17"}], b
        b = q('{ policiesByFamily(familyUuid: "d0000000-0000-4000-8000-000000000002", targetDate: "2023-06-01") '
              '{ edges { node { policyUuid balance } } } }')
        assert nodes(b, "policiesByFamily") == [{"policyUuid": "f0000000-0000-4000-8000-000000000002", "balance": 6000.0}]
        # a global id filter and node()
        gid = base64.b64encode(b"InsureeGQLType:4").decode()
        b = q('{ insurees(id: "%s") { edges { node { id chfId } } } }' % gid)
        assert nodes(b, "insurees") == [{"id": gid, "chfId": "100000001"}]
        b = q('{ node(id: "%s") { id ... on InsureeGQLType { chfId } } }' % gid)
        assert b["data"]["node"] == {"id": gid, "chfId": "100000001"}, b
    finally:
        sim.stop()


def test_query_language_and_errors():
    sim = started()
    try:
        st, body = sim.gql('query Q { a: insurees(chfId: "070707070") { ...F } b: insurees(chfId: "100000001") '
                           '{ edges { node { chfId @include(if: false) lastName } } } } '
                           'fragment F on InsureeGQLTypeConnection { edges { node { chfId __typename } } }')
        assert st == 200 and body["data"]["a"]["edges"][0]["node"] == {"chfId": "070707070", "__typename": "InsureeGQLType"}
        assert body["data"]["b"]["edges"][0]["node"] == {"lastName": "Mwangi"}, body
        cases = [('{ insurees( { x }', "Syntax Error GraphQL"),
                 ('{ insurees(foo: 1) { totalCount } }', 'Unknown argument "foo" on field "insurees"'),
                 ('{ insurees { edges { node { bogus } } } }', 'Cannot query field "bogus" on type "InsureeGQLType"'),
                 ('{ insurees(dob_Gte: "18-03-1980") { totalCount } }', 'Expected type "Date"'),
                 ('{ insurees(first: "ten") { totalCount } }', 'Expected type "Int"'),
                 ('{ insurees { edges { node { family } } } }', "must have a sub selection"),
                 ('{ locations { totalCount } }', 'Cannot query field "totalCount"'),
                 ('{ nothing { id } }', 'Cannot query field "nothing" on type "Query"'),
                 ('query q($x: String!) { insurees(chfId: $x) { totalCount } }', 'Variable "$x" of required type')]
        for text, want in cases:
            st, body = sim.gql(text)
            assert st == 400 and "data" not in body and want in body["errors"][0]["message"], (text, st, body)
        st, body = sim.gql('{ insurees(validityFrom_Gte: "2024-01-01") { totalCount } }')   # DateTime needs a time
        assert st == 400 and 'Expected type "DateTime"' in body["errors"][0]["message"], body
        st, body = sim.gql('{ insurees(chfId: "07-07") { totalCount } }')
        assert st == 200 and body["data"]["insurees"] is None and "letters and numbers" in body["errors"][0]["message"]
        st, body = sim.gql('{ insurees(orderBy: ["nope"]) { totalCount } }')
        assert st == 200 and body["data"]["insurees"] is None and "nope" in body["errors"][0]["message"], body
        # GET: queries yes, mutations 405; batches are refused
        st, _, body = sim.request("GET", "/api/graphql?query=%7B%20insurees%20%7B%20totalCount%20%7D%20%7D",
                                  headers=sim.auth_header())
        assert st == 200 and body["data"]["insurees"]["totalCount"] == 5, body
        st, _, body = sim.request("GET", "/api/graphql?query=mutation%7BverifyToken%7Bpayload%7D%7D")
        assert st == 405, (st, body)
        st, _, body = sim.request("POST", "/api/graphql", [{"query": "{ insurees { totalCount } }"}], sim.auth_header())
        assert st == 400, (st, body)
        st, _, body = sim.request("POST", "/api/graphql", "{not json", sim.auth_header())
        assert st == 400, (st, body)
    finally:
        sim.stop()


# ------------------------------------------------------------------ paging
def test_paging_cursors_and_cap():
    path = synth(os.path.join(TMP, "250.jsonl"), 250)
    sim = started(data=path)
    try:
        seen, after, pages = [], None, 0
        while True:
            args = 'first: 40, orderBy: ["chfId"]' + (', after: "%s"' % after if after else "")
            st, body = sim.gql('{ insurees(%s) { %s } }' % (args, CONN % "chfId"))
            c = data(body, "insurees")
            assert c["totalCount"] == 250
            for i, e in enumerate(c["edges"]):
                assert base64.b64decode(e["cursor"]).decode() == "arrayconnection:%d" % (len(seen) + i)
            seen += [e["node"]["chfId"] for e in c["edges"]]
            pages += 1
            assert c["pageInfo"]["hasPreviousPage"] is False       # graphene: only with last
            if not c["pageInfo"]["hasNextPage"]:
                break
            after = c["pageInfo"]["endCursor"]
        assert pages == 7 and len(seen) == 250 and seen == sorted(set(seen)), (pages, len(seen))
        # last/before walks backwards
        st, body = sim.gql('{ insurees(last: 10, before: "%s", orderBy: ["chfId"]) { %s } }'
                           % (base64.b64encode(b"arrayconnection:100").decode(), CONN % "chfId"))
        c = data(body, "insurees")
        assert [e["node"]["chfId"] for e in c["edges"]] == seen[90:100] and c["pageInfo"]["hasPreviousPage"] is True
        # offset
        st, body = sim.gql('{ insurees(offset: 245, orderBy: ["chfId"]) { edges { node { chfId } } } }')
        assert [n["chfId"] for n in nodes(body, "insurees")] == seen[245:]
        # no first/last: 100; above 100: graphene's error
        st, body = sim.gql('{ insurees { edgeCount pageInfo { hasNextPage } } }')
        assert data(body, "insurees")["edgeCount"] == 100 and body["data"]["insurees"]["pageInfo"]["hasNextPage"]
        st, body = sim.gql('{ insurees(first: 101) { totalCount } }')
        assert st == 200 and body["data"]["insurees"] is None
        assert body["errors"][0]["message"] == ("Requesting 101 records on the `insurees` connection exceeds the "
                                                "`first` limit of 100 records."), body
        # orderBy: several keys, descending, a relation path; ties broken by the row's key
        st, body = sim.gql('{ insurees(first: 100, orderBy: ["-lastName", "dob"]) { edges { node { lastName dob } } } }')
        got = [(n["lastName"], n["dob"]) for n in nodes(body, "insurees")]
        assert got == sorted(got, key=lambda x: (tuple(-ord(ch) for ch in x[0]), x[1])), got[:5]
        st, body = sim.gql('{ families(first: 5, orderBy: ["-headInsuree__chfId"]) { edges { node { headInsuree { chfId } } } } }')
        heads = [n["headInsuree"]["chfId"] for n in nodes(body, "families")]
        assert heads == sorted(heads, reverse=True) and len(heads) == 5
        # the primary key (what "id" orders by), both directions
        st, body = sim.gql('{ a: insurees(first: 3, orderBy: ["id"]) { edges { node { id } } } '
                           'b: insurees(first: 3, orderBy: ["-id"]) { edges { node { id } } } }')
        pk = lambda n: int(base64.b64decode(n["node"]["id"]).decode().split(":")[1])
        assert [pk(n) for n in body["data"]["a"]["edges"]] == [1, 2, 3], body
        assert [pk(n) for n in body["data"]["b"]["edges"]] == [250, 249, 248], body
        # nested connection paging
        st, body = sim.gql('{ families(first: 1) { edges { node { members(first: 2) { totalCount edgeCount '
                           'pageInfo { hasNextPage } } } } } }')
        m = nodes(body, "families")[0]["members"]
        assert m["totalCount"] == 4 and m["edgeCount"] == 2 and m["pageInfo"]["hasNextPage"] is True, m
    finally:
        sim.stop()
    sim = started(data=path, page_max=25)
    try:
        st, body = sim.gql('{ insurees { edgeCount } }')
        assert data(body, "insurees")["edgeCount"] == 25
        st, body = sim.gql('{ insurees(first: 26) { edgeCount } }')
        assert "limit of 25 records" in body["errors"][0]["message"], body
    finally:
        sim.stop()


def test_load_and_walk_10k():
    path, src = gen_10k()
    t0 = time.time()
    sim = started(data=path)
    load = time.time() - t0
    try:
        assert load < 20, "loading 10,000 insurees took %.1fs" % load
        st, body = sim.gql('{ insurees(first: 1) { totalCount } families(first: 1) { totalCount } '
                           'claims(first: 1) { totalCount } policies(first: 1) { totalCount } }')
        assert st == 200 and body["data"]["insurees"]["totalCount"] == 10000, body
        assert body["data"]["families"]["totalCount"] > 1000 and body["data"]["policies"]["totalCount"] > 1000
        seen, after = set(), None
        t0 = time.time()
        while True:
            args = 'first: 100, orderBy: ["chfId"]' + (', after: "%s"' % after if after else "")
            st, body = sim.gql('{ insurees(%s) { pageInfo { hasNextPage endCursor } edges { node { uuid '
                               'family { uuid } } } } }' % args)
            c = data(body, "insurees")
            for e in c["edges"]:
                assert e["node"]["uuid"] not in seen
                seen.add(e["node"]["uuid"])
            if not c["pageInfo"]["hasNextPage"]:
                break
            after = c["pageInfo"]["endCursor"]
        walk = time.time() - t0
        assert len(seen) == 10000
        print("  10,000 insurees (%s): loaded in %.2fs, walked in 100 pages in %.2fs" % (src, load, walk))
    finally:
        sim.stop()


# ------------------------------------------------------------------ limits and controls
def test_rate_limit():
    sim = started(rate_per_minute=5)       # the login was the 1st request of this minute
    try:
        q = "{ insurees { totalCount } }"
        got = [sim.gql(q)[0] for _ in range(6)]
        if 200 in got[4:]:                 # the minute turned over during the loop: try once more
            got = [sim.gql(q)[0] for _ in range(6)]
        assert got.count(429) >= 1 and got[0] == 200, got
        st, _, body = sim.request("POST", "/api/graphql", {"query": q}, sim.auth_header())
        assert st == 429 and body == {"detail": "Rate limit exceeded"}, (st, body)
        st, body = sim.fhir("Patient/")
        assert st == 429
        assert sim.stats()["rate_limited"] >= 3
        sim.control(rate_per_minute=0)
        assert sim.gql(q)[0] == 200
    finally:
        sim.stop()


def test_control_fail_modes():
    sim = started()
    try:
        q = "{ insurees { totalCount } }"
        sim.control(fail="500", count=2)
        assert [sim.gql(q)[0] for _ in range(3)] == [500, 500, 200]
        sim.control(fail="hang", hang_ms=1200, count=1)
        t0 = time.time()
        st, body = sim.gql(q)
        assert st == 200 and time.time() - t0 >= 1.1, time.time() - t0
        assert sim.gql(q)[0] == 200
        # a hang without a count holds until the time is up or the next control command
        sim.control(fail="hang", hang_ms=60000)
        try:
            sim.request("POST", "/api/graphql", {"query": q}, sim.auth_header(), timeout=0.5)
            raise AssertionError("the request was answered during a hang")
        except OSError:
            pass
        t0 = time.time()
        sim.control(fail=None)
        assert sim.gql(q)[0] == 200 and time.time() - t0 < 5
        sim.control(fail="token")
        st, body = sim.gql(q)
        assert st == 401 and body["errors"][0]["message"] == "Error decoding signature", (st, body)
        assert sim.fhir("Patient/")[0] == 401
        sim.login()                        # even a new token is refused while the mode lasts
        assert sim.gql(q)[0] == 401
        sim.control(reset=True)
        assert sim.gql(q)[0] == 200
        # --fail on the command line
    finally:
        sim.stop()
    sim = OpenImisSim(fail="500")
    try:
        st, _, body = sim.request("POST", "/api/api_fhir_r4/login/", {"username": "Admin", "password": "admin123"})
        assert st == 500, st
        st, _, body = sim.request("POST", "/__sim/control", {"fail": "sometimes"})
        assert st == 400, (st, body)
    finally:
        sim.stop()


def test_mutate_and_stats():
    sim = started()
    try:
        st, _, out = sim.mutate(kind="insuree", chfId="070707071", set={"lastName": "Smith", "dob": "1982-11-03"})
        assert st == 200 and out["uuids"] == ["e0000000-0000-4000-8000-000000000002"], out
        st, body = sim.gql('{ insurees(chfId: "070707071") { edges { node { uuid lastName dob validityFrom validityTo } } } }')
        n = nodes(body, "insurees")
        assert len(n) == 1 and n[0]["lastName"] == "Smith" and n[0]["dob"] == "1982-11-03" and n[0]["validityTo"] is None
        assert n[0]["validityFrom"] > "2026", n           # an update resets validityFrom (last modified)
        # the old values became a history row (new uuid, validityTo set, legacyId = the row's id)
        st, body = sim.gql('{ insurees(chfId: "070707071", showHistory: true, orderBy: ["validityFrom"]) '
                           '{ edges { node { uuid lastName validityTo legacyId } } } }')
        n = nodes(body, "insurees")
        assert [x["lastName"] for x in n] == ["Doe", "Smith"] and n[0]["validityTo"] and n[0]["legacyId"] == 2, n
        assert n[0]["uuid"] != n[1]["uuid"]
        st, body = sim.fhir("Patient/?_lastUpdated=gt2026-01-01T00:00:00")
        assert body["total"] == 1 and body["entry"][0]["resource"]["name"][0]["family"] == "Smith", body
        # delete and create
        sim.mutate(kind="insuree", op="delete", chfId="100000002")
        assert "100000002" not in chfids(sim, "")
        st, _, out = sim.mutate(kind="insuree", op="create", set={
            "chfId": "555000555", "lastName": "New", "otherNames": "Person", "dob": "2000-01-01", "gender": "F",
            "family": "d0000000-0000-4000-8000-000000000002"})
        assert st == 200, out
        st, body = sim.gql('{ insurees(chfId: "555000555") { edges { node { lastName gender { code } family { uuid } } } } }')
        assert nodes(body, "insurees") == [{"lastName": "New", "gender": {"code": "F"},
                                            "family": {"uuid": "d0000000-0000-4000-8000-000000000002"}}]
        st, _, out = sim.mutate(kind="insuree", chfId="nobody", set={"lastName": "x"})
        assert st == 400, out
        s = sim.stats()
        assert s["graphql"] >= 5 and s["roots"]["insurees"] >= 4 and s["roots"]["tokenAuth"] == 1, s
        assert s["status"]["200"] >= 6 and s["records"]["insuree"] >= 5 and s["queries"][-1]["query"]
    finally:
        sim.stop()


# ------------------------------------------------------------------ FHIR R4
def test_fhir_read_and_search():
    sim = started()
    try:
        st, p = sim.fhir("Patient/e0000000-0000-4000-8000-000000000001/")
        assert st == 200 and p["resourceType"] == "Patient" and p["id"] == "e0000000-0000-4000-8000-000000000001"
        assert p["name"] == [{"use": "usual", "family": "Doe", "given": ["John"]}] and p["gender"] == "male"
        codes = {i["type"]["coding"][0]["code"]: i["value"] for i in p["identifier"]}
        assert codes == {"UUID": "e0000000-0000-4000-8000-000000000001", "Code": "070707070"}, codes
        assert p["address"][0]["city"] == "Rachla" and p["address"][0]["state"] == "Tahida"
        assert any(e["url"].endswith("/patient-group-reference") for e in p["extension"])
        st, p = sim.fhir("Patient/070707070")            # by insurance number: the id is the chfId
        assert st == 200 and p["id"] == "070707070"
        st, p = sim.fhir("Patient/?identifier=100000001")  # a resource, not a Bundle, as openIMIS answers
        assert st == 200 and p["resourceType"] == "Patient" and p["birthDate"] == "1975-01-15"
        st, b = sim.fhir("Patient/?_count=2&page-offset=2")
        assert st == 200 and b["resourceType"] == "Bundle" and b["type"] == "searchset" and b["total"] == 5
        assert len(b["entry"]) == 2 and {l["relation"] for l in b["link"]} == {"self", "next", "previous"}
        assert all(l["url"].startswith("http%3A%2F%2F") for l in b["link"])   # quote_plus'd, as openIMIS does
        st, b = sim.fhir("Patient/?claimDateFrom=2024-01-01")
        assert [e["resource"]["id"] for e in b["entry"]] == ["e0000000-0000-4000-8000-000000000001"]
        st, b = sim.fhir("Patient/?refDate=2024-05-01")
        assert b["total"] == 2
        st, g = sim.fhir("Group/d0000000-0000-4000-8000-000000000001")
        assert st == 200 and g["quantity"] == 3 and g["name"] == "Doe" and g["active"] is True and len(g["member"]) == 3
        st, g = sim.fhir("Group/?identifier=070707070")  # the head's insurance number
        assert st == 200 and g["id"] == "070707070"
        st, b = sim.fhir("Claim/?patient=e0000000-0000-4000-8000-000000000001&contained=true")
        c = b["entry"][0]["resource"]
        assert b["total"] == 1 and c["total"]["value"] == 4500.0 and {x["resourceType"] for x in c["contained"]} == \
            {"Patient", "Organization"}
        assert c["item"][0]["productOrService"]["text"] == "0001" and c["item"][1]["category"]["text"] == "service"
        st, cov = sim.fhir("Coverage/f0000000-0000-4000-8000-000000000001")
        assert cov["status"] == "active" and cov["beneficiary"] == {"reference": "Patient/070707070"}
        assert cov["period"] == {"start": "2024-03-18", "end": "2025-03-17"}, cov
        st, o = sim.fhir("Organization/?code=RV01")
        assert st == 200 and o["name"] == "Rapta District Hospital"
        st, b = sim.fhir("Location/?physicalType=si")
        assert b["total"] == 2 and b["entry"][0]["resource"]["physicalType"]["coding"][0]["code"] == "si"
        st, loc = sim.fhir("Location/a0000000-0000-4000-8000-000000000002")
        assert loc["partOf"]["reference"] == "Location/a0000000-0000-4000-8000-000000000001"
        st, ip = sim.fhir("InsurancePlan/BCUL0001")
        assert st == 200 and ip["name"] == "Basic Cover Ultha"
        # errors: OperationOutcome
        for path, want in (("Patient/nobody", 404), ("Patient/?_lastUpdated=2024-01-01", 400), ("Nothing/", 404),
                           ("Patient/?_count=x", 400)):
            st, o = sim.fhir(path)
            assert st == want and o["resourceType"] == "OperationOutcome", (path, st, o)
        st, o = sim.fhir("Patient/", token="")
        sim_token, sim.token = sim.token, None
        st, o = sim.fhir("Patient/")
        assert st == 401 and o["resourceType"] == "OperationOutcome", (st, o)
        st, b = sim.fhir("Patient/", headers=basic("Admin", "admin123"))
        assert st == 200 and b["total"] == 5
        st, _ = sim.fhir("Patient/", headers=basic("Admin", "wrong"))
        assert st == 401
        sim.token = sim_token
        st, _, o = sim.request("POST", "/api/api_fhir_r4/Patient/", {"resourceType": "Patient"}, sim.auth_header())
        assert st == 405 and o["resourceType"] == "OperationOutcome", (st, o)
    finally:
        sim.stop()


def test_payment_status_receiver():
    sim = started(extra=["--api-token", "static-tok"])
    try:
        path = "/api/payroll/payment_status/"

        def st(code, status, amount="50.00", cur="TZS", reason=None):
            s = {"benefit_uuid": "u-" + code, "code": code, "reference_id": code, "status": status,
                 "amount": amount, "currency": cur, "timestamp": "2024-05-02T10:00:00Z"}
            if reason:
                s["reason_code"] = reason
            return s
        body = {"payroll_id": "P-1", "statuses": [st("B1", "PENDING"), st("B2", "PENDING", "0.10", "USD")]}
        code, _, _ = sim.request("POST", path, body)
        assert code == 401
        code, _, out = sim.request("POST", path, body, sim.auth_header())
        assert code == 200 and out == {"payroll_id": "P-1", "accepted": 2}, out
        later = {"payroll_id": "P-1", "statuses": [st("B1", "RECONCILED"),
                                                   st("B2", "REJECTED", "0.10", "USD", "rjct.payee_fa.invalid")]}
        code, _, _ = sim.request("POST", path, later, {"Authorization": "Bearer static-tok"})
        assert code == 200
        sim.request("POST", path, later, sim.auth_header())                   # a redelivery
        sim.request("POST", path, {"payroll_id": "P-1", "statuses": [st("B1", "PENDING")]}, sim.auth_header())
        code, _, out = sim.request("POST", path, {"payroll_id": "P-1", "statuses": []}, sim.auth_header())
        assert code == 200 and out["accepted"] == 0, out
        for bad in ({"statuses": []}, {"payroll_id": "P-1", "statuses": [st("B3", "PAID")]},
                    {"payroll_id": "P-1", "statuses": [st("B3", "PENDING", "1.234")]},
                    {"payroll_id": "P-1", "statuses": [st("B3", "REJECTED")]}):
            code, _, out = sim.request("POST", path, bad, sim.auth_header())
            assert code == 400 and out["errors"][0]["message"], (bad, out)
        v = sim.payment_status("P-1")
        assert v["by_status"] == {"RECONCILED": 1, "REJECTED": 1}, v
        assert v["totals"] == {"RECONCILED": {"TZS": "50.00"}, "REJECTED": {"USD": "0.10"}}, v
        assert v["duplicates"] == 2 and v["late_pending"] == 1 and v["conflicts"] == 0 and v["refused"] == 4, v
        assert v["empty"] == 1, v
        assert v["benefits"]["B1"]["history"] == ["PENDING", "RECONCILED", "RECONCILED", "PENDING"], v
        sim.control(fail="500", count=1, path="/api/payroll/")                # retries see a 500 first
        code, _, _ = sim.request("POST", path, later, sim.auth_header())
        assert code == 500
        assert sim.payment_status(reset=True)["received"] == 0
    finally:
        sim.stop()


def main():
    try:
        run([test_login_graphql_and_rest, test_token_handling, test_expired_token, test_insuree_filters,
             test_other_list_filters, test_query_language_and_errors, test_paging_cursors_and_cap,
             test_load_and_walk_10k, test_rate_limit, test_control_fail_modes, test_mutate_and_stats,
             test_fhir_read_and_search, test_payment_status_receiver])
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
