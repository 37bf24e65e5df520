/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dci-txn-status mediator (docs/DCI.md, "Transaction status"): /registry/sync/txn/status
 * answered from igw's own state, without an upstream call. The transaction is found by the
 * correlation_id igw's ACK gave (the queue id of the committed message: igw_queue_message_get,
 * then igw_queue_deliveries, reads that never wait for the queue's writer) and only when it
 * came from the same sender_id. Its state is the state of its deliveries (the callback and
 * whatever else the channel routes it to):
 *
 *   received             no delivery attempted yet            rcvd
 *   in progress          a delivery pending after an attempt,  pdng
 *                        or in flight
 *   callback delivered   every delivery delivered              succ
 *   failed               a delivery dead-lettered              rjct
 *
 * The answer is a TxnStatusResponse in a callback header (action txn-on-status), with a
 * txn_status shaped as the original request's answer (SearchResponse, SubscribeResponse or
 * UnSubscribeResponse) carrying its reference_ids and the state. Found by transaction_id or
 * reference ids it is not: igw keeps no index of them (404 err.request.not_found says so).
 */
#include <stdio.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/common.h"
#include "igw/doc.h"
#include "igw/queue.h"
#include "dialect/dci/dci_int.h"
#include "mediate/mediator.h"
#include "sign/sign.h"

#define MAX_ROUTES 256 /* deliveries looked at per message (a channel has fewer routes) */

static int
txn_init(const struct igw_channel *ch, void **state, char *err, size_t errlen)
{
    size_t pl = ch->path != NULL ? strlen(ch->path) : 0;
    static const char sfx[] = "/registry/sync/txn/status";
    bool sync_path = pl >= sizeof(sfx) - 1 && strcmp(ch->path + pl - (sizeof(sfx) - 1), sfx) == 0;
    bool sync_opt =
        ch->dci_action != NULL && strcmp(ch->dci_action, "txn-status") == 0 && ch->dci_sync;

    *state = NULL;
    if (ch->dialect == NULL || strcmp(ch->dialect, "dci") != 0 || !(sync_path || sync_opt)) {
        igw_errbuf_set(err, errlen,
                       "answer: dci-txn-status needs dialect: dci on a /registry/sync/txn/status "
                       "path (or dci: { action: txn-status, sync: true })");
        return IGW_ECONFIG;
    }
    return IGW_OK;
}

/* The DCI RequestStatus of a message from its deliveries, and igw's word for it. */
static const char *
state_of(igw_arena *a, igw_queue *q, uint64_t id, const char **what)
{
    struct igw_queue_delivery_info *d = igw_arena_alloc(a, MAX_ROUTES * sizeof(*d));
    unsigned n = 0, delivered = 0, dead = 0, tried = 0;

    if (d == NULL) {
        return NULL;
    }
    if (igw_queue_deliveries(q, id, d, MAX_ROUTES, &n) != IGW_OK) {
        n = 0;
    }
    for (unsigned i = 0; i < n; i++) {
        delivered += d[i].state == IGW_DS_DELIVERED;
        dead += d[i].state == IGW_DS_DEAD;
        tried += d[i].state == IGW_DS_INFLIGHT || d[i].attempts > 0;
    }
    if (dead > 0) {
        *what = "failed: a delivery was given up (dead-lettered)";
        return "rjct";
    }
    if (n > 0 && delivered == n) {
        *what = "callback delivered";
        return "succ";
    }
    if (tried > 0 || delivered > 0) {
        *what = "in progress";
        return "pdng";
    }
    *what = "received";
    return "rcvd";
}

/* One item of the answer's list: reference_id, timestamp, status, status_reason_message. */
static int
item(struct igw_buf *b, const char *ref, const char *now, const char *st, const char *what,
     bool comma)
{
    int rv = igw_buf_puts(b, comma ? ",{" : "{");
    rv = rv == IGW_OK ? dci_kv(b, "reference_id", ref, false) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "timestamp", now, true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "status", st, true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "status_reason_message", what, true) : rv;
    return rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
}

