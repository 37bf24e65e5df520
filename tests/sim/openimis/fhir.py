# SPDX-License-Identifier: Apache-2.0
"""openIMIS's FHIR R4 API (openimis-be-api_fhir_r4_py), the read/search subset: Patient (insuree),
Group (family), Coverage (policy), Claim, Organization (health facility), Location, InsurancePlan
(product), with the converters' shapes and the few search parameters the module supports
(_lastUpdated, _count, page-offset, identifier, refDate, refEndDate, claimDateFrom, patient,
type, code, physicalType). Other parameters are ignored, as the module ignores them. Also
the REST login POST /api/api_fhir_r4/login/."""
import base64
import json
import re
from urllib.parse import parse_qs, quote_plus

from store import EXCLUDED_CHFIDS, norm_datetime

BASE = "/api/api_fhir_r4/"
IG = "https://openimis.github.io/openimis_fhir_r4_ig/"
IDENT_SYS = IG + "CodeSystem/openimis-identifiers"
SD = IG + "StructureDefinition/"
FHIR_JSON = "application/fhir+json"
GENDER = {"M": "male", "F": "female", "O": "other"}
MARITAL = {"M": "Married", "S": "Single", "D": "Divorced", "W": "Widowed", "N": "Not specified"}
POLICY_STATUS = {1: "draft", 2: "active", 4: "cancelled", 8: "active"}
VISIT = {"E": "Emergency", "R": "Referrals", "O": "Other"}
LOC_TYPE = {"R": "Region", "D": "District", "W": "Municipality", "V": "City/Village"}
PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


def outcome(text, code="exception"):
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "details": {"text": text}}]}


def ident(code, value):
    return {"use": "usual", "type": {"coding": [{"system": IDENT_SYS, "code": code}]}, "value": value}


def ref(rtype, rec):
    if rec is None:
        return None
    return {"reference": "%s/%s" % (rtype, rec["uuid"]), "type": rtype,
            "identifier": {"type": {"coding": [{"system": IDENT_SYS, "code": "UUID"}]}, "value": rec["uuid"]}}


def _clean(d):
    return {k: v for k, v in d.items() if v not in (None, [], {})}


def _up(loc, n):
    for _ in range(n):
        loc = (loc or {}).get("parent")
    return loc


def _address(loc, use, text):
    if loc is None:
        return None
    return _clean({
        "extension": [{"url": SD + "address-municipality", "valueString": (_up(loc, 1) or {}).get("name")},
                      {"url": SD + "address-location-reference",
                       "valueReference": {"reference": "Location/%s" % loc["uuid"]}}],
        "use": use, "type": "physical", "text": text, "city": loc.get("name"),
        "district": (_up(loc, 2) or {}).get("name"), "state": (_up(loc, 3) or {}).get("name")})


def patient(st, ins, by_code=False):
    fam = ins.get("family")
    ext = [{"url": SD + "patient-is-head", "valueBoolean": bool(ins.get("head"))}]
    if fam is not None:
        ext.insert(0, {"url": SD + "patient-group-reference", "valueReference": ref("Group", fam)})
    if ins.get("cardIssued") is not None:
        ext.append({"url": SD + "patient-card-issued", "valueBoolean": bool(ins["cardIssued"])})
    idents = [ident("UUID", ins["uuid"]), ident("Code", ins.get("chfId"))]
    if ins.get("passport"):
        idents.append(ident("PPN", ins["passport"]))
    g = (ins.get("gender") or {}).get("code")
    telecom = []
    if ins.get("phone"):
        telecom.append({"system": "phone", "use": "home", "value": ins["phone"]})
    if ins.get("email"):
        telecom.append({"system": "email", "use": "home", "value": ins["email"]})
    if ins.get("currentVillage") is not None:
        addr = _address(ins["currentVillage"], "temp", ins.get("currentAddress"))
    else:
        addr = _address((fam or {}).get("location"), "home", (fam or {}).get("address"))
    m = ins.get("marital")
    return _clean({
        "resourceType": "Patient", "id": ins.get("chfId") if by_code else ins["uuid"],
        "extension": ext, "identifier": idents,
        "name": [{"use": "usual", "family": ins.get("lastName"), "given": [ins.get("otherNames")]}],
        "telecom": telecom, "gender": GENDER.get(g, "unknown"), "birthDate": ins.get("dob"),
        "address": [addr] if addr else [],
        "maritalStatus": {"coding": [{"system": "http://hl7.org/fhir/valueset-marital-status.html", "code": m,
                                      "display": MARITAL.get(m)}]} if m else None,
        "generalPractitioner": [ref("Organization", ins["healthFacility"])] if ins.get("healthFacility") else []})


