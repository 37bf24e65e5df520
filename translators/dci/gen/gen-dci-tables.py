#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# Generates translators/dci/dci_tables.c from the SPDCI 1.0.0 OpenAPI text in openapi/ (the
# Social Registry API as the SPDCI compliance suite patched it; openapi/SOURCES.md).
#
#   python3 translators/dci/gen/gen-dci-tables.py [out.c]
#
# Every POST path of the spec becomes an endpoint whose request body schema (the envelope:
# signature, header, message) is compiled into a table of schema nodes (the shape is declared in
# ../dci_tables.h, hand-written; keep the two in step). What is compiled: type, properties,
# required, items, enum, maxLength/minLength, format (date-time, uri), the one pattern the spec
# uses (ISO 639-3 locale), allOf (merged), oneOf/anyOf (alternatives), $ref (shared nodes).
# What igw adds to the text, each an explicit table below (docs/DCI.md explains them):
#   OVERLAY     rules the spec states in prose or the compliance suite tests but the schema
#               lacks (version 1.0.0, page_size/page_number >= 1);
#   ASYNC       sender_uri required on the asynchronous requests;
#   PROP_CODES  which DCI reason code a failure under a property is reported with; every code
#               must be one the spec defines (its reason-code and Error enums);
#   DRIFT       what the validator tolerates (dci.md section 7): a numeric string where an
#               integer is expected, one object where an array of objects is expected, a
#               callback's request action ("search" on on-search), frequency without
#               end_time (DRIFT_OPTIONAL); in the C walk, "" for an optional member that is not
#               a plain string (the samples' "meta": "", "completed_count": ""), null for an
#               optional member, enums without regard to case (DRIFT_NOCASE), reg_records
#               as an array or an object (DRIFT_OBJ_OR_ARRAY), openIMIS's notify event types
#               UPDATE and DEREGISTER (DRIFT_ENUM_EXTRA).
# Needs Python 3 and PyYAML (Debian python3-yaml). The output is deterministic; it is passed
# through clang-format when that is on PATH. tests/unit/translators/dci checks it is current.

import os
import shutil
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "openapi", "social_api_v1.0.0.yaml")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "dci_tables.c")

CRIT = "#/components/schemas/SearchRequest/properties/search_request/items/properties/search_criteria"
OVERLAY = {
    "#/components/schemas/MsgHeader_V1.0.0/properties/version": {"enum": ["1.0.0"]},
    "#/components/schemas/MsgCallbackHeader_V1.0.0/properties/version": {"enum": ["1.0.0"]},
    CRIT + "/properties/pagination/properties/page_size": {"minimum": 1},
    CRIT + "/properties/pagination/properties/page_number": {"minimum": 1},
}
ASYNC = ["/registry/search", "/registry/subscribe", "/registry/unsubscribe", "/registry/txn/status"]

# property name -> reason code (the innermost named property on the path to a failure wins)
# header members (only directly under header)
HEADER_CODES = {
    "version": "rjct.version.invalid",
    "message_ts": "rjct.message_ts.invalid",
    "action": "rjct.action.invalid",
    "total_count": "rjct.total_count.invalid",
    "sender_id": "err.sender_id.invalid",
    "sender_uri": "err.sender_uri.invalid",
    "receiver_id": "err.receiver_id.invalid",
}
PROP_CODES = {
    "signature": "err.signature.invalid",
    "reference_id": "rjct.reference_id.invalid",
    "timestamp": "rjct.timestamp.invalid",
    "search_criteria": "rjct.search_criteria.invalid",
    "query": "rjct.search_criteria.invalid",
    "query_type": "rjct.search_criteria.invalid",
    "sort": "rjct.sort.invalid",
    "pagination": "rjct.pagination.invalid",
    "filter": "rjct.filter.invalid",
    "filter_type": "rjct.filter.invalid",
    "subscription_codes": "rjct.subscription_code.invalid",
    "notify_record_type": "rjct.notify_types.invalid",
    "subscribe_criteria": "rjct.notify_details.invalid",
}
# the spec enums the codes come from
CODE_ENUMS = ["MsgHeaderStatusReasonCode", "SearchStatusReasonCode", "SubscribeStatusReasonCode",
              "UnSubscribeStatusReasonCode"]
