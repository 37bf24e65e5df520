# SPDX-License-Identifier: Apache-2.0
"""The simulator's data: openIMIS records loaded from JSONL (one {"kind": ...} record a line,
openIMIS GraphQL field names), linked into Python objects at load (a reference becomes the
referenced record itself), with indexes by uuid, pk and code; Django-filter lookups, orderBy and
openIMIS's versioned-row history on change (the old values are copied into a history row, the
current row keeps id and uuid and gets validityFrom = now). Python 3 standard library only."""
import base64
import datetime
import itertools
import json
import re
import sys
import threading
import uuid as uuidlib

# kind in the JSONL -> (GraphQL node type, aliases accepted for the kind)
KINDS = {
    "location": "LocationGQLType",
    "healthFacility": "HealthFacilityGQLType",
    "product": "ProductGQLType",
    "family": "FamilyGQLType",
    "insuree": "InsureeGQLType",
    "policy": "PolicyGQLType",
    "insureePolicy": "InsureePolicyGQLType",
    "claim": "ClaimGQLType",
    "officer": "OfficerGQLType",
    "claimAdmin": "ClaimAdminGQLType",
    "payment": "PaymentInvoiceGQLType",
    "invoice": "InvoiceGQLType",
    "premium": "PremiumGQLType",
}
# openIMIS HistoryModels (invoice module): keyed by a uuid (the relay id is base64 of
# "Type:<uuid>"), no validity rows; soft delete (isDeleted), dateCreated / dateUpdated / version
HISTORY_KINDS = {"invoice", "payment"}
KIND_ALIASES = {"health_facility": "healthFacility", "hf": "healthFacility", "insuree_policy": "insureePolicy",
                "claim_admin": "claimAdmin", "contribution": "premium"}

# Reference fields: (kind of the record, field) -> kind of the target
REFS = {
    ("location", "parent"): "location",
    ("healthFacility", "location"): "location",
    ("product", "location"): "location",
    ("family", "location"): "location",
    ("family", "headInsuree"): "insuree",
    ("insuree", "family"): "family",
    ("insuree", "currentVillage"): "location",
    ("insuree", "healthFacility"): "healthFacility",
    ("policy", "family"): "family",
    ("policy", "product"): "product",
    ("policy", "officer"): "officer",
    ("insureePolicy", "insuree"): "insuree",
    ("insureePolicy", "policy"): "policy",
    ("claim", "insuree"): "insuree",
    ("claim", "healthFacility"): "healthFacility",
    ("claim", "admin"): "claimAdmin",
    ("claim", "policy"): "policy",
    ("officer", "location"): "location",
    ("claimAdmin", "healthFacility"): "healthFacility",
    ("premium", "policy"): "policy",
    ("payment", "policy"): "policy",
}
# fields holding a date (YYYY-MM-DD) or a naive datetime, normalised at load
DATE_FIELDS = {"dob", "enrollDate", "startDate", "effectiveDate", "expiryDate", "dateClaimed", "dateFrom",
               "dateTo", "dateProcessed", "enrollmentDate", "payDate", "contractStartDate",
               "contractEndDate", "statusDate", "dateInvoice", "dateDue", "datePayed", "datePayment"}
DATETIME_FIELDS = {"validityFrom", "validityTo", "submitStamp", "processStamp", "creationDate", "dateCreated",
                   "dateUpdated", "dateValidFrom", "dateValidTo"}
GENDERS = {"M": "Male", "F": "Female", "O": "Other"}
EXCLUDED_CHFIDS = {"999999999"}


def now_dt():
    return datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f")


def norm_datetime(v):
    """Any ISO 8601 date or datetime text -> naive 'YYYY-MM-DDTHH:MM:SS.ffffff' (UTC), or None
    when it is not one. openIMIS stores naive UTC datetimes (USE_TZ=False)."""
    if v is None:
        return None
    s = str(v).strip()
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?"
                 r"(Z|[+-]\d{2}:?\d{2})?$", s)
    if not m:
        return None
    y, mo, d, hh, mi, ss, frac, tz = m.groups()
    try:
        dt = datetime.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0),
                               int((frac or "0").ljust(6, "0")))
    except ValueError:
        return None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        tz = tz[1:].replace(":", "")
        dt -= sign * datetime.timedelta(hours=int(tz[:2]), minutes=int(tz[2:]))
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")


def norm_date(v):
    if v is None:
        return None
    s = str(v).strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", s):
        try:
            datetime.date(int(s[:4]), int(s[5:7]), int(s[8:10]))
            return s
        except ValueError:
            return None
    dt = norm_datetime(s)
    return dt[:10] if dt else None


def global_id(type_name, pk):
    return base64.b64encode(("%s:%s" % (type_name, pk)).encode()).decode()


