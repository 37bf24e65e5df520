# SPDX-License-Identifier: Apache-2.0
"""openIMIS's GraphQL schema, the subset igw uses, executed over the Store: node types with
openIMIS's field names, the Django-filter arguments of each list query (graphene-django 2
naming: lookup appended with one underscore and capitalised, relation paths the same way),
orderBy, relay connections with graphene's array-offset cursors and the 100-record cap, and
graphene 2's error answers (validation -> ValidationError, the whole request fails with 400;
a resolver error -> that field is null and "errors" lists it, HTTP 200)."""
import base64
import json
import re

from gql import Enum
from store import decode_global_id, norm_date, norm_datetime


class ValidationError(Exception):
    """The document does not fit the schema: HTTP 400, no data."""

    def __init__(self, message, loc=None):
        super().__init__(message)
        self.message = message
        self.loc = loc


class ResolverError(Exception):
    """A resolver failed: the field is null and the error is listed (HTTP 200)."""


# ---------------------------------------------------------------- types
S, D, DT, I, F, B, ID, E = "String", "Date", "DateTime", "Int", "Decimal", "Boolean", "ID", "Enum"
U = "UUID"   # a UUIDField filter (graphene-django: UUIDFilter), e.g. the id of a HistoryModel
STR_LOOKUPS = ("exact", "istartswith", "icontains", "iexact")
CMP = ("exact", "lt", "lte", "gt", "gte")


class T:
    def __init__(self, name, kind=None, scalars=(), objects=None, conns=None, lists=None, filters=None,
                 rels=None, extended=True, generic=False, uuid_pk=False):
        self.name = name
        self.kind = kind
        self.scalars = set(scalars) | {"id", "__typename"}
        self.objects = objects or {}        # field -> type name
        self.conns = conns or {}            # field -> (type name, fn(store, rec) -> rows)
        self.lists = lists or {}            # field -> type name (list in the record)
        self.filters = filters or {}        # field -> (scalar type, lookups)
        self.rels = rels or {}              # field -> (type name, many: fn(store, rec) -> rows | None)
        self.extended = extended            # connection has totalCount / edgeCount
        self.generic = generic              # any field of the embedded dict
        self.uuid_pk = uuid_pk              # HistoryModel: id = base64("Type:<uuid>")


def _f(kind, lookups, *names):
    return {n: (kind, lookups) for n in names}


INS_FILTERS = {}
INS_FILTERS.update(_f(S, ("exact", "iexact"), "uuid"))
INS_FILTERS.update(_f(S, STR_LOOKUPS, "chfId", "lastName", "otherNames"))
INS_FILTERS.update(_f(S, STR_LOOKUPS + ("isnull",), "email", "phone", "passport"))
INS_FILTERS.update(_f(D, CMP + ("isnull",), "dob"))
INS_FILTERS.update(_f(E, ("exact", "isnull"), "marital"))
INS_FILTERS.update(_f(B, ("exact",), "head"))
INS_FILTERS.update(_f(E, ("exact",), "status"))
INS_FILTERS.update(_f(DT, CMP + ("isnull",), "validityFrom", "validityTo"))
INS_FILTERS.update(_f(ID, ("isnull",), "family", "photo"))
INS_FILTERS.update(_f(ID, ("exact",), "id"))

LOC_FILTERS = {"id": (ID, ("exact", "in")), "uuid": (S, ("exact", "in")), "type": (E, ("exact",))}
LOC_FILTERS.update(_f(S, STR_LOOKUPS + ("ne",), "code", "name"))

HF_FILTERS = {"id": (ID, ("exact",)), "uuid": (S, ("exact",)), "level": (E, ("exact",)),
              "careType": (E, ("exact",)), "status": (E, ("exact",)), "subLevel": (S, ("exact", "isnull"))}
HF_FILTERS.update(_f(S, STR_LOOKUPS, "code", "name", "phone"))
HF_FILTERS.update(_f(S, STR_LOOKUPS + ("isnull",), "fax", "email"))

