# SPDX-License-Identifier: Apache-2.0
"""Checks an `igw gen` JSONL stream against docs/SYNTHETIC-DATA.md: every line one JSON object
with a known kind, meta first, ids 1..n per kind, uuids unique, every reference resolving to an
earlier record of the right kind (family.headInsuree: the next insuree), copied fields equal to
the target's, claim totals, dates not after the reference date, the same members in the same
order in every record of a kind. Returns the statistics the distribution checks read.

    python3 tests/integration/gen_check.py data.jsonl     (prints the statistics as JSON)

Python standard library only."""
import datetime
import json
import re
import statistics
import sys

REF = "2025-12-31"
KINDS = ["location", "healthFacility", "claimAdmin", "officer", "diagnosis", "medicalItem",
         "medicalService", "product", "family", "insuree", "policy", "invoice", "payment", "claim"]
FAMILY_GROUP = {"family", "insuree", "policy", "invoice", "payment", "claim"}
PARENT_TYPE = {"D": "R", "W": "D", "V": "W"}


class Violation(AssertionError):
    pass


def need(cond, line, what):
    if not cond:
        raise Violation("line %d: %s" % (line, what))


def age_on(dob, ref=REF):
    b = datetime.date.fromisoformat(dob)
    r = datetime.date.fromisoformat(ref)
    return r.year - b.year - ((r.month, r.day) < (b.month, b.day))


def dates_ok(rec, line):
    for k, v in rec.items():
        if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?", v):
            if (k, rec["kind"]) in (("dateTo", "product"), ("expiryDate", "policy")):
                continue  # a product's end and an active policy's expiry lie ahead
            need(v[:10] <= REF, line, "%s %s after the reference date" % (k, v))


