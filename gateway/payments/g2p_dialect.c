/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The g2p dialect (dialect: g2p; docs/PAYMENTS.md, 4): G2P Connect callbacks from a payment
 * system, on-disburse (and txn/on-status carrying a DisburseResponse). In order: the partner
 * checks of dci.partner (igw_partner_intake: credentials, signature, sender_uri), the
 * envelope (header.action, message.transaction_id, disbursements_status[] with reference_id
 * and a status rcvd|pdng|succ|rjct), then each item is correlated with the payments ledger (a
 * read, never waits) and annotated in the tree with igw {forward, benefit_uuid, payroll_uuid,
 * code, amount, currency} or igw {forward: false, mismatch} for the routes' maps
 * (g2p-on-disburse-to-openimis-status passes on only forward items). The ledger itself is
 * written by the g2p-ledger: route. Committed messages are answered with the DCI/G2P ACK, a
 * repeated message_id from the same sender NACK rjct.message_id.duplicate; refusals in the
 * spec's shapes (Response ERR, or HttpErrorResponse for 401/403/503).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/common.h"
#include "igw/decimal.h"
#include "igw/err.h"
#include "igw/queue.h"
#include "core/ingest.h"
#include "dialect/dialect.h"
#include "payments/pay_int.h"
#include "payments/payments.h"
#include "sign/sign.h"

#define CT "application/json"

/* {"message":{"ack_status":S,"timestamp":T,"correlation_id":C[,"error":{code,message}]}} */
static int
response(struct igw_buf *b, const char *status, const char *corr, const char *code, const char *msg)
{
    char ts[40];
    int rv;

    pay_timestamp(ts, sizeof(ts));
    rv = igw_buf_printf(b, "{\"message\":{\"ack_status\":\"%s\",\"timestamp\":\"%s\"", status, ts);
    if (rv == IGW_OK && corr != NULL) {
        rv = igw_buf_puts(b, ",\"correlation_id\":");
        rv = rv == IGW_OK ? igw_buf_json_str(b, corr, strlen(corr)) : rv;
    }
    if (rv == IGW_OK && code != NULL) {
        rv = igw_buf_printf(b, ",\"error\":{\"code\":\"%s\",\"message\":", code);
        rv = rv == IGW_OK ? igw_buf_json_str(b, msg, strlen(msg)) : rv;
        rv = rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    }
    return rv == IGW_OK ? igw_buf_puts(b, "}}") : rv;
}

static int
http_errors(struct igw_buf *b, const char *code, const char *msg)
{
    int rv = igw_buf_printf(b, "{\"errors\":[{\"code\":\"%s\",\"message\":", code);
    rv = rv == IGW_OK ? igw_buf_json_str(b, msg, strlen(msg)) : rv;
    return rv == IGW_OK ? igw_buf_puts(b, "}]}") : rv;
}

static int
refuse(struct igw_ingest *in, int status, const char *code, const char *msg, char *err,
       size_t errlen)
{
    char mid[100];
    int rv;

    (void)pay_str(igw_node_get(in->root, "header", 6), "message_id", mid, sizeof(mid));
    igw_buf_reset(&in->errbody);
    if (status == 401 || status == 403 || status == 503) {
        rv = http_errors(&in->errbody, code, msg);
    } else {
        rv = response(&in->errbody, "ERR", mid[0] != '\0' ? mid : NULL, code, msg);
    }
    if (rv != IGW_OK) {
        igw_buf_reset(&in->errbody);
        return IGW_ENOMEM;
    }
    in->errstatus = status;
    in->errtype = CT;
    igw_errbuf_set(err, errlen, "%s: %s", code, msg);
    return IGW_EPARSE;
}

static bool
key_ok(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s <= ' ' || *s > '~' || *s == '%') {
            return false;
        }
    }
    return true;
}

static int
g2p_key(const struct igw_ingest *in, char *key, size_t keylen)
{
    const struct igw_node *h = igw_node_get(in->root, "header", 6);
    char sid[100], mid[100];

    if (!pay_str(h, "sender_id", sid, sizeof(sid)) || !pay_str(h, "message_id", mid, sizeof(mid)) ||
        !key_ok(sid) || !key_ok(mid)) {
        return IGW_ENOENT;
    }
    snprintf(key, keylen, "g2p:%s:%s", sid, mid);
    return IGW_OK;
}