FAM_FILTERS = {"uuid": (S, ("exact", "iexact")), "poverty": (B, ("exact", "isnull")),
               "ethnicity": (S, ("exact",)), "isOffline": (B, ("exact",)), "id": (ID, ("exact",))}
FAM_FILTERS.update(_f(S, STR_LOOKUPS, "confirmationNo", "address"))

PROD_FILTERS = {"id": (ID, ("exact",)), "uuid": (S, ("exact",)), "location": (ID, ("isnull",))}
PROD_FILTERS.update(_f(S, ("exact", "icontains", "istartswith"), "code", "name"))
PROD_FILTERS.update(_f(DT, ("exact", "gt", "gte", "lt", "lte"), "dateFrom", "dateTo"))

POL_FILTERS = {"id": (ID, ("exact",)), "uuid": (S, ("exact",)), "stage": (E, ("exact",)),
               "status": (I, CMP), "value": (F, CMP)}
POL_FILTERS.update(_f(D, CMP, "enrollDate", "startDate", "effectiveDate", "expiryDate"))

IP_FILTERS = _f(D, CMP, "enrollmentDate", "startDate", "effectiveDate", "expiryDate")

CLM_FILTERS = {"uuid": (S, ("exact",)), "status": (I, ("exact", "gt")), "visitType": (E, ("exact",)),
               "feedbackStatus": (I, ("exact",)), "reviewStatus": (I, ("exact",)),
               "preAuthorization": (B, ("exact",)), "id": (ID, ("exact",))}
CLM_FILTERS.update(_f(S, STR_LOOKUPS, "code"))
CLM_FILTERS.update(_f(D, CMP, "dateClaimed", "dateFrom", "dateTo", "dateProcessed"))
CLM_FILTERS.update(_f(F, CMP, "claimed", "approved"))

ADM_FILTERS = {"id": (ID, ("exact",)), "uuid": (S, ("exact",)), "code": (S, ("exact", "icontains")),
               "lastName": (S, ("exact",)), "otherNames": (S, ("exact",))}


# invoice module (openimis-be-invoice_py, gql/filter_mixin.py GenericFilterGQLTypeMixin):
# HistoryModels keyed by a uuid, so "id" is a UUID filter
HIST_COMMON = {"id": (U, ("exact",)), "isDeleted": (B, ("exact",)), "version": (I, ("exact",))}
HIST_COMMON.update(_f(DT, CMP, "dateCreated", "dateUpdated"))
INV_FILTERS = dict(HIST_COMMON)
INV_FILTERS.update({"subjectId": (U, ("exact",)), "subjectType": (I, ("exact",)),
                    "thirdpartyId": (U, ("exact",)), "thirdpartyType": (I, ("exact",)),
                    "status": (E, ("exact",)), "currencyTpCode": (S, ("exact",)),
                    "currencyCode": (S, ("exact",))})
INV_FILTERS.update(_f(S, STR_LOOKUPS, "codeTp", "code", "codeExt", "paymentReference"))
INV_FILTERS.update(_f(D, CMP, "dateDue", "datePayed", "dateInvoice"))
INV_FILTERS.update(_f(F, CMP, "amountDiscount", "amountNet", "amountTotal"))
INV_FILTERS.update(_f(S, ("exact", "icontains"), "note", "terms"))
PAY_FILTERS = dict(HIST_COMMON)
PAY_FILTERS.update(_f(S, ("istartswith", "icontains", "iexact"), "codeTp", "codeExt", "codeReceipt",
                      "paymentOrigin", "payerRef", "payerName"))
PAY_FILTERS.update(_f(S, ("istartswith", "iexact"), "label"))
PAY_FILTERS.update({"reconciliationStatus": (E, ("exact",))})
PAY_FILTERS.update(_f(F, CMP, "fees", "amountReceived"))
PAY_FILTERS.update(_f(D, CMP, "datePayment"))
HIST_FIELDS = ["isDeleted", "jsonExt", "dateCreated", "dateUpdated", "userCreated", "userUpdated", "version",
               "dateValidFrom", "dateValidTo", "replacementUuid"]