DEFAULT_CODE = "err.request.bad"

DRIFT_NUMSTR = True  # "total_count": "1" (official samples)
DRIFT_SINGLE = True  # "search_request": {...} (official samples)
# a callback endpoint also takes its request's action (the official sync search answers say
# "action": "search" where the spec says on-search)
DRIFT_CALLBACK_ACTION = {"on-search": "search", "on-subscribe": "subscribe",
                         "on-unsubscribe": "unsubscribe", "txn-on-status": "txn-status"}
# members that are an array in some registries' text and an object in others (dci.md 7.4)
DRIFT_OBJ_OR_ARRAY = ["reg_records"]
# enums matched without regard to case ("response_entity": "member")
DRIFT_NOCASE = ["response_entity", "sort_order"]
# members the spec requires that the official samples leave out (a subscription's frequency
# without end_time: open-ended)
# and a search answer's pagination with "total_count": "" (the official answers: not counted)
DRIFT_OPTIONAL = {
    "#/components/schemas/SubscriptionInfo/properties/frequency": ["end_time"],
    "#/components/schemas/SearchResponse/properties/search_response/items/properties/pagination":
        ["total_count"],
}

# enum values added to the spec's (dci.md 7: event types are free strings in the other
# registries' texts): a notify's reg_event_type is REGISTER or NewHouseHoldMember in the Social
# Registry text, and openIMIS's own DCI module notifies REGISTER, UPDATE and DEREGISTER
DRIFT_ENUM_EXTRA = {
    "#/components/schemas/NotifyEventRequest/properties/notify_event/items/properties/data"
    "/properties/reg_event_type": ["UPDATE", "DEREGISTER"],
}

spec = yaml.safe_load(open(SPEC, encoding="utf-8"))


def pointer(ref):
    assert ref.startswith("#/"), ref
    cur = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        cur = cur[int(part)] if isinstance(cur, list) else cur[part]
    return cur


for ref, extra in OVERLAY.items():
    pointer(ref).update(extra)
for ref, extra in DRIFT_ENUM_EXTRA.items():
    sch = pointer(ref)
    sch["enum"] = sch["enum"] + [v for v in extra if v not in sch["enum"]]
for ref, names in DRIFT_OPTIONAL.items():
    sch = pointer(ref)
    sch["required"] = [r for r in sch.get("required", []) if r not in names]

# ---- codes -----------------------------------------------------------------------------------
codes = []
for name in CODE_ENUMS:
    for c in spec["components"]["schemas"][name]["enum"]:
        if c not in codes:
            codes.append(c)
err_code = spec["components"]["schemas"]["Error"]["properties"]["code"]
for c in err_code.get("enum", []):
    if c not in codes:
        codes.append(c)
for c in list(PROP_CODES.values()) + list(HEADER_CODES.values()) + [DEFAULT_CODE]:
    if c not in codes:
        sys.exit("gen-dci-tables: code %s is not defined by the spec" % c)
codes.sort()

# ---- nodes -----------------------------------------------------------------------------------
T = {"any": 0, "object": 1, "array": 2, "string": 3, "integer": 4, "number": 5, "boolean": 6,
     "anyof": 7}
F = {None: 0, "date-time": 1, "uri": 2, "locale": 3}
PATTERNS = {"^[a-z]{3,3}$": "locale", "^[a-z]{3}$": "locale"}

nodes = []  # dicts
props = []  # (name, node, required, code)
alts = []  # node indices
enums = []  # strings
memo = {}


def merge(parts):
    out = {}
    for p in parts:
        p = resolve(p)
        for k, v in p.items():
            if k == "properties":
                dst = out.setdefault("properties", {})
                for pk, pv in v.items():
                    if pk in dst:
                        dst[pk] = merge([dst[pk], pv])
                    else:
                        dst[pk] = pv
            elif k == "required":
                out["required"] = list(dict.fromkeys(out.get("required", []) + v))
            else:
                out[k] = v
    return out