def group(st, fam, by_code=False):
    head = fam.get("headInsuree") or {}
    members = st.members.get(id(fam), [])
    active = any(p.get("status") == 2 and p.get("validityTo") is None for p in st.family_policies.get(id(fam), []))
    ext = []
    addr = _address(fam.get("location"), "home", fam.get("address"))
    if addr:
        ext.append({"url": SD + "group-address", "valueAddress": addr})
    ext.append({"url": SD + "group-poverty-status", "valueBoolean": bool(fam.get("poverty"))})
    ft = fam.get("familyType")
    if isinstance(ft, dict) and ft.get("code"):
        ext.append({"url": SD + "group-type", "valueCodeableConcept": {"coding": [
            {"system": "CodeSystem/group-type", "code": ft["code"], "display": ft.get("type")}]}})
    return _clean({
        "resourceType": "Group", "id": head.get("chfId") if by_code else fam["uuid"], "extension": ext,
        "identifier": [ident("UUID", fam["uuid"]), ident("Code", head.get("chfId"))],
        "type": "Person", "actual": True, "name": head.get("lastName"), "active": active,
        "quantity": len(members),
        "member": [{"entity": dict(ref("Patient", m), display=m.get("chfId"))} for m in members]})


def coverage(st, pol, by_code=False):
    head = ((pol.get("family") or {}).get("headInsuree") or {})
    holder = {"reference": "Patient/%s" % head.get("chfId")} if head else None
    prod = pol.get("product") or {}
    return _clean({
        "resourceType": "Coverage", "id": pol["uuid"],
        "extension": [{"url": IG + "/StructureDefinition/coverage-date", "valueDate": pol.get("enrollDate")},
                      {"url": IG + "/StructureDefinition/coverage-date", "valueDate": pol.get("effectiveDate")}],
        "identifier": [ident("UUID", pol["uuid"])],
        "status": POLICY_STATUS.get(pol.get("status"), "draft"),
        "policyHolder": holder, "beneficiary": holder, "payor": [holder] if holder else [],
        "period": _clean({"start": pol.get("startDate"), "end": pol.get("expiryDate")}),
        "class": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                                        "code": "plan"}]},
                   "value": prod.get("code"), "name": prod.get("name")}] if prod else []})


def _item_code(x, k):
    return (x.get(k) or {}).get("code") if isinstance(x.get(k), dict) else x.get("code")


def claim(st, c, by_code=False, contained=False):
    items, seq = [], 1
    for k, cat, rt in (("items", "item", "Medication"), ("services", "service", "ActivityDefinition")):
        for x in c.get(k) or []:
            code = _item_code(x, cat)
            items.append(_clean({
                "extension": [{"url": SD + "claim-item-reference",
                               "valueReference": {"reference": "%s/%s" % (rt, code), "display": code}}],
                "sequence": seq, "category": {"text": cat}, "productOrService": {"text": code},
                "quantity": {"value": x.get("qtyProvided")}, "unitPrice": {"value": x.get("priceAsked")}}))
            seq += 1
    diags = []
    for n, k in enumerate(("icd", "icd1", "icd2", "icd3", "icd4")):
        d = c.get(k)
        if isinstance(d, dict) and d.get("code"):
            diags.append({"sequence": n + 1, "diagnosisCodeableConcept": {"coding": [
                {"system": IG + "CodeSystem/diagnosis-ICD10-level1", "code": d["code"], "display": d.get("name")}]}})
    ins = c.get("insuree")
    pol = c.get("policy")
    if pol is None and ins is not None:
        ips = [ip for ip in st.insuree_policies.get(id(ins), []) if ip.get("policy") is not None]
        if ips:
            pol = max(ips, key=lambda ip: ip.get("effectiveDate") or "")["policy"]
    out = {
        "resourceType": "Claim", "id": c.get("code") if by_code else c["uuid"],
        "identifier": [ident("UUID", c["uuid"]), ident("Code", c.get("code"))],
        "status": "active", "use": "claim",
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority",
                                 "code": "normal"}]},
        "created": c.get("dateClaimed"),
        "type": {"coding": [{"system": IG + "CodeSystem/claim-visit-type", "code": c.get("visitType"),
                             "display": VISIT.get(c.get("visitType"))}]} if c.get("visitType") else None,
        "patient": ref("Patient", ins), "provider": ref("Organization", c.get("healthFacility")),
        "enterer": ref("Practitioner", c.get("admin")),
        "billablePeriod": _clean({"start": c.get("dateFrom"), "end": c.get("dateTo") or c.get("dateFrom")}),
        "diagnosis": diags, "total": {"value": c.get("claimed")} if c.get("claimed") is not None else None,
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("Coverage", pol)}] if pol else [],
        "item": items}
    if contained:
        out["contained"] = [x for x in (patient(st, ins) if ins else None,
                                        organization(st, c["healthFacility"]) if c.get("healthFacility") else None)
                            if x]
    return _clean(out)