# ContentType ids: openIMIS sends the id as subjectType/thirdpartyType/lineType (Int) and the
# model name as *TypeName; the ids are the simulator's own (they depend on a database's
# migration order)
CONTENT_TYPES = {"family": 21, "insuree": 22, "contract": 31, "policyholder": 32, "policy": 41,
                 "contribution": 42, "premium": 42, "invoice": 51, "bill": 52, "batchrun": 61,
                 "commission": 62, "fees": 63, "claim": 71, "healthfacility": 81}


def _sub_rows(field):
    return lambda store, rec: rec.get(field) or []


def _members(store, fam):
    return store.members.get(id(fam), [])


def _fam_policies(store, fam):
    return [p for p in store.family_policies.get(id(fam), []) if p.get("validityTo") is None]


def _ins_policies(store, ins):
    return store.insuree_policies.get(id(ins), [])


TYPES = {}
for t in [
    T("InsureeGQLType", "insuree",
      ["uuid", "chfId", "lastName", "otherNames", "dob", "age", "marital", "passport", "phone", "email",
       "currentAddress", "geolocation", "head", "cardIssued", "status", "statusDate", "offline", "jsonExt",
       "legacyId", "auditUserId", "validityFrom", "validityTo", "clientMutationId"],
      objects={"gender": "GenderGQLType", "family": "FamilyGQLType", "currentVillage": "LocationGQLType",
               "healthFacility": "HealthFacilityGQLType", "typeOfId": "_", "relationship": "_",
               "profession": "_", "education": "_", "statusReason": "_", "photo": "_"},
      conns={"insureePolicies": ("InsureePolicyGQLType", _ins_policies)},
      filters=INS_FILTERS,
      rels={"gender": ("GenderGQLType", None), "currentVillage": ("LocationGQLType", None),
            "family": ("FamilyGQLType", None), "healthFacility": ("HealthFacilityGQLType", None)}),
    T("GenderGQLType", None, ["code", "gender", "altLanguage", "sortOrder"],
      filters={"code": (E, ("exact", "isnull"))}),
    T("FamilyGQLType", "family",
      ["uuid", "poverty", "address", "ethnicity", "isOffline", "confirmationNo", "jsonExt", "validityFrom",
       "validityTo", "clientMutationId"],
      objects={"headInsuree": "InsureeGQLType", "location": "LocationGQLType", "familyType": "_",
               "confirmationType": "_"},
      conns={"members": ("InsureeGQLType", _members), "policies": ("PolicyGQLType", _fam_policies)},
      filters=FAM_FILTERS,
      rels={"location": ("LocationGQLType", None), "headInsuree": ("InsureeGQLType", None),
            "members": ("InsureeGQLType", _members)}),
    T("LocationGQLType", "location",
      ["uuid", "code", "name", "type", "malePopulation", "femalePopulation", "otherPopulation", "families",
       "validityFrom", "validityTo", "clientMutationId"],
      objects={"parent": "LocationGQLType"}, filters=LOC_FILTERS,
      rels={"parent": ("LocationGQLType", None)}, extended=False),
    T("HealthFacilityGQLType", "healthFacility",
      ["uuid", "code", "name", "accCode", "level", "careType", "address", "phone", "fax", "email",
       "servicesPricelist", "itemsPricelist", "offline", "contractStartDate", "contractEndDate", "status",
       "validityFrom", "validityTo", "clientMutationId"],
      objects={"location": "LocationGQLType", "legalForm": "_", "subLevel": "_"},
      filters=HF_FILTERS,
      rels={"location": ("LocationGQLType", None), "legalForm": ("_Code", None)}),
    T("_Code", None, ["code"], filters={"code": (S, ("exact",))}),
    T("ProductGQLType", "product",
      ["uuid", "code", "name", "dateFrom", "dateTo", "insurancePeriod", "lumpSum", "maxMembers",
       "maxInstallments", "threshold", "deductible", "deductibleIp", "deductibleOp", "ceiling", "ceilingIp",
       "ceilingOp", "ceilingInterpretation", "validityFrom", "validityTo"],
      objects={"location": "LocationGQLType"}, filters=PROD_FILTERS,
      rels={"location": ("LocationGQLType", None)}),
    T("PolicyGQLType", "policy",
      ["uuid", "stage", "status", "value", "enrollDate", "startDate", "effectiveDate", "expiryDate",
       "sumPremiums", "creationDate", "validityFrom", "validityTo", "contributionPlan", "clientMutationId"],
      objects={"family": "FamilyGQLType", "product": "ProductGQLType", "officer": "OfficerGQLType"},
      conns={"insureePolicies": ("InsureePolicyGQLType",
                                 lambda st, p: [ip for ins in _members(st, p.get("family"))
                                                for ip in _ins_policies(st, ins) if ip.get("policy") is p])},
      filters=POL_FILTERS,
      rels={"product": ("ProductGQLType", None), "officer": ("OfficerGQLType", None),
            "family": ("FamilyGQLType", None)}),
    T("InsureePolicyGQLType", "insureePolicy",
      ["enrollmentDate", "startDate", "effectiveDate", "expiryDate", "validityFrom", "validityTo"],
      objects={"insuree": "InsureeGQLType", "policy": "PolicyGQLType"}, filters=IP_FILTERS,
      rels={"insuree": ("InsureeGQLType", None), "policy": ("PolicyGQLType", None)}),
    T("ClaimGQLType", "claim",
      ["uuid", "code", "status", "dateFrom", "dateTo", "dateClaimed", "dateProcessed", "claimed", "approved",
       "reinsured", "valuated", "remunerated", "visitType", "careType", "patientCondition", "referralCode",
       "explanation", "adjustment", "feedbackStatus", "reviewStatus", "approvalStatus", "rejectionReason",
       "guaranteeId", "jsonExt", "validityFrom", "validityTo", "submitStamp", "processStamp",
       "preAuthorization", "attachmentsCount", "restoreId", "clientMutationId"],
      objects={"insuree": "InsureeGQLType", "healthFacility": "HealthFacilityGQLType",
               "admin": "ClaimAdminGQLType", "icd": "_", "icd1": "_", "icd2": "_", "icd3": "_", "icd4": "_",
               "batchRun": "_"},
      lists={"items": "_", "services": "_"}, filters=CLM_FILTERS,
      rels={"insuree": ("InsureeGQLType", None), "healthFacility": ("HealthFacilityGQLType", None),
            "admin": ("ClaimAdminGQLType", None)}),
    T("ClaimAdminGQLType", "claimAdmin",
      ["uuid", "code", "lastName", "otherNames", "phone", "emailId", "dob", "validityFrom", "validityTo"],
      objects={"healthFacility": "HealthFacilityGQLType"}, filters=ADM_FILTERS,
      rels={"healthFacility": ("HealthFacilityGQLType", None)}),
    T("OfficerGQLType", "officer",
      ["uuid", "code", "lastName", "otherNames", "phone", "email", "dob", "validityFrom", "validityTo"],
      filters=ADM_FILTERS),
    T("PolicyByFamilyOrInsureeGQLType", None,
      ["policyId", "policyUuid", "policyValue", "productCode", "productName", "startDate", "enrollDate",
       "effectiveDate", "expiryDate", "officerCode", "officerName", "status", "ded", "dedInPatient",
       "dedOutPatient", "ceiling", "ceilingInPatient", "ceilingOutPatient", "balance", "validityFrom",
       "validityTo", "maxInstallments"]),
    T("InvoiceGQLType", "invoice",
      HIST_FIELDS + ["subjectId", "subjectTypeName", "thirdpartyId", "thirdpartyTypeName", "codeTp",
                     "code", "codeExt", "dateDue", "dateInvoice", "datePayed", "amountDiscount", "amountNet",
                     "amountTotal", "taxAnalysis", "status", "currencyTpCode", "currencyCode", "note", "terms",
                     "paymentReference", "subjectType", "thirdpartyType", "subject", "thirdparty"],
      conns={"lineItems": ("InvoiceLineItemGQLType", _sub_rows("lineItems"))},
      filters=INV_FILTERS, uuid_pk=True),
    T("InvoiceLineItemGQLType", None,
      HIST_FIELDS + ["code", "description", "details", "ledgerAccount", "lineId", "lineType", "lineTypeName",
                     "quantity", "unitPrice", "discount", "deduction", "taxRate", "taxAnalysis", "amountTotal",
                     "amountNet", "line"],
      filters=dict(HIST_COMMON), uuid_pk=True),
    T("PaymentInvoiceGQLType", "payment",
      HIST_FIELDS + ["reconciliationStatus", "codeTp", "codeExt", "codeReceipt", "label", "fees",
                     "amountReceived", "datePayment", "paymentOrigin", "payerRef", "payerName"],
      conns={"invoicePayments": ("DetailPaymentInvoiceGQLType", _sub_rows("invoicePayments"))},
      filters=PAY_FILTERS, uuid_pk=True),
    T("DetailPaymentInvoiceGQLType", None,
      HIST_FIELDS + ["subjectId", "subjectType", "subjectTypeName", "status", "fees", "amount",
                     "reconcilationId", "reconcilationDate", "subject"],
      filters=dict(HIST_COMMON), uuid_pk=True),
    T("_", None, generic=True),
]:
    TYPES[t.name] = t