def resolve(s):
    while "$ref" in s:
        s = pointer(s["$ref"])
    return s


def compile_schema(s, extra_required=(), header=False):
    if "$ref" in s and not extra_required:
        ref = s["$ref"]
        if ref not in memo:
            memo[ref] = len(nodes)
            nodes.append(None)
            nodes[memo[ref]] = build(resolve(s), ())
        return memo[ref]
    idx = len(nodes)
    nodes.append(None)
    nodes[idx] = build(resolve(s), extra_required, header)
    return idx


def build(s, extra_required, header=False):
    if "allOf" in s:
        s = merge(s["allOf"] + [{k: v for k, v in s.items() if k != "allOf"}])
    n = {"type": 0, "fmt": 0, "flags": [], "min_len": 0, "max_len": 0, "has_min": 0, "minimum": 0,
         "first": 0, "n": 0, "first_enum": 0, "n_enum": 0, "desc": s.get("type", "any")}
    alt = s.get("oneOf") or s.get("anyOf")
    if alt is not None:
        kids = [compile_schema(a) for a in alt]
        n["type"] = T["anyof"]
        n["first"] = len(alts)
        n["n"] = len(kids)
        alts.extend(kids)
        return n
    ty = s.get("type")
    if ty is None and "properties" in s:
        ty = "object"
    if ty is None and "items" in s:
        ty = "array"
    n["type"] = T[ty] if ty is not None else T["any"]
    if ty == "object":
        req = list(s.get("required", [])) + list(extra_required)
        plist = []
        for name, ps in s.get("properties", {}).items():
            if name in DRIFT_OBJ_OR_ARRAY:
                r = resolve(ps)
                if r.get("type") == "object":
                    ps = {"anyOf": [ps, {"type": "array", "items": ps}]}
                elif r.get("type") == "array":
                    ps = {"anyOf": [ps, r.get("items", {})]}
            if name in DRIFT_NOCASE:
                ps = dict(resolve(ps), **{"x-igw-nocase": True})
            plist.append((name, ps))
        plist_names = [nm for nm, _ in plist]
        first = len(props)
        props.extend([None] * len(plist))
        for i, (name, ps) in enumerate(plist):
            child = compile_schema(ps, header=(name == "header" and "message" in plist_names))
            code = HEADER_CODES.get(name) if header else None
            props[first + i] = (name, child, name in req, code or PROP_CODES.get(name))
        for r in req:
            if r not in s.get("properties", {}):
                sys.exit("gen-dci-tables: required %s is not a property" % r)
        n["first"], n["n"] = first, len(plist)
    elif ty == "array":
        n["first"] = compile_schema(s.get("items", {}))
        n["n"] = 1
        if DRIFT_SINGLE:
            n["flags"].append("DCI_N_SINGLE")
    elif ty == "string":
        fmt = s.get("format")
        if "pattern" in s:
            if s["pattern"] not in PATTERNS:
                sys.exit("gen-dci-tables: pattern %s has no C check" % s["pattern"])
            fmt = PATTERNS[s["pattern"]]
        n["fmt"] = F.get(fmt, 0)
        n["min_len"] = s.get("minLength", 0)
        n["max_len"] = s.get("maxLength", 0)
    elif ty in ("integer", "number"):
        if ty == "number" and s.get("format") in ("int32", "int64"):
            n["type"] = T["integer"]
        if "minimum" in s:
            n["has_min"], n["minimum"] = 1, s["minimum"]
        if DRIFT_NUMSTR:
            n["flags"].append("DCI_N_NUMSTR")
    if s.get("x-igw-nocase"):
        n["flags"].append("DCI_N_NOCASE")
    if "enum" in s and ty == "string":
        n["first_enum"] = len(enums)
        n["n_enum"] = len(s["enum"])
        enums.extend(s["enum"])
    return n