def organization(st, hf, by_code=False):
    loc = hf.get("location")
    telecom = [{"system": s, "value": hf[k]} for s, k in (("phone", "phone"), ("email", "email"), ("fax", "fax"))
               if hf.get(k)]
    ext = []
    if isinstance(hf.get("legalForm"), dict):
        ext.append({"url": SD + "organization-legal-form", "valueCodeableConcept": {"coding": [
            {"system": IG + "CodeSystem/organization-hf-legal-form", "code": hf["legalForm"].get("code")}]}})
    if hf.get("level"):
        ext.append({"url": IG + "/StructureDefinition/organization-hf-level", "valueCodeableConcept": {"coding": [
            {"system": IG + "CodeSystem/organization-hf-level", "code": hf["level"]}]}})
    if hf.get("careType"):
        ext.append({"url": SD + "organization-hf-care-type", "valueCodeableConcept": {"coding": [
            {"system": IG + "CodeSystem/organization-hf-care-type", "code": hf["careType"]}]}})
    addr = _clean({"extension": [{"url": IG + "/StructureDefinition/address-location-reference",
                                  "valueReference": {"reference": "Location/%s" % loc["uuid"]}}] if loc else [],
                   "type": "physical", "line": [hf["address"]] if hf.get("address") else [],
                   "district": (loc or {}).get("name"), "state": (_up(loc, 1) or {}).get("name")})
    return _clean({
        "resourceType": "Organization", "id": hf.get("code") if by_code else hf["uuid"], "extension": ext,
        "identifier": [ident("Code", hf.get("code")), ident("UUID", hf["uuid"])],
        "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov"}]}],
        "name": hf.get("name"), "telecom": telecom, "address": [addr]})


def location(st, loc, by_code=False):
    return _clean({
        "resourceType": "Location", "id": loc.get("code") if by_code else loc["uuid"],
        "identifier": [ident("UUID", loc["uuid"]), ident("Code", loc.get("code"))],
        "status": "active" if loc.get("validityTo") is None else "inactive", "name": loc.get("name"),
        "mode": "instance",
        "physicalType": {"coding": [{"system": IG + "CodeSystem/location-type", "code": loc.get("type"),
                                     "display": LOC_TYPE.get(loc.get("type"))}]},
        "partOf": ref("Location", loc.get("parent"))})


def site(st, hf, by_code=False):
    return _clean({
        "resourceType": "Location", "id": hf.get("code") if by_code else hf["uuid"],
        "identifier": [ident("UUID", hf["uuid"]), ident("Code", hf.get("code"))],
        "status": "active", "name": hf.get("name"), "mode": "instance",
        "physicalType": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                                     "code": "si", "display": "Site"}]},
        "partOf": ref("Location", hf.get("location"))})


def insurance_plan(st, p, by_code=False):
    return _clean({
        "resourceType": "InsurancePlan", "id": p.get("code") if by_code else p["uuid"],
        "identifier": [ident("UUID", p["uuid"]), ident("Code", p.get("code"))], "name": p.get("name"),
        "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/insurance-plan-type",
                              "code": "medical"}]}],
        "status": "active" if p.get("validityTo") is None else "retired",
        "period": _clean({"start": (p.get("dateFrom") or "")[:10] or None, "end": (p.get("dateTo") or "")[:10] or None}),
        "coverageArea": [ref("Location", p["location"])] if p.get("location") else []})


# resource -> (kind, converter, code field)
RESOURCES = {
    "Patient": ("insuree", patient, "chfId"),
    "Group": ("family", group, None),
    "Coverage": ("policy", coverage, None),
    "Claim": ("claim", claim, "code"),
    "Organization": ("healthFacility", organization, "code"),
    "Location": ("location", location, "code"),
    "InsurancePlan": ("product", insurance_plan, "code"),
}


