/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Statuses into the ledger (docs/PAYMENTS.md, 4): a g2p-ledger: delivery applies the
 * on-disburse callback it carries (or a txn/on-status callback's DisburseResponse), and the
 * overdue poll applies a txn status answer, both through pay_apply_response: every item judged
 * against its entry and applied, ignored or recorded as a mismatch in one fsync'd transaction.
 * Runs on a payments thread.
 */
#include <stdio.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/common.h"
#include "igw/decimal.h"
#include "igw/err.h"
#include "igw/json.h"
#include "payments/pay_int.h"
#include "payments/payments.h"

/* The strings of one item, kept while the reports point at them. */
struct item_text {
    char ref[IGW_LEDGER_REF_MAX];
    char reason[IGW_LEDGER_REASON_MAX];
    char currency[4];
    char amount[32];
};

/* Adds member key = child to obj. */
static int
add(igw_arena *a, struct igw_node *obj, const char *key, struct igw_node *child)
{
    if (child == NULL) {
        return IGW_ENOMEM;
    }
    return igw_node_append(a, obj, key, strlen(key), child);
}

static int
add_str(igw_arena *a, struct igw_node *obj, const char *key, const char *v)
{
    return add(a, obj, key, igw_node_string(a, v, strlen(v)));
}

int
pay_annotate(igw_arena *a, struct igw_node *it, const char *txn, igw_ledger *l)
{
    struct igw_node *g = igw_node_new(a, IGW_NODE_OBJECT);
    struct igw_ledger_entry e;
    struct igw_ledger_report r;
    const struct igw_node *st = igw_node_get(it, "status", 6);
    const struct igw_node *amt = igw_node_get(it, "amount", 6);
    char ref[IGW_LEDGER_REF_MAX], cur[8], why[128], txt[IGW_DEC_STRLEN];
    bool found;
    enum igw_ledger_verdict vd;
    int rv;

    if (g == NULL) {
        return IGW_ENOMEM;
    }
    memset(&r, 0, sizeof(r));
    (void)pay_str(it, "reference_id", ref, sizeof(ref));
    r.ref = ref;
    r.txn = txn;
    r.status = igw_pay_status_parse(st->str, st->len);
    if (pay_str(it, "currency_code", cur, sizeof(cur))) {
        r.currency = cur;
    }
    if (amt != NULL && (amt->type == IGW_NODE_STRING || amt->type == IGW_NODE_NUMBER)) {
        r.has_amount = true;
        if (igw_dec_parse(amt->str, amt->len, &r.amount) != IGW_OK) {
            r.amount = -1;
        }
    }
    found = igw_ledger_get(l, ref, &e) == IGW_OK;
    vd = igw_ledger_judge(found ? &e : NULL, &r, why, sizeof(why));
    rv = add(a, g, "forward", igw_node_bool(a, vd == IGW_LEDGER_APPLY));
    if (rv == IGW_OK && vd == IGW_LEDGER_MISMATCH) {
        rv = add_str(a, g, "mismatch", why);
    }
    if (rv == IGW_OK && found) {
        (void)igw_dec_format(e.amount, txt);
        rv = add_str(a, g, "benefit_uuid", e.benefit);
        rv = rv == IGW_OK ? add_str(a, g, "payroll_uuid", e.payroll) : rv;
        rv = rv == IGW_OK ? add_str(a, g, "code", e.ref) : rv;
        rv = rv == IGW_OK ? add_str(a, g, "amount", txt) : rv;
        rv = rv == IGW_OK ? add_str(a, g, "currency", e.currency) : rv;
    }
    return rv == IGW_OK ? add(a, it, "igw", g) : rv;
}

int
pay_apply_response(const struct igw_node *resp, uint64_t now_ms)
{
    igw_ledger *l = igw_payments_ledger();
    const struct igw_node *list = igw_node_get(resp, "disbursements_status", 20);
    char txn[IGW_LEDGER_TXN_MAX];
    struct igw_ledger_report *rp;
    struct item_text *tx;
    struct igw_ledger_applied c;
    size_t n = 0;
    int rv;

    if (l == NULL) {
        return IGW_EAGAIN;
    }
    if (list == NULL || list->type != IGW_NODE_ARRAY) {
        return IGW_EPARSE;
    }
    (void)pay_str(resp, "transaction_id", txn, sizeof(txn));
    rp = igw_calloc(list->count + 1, sizeof(*rp));
    tx = igw_calloc(list->count + 1, sizeof(*tx));
    if (rp == NULL || tx == NULL) {
        igw_free(rp);
        igw_free(tx);
        return IGW_ENOMEM;
    }
    for (const struct igw_node *it = list->first; it != NULL; it = it->next) {
        const struct igw_node *st = igw_node_get(it, "status", 6);
        const struct igw_node *amt = igw_node_get(it, "amount", 6);
        struct igw_ledger_report *r = &rp[n];
        struct item_text *t = &tx[n];

        if (st == NULL || st->type != IGW_NODE_STRING ||
            (r->status = igw_pay_status_parse(st->str, st->len)) < IGW_PAY_RCVD) {
            continue; /* the dialect refused such a callback; a poll answer may have one */
        }
        (void)pay_str(it, "reference_id", t->ref, sizeof(t->ref));
        r->ref = t->ref;
        r->txn = txn[0] != '\0' ? txn : NULL;
        if (pay_str(it, "status_reason_code", t->reason, sizeof(t->reason))) {
            r->reason = t->reason;
        }
        if (pay_str(it, "currency_code", t->currency, sizeof(t->currency))) {
            r->currency = t->currency;
        }
        if (amt != NULL && (amt->type == IGW_NODE_STRING || amt->type == IGW_NODE_NUMBER) &&
            amt->len > 0) {
            snprintf(t->amount, sizeof(t->amount), "%.*s", (int)amt->len, amt->str);
            r->amount_text = t->amount;
            r->has_amount = true;
            if (igw_dec_parse(amt->str, amt->len, &r->amount) != IGW_OK) {
                r->amount = -1; /* never equal to an amount sent: a mismatch */
            }
        }
        n++;
    }
    rv = igw_ledger_apply(l, rp, n, now_ms, &c);
    if (rv == IGW_OK) {
        struct igw_pay_counters *k = igw_payments_counters();
        atomic_fetch_add(&k->confirmed, c.final_succ);
        atomic_fetch_add(&k->rejected, c.final_rjct);
        atomic_fetch_add(&k->mismatches, c.mismatches);
    }
    igw_free(rp);
    igw_free(tx);
    return rv;
}

void
pay_ledger_run(const char *payload, size_t len, struct pay_result *res)
{
    igw_arena *a = NULL;
    struct igw_node *root = NULL;
    const struct igw_node *msg, *resp;
    char action[32];
    int rv;

    res->outcome = PAY_OK;
    res->status = 0;
    res->what[0] = '\0';
    if (igw_arena_new(&a, len * 8 + (1u << 20)) != IGW_OK ||
        igw_json_parse(a, payload, len, NULL, &root, NULL) != IGW_OK) {
        res->outcome = PAY_FAIL;
        snprintf(res->what, sizeof(res->what), "payload is not JSON");
        igw_arena_free(a);
        return;
    }
    msg = igw_node_get(root, "message", 7);
    resp = msg;
    if (pay_str(igw_node_get(root, "header", 6), "action", action, sizeof(action)) &&
        strcmp(action, "txn-on-status") == 0) {
        resp = igw_node_get(igw_node_get(msg, "txnstatus_response", 18), "txn_status", 10);
    }
    rv = pay_apply_response(resp, igw_now_ms());
    if (rv == IGW_EPARSE) {
        res->outcome = PAY_FAIL;
        snprintf(res->what, sizeof(res->what), "not a DisburseResponse");
    } else if (rv != IGW_OK) {
        res->outcome = PAY_TRANSIENT;
        snprintf(res->what, sizeof(res->what), "ledger: %s", igw_strerror(rv));
    }
    igw_arena_free(a);
}