endpoints = []
for path, item in spec["paths"].items():
    op = item.get("post")
    if op is None:
        continue
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    hdr = merge(schema["properties"]["header"]["allOf"])
    action = hdr["properties"]["action"]["enum"][0]
    callback = "status" in hdr.get("required", [])
    sync = "/sync/" in path
    extra = ["sender_uri"] if path in ASYNC else []
    body = dict(schema)
    body["properties"] = dict(schema["properties"])
    hparts = schema["properties"]["header"]["allOf"] + [{"required": extra}]
    if action in DRIFT_CALLBACK_ACTION:
        hparts.append({"properties": {"action": {"enum": [action, DRIFT_CALLBACK_ACTION[action]]}}})
    body["properties"]["header"] = {"allOf": hparts}
    root = compile_schema(body)
    endpoints.append((path, action, root, sync, callback, path in ASYNC))

# ---- output ----------------------------------------------------------------------------------


def cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


code_index = {c: i for i, c in enumerate(codes)}
o = []
w = o.append
w("/* SPDX-License-Identifier: Apache-2.0 */")
w("/*")
w(" * GENERATED by translators/dci/gen/gen-dci-tables.py from %s" % os.path.basename(SPEC))
w(" * (%s %s, OpenAPI %s). Do not edit: change the generator and run it again." % (
    spec["info"]["title"], spec["info"].get("version", "1.0.0"), spec["openapi"]))
w(" */")
w('#include "dci_tables.h"')
w("")
w("const char *const dci_codes[] = {")
for c in codes:
    w("    %s," % cstr(c))
w("};")
w("")
w("const char *const dci_enums[] = {")
for e in enums:
    w("    %s," % cstr(e))
w("    NULL,")
w("};")
w("")
w("const uint16_t dci_alts[] = {")
w("    " + ", ".join(str(a) for a in alts) + ",")
w("    0,")
w("};")
w("")
w("const struct dci_prop dci_props[] = {")
for name, child, req, code in props:
    w("    {%s, %d, %d, %d, %s}," % (cstr(name), len(name), child, 1 if req else 0,
                                 "DCI_CODE_NONE" if code is None else str(code_index[code])))
w("};")
w("")
w("const struct dci_node dci_nodes[] = {")
for i, n in enumerate(nodes):
    flags = " | ".join(n["flags"]) if n["flags"] else "0"
    w("    {%d, %d, %s, %d, %d, %d, %d, %d, %d, %d, %d}, /* %d %s */" % (
        n["type"], n["fmt"], flags, n["min_len"], n["max_len"], n["has_min"], n["minimum"],
        n["first"], n["n"], n["first_enum"], n["n_enum"], i, n["desc"]))
w("};")
w("")
w("const struct dci_endpoint dci_endpoints[] = {")
for path, action, root, sync, callback, asyn in endpoints:
    flags = [f for f, on in (("DCI_EP_SYNC", sync), ("DCI_EP_CALLBACK", callback),
                             ("DCI_EP_ASYNC", asyn)) if on]
    w("    {%s, %s, %d, %s}," % (cstr(path), cstr(action), root, " | ".join(flags) or "0"))
w("};")
w("")
w("const unsigned dci_default_code = %d; /* %s */" % (code_index[DEFAULT_CODE], DEFAULT_CODE))
w("")
w("const unsigned dci_ncodes = %d;" % len(codes))
w("const unsigned dci_nnodes = %d;" % len(nodes))
w("const unsigned dci_nendpoints = %d;" % len(endpoints))
text = "\n".join(o) + "\n"

cf = shutil.which("clang-format")
if cf is not None:
    root_dir = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
    text = subprocess.run([cf, "--assume-filename=" + os.path.join(root_dir, "translators/dci/x.c")],
                          input=text, capture_output=True, text=True, check=True,
                          cwd=root_dir).stdout
with open(OUT, "w", encoding="utf-8") as f:
    f.write(text)
print("gen-dci-tables: %d endpoints, %d nodes, %d properties, %d codes -> %s" % (
    len(endpoints), len(nodes), len(props), len(codes), OUT))