/* txn_status: the original request's answer shape with its reference ids and the state. */
static int
txn_status(struct igw_buf *b, const struct igw_node *orig, const char *corr, const char *now,
           const char *st, const char *what)
{
    const struct igw_node *msg = dci_mem(orig, "message");
    const char *action = dci_str_of(dci_mem(orig, "header"), "action", "search");
    bool sub = strcmp(action, "subscribe") == 0;
    const struct igw_node *list = dci_mem(msg, sub ? "subscribe_request" : "search_request");
    int rv = igw_buf_putc(b, '{');
    bool first = true;

    rv = rv == IGW_OK ? dci_kv(b, "transaction_id", dci_str_of(msg, "transaction_id", ""), false)
                      : rv;
    rv = rv == IGW_OK ? dci_kv(b, "correlation_id", corr, true) : rv;
    if (strcmp(action, "unsubscribe") == 0) {
        rv = rv == IGW_OK ? dci_kv(b, "timestamp", now, true) : rv;
        rv = rv == IGW_OK ? dci_kv(b, "status", st, true) : rv;
        rv = rv == IGW_OK ? dci_kv(b, "status_reason_message", what, true) : rv;
        return rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    }
    rv = rv == IGW_OK
             ? igw_buf_printf(b, ",\"%s\":[", sub ? "subscribe_response" : "search_response")
             : rv;
    if (list != NULL && list->type == IGW_NODE_OBJECT) {
        rv =
            rv == IGW_OK ? item(b, dci_str_of(list, "reference_id", ""), now, st, what, false) : rv;
        first = false;
    }
    for (const struct igw_node *it = list != NULL && list->type == IGW_NODE_ARRAY ? list->first
                                                                                  : NULL;
         rv == IGW_OK && it != NULL; it = it->next) {
        rv = item(b, dci_str_of(it, "reference_id", ""), now, st, what, !first);
        first = false;
    }
    if (rv == IGW_OK && first) {
        rv = item(b, "", now, st, what, false); /* reference_id is required in an item */
    }
    return rv == IGW_OK ? igw_buf_puts(b, "]}") : rv;
}

/* The whole answer: callback header, TxnStatusResponse. */
static int
answer(struct igw_med *m, const struct igw_node *req, const struct igw_node *orig, const char *corr,
       const char *st, const char *what)
{
    const struct igw_node *h = dci_mem(req, "header");
    const struct igw_node *tr = dci_mem(dci_mem(req, "message"), "txnstatus_request");
    struct igw_buf *b = &m->answer.body;
    char now[40], mid[128];
    int rv;

    dci_now(now, sizeof(now));
    snprintf(mid, sizeof(mid), "%.80s-status", dci_str_of(h, "message_id", "txn"));
    igw_buf_reset(b);
    rv = igw_buf_puts(b, "{\"signature\":\"\",\"header\":{\"version\":\"1.0.0\"");
    rv = rv == IGW_OK ? dci_kv(b, "message_id", mid, true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "message_ts", now, true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "action", "txn-on-status", true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "status", "succ", true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"total_count\":1,\"completed_count\":1") : rv;
    rv = rv == IGW_OK ? dci_kv(b, "sender_id", dci_str_of(h, "receiver_id", "igw"), true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "receiver_id", dci_str_of(h, "sender_id", ""), true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"is_msg_encrypted\":false},\"message\":{") : rv;
    rv = rv == IGW_OK ? dci_kv(b, "transaction_id",
                               dci_str_of(dci_mem(req, "message"), "transaction_id", ""), false)
                      : rv;
    rv = rv == IGW_OK ? dci_kv(b, "correlation_id", corr, true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"txnstatus_response\":{") : rv;
    rv = rv == IGW_OK ? dci_kv(b, "txn_type", dci_str_of(tr, "txn_type", "search"), false) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"txn_status\":") : rv;
    rv = rv == IGW_OK ? txn_status(b, orig, corr, now, st, what) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, "}}}") : rv;
    if (rv != IGW_OK) {
        return -IGW_ENOMEM;
    }
    m->answer.status = 200;
    m->answer.content_type = DCI_CT;
    return IGW_MED_ANSWER;
}

/* No transaction to report. To an inbound (sync) request: 404 err.request.not_found. To an
 * async txn/status answered at delivery time (internal): a txn/on-status whose header says
 * rjct with the reason, so the asker still gets its callback. */
