# SPDX-License-Identifier: Apache-2.0
"""The openIMIS side of igw's payment flow: the payment-status receiver
`POST /api/payroll/payment_status/` (igw's documented contract with openIMIS, modelled on the
payroll module's `send_callback_to_openimis`), its store and its control view.

Body: {"payroll_id": "...", "statuses": [{"benefit_uuid", "code", "reference_id",
"status": "RECONCILED"|"REJECTED"|"PENDING", "reason_code"?, "reason"?, "amount": "50.00",
"currency": "TZS", "timestamp"}]}. Answers 200 {"payroll_id", "accepted": n} (an empty or missing `statuses` is
accepted as nothing to do and counted in `empty`); a body that breaks
the contract gets 400 {"errors": [{"message"}]} and changes nothing. Per benefit code the
receiver keeps the latest final status (a PENDING arriving after a final one is counted in
`late_pending` and does not undo it; a final status that changes, RECONCILED <-> REJECTED, is
counted in `conflicts`), and every status received."""
import decimal
import re
import threading

AMOUNT_RE = re.compile(r"^\d{1,13}(\.\d{1,2})?$")
STATUSES = ("RECONCILED", "REJECTED", "PENDING")
PATH = "/api/payroll/payment_status/"


class Receiver:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.requests = 0
            self.empty = 0
            self.received = 0
            self.refused = 0
            self.late_pending = 0
            self.conflicts = 0
            self.duplicates = 0
            self.benefits = {}      # code -> {payroll_id, benefit_uuid, reference_id, status, ...}
            self.history = {}       # code -> [status, ...] in arrival order

    @staticmethod
    def check(body):
        """-> None or the error message."""
        if not isinstance(body, dict) or not isinstance(body.get("payroll_id"), str) or not body["payroll_id"]:
            return "payroll_id (a string) is required"
        sts = body.get("statuses", [])
        if not isinstance(sts, list):
            return "statuses must be a list"
        for i, s in enumerate(sts):
            if not isinstance(s, dict):
                return "statuses[%d] is not an object" % i
            for k in ("code", "reference_id", "status", "amount", "currency"):
                if not isinstance(s.get(k), str) or not s[k]:
                    return "statuses[%d].%s is required" % (i, k)
            if s["status"] not in STATUSES:
                return "statuses[%d].status must be one of %s" % (i, ", ".join(STATUSES))
            if not AMOUNT_RE.match(s["amount"]):
                return "statuses[%d].amount is not a decimal string" % i
            if not re.match(r"^[A-Z]{3}$", s["currency"]):
                return "statuses[%d].currency is not an ISO 4217 code" % i
            if s["status"] == "REJECTED" and not s.get("reason_code"):
                return "statuses[%d].reason_code is required for REJECTED" % i
        return None

    def post(self, body):
        """-> (http status, answer)."""
        with self.lock:
            self.requests += 1
            err = self.check(body)
            if err:
                self.refused += 1
                return 400, {"errors": [{"message": err}]}
            if not body.get("statuses"):
                self.empty += 1     # nothing to apply (every item of a callback was a repeat)
            for s in body.get("statuses", []):
                code = s["code"]
                self.received += 1
                self.history.setdefault(code, []).append(s["status"])
                old = self.benefits.get(code)
                rec = dict(s, payroll_id=body["payroll_id"])
                if old is None:
                    self.benefits[code] = rec
                    continue
                if old["status"] == s["status"]:
                    self.duplicates += 1
                elif s["status"] == "PENDING":
                    self.late_pending += 1
                    continue
                elif old["status"] != "PENDING":
                    self.conflicts += 1
                self.benefits[code] = rec
            return 200, {"payroll_id": body["payroll_id"], "accepted": len(body.get("statuses", []))}

    def view(self, payroll_id=None, with_benefits=True):
        with self.lock:
            by, totals = {}, {}
            for b in self.benefits.values():
                if payroll_id and b["payroll_id"] != payroll_id:
                    continue
                by[b["status"]] = by.get(b["status"], 0) + 1
                t = totals.setdefault(b["status"], {})
                t[b["currency"]] = t.get(b["currency"], decimal.Decimal(0)) + decimal.Decimal(b["amount"])
            out = {"requests": self.requests, "received": self.received, "refused": self.refused, "empty": self.empty,
                   "duplicates": self.duplicates, "late_pending": self.late_pending, "conflicts": self.conflicts,
                   "benefits_count": sum(by.values()), "by_status": by,
                   "totals": {s: {c: "%.2f" % v for c, v in t.items()} for s, t in totals.items()}}
            if with_benefits:
                out["benefits"] = {c: dict(b, history=self.history.get(c, [])) for c, b in self.benefits.items()
                                   if not payroll_id or b["payroll_id"] == payroll_id}
            return out
