/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for gateway/payments/disburse.c: batching determinism (the same payroll and ledger
 * give the same batches and transaction ids on every retry; a benefit the ledger holds for
 * another payroll is left out, one of this payroll is kept in its place). */
#include <stdio.h>
#include <string.h>

#include "igwt.h"
#include "igwt_tmp.h"
#include "igw/arena.h"
#include "igw/err.h"
#include "igw/json.h"
#include "payments/ledger.h"
#include "payments/pay_int.h"

static const char doc[] = "{\"message\":{\"transaction_id\":\"P1\",\"disbursements\":["
                          "{\"reference_id\":\"B1\",\"amount\":\"1.00\"},"
                          "{\"reference_id\":\"B2\",\"amount\":\"2.00\"},"
                          "{\"reference_id\":\"B3\",\"amount\":\"3.00\"},"
                          "{\"reference_id\":\"B4\",\"amount\":\"4.00\"},"
                          "{\"reference_id\":\"B5\",\"amount\":\"5.00\"}]}}";

static const char *
ref_of(const struct igw_node *it)
{
    const struct igw_node *r = igw_node_get(it, "reference_id", 12);
    static char out[8][16];
    static int k;
    k = (k + 1) % 8;
    snprintf(out[k], sizeof(out[k]), "%.*s", (int)r->len, r->str);
    return out[k];
}

static void
test_batches(void)
{
    char dir[256], err[256], txn[64];
    igw_ledger *l;
    igw_arena *a;
    struct igw_node *root;
    const struct igw_node *list, *items[5], *again[5];
    struct igw_ledger_entry e;
    uint64_t skipped;
    size_t n;

    IGWT_ASSERT(igwt_tmpdir(dir, sizeof(dir), "igwpay") != NULL);
    IGWT_OK(igw_ledger_open(&l, dir, 0, true, err, sizeof(err)));
    IGWT_OK(igw_arena_new(&a, 1 << 20));
    IGWT_OK(igw_json_parse(a, doc, sizeof(doc) - 1, NULL, &root, NULL));
    list = igw_node_get(igw_node_get(root, "message", 7), "disbursements", 13);

    n = pay_select(l, list, "P1", items, &skipped);
    IGWT_CHECK(n == 5 && skipped == 0);
    /* batch_size 2: transactions P1-1 {B1,B2}, P1-2 {B3,B4}, P1-3 {B5} */
    pay_batch_txn("P1", 0, txn, sizeof(txn));
    IGWT_STREQ(txn, "P1-1");
    pay_batch_txn("P1", 2, txn, sizeof(txn));
    IGWT_STREQ(txn, "P1-3");
    IGWT_STREQ(ref_of(items[4]), "B5");

    /* batch 1 acknowledged: its entries belong to P1; the retry selects exactly the same */
    memset(&e, 0, sizeof(e));
    snprintf(e.payroll, sizeof(e.payroll), "P1");
    snprintf(e.ref, sizeof(e.ref), "B1");
    IGWT_OK(igw_ledger_record_batch(l, "P1-1", &e, 1, 1));
    snprintf(e.ref, sizeof(e.ref), "B2");
    IGWT_OK(igw_ledger_record_batch(l, "P1-1", &e, 1, 1));
    n = pay_select(l, list, "P1", again, &skipped);
    IGWT_CHECK(n == 5 && skipped == 0);
    for (size_t i = 0; i < 5; i++) {
        IGWT_CHECK(again[i] == items[i]);
    }

    /* B4 paid by another payroll: left out, counted */
    snprintf(e.payroll, sizeof(e.payroll), "P0");
    snprintf(e.ref, sizeof(e.ref), "B4");
    IGWT_OK(igw_ledger_record_batch(l, "P0-1", &e, 1, 1));
    n = pay_select(l, list, "P1", again, &skipped);
    IGWT_CHECK(n == 4 && skipped == 1);
    IGWT_STREQ(ref_of(again[3]), "B5");

    igw_arena_free(a);
    igw_ledger_close(l);
    igwt_rm_tree(dir);
}

IGWT_MAIN({"batches", test_batches})