# list queries: root field -> (node type, extra arguments with their types, history rule)
EXTRA_COMMON = {"orderBy": "[String]", "clientMutationId": S}
ROOTS = {
    "insurees": ("InsureeGQLType", {"showHistory": B, "parentLocation": S, "parentLocationLevel": I,
                                    "ignoreLocation": B, "additionalFilters": S, **EXTRA_COMMON}),
    "families": ("FamilyGQLType", {"showHistory": B, "parentLocation": S, "parentLocationLevel": I,
                                   "nullAsFalsePoverty": B, "additionalFilter": S, "officer": S,
                                   **EXTRA_COMMON}),
    "policies": ("PolicyGQLType", {"showHistory": B, "showInactive": B, "regionId": I, "districtId": I,
                                   "balanceLte": "Float", "balanceGte": "Float", "confirmationType": S,
                                   **EXTRA_COMMON}),
    "insureePolicy": ("InsureePolicyGQLType", {"parentLocation": S, "parentLocationLevel": I,
                                               "additionalFilter": S, **EXTRA_COMMON}),
    "claims": ("ClaimGQLType", {"diagnosisVariance": I, "codeIsNot": S, "items": "[String]",
                                "services": "[String]", "jsonExt": S, "attachmentStatus": I, "careType": S,
                                "showRestored": B, **EXTRA_COMMON}),
    "healthFacilities": ("HealthFacilityGQLType", {"showHistory": B, **EXTRA_COMMON}),
    "locations": ("LocationGQLType", dict(EXTRA_COMMON)),
    "locationsAll": ("LocationGQLType", dict(EXTRA_COMMON)),
    "products": ("ProductGQLType", {"location": I, "showHistory": B, "search": S}),
    "familyMembers": ("InsureeGQLType", {"familyUuid": S + "!", **EXTRA_COMMON}),
    "policiesByInsuree": ("PolicyByFamilyOrInsureeGQLType", {"chfId": S + "!", "activeOrLastExpiredOnly": B,
                                                             "showHistory": B, "orderBy": S, "targetDate": D}),
    "policiesByFamily": ("PolicyByFamilyOrInsureeGQLType", {"familyUuid": S + "!", "activeOrLastExpiredOnly": B,
                                                            "showHistory": B, "orderBy": S, "targetDate": D}),
    # openimis-be-invoice_py gql/*/query.py: OrderedDjangoFilterConnectionField, the validity
    # arguments of core.utils.append_validity_filter
    "invoice": ("InvoiceGQLType", {"dateValidFrom_Gte": DT, "dateValidTo_Lte": DT,
                                   "applyDefaultValidityFilter": B, **EXTRA_COMMON}),
    "paymentInvoice": ("PaymentInvoiceGQLType", {"dateValidFrom_Gte": DT, "dateValidTo_Lte": DT,
                                                 "applyDefaultValidityFilter": B, **EXTRA_COMMON}),
}
ROOT_KIND = {"insurees": "insuree", "families": "family", "policies": "policy", "claims": "claim",
             "healthFacilities": "healthFacility", "locations": "location", "locationsAll": "location",
             "products": "product", "insureePolicy": "insureePolicy", "familyMembers": "insuree",
             "policiesByInsuree": "policy", "policiesByFamily": "policy", "invoice": "invoice",
             "paymentInvoice": "payment"}