static int
g2p_check(struct igw_ingest *in, char *err, size_t errlen)
{
    struct igw_node *root = (struct igw_node *)(uintptr_t)in->root;
    const struct igw_node *h = igw_node_get(root, "header", 6);
    struct igw_node *msg = igw_node_get(root, "message", 7), *resp, *list;
    const char *auth = in->header != NULL ? in->header(in->header_arg, "Authorization") : NULL;
    char action[32], txn[IGW_LEDGER_TXN_MAX], msgbuf[200];
    igw_ledger *l;
    size_t i = 0;
    int rv;

    if (in->ch->ndci_partners > 0) {
        struct igw_partner_verdict v;
        rv = igw_partner_intake(NULL, in->ch->dci_partners, in->ch->ndci_partners, auth, in->body,
                                in->body_len, &v);
        if (rv != IGW_OK) {
            return rv;
        }
        if (v.status != 0) {
            return refuse(in, v.status, v.code, v.msg, err, errlen);
        }
    }
    if (root == NULL || root->type != IGW_NODE_OBJECT || h == NULL || h->type != IGW_NODE_OBJECT ||
        msg == NULL || msg->type != IGW_NODE_OBJECT) {
        return refuse(in, 400, "err.request.bad", "the envelope needs header and message objects",
                      err, errlen);
    }
    if (!pay_str(h, "action", action, sizeof(action)) ||
        (strcmp(action, "on-disburse") != 0 && strcmp(action, "txn-on-status") != 0)) {
        return refuse(in, 400, "rjct.action.invalid",
                      "header.action must be on-disburse (or txn-on-status)", err, errlen);
    }
    resp = msg;
    if (strcmp(action, "txn-on-status") == 0) {
        resp = igw_node_get(igw_node_get(msg, "txnstatus_response", 18), "txn_status", 10);
    }
    list = igw_node_get(resp, "disbursements_status", 20);
    if (!pay_str(resp, "transaction_id", txn, sizeof(txn))) {
        return refuse(in, 400, "err.request.bad",
                      "message.transaction_id is required (at most 111 characters)", err, errlen);
    }
    if (list == NULL || list->type != IGW_NODE_ARRAY || list->count == 0 ||
        list->count > PAY_BATCH_MAX) {
        return refuse(in, 400, "err.request.bad",
                      "message.disbursements_status must be an array of 1 to 10000 items", err,
                      errlen);
    }
    for (const struct igw_node *it = list->first; it != NULL; it = it->next, i++) {
        const struct igw_node *st = igw_node_get(it, "status", 6);
        char ref[IGW_LEDGER_REF_MAX];
        if (!pay_str(it, "reference_id", ref, sizeof(ref))) {
            snprintf(msgbuf, sizeof(msgbuf),
                     "message.disbursements_status[%zu].reference_id is required", i);
            return refuse(in, 400, "rjct.reference_id.invalid", msgbuf, err, errlen);
        }
        if (st == NULL || st->type != IGW_NODE_STRING ||
            igw_pay_status_parse(st->str, st->len) < IGW_PAY_RCVD) {
            snprintf(msgbuf, sizeof(msgbuf),
                     "message.disbursements_status[%zu].status must be rcvd, pdng, succ or rjct",
                     i);
            return refuse(in, 400, "err.request.bad", msgbuf, err, errlen);
        }
    }
    l = igw_payments_ledger();
    if (l == NULL) {
        return refuse(in, 503, "err.service.unavailable", "the payments ledger is not open", err,
                      errlen);
    }
    for (struct igw_node *it = list->first; it != NULL; it = it->next) {
        rv = pay_annotate(in->x.arena, it, txn, l);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}

static int
g2p_answer(const struct igw_ingest *in, uint64_t id, bool duplicate, struct igw_accept_resp *out)
{
    char qid[IGW_QUEUE_ID_STRLEN];
    int rv;

    IGW_UNUSED(in);
    igw_queue_id_format(id, qid);
    out->status = 200;
    out->content_type = CT;
    if (duplicate) {
        rv = response(&out->body, "NACK", qid, "rjct.message_id.duplicate",
                      "this sender already sent this message_id; nothing changes");
    } else {
        rv = response(&out->body, "ACK", qid, NULL, NULL);
    }
    return rv == IGW_OK ? IGW_OK : IGW_ENOMEM;
}

static int
g2p_refusal(const struct igw_channel *ch, struct igw_buf *b, int status, const char *code,
            const char *message, const char **content_type)
{
    IGW_UNUSED(ch);
    *content_type = CT;
    if (status == 401) {
        return http_errors(b, "err.request.unauthorized", message);
    }
    if (status == 403) {
        return http_errors(b, "err.request.forbidden", message);
    }
    if (status >= 500) {
        return http_errors(b, "err.service.unavailable", message);
    }
    IGW_UNUSED(code);
    return response(b, "ERR", NULL, status == 404 ? "err.request.not_found" : "err.request.bad",
                    message);
}

const struct igw_dialect_ops igw_dialect_g2p = {
    .name = "g2p",
    .description = "G2P Connect on-disburse callbacks: partner checks, correlation with the "
                   "payments ledger, ACK after the commit",
    .message_key = g2p_key,
    .check_input = g2p_check,
    .answer = g2p_answer,
    .refusal = g2p_refusal,
};