def _auth(h):
    """-> None when the request may go on, else the (status, body, headers) refusal."""
    hdr = h.headers.get("Authorization", "")
    parts = hdr.split()
    if len(parts) == 2 and parts[0].lower() == "basic":
        try:
            user, _, pw = base64.b64decode(parts[1]).decode().partition(":")
        except Exception:
            user, pw = None, None
        if user is not None and h.sim.auth.users.get(user) == pw:
            return None
        return 401, outcome("Invalid username/password."), {"WWW-Authenticate": 'Basic realm="api"'}
    user, err = h.user_from_headers()
    if err:
        h.sim.count("unauthorized")
        return 401, outcome("INCORRECT_CREDENTIALS"), {"WWW-Authenticate": "Bearer"}
    if user is None:
        h.sim.count("unauthorized")
        return 401, outcome("Authentication credentials were not provided."), {"WWW-Authenticate": "Bearer"}
    return None


def handle(h, method, path, query, body):
    """-> (status, body, headers) for a request under BASE; h is the HTTP handler."""
    rest = path[len(BASE):]
    parts = [p for p in rest.split("/") if p]
    if parts == ["login"]:
        return login(h, method, body)
    if not parts or parts[0] not in RESOURCES or len(parts) > 2:
        return 404, outcome("Not found.", "not-found"), {"Content-Type": FHIR_JSON}
    denied = _auth(h)
    if denied:
        st, b, hd = denied
        hd["Content-Type"] = FHIR_JSON
        return st, b, hd
    if method not in ("GET", "HEAD"):
        return 405, outcome('Method "%s" not allowed.' % method, "not-supported"), \
            {"Allow": "GET, HEAD, OPTIONS", "Content-Type": FHIR_JSON}
    rtype = parts[0]
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    try:
        if len(parts) == 2:
            status, out = read(h, rtype, parts[1], params)
        else:
            status, out = search(h, rtype, params, path, query)
    except ValueError as e:
        status, out = 400, outcome(str(e), "invalid")
    return status, out, {"Content-Type": FHIR_JSON}


def _lookup(st, kind, code_field, key, rtype):
    """uuid first, then the business code -> (record, by_code)."""
    rec = st.by_uuid[kind].get(str(key).lower())
    if rec is not None and rec.get("validityTo") is None:
        return rec, False
    if rtype == "Group":
        ins = st.by_code["insuree"].get(str(key))
        fam = (ins or {}).get("family")
        if fam is not None and fam.get("headInsuree") is ins:
            return fam, True
        return None, False
    if code_field:
        rec = st.by_code[kind].get(str(key))
        if rec is not None:
            return rec, True
    return None, False


def read(h, rtype, key, params):
    st = h.sim.store
    kind, conv, code_field = RESOURCES[rtype]
    if rtype == "Location" and params.get("physicalType") == "si":
        kind, conv = "healthFacility", site
    rec, by_code = _lookup(st, kind, code_field, key, rtype)
    if rec is None:
        return 404, outcome("%s with id %s not found" % (rtype, key), "not-found")
    if rtype == "Claim":
        return 200, claim(st, rec, by_code, params.get("contained") == "true")
    return 200, conv(st, rec, by_code)


def _date_param(name, v):
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", v or ""):
        raise ValueError("%s must be a date YYYY-MM-DD" % name)
    return v + "T00:00:00.000000"


def _last_updated(v):
    prefix = v[:2] if v[:2] in PREFIXES else "eq"
    text = v[2:] if v[:2] in PREFIXES else v
    if not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", text):
        raise ValueError("_lastUpdated must be [prefix]YYYY-MM-DDTHH:MM:SS")
    t = norm_datetime(text)
    if t is None:
        raise ValueError("_lastUpdated must be [prefix]YYYY-MM-DDTHH:MM:SS")
    hi = t[:19] + ".999999"
    ops = {"eq": lambda x: t <= x <= hi, "ne": lambda x: not (t <= x <= hi), "gt": lambda x: x > hi,
           "lt": lambda x: x < t, "ge": lambda x: x >= t, "le": lambda x: x <= hi, "sa": lambda x: x > hi,
           "eb": lambda x: x < t, "ap": lambda x: t[:10] == x[:10]}
    op = ops[prefix]
    return lambda r: r.get("validityFrom") is not None and op(r["validityFrom"])