PAGING = {"first": I, "last": I, "after": S, "before": S, "offset": I}
LOOKUP_NAMES = {"exact", "iexact", "istartswith", "icontains", "startswith", "contains", "lt", "lte", "gt",
                "gte", "isnull", "in", "ne"}
LEVEL_TYPES = {0: "R", 1: "D", 2: "W", 3: "V"}


def _lower_first(s):
    return s[:1].lower() + s[1:]


def resolve_filter(type_name, arg):
    """'headInsuree_LastName_Icontains' on FamilyGQLType -> ([(rel, many_fn)...], field, scalar
    type, lookup), or None when the schema has no such filter argument."""
    parts = arg.split("_")
    if any(p == "" for p in parts):
        return None
    t = TYPES[type_name]
    path = []
    i = 0
    while i < len(parts):
        name = _lower_first(parts[i]) if i else parts[i]
        rest = parts[i + 1:]
        if name in t.filters:
            kind, lookups = t.filters[name]
            if not rest and "exact" in lookups:
                return path, name, kind, "exact"
            if len(rest) == 1 and rest[0].lower() in lookups and rest[0][:1].isupper():
                return path, name, kind, rest[0].lower()
        if name in t.rels and rest:
            tn, many = t.rels[name]
            path.append((name, many))
            t = TYPES[tn]
            i += 1
            continue
        return None
    return None


