# SPDX-License-Identifier: Apache-2.0
"""Runs a GraphQL request against the Store: validation first (the whole request fails with
HTTP 400 on an unknown field or argument or a bad value, as graphene does), then the root fields,
each of which may fail on its own (null + an entry in "errors", HTTP 200)."""
import datetime
import json
import re
from collections import OrderedDict

import schema as sc
from gql import Field, GqlSyntaxError, Spread, parse, resolve_value
from store import EXCLUDED_CHFIDS, decode_global_id, global_id

CACHE_MAX = 256
QUERY_ROOTS = set(sc.ROOTS) | {"node", "insureeGenders", "__typename"}
MUTATION_ROOTS = {"tokenAuth", "refreshToken", "verifyToken", "__typename"}
TOKEN_FIELDS = {"token", "payload", "refreshExpiresIn", "__typename"}
PAGEINFO_FIELDS = {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"}
GENDERS = [{"code": "M", "gender": "Male", "altLanguage": None, "sortOrder": 1},
           {"code": "F", "gender": "Female", "altLanguage": None, "sortOrder": 2},
           {"code": "O", "gender": "Other", "altLanguage": None, "sortOrder": 3}]


class Ctx:
    """One request: the store, the user (None = anonymous), the page cap, the auth service
    (login/refresh/verify), the results cache (shared), a cookie to set (tokenAuth)."""

    def __init__(self, store, user, page_max, auth, cache):
        self.store = store
        self.user = user
        self.page_max = page_max
        self.auth = auth
        self.cache = cache
        self.set_cookie = None
        self.fragments = {}
        self.roots_used = []


def _err(message):
    return {"message": message}


def execute(ctx, query, variables, op_name):
    """-> (HTTP status, body dict)."""
    if not isinstance(query, str) or not query.strip():
        return 400, {"errors": [_err("Must provide query string.")]}
    if variables is not None and not isinstance(variables, dict):
        return 400, {"errors": [_err("Variables are invalid JSON.")]}
    variables = dict(variables or {})
    try:
        doc = parse(query)
    except GqlSyntaxError as e:
        return 400, {"errors": [{"message": e.message, "locations": [{"line": e.line, "column": e.col}]}]}
    ops = doc.operations
    if op_name:
        ops = [o for o in ops if o.name == op_name]
        if not ops:
            return 400, {"errors": [_err('Unknown operation named "%s".' % op_name)]}
    if len(ops) != 1:
        return 400, {"errors": [_err("Must provide operation name if query contains multiple operations."
                                     if ops else "Must provide an operation.")]}
    op = ops[0]
    if op.kind == "subscription":
        return 400, {"errors": [_err("Schema is not configured for subscriptions.")]}
    for name, typ, default in op.var_defs:
        if name not in variables or variables[name] is None:
            if default is not None:
                variables[name] = default
            elif typ.endswith("!"):
                return 400, {"errors": [_err('Variable "$%s" of required type "%s" was not provided.'
                                             % (name, typ))]}
    ctx.fragments = doc.fragments
    root_type = "Mutation" if op.kind == "mutation" else "Query"
    try:
        fields = collect(ctx, op.selections, root_type, variables)
        plans = [validate_root(ctx, f, root_type, variables) for f in fields]
    except sc.ValidationError as e:
        return 400, {"errors": [_err(e.message)]}
    data, errors = OrderedDict(), []
    sc.STORE[0] = ctx.store
    for f, args in plans:
        ctx.roots_used.append(f.name)
        try:
            data[f.key] = run_root(ctx, f, args, variables, root_type)
        except sc.ResolverError as e:
            data[f.key] = None
            errors.append({"message": str(e), "path": [f.key]})
    body = OrderedDict()
    if errors:
        body["errors"] = errors
    body["data"] = data
    return 200, body


# ---------------------------------------------------------------- selections
def _included(ctx, directives, variables):
    for name, args in directives:
        cond = resolve_value(args.get("if"), variables)
        if name == "include" and not cond:
            return False
        if name == "skip" and cond:
            return False
    return True


def collect(ctx, sels, type_name, variables, _depth=0):
    """Flattens fragments and directives into the list of Fields (first occurrence per key
    wins; graphene merges equal fields, which is the same for this read-only subset)."""
    if _depth > 32:
        raise sc.ValidationError("Cannot spread fragment within itself.")
    out = OrderedDict()
    for s in sels or []:
        if not _included(ctx, s.directives, variables):
            continue
        if isinstance(s, Field):
            if s.key in out and out[s.key].selections and s.selections:
                merged = Field(s.alias, s.name, s.args, out[s.key].selections + s.selections, [])
                out[s.key] = merged
            else:
                out.setdefault(s.key, s)
        else:
            if isinstance(s, Spread):
                if s.name not in ctx.fragments:
                    raise sc.ValidationError('Unknown fragment "%s".' % s.name)
                cond, sub = ctx.fragments[s.name]
            else:
                cond, sub = s.type_cond, s.selections
            if cond is not None and cond not in (type_name, "Node") and not type_name.endswith("Connection"):
                continue
            for f in collect(ctx, sub, type_name, variables, _depth + 1):
                out.setdefault(f.key, f)
    return list(out.values())


def _args(f, variables):
    return {k: resolve_value(v, variables) for k, v in f.args.items()}


def _no_args(f, type_name):
    if f.args:
        raise sc.ValidationError('Unknown argument "%s" on field "%s" of type "%s".'
                                 % (next(iter(f.args)), f.name, type_name))


def validate_root(ctx, f, root_type, variables):
    """-> (field, coerced args). Raises ValidationError."""
    args = _args(f, variables)
    allowed = MUTATION_ROOTS if root_type == "Mutation" else QUERY_ROOTS
    if f.name not in allowed:
        raise sc.ValidationError('Cannot query field "%s" on type "%s".' % (f.name, root_type))
    if f.name == "__typename":
        return f, {}
    if root_type == "Mutation":
        want = {"tokenAuth": {"username": "String!", "password": "String!"},
                "refreshToken": {"token": "String"}, "verifyToken": {"token": "String"}}[f.name]
        out = {}
        for k, v in args.items():
            if k not in want:
                raise sc.ValidationError('Unknown argument "%s" on field "%s" of type "Mutation".' % (k, f.name))
            out[k] = sc.coerce(want[k], v, k)
        for k, typ in want.items():
            if typ.endswith("!") and out.get(k) is None:
                raise sc.ValidationError('Field "%s" argument "%s" of type "%s" is required but not provided.'
                                         % (f.name, k, typ))
        sub = f.selections or []
        if not sub:
            raise sc.ValidationError('Field "%s" of type "ObtainJSONWebToken" must have a sub selection.' % f.name)
        for s in collect(ctx, sub, "ObtainJSONWebToken", variables):
            if s.name not in TOKEN_FIELDS:
                raise sc.ValidationError('Cannot query field "%s" on type "%s".' % (s.name, "ObtainJSONWebToken"))
        return f, out
    if f.name == "insureeGenders":
        _no_args(f, "Query")
        validate_sel(ctx, f.selections, "GenderGQLType", variables, f)
        return f, {}
    if f.name == "node":
        if set(args) != {"id"}:
            raise sc.ValidationError('Field "node" argument "id" of type "ID!" is required but not provided.')
        if not f.selections:
            raise sc.ValidationError('Field "node" of type "Node" must have a sub selection.')
        return f, {"id": sc.coerce(sc.ID, args["id"], "id")}
    node_type, extras = sc.ROOTS[f.name]
    out = {}
    filters = []
    for k, v in args.items():
        if k in sc.PAGING:
            out[k] = sc.coerce(sc.PAGING[k], v, k)
        elif k in extras:
            out[k] = sc.coerce(extras[k], v, k) if k != "orderBy" or extras[k] == sc.S else (
                v if isinstance(v, list) else [v] if v is not None else None)
        else:
            spec = sc.resolve_filter(node_type, k) if f.name != "familyMembers" else None
            if spec is None:
                raise sc.ValidationError('Unknown argument "%s" on field "%s" of type "Query".' % (k, f.name))
            path, field, kind, lookup = spec
            ckind = sc.B if lookup == "isnull" else (sc.S if lookup == "in" else kind)
            cv = sc.coerce(ckind, v, k)
            if cv is not None:
                filters.append((k, path, field, kind, lookup, cv))
    for k, typ in extras.items():
        if typ.endswith("!") and out.get(k) is None:
            raise sc.ValidationError('Field "%s" argument "%s" of type "%s" is required but not provided.'
                                     % (f.name, k, typ))
    out["_filters"] = filters
    validate_conn(ctx, f, node_type, variables)
    return f, out


def validate_conn(ctx, f, node_type, variables):
    conn = node_type + "Connection"
    if not f.selections:
        raise sc.ValidationError('Field "%s" of type "%s" must have a sub selection.' % (f.name, conn))
    ext = sc.TYPES[node_type].extended
    for s in collect(ctx, f.selections, conn, variables):
        if s.name == "__typename":
            continue
        if s.name in ("totalCount", "edgeCount") and ext:
            _no_args(s, conn)
            if s.selections:
                raise sc.ValidationError('Field "%s" of type "Int" must not have a sub selection.' % s.name)
        elif s.name == "pageInfo":
            if not s.selections:
                raise sc.ValidationError('Field "pageInfo" of type "PageInfo!" must have a sub selection.')
            for p in collect(ctx, s.selections, "PageInfo", variables):
                if p.name not in PAGEINFO_FIELDS:
                    raise sc.ValidationError('Cannot query field "%s" on type "PageInfo".' % p.name)
        elif s.name == "edges":
            edge = node_type + "Edge"
            if not s.selections:
                raise sc.ValidationError('Field "edges" of type "[%s]!" must have a sub selection.' % edge)
            for e in collect(ctx, s.selections, edge, variables):
                if e.name in ("cursor", "__typename"):
                    continue
                if e.name != "node":
                    raise sc.ValidationError('Cannot query field "%s" on type "%s".' % (e.name, edge))
                validate_sel(ctx, e.selections, node_type, variables, e)
        else:
            raise sc.ValidationError('Cannot query field "%s" on type "%s".' % (s.name, conn))


def validate_sel(ctx, sels, type_name, variables, parent):
    t = sc.TYPES[type_name]
    if t.generic:
        return
    if not sels:
        raise sc.ValidationError('Field "%s" of type "%s" must have a sub selection.' % (parent.name, type_name))
    for f in collect(ctx, sels, type_name, variables):
        n = f.name
        if n in t.conns:
            for k in f.args:
                if k not in sc.PAGING and k != "orderBy":
                    raise sc.ValidationError('Unknown argument "%s" on field "%s" of type "%s".' % (k, n, type_name))
            validate_conn(ctx, f, t.conns[n][0], variables)
        elif n in t.objects or n in t.lists:
            _no_args(f, type_name)
            target = t.objects.get(n) or t.lists.get(n)
            if not f.selections:
                raise sc.ValidationError('Field "%s" of type "%s" must have a sub selection.' % (n, target))
            validate_sel(ctx, f.selections, target, variables, f)
        elif n in t.scalars:
            _no_args(f, type_name)
            if f.selections:
                raise sc.ValidationError('Field "%s" of type "String" must not have a sub selection.' % n)
        else:
            raise sc.ValidationError('Cannot query field "%s" on type "%s".' % (n, type_name))


# ---------------------------------------------------------------- execution
def run_root(ctx, f, args, variables, root_type):
    if f.name == "__typename":
        return root_type
    if root_type == "Mutation":
        return run_mutation(ctx, f, args, variables)
    if ctx.user is None:
        raise sc.ResolverError("unauthorized")
    if f.name == "insureeGenders":
        return [project(ctx, g, f.selections, "GenderGQLType", variables) for g in GENDERS]
    if f.name == "node":
        tname, pk = decode_global_id(args["id"])
        t = sc.TYPES.get(tname)
        if t is None or t.kind is None or pk is None or not pk.isdigit():
            raise sc.ResolverError('Unable to parse global ID "%s". Make sure it is a base64 encoded string in '
                                   'the format: "TypeName:id".' % args["id"])
        rec = ctx.store.by_pk[t.kind].get(int(pk))
        return project(ctx, rec, f.selections, tname, variables) if rec is not None else None
    node_type = sc.ROOTS[f.name][0]
    rows = filtered(ctx, f.name, args)
    return conn_project(ctx, rows, args, f, node_type, variables)


def run_mutation(ctx, f, args, variables):
    if f.name == "tokenAuth":
        res = ctx.auth.login(args["username"], args["password"])
        if res is None:
            raise sc.ResolverError("Please enter valid credentials")
        ctx.set_cookie = res["token"]
    else:
        try:
            res = (ctx.auth.refresh if f.name == "refreshToken" else ctx.auth.verify)(
                args.get("token") or ctx.auth.cookie_token)
        except ValueError as e:
            raise sc.ResolverError(str(e))
    out = OrderedDict()
    for s in collect(ctx, f.selections, "ObtainJSONWebToken", variables):
        out[s.key] = "ObtainJSONWebToken" if s.name == "__typename" else res.get(s.name)
    return out


def _current(r):
    return r.get("validityTo") is None


def _ancestors(loc):
    n = 0
    while loc is not None and n < 8:
        yield loc
        loc = loc.get("parent")
        n += 1


def _in_location(loc, uuid, level):
    want = sc.LEVEL_TYPES.get(level)
    for a in _ancestors(loc):
        if str(a.get("uuid")).lower() == uuid and (want is None or a.get("type") in (want, None)):
            return True
    return False


def filtered(ctx, root, args):
    """The rows of a list query, filtered and ordered (cached per store version)."""
    filters = args["_filters"]
    key_args = tuple(sorted((k, repr(v)) for k, v in args.items() if k not in sc.PAGING and k != "_filters"))
    key = (root, key_args, tuple((k, repr(v)) for k, _, _, _, _, v in sorted(filters, key=lambda x: x[0])),
           ctx.store.version)
    hit = ctx.cache.get(key)
    if hit is not None:
        return hit
    with ctx.store.lock:
        rows = _filtered(ctx, root, args, filters)
    if len(ctx.cache) >= CACHE_MAX:
        ctx.cache.clear()
    ctx.cache[key] = rows
    return rows


def _filtered(ctx, root, args, filters):
    st = ctx.store
    kind = sc.ROOT_KIND[root]
    node_type = sc.ROOTS[root][0]
    if root == "insureePolicy" and st.derived_insuree_policies:
        rows = list(st.derived_insuree_policies)
    else:
        rows = st.rows[kind]
    hist = bool(args.get("showHistory")) and root in ("insurees", "families", "policies", "products",
                                                       "healthFacilities")
    if root == "insurees" and any(k in ("uuid", "uuid_Iexact") for k, *_ in filters):
        hist = True
    bkey = ("_base", kind, hist, root == "insurees", st.version)
    base = ctx.cache.get(bkey)
    if base is None:
        base = rows if hist else [r for r in rows if _current(r)]
        if root == "insurees":
            base = [r for r in base if str(r.get("chfId")) not in EXCLUDED_CHFIDS]
        ctx.cache[bkey] = base
    rows = base
    for _, path, field, kind_, lookup, v in filters:
        # exact uuid / code: start from the index instead of scanning (reads by id are common)
        if path or lookup != "exact" or root == "familyMembers":
            continue
        if field == "uuid" or (field == "id" and kind_ == sc.U):
            c = st.by_uuid[kind].get(str(v).lower())
        elif field == ("chfId" if kind == "insuree" else "code") and not hist:
            c = st.by_code[kind].get(str(v))
        else:
            continue
        rows = [c] if c is not None and (hist or _current(c)) and c.get("chfId") not in EXCLUDED_CHFIDS else []
        break
    if root == "insurees":
        chf = next((v for k, _, field, _, lookup, v in filters if k == "chfId"), None)
        if chf is not None and (len(chf) > 50 or not re.match(r"^[a-zA-Z0-9]*$", chf)):
            # openimis-be-insuree_py develop: insuree_number_length and the character check
            raise sc.ResolverError("Insuree no. can only contain letters and numbers" if len(chf) <= 50
                                   else "Insuree no. is longer than 50 characters")
    if root == "familyMembers":
        fam = st.by_uuid["family"].get(str(args["familyUuid"]).lower())
        rows = [m for m in st.members.get(id(fam), [])] if fam is not None else []
    if root in ("policiesByInsuree", "policiesByFamily"):
        return _policies_of(ctx, root, args)
    preds = [sc.make_predicate(path, field, kind_, lookup, v, node_type)
             for _, path, field, kind_, lookup, v in filters]
    for p in preds:
        rows = [r for r in rows if p(r)]
    pl = args.get("parentLocation")
    if pl is not None:
        level = args.get("parentLocationLevel")
        if level is None:
            raise sc.ResolverError("parentLocationLevel is required when parentLocation is given")
        pl = pl.lower()
        if root == "insurees":
            rows = [r for r in rows if _in_location(r.get("currentVillage") or (r.get("family") or {}).get("location"),
                                                    pl, level)]
        elif root == "families":
            rows = [r for r in rows if _in_location(r.get("location"), pl, level)]
        elif root == "insureePolicy":
            rows = [r for r in rows if _in_location((r.get("insuree") or {}).get("currentVillage") or
                                                    ((r.get("insuree") or {}).get("family") or {}).get("location"),
                                                    pl, level)]
    if root == "families" and args.get("nullAsFalsePoverty") is not None:
        want = args["nullAsFalsePoverty"]
        rows = [r for r in rows if bool(r.get("poverty")) == want]
    if root == "policies":
        for arg in ("regionId", "districtId"):
            if args.get(arg) is not None:
                rows = [r for r in rows if any(a.get("_pk") == args[arg] for a in
                                               _ancestors((r.get("family") or {}).get("location")))]
        for arg, op in (("balanceLte", lambda a, b: a <= b), ("balanceGte", lambda a, b: a >= b)):
            if args.get(arg) is not None:
                rows = [r for r in rows if op(float(r.get("value") or 0) - float(r.get("sumPremiums") or 0), args[arg])]
    if root == "claims":
        if args.get("codeIsNot"):
            rows = [r for r in rows if r.get("code") != args["codeIsNot"]]
        if args.get("careType"):
            rows = [r for r in rows if r.get("careType") == args["careType"]]
        for sub in ("items", "services"):
            if args.get(sub):
                want = set(args[sub])
                rows = [r for r in rows if any(_item_code(x) in want for x in r.get(sub) or [])]
    if root == "products":
        if args.get("search"):
            s = args["search"].casefold()
            rows = [r for r in rows if s in str(r.get("name", "")).casefold() or s in str(r.get("code", "")).casefold()]
        if args.get("location") is not None:
            anc = list(_ancestors(st.by_pk["location"].get(args["location"])))
            rows = [r for r in rows if r.get("location") is None or any(a is r.get("location") for a in anc)]
    order = args.get("orderBy")
    if root == "familyMembers" and not order:
        order = ["-head", "dob"]
    keys = sc.order_key_fns(node_type, order) if order else []
    return sc.sort_rows(rows, keys)


def _policies_of(ctx, root, args):
    """policiesByInsuree / policiesByFamily: the flat PolicyByFamilyOrInsureeGQLType rows."""
    st = ctx.store
    if root == "policiesByInsuree":
        ins = st.by_code["insuree"].get(str(args["chfId"]))
        fam = (ins or {}).get("family")
        pols = [ip["policy"] for ip in st.insuree_policies.get(id(ins), [])] if ins is not None else []
    else:
        fam = st.by_uuid["family"].get(str(args["familyUuid"]).lower())
        pols = st.family_policies.get(id(fam), []) if fam is not None else []
    if not args.get("showHistory"):
        pols = [p for p in pols if _current(p)]
    if args.get("targetDate"):
        d = args["targetDate"]
        pols = [p for p in pols if (p.get("effectiveDate") or p.get("startDate") or "9") <= d <= (p.get("expiryDate") or "0")]
    if args.get("activeOrLastExpiredOnly"):
        active = [p for p in pols if p.get("status") == 2]
        expired = sorted((p for p in pols if p.get("status") == 8), key=lambda p: p.get("expiryDate") or "")
        pols = active or expired[-1:]
    out = []
    for p in pols:
        prod, off = p.get("product") or {}, p.get("officer") or {}
        out.append({"_pk": p["_pk"], "policyId": p["_pk"], "policyUuid": p["uuid"], "policyValue": p.get("value"),
                    "productCode": prod.get("code"), "productName": prod.get("name"),
                    "startDate": p.get("startDate"), "enrollDate": p.get("enrollDate"),
                    "effectiveDate": p.get("effectiveDate"), "expiryDate": p.get("expiryDate"),
                    "officerCode": off.get("code"),
                    "officerName": " ".join(x for x in (off.get("lastName"), off.get("otherNames")) if x) or None,
                    "status": p.get("status"), "ded": prod.get("deductible"), "ceiling": prod.get("ceiling"),
                    "balance": round(float(p.get("value") or 0) - float(p.get("sumPremiums") or 0), 2),
                    "validityFrom": p.get("validityFrom"), "validityTo": p.get("validityTo"),
                    "maxInstallments": prod.get("maxInstallments")})
    order = args.get("orderBy")
    if order:
        desc = order.startswith("-")
        key = sc._camel(order.lstrip("-+"))
        out.sort(key=lambda r: (r.get(key) is None, sc._sortable(r.get(key))), reverse=desc)
    else:
        out.sort(key=lambda r: r.get("expiryDate") or "", reverse=True)
    return out


def _item_code(x):
    for k in ("item", "service"):
        if isinstance(x.get(k), dict):
            return x[k].get("code")
    return x.get("code") or x.get("itemCode") or x.get("serviceCode")


def conn_project(ctx, rows, args, f, node_type, variables):
    conn = node_type + "Connection"
    page, start, info = sc.paginate(rows, args, f.name, ctx.page_max)
    out = OrderedDict()
    for s in collect(ctx, f.selections, conn, variables):
        n = s.name
        if n == "__typename":
            out[s.key] = conn
        elif n == "totalCount":
            out[s.key] = len(rows)
        elif n == "edgeCount":
            out[s.key] = len(page)
        elif n == "pageInfo":
            out[s.key] = OrderedDict((p.key, "PageInfo" if p.name == "__typename" else info[p.name])
                                     for p in collect(ctx, s.selections, "PageInfo", variables))
        elif n == "edges":
            esels = collect(ctx, s.selections, node_type + "Edge", variables)
            edges = []
            for i, rec in enumerate(page):
                e = OrderedDict()
                for es in esels:
                    if es.name == "cursor":
                        e[es.key] = sc.cursor(start + i)
                    elif es.name == "__typename":
                        e[es.key] = node_type + "Edge"
                    else:
                        e[es.key] = project(ctx, rec, es.selections, node_type, variables)
                edges.append(e)
            out[s.key] = edges
    return out


def _out_dt(v):
    if isinstance(v, str) and len(v) == 26 and v.endswith(".000000"):
        return v[:19]
    return v


def _age(dob):
    try:
        d = datetime.date.fromisoformat(dob)
    except (TypeError, ValueError):
        return None
    t = datetime.date.today()
    return t.year - d.year - ((t.month, t.day) < (d.month, d.day))


def project(ctx, rec, sels, type_name, variables):
    t = sc.TYPES[type_name]
    out = OrderedDict()
    if t.generic:
        for f in collect(ctx, sels, type_name, variables):
            v = rec.get(f.name)
            if isinstance(v, dict) and f.selections:
                v = project(ctx, v, f.selections, "_", variables)
            elif isinstance(v, dict):
                v = None
            out[f.key] = v
        return out
    for f in collect(ctx, sels, type_name, variables):
        n = f.name
        if n == "__typename":
            out[f.key] = type_name
        elif n == "id":
            if t.uuid_pk:
                out[f.key] = global_id(type_name, rec["uuid"])
            else:
                out[f.key] = global_id(type_name, rec["_pk"]) if t.kind else rec.get("id")
        elif n.endswith("TypeName") and t.uuid_pk:
            out[f.key] = rec.get(n[:-4])        # the content type's model name
        elif n in ("subjectType", "thirdpartyType", "lineType") and t.uuid_pk:
            out[f.key] = sc.CONTENT_TYPES.get(str(rec.get(n) or "").lower())
        elif n in t.conns:
            ntype, fn = t.conns[n]
            rows = [r for r in fn(ctx.store, rec) if _current(r)]
            cargs = {k: resolve_value(v, variables) for k, v in f.args.items()}
            if cargs.get("orderBy"):
                rows = sc.sort_rows(rows, sc.order_key_fns(ntype, cargs["orderBy"]))
            out[f.key] = conn_project(ctx, rows, cargs, f, ntype, variables)
        elif n in t.objects:
            v = rec.get(n)
            out[f.key] = project(ctx, v, f.selections, t.objects[n], variables) if isinstance(v, dict) else None
        elif n in t.lists:
            out[f.key] = [project(ctx, x, f.selections, t.lists[n], variables)
                          for x in rec.get(n) or [] if x.get("validityTo") is None]
        elif n == "age":
            out[f.key] = _age(rec.get("dob"))
        elif n == "jsonExt":
            v = rec.get(n)
            out[f.key] = json.dumps(v) if isinstance(v, (dict, list)) else v
        else:
            out[f.key] = _out_dt(rec.get(n))
    return out