def check(lines):
    by_uuid = {}          # uuid -> (kind, record)
    next_id = {}
    members = {}
    stats = {"count": {}, "gender": {}, "ages": [], "family_sizes": [], "claimed": [],
             "claim_status": {}, "surnames": set(), "insuree_status": {}, "policy_status": {}}
    pending_head = None   # (line, family record) waiting for its head insuree
    family_members = {}   # family uuid -> set of insuree uuids (only the current family kept)
    cur_family = None
    phase_family = False
    seen_ids = set()
    for n, text in enumerate(lines, 1):
        rec = json.loads(text)
        need(isinstance(rec, dict) and "kind" in rec, n, "not an object with a kind")
        kind = rec["kind"]
        if n == 1:
            need(kind == "meta" and rec.get("format") == "igw-gen/1", n, "meta first")
            continue
        need(kind in KINDS, n, "unknown kind %r" % kind)
        stats["count"][kind] = stats["count"].get(kind, 0) + 1
        keys = list(rec.keys())
        need(members.setdefault(kind, keys) == keys, n, "members of %s differ: %s" % (kind, keys))
        if kind in FAMILY_GROUP:
            phase_family = True
        else:
            need(not phase_family, n, "catalogue kind %s after the families" % kind)
        dates_ok(rec, n)
        if kind in ("invoice", "payment"):
            uid = rec["id"]
        else:
            need(rec["id"] == next_id.get(kind, 0) + 1, n, "%s id %r not sequential" % (kind, rec["id"]))
            next_id[kind] = rec["id"]
            uid = rec["uuid"]
        need(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", uid),
             n, "bad uuid %r" % uid)
        need(uid not in seen_ids, n, "duplicate uuid %s" % uid)
        seen_ids.add(uid)

        def ref(obj, want, copies=("code",)):
            need(isinstance(obj, dict) and obj.get("uuid") in by_uuid, n, "%s: dangling reference %r" % (kind, obj))
            k, target = by_uuid[obj["uuid"]]
            need(k == want, n, "%s: reference to a %s, not a %s" % (kind, k, want))
            for c in copies:
                if c in obj:
                    need(obj[c] == target[c], n, "%s: copied %s %r != %r" % (kind, c, obj[c], target[c]))
            return target

        if pending_head is not None:
            need(kind == "insuree" and rec["uuid"] == pending_head["headInsuree"]["uuid"], n,
                 "the family's head is not the next record")
            for c in ("chfId", "lastName", "otherNames"):
                need(rec[c] == pending_head["headInsuree"][c], n, "head copy %s" % c)
            need(rec["head"] is True, n, "head flag")
            pending_head = None
        if kind == "location":
            if rec["type"] == "R":
                need(rec["parent"] is None, n, "region with a parent")
            else:
                p = ref(rec["parent"], "location", ("code", "type"))
                need(p["type"] == PARENT_TYPE[rec["type"]], n, "parent level")
                need(rec["code"].startswith(p["code"]), n, "code nesting")
        elif kind == "healthFacility":
            need(ref(rec["location"], "location", ("code", "name"))["type"] == "D", n, "HF not in a district")
        elif kind == "claimAdmin":
            ref(rec["healthFacility"], "healthFacility")
        elif kind == "officer":
            need(ref(rec["location"], "location")["type"] == "D", n, "officer not in a district")
        elif kind == "product":
            if rec["location"] is not None:
                need(ref(rec["location"], "location")["type"] == "R", n, "product not regional")
        elif kind == "family":
            need(ref(rec["location"], "location", ("code", "name"))["type"] == "V", n, "family not in a village")
            pending_head = rec
            cur_family = rec
            family_members = {rec["uuid"]: set()}
            stats["family_sizes"].append(0)
        elif kind == "insuree":
            fam = ref(rec["family"], "family")
            need(fam is cur_family, n, "insuree not right after its family")
            family_members[fam["uuid"]].add(rec["uuid"])
            stats["family_sizes"][-1] += 1
            ref(rec["healthFacility"], "healthFacility")
            if rec["currentVillage"] is not None:
                need(ref(rec["currentVillage"], "location")["type"] == "V", n, "currentVillage")
            need(re.fullmatch(r"[0-9]{9}", rec["chfId"]), n, "chfId %r" % rec["chfId"])
            need(rec["gender"]["code"] in ("M", "F", "O"), n, "gender")
            need(rec["status"] in ("AC", "IN", "DE"), n, "status")
            stats["gender"][rec["gender"]["code"]] = stats["gender"].get(rec["gender"]["code"], 0) + 1
            stats["insuree_status"][rec["status"]] = stats["insuree_status"].get(rec["status"], 0) + 1
            stats["ages"].append(age_on(rec["dob"]))
            stats["surnames"].add(rec["lastName"])
        elif kind == "policy":
            fam = ref(rec["family"], "family")
            need(fam is cur_family, n, "policy of another family")
            need(rec["family"]["headInsuree"]["uuid"] == fam["headInsuree"]["uuid"], n, "policy head")
            ref(rec["product"], "product", ("code", "name"))
            ref(rec["officer"], "officer")
            for i in rec["insurees"]:
                need(i["uuid"] in family_members[fam["uuid"]], n, "covered insuree not of the family")
            need(rec["startDate"] <= rec["expiryDate"], n, "policy dates")
            total = sum(round(p["amount"] * 100) for p in rec["premiums"])
            need(total in (0, round(rec["value"] * 100)), n, "premiums do not sum to the value")
            stats["policy_status"][rec["status"]] = stats["policy_status"].get(rec["status"], 0) + 1
        elif kind == "invoice":
            need(by_uuid.get(rec["subjectId"], ("",))[0] == "family", n, "invoice subject")
            need(by_uuid.get(rec["thirdpartyId"], ("",))[0] == "insuree", n, "invoice third party")
            need(by_uuid.get(rec["lineItems"][0]["lineId"], ("",))[0] == "policy", n, "invoice line")
        elif kind == "payment":
            inv = by_uuid.get(rec["invoicePayments"][0]["subjectId"])
            need(inv is not None and inv[0] == "invoice", n, "payment subject")
            need(rec["amountReceived"] == inv[1]["amountTotal"], n, "payment amount")
        elif kind == "claim":
            ins = ref(rec["insuree"], "insuree", ("chfId",))
            need(ins["family"]["uuid"] == cur_family["uuid"], n, "claim after another family")
            hf = ref(rec["healthFacility"], "healthFacility")
            adm = ref(rec["admin"], "claimAdmin")
            need(adm["healthFacility"]["uuid"] == hf["uuid"], n, "claim admin of another HF")
            pol = ref(rec["policy"], "policy")
            need(any(i["uuid"] == ins["uuid"] for i in pol["insurees"]), n, "claim insuree not covered")
            need(pol["effectiveDate"] is not None and pol["effectiveDate"] <= rec["dateFrom"] <= pol["expiryDate"],
                 n, "claim outside the insured period")
            need(ins["dob"] < rec["dateFrom"] <= rec["dateClaimed"], n, "claim dates")
            total = 0
            for it in rec["items"]:
                ref(it["item"], "medicalItem")
                total += it["qtyProvided"] * round(it["priceAsked"] * 100)
            for sv in rec["services"]:
                ref(sv["service"], "medicalService")
                total += sv["qtyProvided"] * round(sv["priceAsked"] * 100)
            need(total == round(rec["claimed"] * 100), n, "claimed != sum of lines")
            stats["claimed"].append(rec["claimed"])
            stats["claim_status"][rec["status"]] = stats["claim_status"].get(rec["status"], 0) + 1
        if kind in ("insuree",) or kind not in FAMILY_GROUP or kind in ("family", "policy", "invoice"):
            by_uuid[uid] = (kind, rec)
    need(pending_head is None, len(lines), "stream ends after a family without its head")
    stats["surnames"] = len(stats["surnames"])
    return stats


def summary(stats):
    ages = stats["ages"]
    n = len(ages)
    return {
        "count": stats["count"],
        "female_share": stats["gender"].get("F", 0) / n,
        "other_share": stats["gender"].get("O", 0) / n,
        "under15_share": sum(a < 15 for a in ages) / n,
        "over65_share": sum(a > 65 for a in ages) / n,
        "max_age": max(ages),
        "mean_family_size": statistics.mean(stats["family_sizes"]),
        "max_family_size": max(stats["family_sizes"]),
        "claims_per_insuree": stats["count"].get("claim", 0) / n,
        "claimed_median": statistics.median(stats["claimed"]) if stats["claimed"] else 0,
        "claimed_max": max(stats["claimed"]) if stats["claimed"] else 0,
        "claim_status": stats["claim_status"],
        "insuree_status": stats["insuree_status"],
        "policy_status": stats["policy_status"],
        "policies_per_family": stats["count"].get("policy", 0) / len(stats["family_sizes"]),
        "surnames": stats["surnames"],
    }


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        data = f.read().splitlines()
    print(json.dumps(summary(check(data)), indent=1, sort_keys=True))