# ---------------------------------------------------------------- value coercion
def _show(v):
    return json.dumps(v) if not isinstance(v, Enum) else str(v)


def coerce(kind, v, argname):
    """A GraphQL input value -> the Python value a filter compares, or ValidationError."""
    if v is None:
        return None
    bad = ValidationError('Argument "%s" has invalid value %s.\nExpected type "%s", found %s.'
                          % (argname, _show(v), kind, _show(v)))
    if kind.endswith("!"):
        kind = kind[:-1]
    if kind.startswith("["):
        inner = kind[1:-1]
        return [coerce(inner, x, argname) for x in (v if isinstance(v, list) else [v])]
    if kind == D:
        r = norm_date(v) if isinstance(v, str) and len(v) == 10 else None
        if r is None:
            raise bad
        return r
    if kind == DT:
        # graphene 2's DateTime (aniso8601.parse_datetime) wants a time part
        r = norm_datetime(v) if isinstance(v, str) and "T" in v else None
        if r is None:
            raise bad
        return r
    if kind == I:
        if isinstance(v, bool) or not isinstance(v, int):
            raise bad
        return v
    if kind == U:
        if not isinstance(v, str) or not re.match(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$", v):
            raise bad
        h = v.replace("-", "").lower()
        return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])
    if kind in (F, "Float"):
        if isinstance(v, bool):
            raise bad
        try:
            return float(v)
        except (TypeError, ValueError):
            raise bad
    if kind == B:
        if not isinstance(v, bool):
            raise bad
        return v
    if kind == ID:
        if isinstance(v, (str, int)) and not isinstance(v, bool):
            return str(v)
        raise bad
    if kind == E:
        if isinstance(v, (str, int)) and not isinstance(v, bool):
            return str(v)
        raise bad
    if not isinstance(v, str):   # String: graphene 2 refuses an int literal for a String argument
        raise bad
    return v