static int
not_found(struct igw_med *m, const struct igw_node *req, const char *mid, const char *why)
{
    const struct igw_node *h = dci_mem(req, "header");
    const struct igw_node *tr = dci_mem(dci_mem(req, "message"), "txnstatus_request");
    struct igw_buf *b = &m->answer.body;
    char now[40], cbid[128];
    int rv;

    if (!m->internal) {
        return dci_answer_err(m, 404, mid, "err.request.not_found", why);
    }
    dci_now(now, sizeof(now));
    snprintf(cbid, sizeof(cbid), "%.80s-status", dci_str_of(h, "message_id", "txn"));
    igw_buf_reset(b);
    rv = igw_buf_puts(b, "{\"signature\":\"\",\"header\":{\"version\":\"1.0.0\"");
    rv = rv == IGW_OK ? dci_kv(b, "message_id", cbid, true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "message_ts", now, true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "action", "txn-on-status", true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "status", "rjct", true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "status_reason_message", why, true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"total_count\":1,\"completed_count\":0") : rv;
    rv = rv == IGW_OK ? dci_kv(b, "sender_id", dci_str_of(h, "receiver_id", "igw"), true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "receiver_id", dci_str_of(h, "sender_id", ""), true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"is_msg_encrypted\":false},\"message\":{") : rv;
    rv = rv == IGW_OK ? dci_kv(b, "transaction_id",
                               dci_str_of(dci_mem(req, "message"), "transaction_id", ""), false)
                      : rv;
    rv = rv == IGW_OK ? dci_kv(b, "correlation_id", dci_str_of(tr, "attribute_value", ""), true)
                      : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"txnstatus_response\":{") : rv;
    rv = rv == IGW_OK ? dci_kv(b, "txn_type", dci_str_of(tr, "txn_type", "search"), false) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, "}}}") : rv;
    if (rv != IGW_OK) {
        return -IGW_ENOMEM;
    }
    m->answer.status = 200;
    m->answer.content_type = DCI_CT;
    return IGW_MED_ANSWER;
}

static int
txn_start(struct igw_med *m)
{
    const struct igw_dci_endpoint *ep = igw_dci_endpoint_find("txn-status", true);
    struct igw_node *req = NULL, *orig = NULL;
    struct igw_queue_message qm;
    struct igw_dci_error e;
    const struct igw_node *tr;
    const char *mid, *atype, *aval, *st, *what = "";
    uint64_t id = 0;
    int rv;

    if (igw_json_parse(m->arena, m->body, m->body_len, NULL, &req, NULL) != IGW_OK) {
        return dci_answer_err(m, 400, NULL, "err.request.bad", "the body is not JSON");
    }
    mid = dci_str_of(dci_mem(req, "header"), "message_id", NULL);
    rv = dci_partner_check(m, mid, NULL);
    if (rv != IGW_OK) {
        return rv;
    }
    if (!igw_dci_validate(req, ep, &e)) {
        return dci_answer_err(m, 400, mid, e.code, e.message);
    }
    tr = dci_mem(dci_mem(req, "message"), "txnstatus_request");
    atype = dci_str_of(tr, "attribute_type", "");
    aval = dci_str_of(tr, "attribute_value", "");
    if (strcmp(atype, "correlation_id") != 0) {
        return not_found(m, req, mid,
                         "igw finds a transaction by the correlation_id of its ACK "
                         "(attribute_type correlation_id)");
    }
    if (m->queue == NULL) {
        return dci_answer_err(m, 503, mid, "err.service.unavailable", "no queue to look in");
    }
    if (igw_queue_id_parse(aval, &id) != IGW_OK) {
        return not_found(m, req, mid, "no transaction has it");
    }
    rv = igw_queue_message_get(m->queue, id, &qm);
    if (rv == IGW_OK &&
        igw_json_parse(m->arena, qm.body.ptr, qm.body.len, NULL, &orig, NULL) != IGW_OK) {
        orig = NULL;
    }
    igw_queue_message_fini(&qm);
    if (rv == IGW_ENOMEM) {
        return -IGW_ENOMEM;
    }
    /* only the sender of the transaction learns about it */
    if (orig == NULL || strcmp(dci_str_of(dci_mem(orig, "header"), "sender_id", ""),
                               dci_str_of(dci_mem(req, "header"), "sender_id", "-")) != 0) {
        return not_found(m, req, mid, "no transaction of this sender has that correlation_id");
    }
    st = state_of(m->arena, m->queue, id, &what);
    return st != NULL ? answer(m, req, orig, aval, st, what) : -IGW_ENOMEM;
}

const struct igw_mediator_ops igw_mediator_dci_txn_status = {
    .name = "dci-txn-status",
    .description = "DCI /registry/sync/txn/status answered from igw's own state of the "
                   "transaction (received, in progress, callback delivered, failed)",
    .channel_init = txn_init,
    .start = txn_start,
};