def decode_global_id(gid):
    """base64 'Type:pk' -> (type, pk text), or (None, None)."""
    try:
        text = base64.b64decode(str(gid), validate=True).decode()
    except Exception:
        return None, None
    if ":" not in text:
        return None, None
    t, pk = text.split(":", 1)
    return t, pk


class LoadError(Exception):
    pass


class Store:
    """All records, by kind. A record is a dict with openIMIS field names; reference fields hold
    the referenced record (a dict) after link(). Each record has a private "_pk" (int) and
    "_kind". version grows on every change (result caches key on it)."""

    def __init__(self):
        self.lock = threading.RLock()
        self.rows = {k: [] for k in KINDS}          # current and history rows, in pk order
        self.by_uuid = {k: {} for k in KINDS}
        self.by_pk = {k: {} for k in KINDS}
        self.by_code = {k: {} for k in KINDS}       # chfId / code -> current row
        self.next_pk = {k: 1 for k in KINDS}
        self.version = 0
        self.members = {}                           # id(family) -> [insuree rows]
        self.family_policies = {}                   # id(family) -> [policy rows]
        self.insuree_claims = {}                    # id(insuree) -> [claim rows]
        self.insuree_policies = {}                  # id(insuree) -> [insureePolicy rows]

    # ---- loading ----
    def load_jsonl(self, path):
        pending = []
        f = sys.stdin if path == "-" else open(path, "r", encoding="utf-8")
        with f:
            for lineno, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                try:
                    rec = json.loads(line)
                except ValueError as e:
                    raise LoadError("%s:%d: not JSON: %s" % (path, lineno, e))
                if not isinstance(rec, dict) or "kind" not in rec:
                    raise LoadError("%s:%d: a record needs a \"kind\"" % (path, lineno))
                kind = KIND_ALIASES.get(rec["kind"], rec["kind"])
                if kind not in KINDS:
                    continue            # a kind this simulator does not serve: skipped, not fatal
                del rec["kind"]
                self._add(kind, rec)
                pending.append((kind, rec))
        self.link(pending)

    def _add(self, kind, rec):
        pk = rec.get("id")
        if isinstance(pk, str) and not pk.isdigit() and not rec.get("uuid") and len(pk) == 36:
            rec["uuid"] = pk              # HistoryModels (payment, invoice): the key is the uuid
            pk = None
        if isinstance(pk, str) and not pk.isdigit():
            t, p = decode_global_id(pk)
            pk = int(p) if p and p.isdigit() else None
        if pk is None or (isinstance(pk, str) and not pk.isdigit()):
            pk = self.next_pk[kind]
        pk = int(pk)
        self.next_pk[kind] = max(self.next_pk[kind], pk + 1)
        rec.pop("id", None)
        rec["_pk"] = pk
        rec["_kind"] = kind
        if not rec.get("uuid"):
            rec["uuid"] = str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, "openimis-sim:%s:%d" % (kind, pk)))
        for f in DATE_FIELDS:
            if f in rec and not (kind == "product" and f in ("dateFrom", "dateTo")):
                rec[f] = norm_date(rec[f])
        for f in DATETIME_FIELDS | ({"dateFrom", "dateTo"} if kind == "product" else set()):
            if f in rec:
                rec[f] = norm_datetime(rec[f])
        rec.setdefault("validityFrom", "2020-01-01T00:00:00.000000")
        rec.setdefault("validityTo", None)
        if kind in HISTORY_KINDS:
            self._history_defaults(kind, rec)
        if kind == "insuree":
            g = rec.get("gender")
            if isinstance(g, str):
                rec["gender"] = {"code": g, "gender": GENDERS.get(g, g)}
            elif isinstance(g, dict):
                g.setdefault("gender", GENDERS.get(g.get("code"), g.get("code")))
        self.rows[kind].append(rec)
        self.by_pk[kind][pk] = rec
        self.by_uuid[kind][str(rec["uuid"]).lower()] = rec

    @staticmethod
    def _history_defaults(kind, rec):
        """A HistoryModel row: dateCreated/dateUpdated/version/isDeleted, and its embedded rows
        (invoice lineItems, payment invoicePayments: their own models, keyed by uuids too)."""
        rec.setdefault("dateCreated", rec.get("validityFrom"))
        rec.setdefault("dateUpdated", rec.get("dateCreated"))
        rec.setdefault("version", 1)
        rec.setdefault("isDeleted", False)
        rec["uuid"] = str(rec["uuid"]).lower()
        sub = "lineItems" if kind == "invoice" else "invoicePayments"
        rows = rec.get(sub)
        if isinstance(rows, dict):
            rows = [rows]
        rows = [r for r in rows or [] if isinstance(r, dict)]
        for i, r in enumerate(rows):
            r.setdefault("uuid", str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, "openimis-sim:%s:%s:%d"
                                                   % (sub, rec["uuid"], i))))
            r["_pk"] = i + 1
            r.setdefault("dateCreated", rec["dateCreated"])
            r.setdefault("dateUpdated", rec["dateUpdated"])
            r.setdefault("isDeleted", False)
            r.setdefault("version", 1)
        rec[sub] = rows

    def _resolve(self, target, v):
        if isinstance(v, dict):
            if "_pk" in v:
                return v
            if v.get("uuid"):
                return self.by_uuid[target].get(str(v["uuid"]).lower())
            if v.get("id") is not None:
                return self._resolve(target, v["id"])
            if v.get("code") or v.get("chfId"):
                return self._by_code_scan(target, v.get("code") or v.get("chfId"))
            return None
        if isinstance(v, bool) or v is None:
            return None
        if isinstance(v, int):
            return self.by_pk[target].get(v)
        s = str(v)
        r = self.by_uuid[target].get(s.lower())
        if r is None and s.isdigit():
            r = self.by_pk[target].get(int(s))
        if r is None:
            t, pk = decode_global_id(s)
            if pk and pk.isdigit():
                r = self.by_pk[target].get(int(pk))
        if r is None:
            r = self._by_code_scan(target, s)
        return r

    def _by_code_scan(self, target, code):
        return self.by_code[target].get(str(code))

    def link(self, pending):
        """Replaces references by the records, builds the reverse indexes."""
        for kind, rec in pending:
            if rec.get("validityTo") is None:
                code = rec.get("chfId") if kind == "insuree" else rec.get("code")
                if code is not None:
                    self.by_code[kind][str(code)] = rec
        for kind, rec in pending:
            for (k, field), target in REFS.items():
                if k != kind:
                    continue
                v = rec.get(field)
                if v is None:
                    for alt in (field + "Uuid", field + "Id", field + "_uuid", field + "_id"):
                        if rec.get(alt) is not None:
                            v = rec.pop(alt)
                            break
                rec[field] = self._resolve(target, v) if v is not None else None
            if kind == "policy":
                prem = rec.get("premiums")
                if rec.get("sumPremiums") is None and isinstance(prem, list):
                    rec["sumPremiums"] = round(sum(float(x.get("amount") or 0) for x in prem
                                                   if isinstance(x, dict)), 2)
                covered = rec.pop("insurees", None)
                if isinstance(covered, list):
                    # igw gen lists the covered members: openIMIS's InsureePolicy rows
                    for x in covered:
                        ins = self._resolve("insuree", x)
                        if ins is None:
                            continue
                        ip = {"insuree": ins, "policy": rec, "enrollmentDate": rec.get("enrollDate"),
                              "startDate": rec.get("startDate"), "effectiveDate": rec.get("effectiveDate"),
                              "expiryDate": rec.get("expiryDate"), "validityFrom": rec.get("validityFrom")}
                        self._add("insureePolicy", ip)
            if kind == "claim":
                for sub in ("items", "services"):
                    lst = rec.get(sub) or []
                    rec[sub] = [x for x in lst if isinstance(x, dict)]
                    for n, x in enumerate(rec[sub], 1):
                        x.setdefault("_pk", rec["_pk"] * 1000 + n)
                        x.setdefault("validityTo", None)
        self.reindex()

    def reindex(self):
        members, fpol, iclaims, ipol = {}, {}, {}, {}
        for ins in self.rows["insuree"]:
            if ins.get("validityTo") is None and ins.get("family") is not None:
                members.setdefault(id(ins["family"]), []).append(ins)
        for fam in self.rows["family"]:
            head = fam.get("headInsuree")
            if head is not None and head.get("family") is None and head.get("validityTo") is None:
                head["family"] = fam
                members.setdefault(id(fam), []).append(head)
            if head is not None and "head" not in head:
                head["head"] = True
        for p in self.rows["policy"]:
            if p.get("family") is not None:
                fpol.setdefault(id(p["family"]), []).append(p)
        explicit = bool(self.rows["insureePolicy"])
        for ip in self.rows["insureePolicy"]:
            if ip.get("insuree") is not None:
                ipol.setdefault(id(ip["insuree"]), []).append(ip)
        if not explicit:
            # openIMIS keeps one InsureePolicy per covered member: derived from the family here
            pk = 1
            for p in self.rows["policy"]:
                if p.get("validityTo") is not None or p.get("family") is None:
                    continue
                for ins in members.get(id(p["family"]), []):
                    ip = {"_pk": pk, "_kind": "insureePolicy", "uuid": None, "insuree": ins, "policy": p,
                          "enrollmentDate": p.get("enrollDate"), "startDate": p.get("startDate"),
                          "effectiveDate": p.get("effectiveDate"), "expiryDate": p.get("expiryDate"),
                          "validityFrom": p.get("validityFrom"), "validityTo": None}
                    pk += 1
                    ipol.setdefault(id(ins), []).append(ip)
        for c in self.rows["claim"]:
            if c.get("insuree") is not None:
                iclaims.setdefault(id(c["insuree"]), []).append(c)
        for ins in self.rows["insuree"]:
            if ins.get("head") is None:
                fam = ins.get("family")
                ins["head"] = bool(fam is not None and fam.get("headInsuree") is ins)
        self.members, self.family_policies = members, fpol
        self.insuree_claims, self.insuree_policies = iclaims, ipol
        self.derived_insuree_policies = [] if explicit else list(itertools.chain.from_iterable(ipol.values()))

    def counts(self):
        return {k: sum(1 for r in v if r.get("validityTo") is None) for k, v in self.rows.items() if v}

    # ---- change (POST /__sim/mutate) ----
    def mutate(self, cmd):
        """{"kind", "op": update|create|delete, "uuid" | "chfId" | "code", "set": {...}} -> the
        record's uuid. update/delete follow openIMIS's VersionedModel: history row + new
        validityFrom (update), validityFrom = validityTo = now (delete)."""
        kind = KIND_ALIASES.get(cmd.get("kind"), cmd.get("kind"))
        if kind not in KINDS:
            raise ValueError("unknown kind %r" % cmd.get("kind"))
        op = cmd.get("op", "update")
        changes = cmd.get("set") or {}
        if not isinstance(changes, dict):
            raise ValueError("\"set\" must be an object")
        with self.lock:
            ts = now_dt()
            if op == "create":
                rec = dict(changes)
                rec.setdefault("validityFrom", ts)
                self._add(kind, rec)
                self.link([(kind, rec)])
                self.version += 1
                return rec["uuid"]
            rec = self.find(kind, cmd)
            if rec is None:
                raise KeyError("no current %s matches" % kind)
            if kind in HISTORY_KINDS:
                return self._mutate_history(kind, rec, op, changes, ts)
            hist = {k: v for k, v in rec.items()}
            hist["_pk"] = self.next_pk[kind]
            self.next_pk[kind] += 1
            hist["uuid"] = str(uuidlib.uuid4())
            hist["legacyId"] = rec["_pk"]
            hist["validityTo"] = ts
            self.rows[kind].append(hist)
            self.by_pk[kind][hist["_pk"]] = hist
            self.by_uuid[kind][hist["uuid"]] = hist
            if op == "delete":
                rec["validityFrom"] = ts
                rec["validityTo"] = ts
                code = rec.get("chfId") if kind == "insuree" else rec.get("code")
                self.by_code[kind].pop(str(code), None)
            elif op == "update":
                for k, v in changes.items():
                    if k in ("id", "uuid", "_pk", "_kind"):
                        continue
                    if (kind, k) in REFS:
                        v = self._resolve(REFS[(kind, k)], v)
                    elif k in DATE_FIELDS:
                        v = norm_date(v)
                    elif k in DATETIME_FIELDS:
                        v = norm_datetime(v)
                    elif k == "gender" and isinstance(v, str):
                        v = {"code": v, "gender": GENDERS.get(v, v)}
                    rec[k] = v
                rec["validityFrom"] = ts
                if kind == "insuree" and rec.get("chfId") is not None:
                    self.by_code[kind][str(rec["chfId"])] = rec
            else:
                raise ValueError("unknown op %r (update, create, delete)" % op)
            self.reindex()
            self.version += 1
            return rec["uuid"]

    def _mutate_history(self, kind, rec, op, changes, ts):
        """HistoryModel.save / delete_history: the row changes in place (the history goes to a
        table the GraphQL API does not show), dateUpdated = now, version + 1; delete is soft."""
        if op == "delete":
            rec["isDeleted"] = True
            rec["validityTo"] = ts          # the simulator's "not current" marker
            self.by_code[kind].pop(str(rec.get("code")), None)
        elif op == "update":
            for k, v in changes.items():
                if k in ("id", "uuid", "_pk", "_kind"):
                    continue
                if k in DATE_FIELDS:
                    v = norm_date(v)
                elif k in DATETIME_FIELDS:
                    v = norm_datetime(v)
                rec[k] = v
            self._history_defaults(kind, rec)
        else:
            raise ValueError("unknown op %r (update, create, delete)" % op)
        rec["dateUpdated"] = ts
        rec["version"] = int(rec.get("version") or 1) + 1
        self.version += 1
        return rec["uuid"]

    def find(self, kind, cmd):
        if cmd.get("uuid"):
            r = self.by_uuid[kind].get(str(cmd["uuid"]).lower())
        elif cmd.get("chfId") or cmd.get("code"):
            r = self.by_code[kind].get(str(cmd.get("chfId") or cmd.get("code")))
        else:
            r = None
        return r if r is not None and r.get("validityTo") is None else None
