/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for gateway/payments/ledger.c: batches recorded once, status transitions (final states
 * never regress, duplicates change nothing, mismatches recorded), durability across reopen. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "igwt.h"
#include "igwt_tmp.h"
#include "igw/err.h"
#include "payments/ledger.h"

static void
entry(struct igw_ledger_entry *e, const char *ref, int64_t amount)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->ref, sizeof(e->ref), "%s", ref);
    snprintf(e->payroll, sizeof(e->payroll), "P1");
    snprintf(e->benefit, sizeof(e->benefit), "b-%s", ref);
    snprintf(e->currency, sizeof(e->currency), "TZS");
    e->amount = amount;
}

static struct igw_ledger_report
rep(const char *ref, uint8_t status)
{
    struct igw_ledger_report r;
    memset(&r, 0, sizeof(r));
    r.ref = ref;
    r.txn = "P1-1";
    r.status = status;
    return r;
}

static int
count_cb(void *arg, const struct igw_ledger_entry *e)
{
    (void)e;
    (*(unsigned *)arg)++;
    return 0;
}

static int
count_m(void *arg, const struct igw_ledger_mismatch *m)
{
    (void)m;
    (*(unsigned *)arg)++;
    return 0;
}

static void
test_ledger(void)
{
    char dir[256], err[256];
    igw_ledger *l;
    struct igw_ledger_entry e[2], got;
    struct igw_ledger_applied c;
    struct igw_ledger_report r[3];
    bool acked = true;
    unsigned n = 0;

    IGWT_ASSERT(igwt_tmpdir(dir, sizeof(dir), "igwledger") != NULL);
    IGWT_OK(igw_ledger_open(&l, dir, 0, true, err, sizeof(err)));
    IGWT_OK(igw_ledger_batch_acked(l, "P1-1", &acked));
    IGWT_CHECK(!acked);
    IGWT_ERR(igw_ledger_get(l, "BEN-1", &got), IGW_ENOENT);

    entry(&e[0], "BEN-1", 5000);
    entry(&e[1], "BEN-2", 125050);
    IGWT_OK(igw_ledger_record_batch(l, "P1-1", e, 2, 1000));
    IGWT_OK(igw_ledger_batch_acked(l, "P1-1", &acked));
    IGWT_CHECK(acked);
    IGWT_OK(igw_ledger_get(l, "BEN-1", &got));
    IGWT_CHECK(got.status == IGW_PAY_SENT && got.amount == 5000 && got.created_ms == 1000);
    IGWT_STREQ(got.txn, "P1-1");
    IGWT_OK(igw_ledger_open_each(l, UINT64_MAX, count_cb, &n)); /* both open */
    IGWT_CHECK(n == 2);
    n = 0;
    IGWT_OK(igw_ledger_open_each(l, 1000, count_cb, &n)); /* none older than 1000 */
    IGWT_CHECK(n == 0);
    /* a repeat of the batch keeps the entries as they are */
    IGWT_OK(igw_ledger_record_batch(l, "P1-1", e, 2, 2000));
    IGWT_OK(igw_ledger_get(l, "BEN-1", &got));
    IGWT_CHECK(got.created_ms == 1000);

    /* sent before the request, acknowledged after it */
    entry(&e[0], "BEN-3", 700);
    IGWT_OK(igw_ledger_record_sent(l, "P1-2", e, 1, 1500));
    IGWT_OK(igw_ledger_batch_acked(l, "P1-2", &acked));
    IGWT_CHECK(!acked);
    IGWT_OK(igw_ledger_get(l, "BEN-3", &got));
    IGWT_CHECK(got.status == IGW_PAY_SENT);
    IGWT_STREQ(got.txn, "P1-2");
    IGWT_OK(igw_ledger_batch_ack(l, "P1-2", 1600));
    IGWT_OK(igw_ledger_batch_acked(l, "P1-2", &acked));
    IGWT_CHECK(acked);

    /* pdng, then succ; then a duplicate succ and a late pdng change nothing */
    r[0] = rep("BEN-1", IGW_PAY_PDNG);
    IGWT_OK(igw_ledger_apply(l, r, 1, 3000, &c));
    IGWT_CHECK(c.applied == 1);
    r[0] = rep("BEN-1", IGW_PAY_SUCC);
    r[1] = rep("BEN-2", IGW_PAY_RJCT);
    r[1].reason = "rjct.payee_fa.invalid";
    IGWT_OK(igw_ledger_apply(l, r, 2, 4000, &c));
    IGWT_CHECK(c.applied == 2 && c.final_succ == 1 && c.final_rjct == 1);
    r[0] = rep("BEN-1", IGW_PAY_SUCC);
    r[1] = rep("BEN-1", IGW_PAY_PDNG);
    IGWT_OK(igw_ledger_apply(l, r, 2, 5000, &c));
    IGWT_CHECK(c.applied == 0 && c.same == 2 && c.mismatches == 0);
    IGWT_OK(igw_ledger_get(l, "BEN-1", &got));
    IGWT_CHECK(got.status == IGW_PAY_SUCC && got.updated_ms == 4000);
    IGWT_OK(igw_ledger_get(l, "BEN-2", &got));
    IGWT_CHECK(got.status == IGW_PAY_RJCT);
    IGWT_STREQ(got.reason, "rjct.payee_fa.invalid");

    /* mismatches: unknown reference, other amount, a different final status */
    r[0] = rep("BEN-404", IGW_PAY_SUCC);
    r[1] = rep("BEN-2", IGW_PAY_SUCC); /* succ after rjct */
    r[2] = rep("BEN-1", IGW_PAY_SUCC);
    r[2].has_amount = true;
    r[2].amount = 5001;
    IGWT_OK(igw_ledger_apply(l, r, 3, 6000, &c));
    IGWT_CHECK(c.mismatches == 3 && c.applied == 0);
    IGWT_OK(igw_ledger_get(l, "BEN-2", &got));
    IGWT_CHECK(got.status == IGW_PAY_RJCT);

    IGWT_OK(igw_ledger_payroll_each(l, "P1", count_cb, &n));
    IGWT_CHECK(n == 3);
    n = 0;
    IGWT_OK(igw_ledger_payroll_each(l, "P", count_cb, &n)); /* a prefix is another payroll */
    IGWT_CHECK(n == 0);
    IGWT_OK(igw_ledger_mismatch_each(l, NULL, 0, count_m, &n));
    IGWT_CHECK(n == 3);
    n = 0;
    IGWT_OK(igw_ledger_mismatch_each(l, "P1", 0, count_m, &n)); /* the unknown one has none */
    IGWT_CHECK(n == 2);
    igw_ledger_close(l);

    /* durable: reopened, the same state; the mismatch sequence goes on */
    IGWT_OK(igw_ledger_open(&l, dir, 0, true, err, sizeof(err)));
    IGWT_OK(igw_ledger_get(l, "BEN-1", &got));
    IGWT_CHECK(got.status == IGW_PAY_SUCC);
    r[0] = rep("BEN-405", IGW_PAY_SUCC);
    IGWT_OK(igw_ledger_apply(l, r, 1, 7000, &c));
    n = 0;
    IGWT_OK(igw_ledger_mismatch_each(l, NULL, 0, count_m, &n));
    IGWT_CHECK(n == 4);
    n = 0;
    IGWT_OK(igw_ledger_open_each(l, 100000, count_cb, &n)); /* BEN-3 is still open */
    IGWT_CHECK(n == 1);
    igw_ledger_close(l);
    igwt_rm_tree(dir);
}