def search(h, rtype, params, path, query):
    st = h.sim.store
    kind, conv, code_field = RESOURCES[rtype]
    if rtype == "Location" and params.get("physicalType") == "si":
        kind, conv = "healthFacility", site
    single = params.get("identifier") if rtype in ("Patient", "Group", "Claim", "Location", "InsurancePlan") else None
    if rtype == "Organization" and params.get("code"):
        single = params["code"]
    if single:
        return read(h, rtype, single, params)   # openIMIS answers the resource itself, not a Bundle
    fkeys = ("_lastUpdated", "refDate", "refEndDate", "claimDateFrom", "patient", "type", "physicalType")
    ckey = ("_fhir", rtype, tuple((k, params.get(k)) for k in fkeys), st.version)
    rows = h.sim.cache.get(ckey)
    if rows is None:
        rows = _search_rows(st, rtype, kind, params)
        if len(h.sim.cache) >= 256:
            h.sim.cache.clear()
        h.sim.cache[ckey] = rows
    return _bundle(h, st, rtype, conv, rows, params, path, query)


def _search_rows(st, rtype, kind, params):
    """The matching current rows in the module's order (validityFrom, then the key)."""
    if rtype == "Organization" and params.get("type", "prov") not in ("prov", ""):
        rows = []
    else:
        with st.lock:
            rows = [r for r in st.rows[kind] if r.get("validityTo") is None]
    if rtype == "Patient":
        rows = [r for r in rows if str(r.get("chfId")) not in EXCLUDED_CHFIDS]
    preds = []
    if "_lastUpdated" in params:
        preds.append(_last_updated(params["_lastUpdated"]))
    if params.get("refDate") and rtype in ("Patient", "Claim", "Coverage"):
        t = _date_param("refDate", params["refDate"])
        preds.append(lambda r: (r.get("validityFrom") or "") >= t)
    if params.get("refEndDate") and rtype == "Coverage":
        t = _date_param("refEndDate", params["refEndDate"])
        preds.append(lambda r: (r.get("validityFrom") or "") < t)
    if params.get("claimDateFrom") and rtype == "Patient":
        d = _date_param("claimDateFrom", params["claimDateFrom"])[:10]
        preds.append(lambda r: any((c.get("dateClaimed") or "") >= d and c.get("validityTo") is None
                                   for c in st.insuree_claims.get(id(r), [])))
    if params.get("patient") and rtype == "Claim":
        want = params["patient"].lower()
        preds.append(lambda r: str((r.get("insuree") or {}).get("uuid", "")).lower() == want)
    if preds:
        rows = [r for r in rows if all(p(r) for p in preds)]
    rows.sort(key=lambda r: (r.get("validityFrom") or "", r["_pk"]))
    return rows


def _bundle(h, st, rtype, conv, rows, params, path, query):
    try:
        count = int(params.get("_count") or 10)
        page = int(params.get("page-offset") or 1)
    except ValueError:
        raise ValueError("_count and page-offset must be integers")
    if count < 1 or page < 1:
        raise ValueError("_count and page-offset must be positive")
    chunk = rows[(page - 1) * count:page * count]
    host = h.headers.get("Host") or "%s:%d" % h.server.server_address[:2]
    self_url = "http://%s%s%s" % (host, path, "?" + query if query else "")

    def page_url(n):
        q = {k: v for k, v in params.items() if k != "page-offset"}
        q["page-offset"] = str(n)
        return "http://%s%s?%s" % (host, path, "&".join("%s=%s" % (k, v) for k, v in q.items()))
    links = [{"relation": "self", "url": quote_plus(self_url)}]
    if page * count < len(rows):
        links.append({"relation": "next", "url": quote_plus(page_url(page + 1))})
    if page > 1:
        links.append({"relation": "previous", "url": quote_plus(page_url(page - 1))})
    base = "http://%s%s%s/" % (host, BASE, rtype)
    entries = []
    for r in chunk:
        res = claim(st, r, False, params.get("contained") == "true") if rtype == "Claim" else conv(st, r)
        entries.append({"fullUrl": base + res["id"], "resource": res})
    return 200, {"resourceType": "Bundle", "type": "searchset", "total": len(rows), "link": links,
                 "entry": entries}


def login(h, method, body):
    if method != "POST":
        return 405, {"detail": 'Method "%s" not allowed.' % method}, {"Allow": "POST, OPTIONS"}
    try:
        req = json.loads(body or b"{}")
    except ValueError:
        return 400, {"detail": "JSON parse error"}, {}
    if not isinstance(req, dict) or not req.get("username") or not req.get("password"):
        return 400, "Missing username or password", {}
    h.sim.count("login")
    res = h.sim.auth.login(str(req["username"]), str(req["password"]))
    if res is None:
        return 401, "INCORRECT_CREDENTIALS", {}
    return 200, {"token": res["token"], "exp": res["payload"]["exp"]}, {}