def _cmp_value(kind, v):
    if v is None:
        return None
    if kind == DT:
        return norm_datetime(v) if isinstance(v, str) else v
    if kind in (F, I):
        try:
            return float(v)
        except (TypeError, ValueError):
            return None
    if isinstance(v, dict):
        return v.get("code")
    return v


def make_predicate(path, field, kind, lookup, value, node_type):
    """A function rec -> bool for one filter argument."""
    if kind == ID and lookup in ("exact", "in") and field == "id":
        vals = value.split(",") if lookup == "in" else [value]
        pks = set()
        for v in vals:
            t, pk = decode_global_id(v)
            if pk is not None and pk.isdigit():
                pks.add(int(pk))

        def leaf(rec):
            return rec is not None and rec.get("_pk") in pks
    else:
        leaf = _leaf(field, kind, lookup, value)
    for name, many in reversed(path):
        leaf = _through(name, many, leaf)
    return leaf


def _through(name, many, inner):
    if many is None:
        def fn(rec, _inner=inner):
            sub = rec.get(name) if rec is not None else None
            return sub is not None and _inner(sub)
    else:
        def fn(rec, _inner=inner, _many=many):
            return any(_inner(m) for m in _many(STORE[0], rec))
    return fn


STORE = [None]   # the Store the many-relations read (set by execute())


def _leaf(field, kind, lookup, value):
    if kind == U:
        key = "uuid" if field == "id" else field
        return lambda rec: str(rec.get(key) or "").lower() == value
    if lookup == "isnull":
        want = bool(value)
        return lambda rec: (rec.get(field) is None) == want
    if field == "id" and kind == ID:
        return lambda rec: False
    if lookup in ("iexact", "icontains", "istartswith"):
        needle = str(value).casefold()
        if lookup == "iexact":
            return lambda rec: rec.get(field) is not None and str(rec.get(field)).casefold() == needle
        if lookup == "icontains":
            return lambda rec: rec.get(field) is not None and needle in str(rec.get(field)).casefold()
        return lambda rec: rec.get(field) is not None and str(rec.get(field)).casefold().startswith(needle)
    if lookup in ("contains", "startswith"):
        if lookup == "contains":
            return lambda rec: rec.get(field) is not None and str(value) in str(rec.get(field))
        return lambda rec: rec.get(field) is not None and str(rec.get(field)).startswith(str(value))
    if lookup == "in":
        vals = set(x.strip() for x in str(value).split(","))
        return lambda rec: rec.get(field) is not None and str(_cmp_value(kind, rec.get(field))) in vals
    want = _cmp_value(kind, value)
    if kind in (D, DT, B):
        # stored values are normalised at load: compare them as they are (the hot path)
        if lookup == "exact":
            return lambda rec: rec.get(field) == want
        fast = {"ne": lambda rec: rec.get(field) != want,
                "lt": lambda rec: (rec.get(field) or "~") < want if kind != B else False,
                "lte": lambda rec: (rec.get(field) or "~") <= want if kind != B else False,
                "gt": lambda rec: (rec.get(field) or "") > want if kind != B else False,
                "gte": lambda rec: (rec.get(field) or "") >= want if kind != B else False}
        return fast[lookup]
    if kind == E or kind == S:
        want = str(want)
    ops = {"exact": lambda a: a == want, "ne": lambda a: a != want, "lt": lambda a: a < want,
           "lte": lambda a: a <= want, "gt": lambda a: a > want, "gte": lambda a: a >= want}
    op = ops[lookup]

    def fn(rec):
        a = _cmp_value(kind, rec.get(field))
        if a is None:
            return lookup == "ne"
        if kind in (E, S):
            a = str(a)
        try:
            return op(a)
        except TypeError:
            return False
    return fn


