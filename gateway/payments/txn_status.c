/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mediator g2p-txn-status (answer: g2p-txn-status; docs/PAYMENTS.md, "Transaction
 * status"): igw answers a payment system's POST .../disburse/txn/status or
 * .../disburse/sync/txn/status about igw's own disbursements from the ledger, with no upstream
 * call: a TxnStatusResponse whose txn_status is a DisburseResponse. attribute_type
 * transaction_id (a batch <payroll uuid>-<k>) or reference_id_list. The partner checks of
 * dci.partner run first. Ledger reads never wait: this runs on nng's task thread.
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/decimal.h"
#include "igw/err.h"
#include "igw/json.h"
#include "mediate/mediator.h"
#include "payments/pay_int.h"
#include "payments/payments.h"
#include "sign/sign.h"

struct collect {
    struct igw_buf *b;
    const char *txn;
    unsigned n;
    int rv;
};

static int
item(struct igw_buf *b, const struct igw_ledger_entry *e, bool first)
{
    char amt[IGW_DEC_STRLEN], ts[40];
    unsigned st = e->status == IGW_PAY_SENT ? IGW_PAY_RCVD : e->status;
    int rv = first ? IGW_OK : igw_buf_putc(b, ',');

    (void)igw_dec_format(e->amount, amt);
    pay_timestamp(ts, sizeof(ts));
    rv = rv == IGW_OK ? igw_buf_puts(b, "{\"reference_id\":") : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(b, e->ref, strlen(e->ref)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(b, ",\"timestamp\":\"%s\",\"status\":\"%s\"", ts,
                                       igw_pay_status_name(st))
                      : rv;
    if (rv == IGW_OK && e->reason[0] != '\0') {
        rv = igw_buf_puts(b, ",\"status_reason_code\":");
        rv = rv == IGW_OK ? igw_buf_json_str(b, e->reason, strlen(e->reason)) : rv;
    }
    rv = rv == IGW_OK
             ? igw_buf_printf(b, ",\"amount\":\"%s\",\"currency_code\":\"%s\"}", amt, e->currency)
             : rv;
    return rv;
}

static int
of_txn(void *arg, const struct igw_ledger_entry *e)
{
    struct collect *c = arg;
    if (strcmp(e->txn, c->txn) != 0) {
        return 0;
    }
    c->rv = item(c->b, e, c->n == 0);
    c->n++;
    return c->rv;
}

static int
answer_err(struct igw_med *m, int status, const char *code, const char *msg)
{
    char ts[40];
    pay_timestamp(ts, sizeof(ts));
    m->answer.status = status;
    m->answer.content_type = "application/json";
    if (status == 401 || status == 503) {
        (void)igw_buf_printf(&m->answer.body, "{\"errors\":[{\"code\":\"%s\",\"message\":", code);
    } else {
        (void)igw_buf_printf(&m->answer.body,
                             "{\"message\":{\"ack_status\":\"ERR\",\"timestamp\":\"%s\","
                             "\"error\":{\"code\":\"%s\",\"message\":",
                             ts, code);
    }
    (void)igw_buf_json_str(&m->answer.body, msg, strlen(msg));
    (void)igw_buf_puts(&m->answer.body, status == 401 || status == 503 ? "}]}" : "}}}");
    return IGW_MED_ANSWER;
}

static int
txn_start(struct igw_med *m)
{
    igw_ledger *l = igw_payments_ledger();
    struct igw_node *root = NULL;
    const struct igw_node *msg, *rq, *val;
    const char *auth = m->header != NULL ? m->header(m->header_arg, "Authorization") : NULL;
    char type[32], rid[100], txn[IGW_LEDGER_TXN_MAX], payroll[IGW_LEDGER_TXN_MAX], ts[40];
    struct igw_buf items;
    unsigned n = 0;
    int rv;

    if (m->ch->ndci_partners > 0) {
        struct igw_partner_verdict v;
        if (igw_partner_intake(m->cfg, m->ch->dci_partners, m->ch->ndci_partners, auth, m->body,
                               m->body_len, &v) != IGW_OK) {
            return -IGW_ENOMEM;
        }
        if (v.status != 0) {
            return answer_err(m, v.status, v.code, v.msg);
        }
    }
    if (l == NULL) {
        return answer_err(m, 503, "err.service.unavailable", "the payments ledger is not open");
    }
    if (igw_json_parse(m->arena, m->body, m->body_len, NULL, &root, NULL) != IGW_OK) {
        return answer_err(m, 400, "err.request.bad", "the body is not JSON");
    }
    msg = igw_node_get(root, "message", 7);
    rq = igw_node_get(msg, "txnstatus_request", 17);
    val = igw_node_get(rq, "attribute_value", 15);
    (void)pay_str(msg, "transaction_id", rid, sizeof(rid));
    if (!pay_str(rq, "attribute_type", type, sizeof(type)) || val == NULL) {
        return answer_err(m, 400, "err.request.bad",
                          "message.txnstatus_request needs attribute_type and attribute_value");
    }
    igw_buf_init(&items, 16u << 20);
    if (strcmp(type, "transaction_id") == 0 && pay_str(rq, "attribute_value", txn, sizeof(txn))) {
        struct collect c = {&items, txn, 0, IGW_OK};
        char *dash;
        snprintf(payroll, sizeof(payroll), "%s", txn);
        dash = strrchr(payroll, '-');
        if (dash != NULL) {
            *dash = '\0';
            (void)igw_ledger_payroll_each(l, payroll, of_txn, &c);
        }
        n = c.n;
    } else if (strcmp(type, "reference_id_list") == 0 && val->type == IGW_NODE_ARRAY) {
        txn[0] = '\0';
        for (const struct igw_node *r = val->first; r != NULL && n < PAY_BATCH_MAX; r = r->next) {
            struct igw_ledger_entry e;
            char ref[IGW_LEDGER_REF_MAX];
            if (r->type == IGW_NODE_STRING && r->len < sizeof(ref)) {
                memcpy(ref, r->str, r->len);
                ref[r->len] = '\0';
                if (igw_ledger_get(l, ref, &e) == IGW_OK && item(&items, &e, n == 0) == IGW_OK) {
                    n++;
                    snprintf(txn, sizeof(txn), "%s", e.txn);
                }
            }
        }
    } else {
        igw_buf_fini(&items);
        return answer_err(m, 400, "err.request.bad",
                          "attribute_type must be transaction_id or reference_id_list");
    }
    if (n == 0) {
        igw_buf_fini(&items);
        return answer_err(m, 404, "err.request.not_found", "no disbursement of igw matches");
    }
    pay_timestamp(ts, sizeof(ts));
    m->answer.status = 200;
    m->answer.content_type = "application/json";
    rv = igw_buf_printf(&m->answer.body,
                        "{\"header\":{\"version\":\"1.0.0\",\"message_id\":\"igw-%s\","
                        "\"message_ts\":\"%s\",\"action\":\"txn-on-status\",\"status\":\"succ\","
                        "\"total_count\":%u,\"sender_id\":\"igw\",\"is_msg_encrypted\":false},"
                        "\"message\":{\"transaction_id\":",
                        ts, ts, n);
    rv = rv == IGW_OK ? igw_buf_json_str(&m->answer.body, rid, strlen(rid)) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&m->answer.body, ",\"correlation_id\":") : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(&m->answer.body, txn, strlen(txn)) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&m->answer.body, ",\"txnstatus_response\":{\"txn_type\":"
                                                      "\"on-disburse\",\"txn_status\":{"
                                                      "\"transaction_id\":")
                      : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(&m->answer.body, txn, strlen(txn)) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&m->answer.body, ",\"disbursements_status\":[") : rv;
    rv = rv == IGW_OK ? igw_buf_append(&m->answer.body, items.ptr, items.len) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&m->answer.body, "]}}}}") : rv;
    igw_buf_fini(&items);
    return rv == IGW_OK ? IGW_MED_ANSWER : -rv;
}

const struct igw_mediator_ops igw_mediator_g2p_txn_status = {
    .name = "g2p-txn-status",
    .description = "G2P Connect disburse txn status answered from igw's payments ledger",
    .start = txn_start,
};
