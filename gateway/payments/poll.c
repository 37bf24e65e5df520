/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Overdue transactions (docs/PAYMENTS.md, "Overdue"): a disbursement without a final status
 * payments.overdue_after after its last news makes igw ask the payment system
 * POST <base>/disburse/sync/txn/status about its transaction (attribute_type transaction_id);
 * the answer's DisburseResponse becomes a message of the callback channel (the g2p channel with
 * a g2p-ledger:<partner> route), annotated like a callback, so its routes apply it to the
 * ledger and send openIMIS the status update as for a callback; without such a channel it is
 * applied to the ledger directly. At most max transactions per scan, one request each, on the
 * disburse route's payments thread.
 */
#include <stdio.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/common.h"
#include "igw/err.h"
#include "igw/json.h"
#include "core/translate.h"
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

/* The g2p channel whose routes include g2p-ledger:<partner>, or NULL. */
static const struct igw_channel *
callback_channel(const struct igw_config *cfg, const char *partner)
{
    for (size_t i = 0; cfg != NULL && i < cfg->nchannels; i++) {
        const struct igw_channel *ch = &cfg->channels[i];
        if (ch->dialect == NULL || strcmp(ch->dialect, "g2p") != 0) {
            continue;
        }
        for (size_t j = 0; j < ch->nroutes; j++) {
            const char *u = ch->routes[j].url;
            if (u != NULL && strncmp(u, "g2p-ledger:", 11) == 0 && strcmp(u + 11, partner) == 0) {
                return ch;
            }
        }
    }
    return NULL;
}

/* The answer resp (a DisburseResponse) as an on-disburse message of the callback channel:
 * annotated with the ledger's view, translated for the routes that have a map, committed.
 * @return true when committed (else the caller applies it to the ledger itself). */
static bool
commit_answer(const struct igw_partner *partner, const char *txn, const struct igw_node *resp)
{
    const struct igw_config *cfg = igw_payments_config();
    const struct igw_channel *ch = callback_channel(cfg, partner->name);
    igw_queue *q = igw_payments_queue();
    igw_maps *maps = igw_payments_maps();
    igw_ledger *l = igw_payments_ledger();
    const struct igw_node *list = igw_node_get(resp, "disbursements_status", 20);
    struct igw_queue_route_init *ri = NULL;
    struct igw_xlate x;
    const struct igw_node *root = NULL;
    struct igw_node *msg_list;
    struct igw_buf body;
    char ts[40], err[IGW_ERRBUF_SIZE];
    bool ok = false;
    int rv;

    if (ch == NULL || q == NULL || l == NULL || list == NULL || list->type != IGW_NODE_ARRAY ||
        list->count == 0 || ch->nroutes > IGW_QUEUE_ROUTES_MAX) {
        return false;
    }
    for (const struct igw_node *it = list->first; it != NULL; it = it->next) {
        const struct igw_node *st = igw_node_get(it, "status", 6);
        char ref[IGW_LEDGER_REF_MAX];
        if (!pay_str(it, "reference_id", ref, sizeof(ref)) || st == NULL ||
            st->type != IGW_NODE_STRING || igw_pay_status_parse(st->str, st->len) < IGW_PAY_RCVD) {
            return false; /* what the dialect would refuse: applied directly, item by item */
        }
    }
    memset(&x, 0, sizeof(x));
    igw_buf_init(&body, 64u << 20);
    pay_timestamp(ts, sizeof(ts));
    rv = igw_buf_printf(&body,
                        "{\"header\":{\"version\":\"1.0.0\",\"message_id\":\"igw-poll-%s-%llu\","
                        "\"message_ts\":\"%s\",\"action\":\"on-disburse\",\"status\":\"succ\","
                        "\"sender_id\":\"igw.txn-status\",\"total_count\":%u},\"message\":",
                        txn, (unsigned long long)igw_now_ms(), ts, (unsigned)list->count);
    rv = rv == IGW_OK ? igw_json_write(resp, &body, 0) : rv;
    rv = rv == IGW_OK ? igw_buf_putc(&body, '}') : rv;
    rv = rv == IGW_OK
             ? igw_xlate_parse(&x, IGW_FMT_JSON, body.ptr, body.len, &root, err, sizeof(err))
             : rv;
    if (rv == IGW_OK) {
        /* the tree is ours, in x's arena: annotated as the dialect annotates a callback */
        msg_list = igw_node_get(igw_node_get(root, "message", 7), "disbursements_status", 20);
        for (struct igw_node *it = msg_list != NULL ? msg_list->first : NULL;
             rv == IGW_OK && it != NULL; it = it->next) {
            rv = pay_annotate(x.arena, it, txn, l);
        }
    }
    ri = rv == IGW_OK ? igw_calloc(ch->nroutes + 1, sizeof(*ri)) : NULL;
    if (ri != NULL) {
        struct igw_queue_msg m;
        for (size_t i = 0; i < ch->nroutes; i++) {
            ri[i].route = ch->routes[i].name;
        }
        rv = maps != NULL ? igw_xlate_run(&x, maps, ch, root, ri, err, sizeof(err)) : IGW_OK;
        memset(&m, 0, sizeof(m));
        m.channel = ch->name;
        m.content_type = "application/json";
        m.body = body.ptr;
        m.body_len = body.len;
        m.nroutes = (unsigned)ch->nroutes;
        m.routes = ri;
        rv = rv == IGW_OK ? igw_queue_put(q, &m, NULL, NULL) : rv;
        ok = rv == IGW_OK;
        if (ok && igw_payments_deliverer() != NULL) {
            igw_deliverer_kick(igw_payments_deliverer());
        }
    }
    igw_free(ri);
    igw_xlate_fini(&x);
    igw_buf_fini(&body);
    return ok;
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
                if (!commit_answer(partner, txn, r)) {
                    (void)pay_apply_response(r, igw_now_ms());
                }
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