# ---------------------------------------------------------------- ordering
def _camel(seg):
    parts = seg.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def order_key_fns(type_name, order_by):
    """orderBy entries -> [(fn(rec) -> value, descending)]; ResolverError on an unknown field."""
    if isinstance(order_by, str):
        order_by = [order_by]
    out = []
    for entry in order_by or []:
        entry = re.sub(r"[^\w\-,+]", "", str(entry))
        for one in [e for e in entry.split(",") if e]:
            desc = one.startswith("-")
            one = one.lstrip("-+")
            t = TYPES[type_name]
            segs = [_camel(s) for s in one.split("__") if s]
            for n, seg in enumerate(segs):
                if seg in t.scalars or seg in t.objects or t.generic:
                    if seg in t.objects and n + 1 < len(segs):
                        t = TYPES.get(t.objects[seg], TYPES["_"])
                    continue
                raise ResolverError("Cannot resolve keyword '%s' into field." % seg)
            pk = "uuid" if TYPES[type_name].uuid_pk else "_pk"
            out.append((_path_getter([pk if seg == "id" else seg for seg in segs]), desc))
    return out


def _path_getter(segs):
    def get(rec):
        v = rec
        for s in segs:
            if not isinstance(v, dict):
                return None
            v = v.get(s)
        if isinstance(v, dict):
            return v.get("code", v.get("_pk"))
        return v
    return get


def sort_rows(rows, keys):
    rows = sorted(rows, key=lambda r: r["_pk"])
    for get, desc in reversed(keys):
        # PostgreSQL: NULLS LAST ascending, NULLS FIRST descending
        rows.sort(key=lambda r: (get(r) is None, _sortable(get(r))), reverse=desc)
    return rows


def _sortable(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return int(v)
    return v


# ---------------------------------------------------------------- paging
def cursor(i):
    return base64.b64encode(("arrayconnection:%d" % i).encode()).decode()


def cursor_offset(c, default):
    if c is None:
        return default
    try:
        text = base64.b64decode(str(c)).decode()
        return int(text.split(":", 1)[1]) if text.startswith("arrayconnection:") else default
    except Exception:
        return default


def paginate(rows, args, field_name, page_max):
    """graphql-relay connection_from_list_slice with graphene-django 2's max limit."""
    first, last = args.get("first"), args.get("last")
    if first is not None and first < 0:
        raise ResolverError("Argument \"first\" must be a non-negative integer")
    if last is not None and last < 0:
        raise ResolverError("Argument \"last\" must be a non-negative integer")
    if page_max:
        if first is not None and first > page_max:
            raise ResolverError("Requesting %d records on the `%s` connection exceeds the `first` limit of %d "
                                "records." % (first, field_name, page_max))
        if last is not None and last > page_max:
            raise ResolverError("Requesting %d records on the `%s` connection exceeds the `last` limit of %d "
                                "records." % (last, field_name, page_max))
        if first is None and last is None:
            first = page_max
    after, before = args.get("after"), args.get("before")
    offset = args.get("offset")
    n = len(rows)
    after_off = cursor_offset(after, -1)
    if offset:
        if before is not None:
            raise ResolverError("You can't provide a `before` value at the same time as an `offset` value to "
                                "properly paginate the `%s` connection." % field_name)
        after_off = after_off + offset if after is not None else offset - 1
        after = after or cursor(after_off)
    before_off = cursor_offset(before, n)
    start = max(after_off, -1) + 1
    end = min(before_off, n)
    if first is not None:
        end = min(end, start + first)
    if last is not None:
        start = max(start, end - last)
    page = rows[start:end] if start < end else []
    lower = after_off + 1 if after is not None else 0
    upper = before_off if before is not None else n
    info = {"startCursor": cursor(start) if page else None, "endCursor": cursor(start + len(page) - 1) if page else None,
            "hasPreviousPage": last is not None and start > lower,
            "hasNextPage": first is not None and end < upper}
    return page, start, info