static void
test_judge(void)
{
    struct igw_ledger_entry e;
    struct igw_ledger_report r = rep("BEN-1", IGW_PAY_RCVD);
    char why[128];

    entry(&e, "BEN-1", 5000);
    snprintf(e.txn, sizeof(e.txn), "P1-1");
    e.status = IGW_PAY_SENT;
    IGWT_CHECK(igw_ledger_judge(&e, &r, why, sizeof(why)) == IGW_LEDGER_APPLY);
    r.txn = "P1-2";
    IGWT_CHECK(igw_ledger_judge(&e, &r, why, sizeof(why)) == IGW_LEDGER_MISMATCH);
    r.txn = NULL;
    r.currency = "USD";
    IGWT_CHECK(igw_ledger_judge(&e, &r, why, sizeof(why)) == IGW_LEDGER_MISMATCH);
    IGWT_CHECK(strstr(why, "currency") != NULL);
    IGWT_CHECK(igw_ledger_judge(NULL, &r, why, sizeof(why)) == IGW_LEDGER_MISMATCH);
    IGWT_CHECK(igw_pay_status_parse("succ", 4) == IGW_PAY_SUCC);
    IGWT_CHECK(igw_pay_status_parse("done", 4) == IGW_PAY_NONE);
    IGWT_STREQ(igw_pay_status_name(IGW_PAY_RJCT), "rjct");
}

IGWT_MAIN({"ledger", test_ledger}, {"judge", test_judge})
