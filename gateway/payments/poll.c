/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Overdue transactions (docs/PAYMENTS.md, "Overdue"): a disbursement without a final status
 * payments.overdue_after after its last news makes igw ask the payment system
 * POST <base>/disburse/sync/txn/status about its transaction (attribute_type transaction_id);
 * the answer's DisburseResponse is applied to the ledger like a callback. At most max
 * transactions per scan, one request each, on the disburse route's payments thread.
 */
#include <stdio.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/common.h"
#include "igw/err.h"
#include "igw/json.h"
#include "payments/pay_int.h"
#include "payments/payments.h"
#include "sign/sign.h"

#define POLL_MAX 64

struct overdue {
    char txn[POLL_MAX][IGW_LEDGER_TXN_MAX];
    unsigned n, max;
};

static int
collect(void *arg, const struct igw_ledger_entry *e)
{
    struct overdue *o = arg;
    for (unsigned i = 0; i < o->n; i++) {
        if (strcmp(o->txn[i], e->txn) == 0) {
            return 0;
        }
    }
    if (o->n >= o->max) {
        return 1;
    }
    snprintf(o->txn[o->n++], IGW_LEDGER_TXN_MAX, "%s", e->txn);
    return 0;
}

static void
ask(const struct igw_partner *partner, const struct igw_route *route, const char *txn,
    uint64_t timeout_ms, const atomic_bool *abort)
{
    struct igw_buf h, m, body, url;
    char ts[40], id[IGW_LEDGER_TXN_MAX + 32], err[256];
    int rv;

    pay_timestamp(ts, sizeof(ts));
    snprintf(id, sizeof(id), "status-%s-%llu", txn, (unsigned long long)igw_now_ms());
    igw_buf_init(&h, 8192);
    igw_buf_init(&m, 8192);
    igw_buf_init(&body, 128 * 1024);
    igw_buf_init(&url, 4096);
    rv = igw_buf_puts(&h, "{\"version\":\"1.0.0\",\"message_id\":");
    rv = rv == IGW_OK ? igw_buf_json_str(&h, id, strlen(id)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(&h,
                                       ",\"message_ts\":\"%s\",\"action\":\"txn-status\","
                                       "\"sender_id\":\"igw\",\"receiver_id\":",
                                       ts)
                      : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(&h, partner->name, strlen(partner->name)) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&h, ",\"total_count\":1,\"is_msg_encrypted\":false}") : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&m, "{\"transaction_id\":") : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(&m, id, strlen(id)) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&m, ",\"txnstatus_request\":{\"reference_id\":") : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(&m, id, strlen(id)) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&m, ",\"txn_type\":\"disburse\",\"attribute_type\":"
                                         "\"transaction_id\",\"attribute_value\":")
                      : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(&m, txn, strlen(txn)) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&m, "}}") : rv;
    rv = rv == IGW_OK ? pay_envelope(&body, &h, &m, partner->sign, err, sizeof(err)) : rv;
    rv = rv == IGW_OK ? pay_partner_url(partner, "disburse/sync/txn/status", &url) : rv;
    if (rv == IGW_OK) {
        struct pay_http p = {.url = url.ptr,
                             .body = body.ptr,
                             .len = body.len,
                             .auth = &route->auth,
                             .timeout_ms = timeout_ms,
                             .abort = abort};
        atomic_fetch_add(&igw_payments_counters()->polls, 1);
        if (pay_http_post(&p) == IGW_OK && p.status >= 200 && p.status <= 299) {
            igw_arena *a = NULL;
            struct igw_node *root = NULL;
            if (igw_arena_new(&a, p.resp.len * 8 + 65536) == IGW_OK &&
                igw_json_parse(a, p.resp.ptr, p.resp.len, NULL, &root, NULL) == IGW_OK) {
                const struct igw_node *r = igw_node_get(
                    igw_node_get(igw_node_get(root, "message", 7), "txnstatus_response", 18),
                    "txn_status", 10);
                (void)pay_apply_response(r, igw_now_ms());
            }
            igw_arena_free(a);
        }
        igw_buf_fini(&p.resp);
    }
    igw_buf_fini(&h);
    igw_buf_fini(&m);
    igw_buf_fini(&body);
    igw_buf_fini(&url);
}

void
pay_poll_overdue(const struct igw_partner *partner, const struct igw_route *route, unsigned max,
                 const atomic_bool *abort)
{
    const struct igw_payments_conf *pc = igw_payments_conf();
    igw_ledger *l = igw_payments_ledger();
    struct overdue *o;
    uint64_t now = igw_now_ms();

    if (l == NULL || pc == NULL || pc->overdue_after_ms == 0 || now < pc->overdue_after_ms) {
        return;
    }
    o = igw_calloc(1, sizeof(*o));
    if (o == NULL) {
        return;
    }
    o->max = max > 0 && max < POLL_MAX ? max : POLL_MAX;
    (void)igw_ledger_open_each(l, now - pc->overdue_after_ms, collect, o);
    for (unsigned i = 0; i < o->n && !(abort != NULL && atomic_load(abort)); i++) {
        ask(partner, route, o->txn[i], pc->timeout_ms, abort);
    }
    igw_free(o);
}
