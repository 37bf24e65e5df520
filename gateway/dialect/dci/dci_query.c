/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the DCI search mediators share (dci-search over openIMIS GraphQL, dci-fhir-search over a
 * FHIR R4 server): the walk over the query of one search_request item, which hands every
 * condition (attribute, operator, value) to the mediator's own translation, and the sync search
 * answer envelope (a callback header, action on-search, signed with igw's key when one is
 * configured). CPU only.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "igw/common.h"
#include "igw/json.h"
#include "dialect/dci/dci_int.h"
#include "mediate/mediator.h"
#include "sign/sign.h"

const struct igw_node *
dci_mem(const struct igw_node *obj, const char *key)
{
    return obj != NULL && obj->type == IGW_NODE_OBJECT ? igw_node_get(obj, key, strlen(key)) : NULL;
}

const char *
dci_str_of(const struct igw_node *obj, const char *key, const char *dflt)
{
    const struct igw_node *n = dci_mem(obj, key);
    return n != NULL && n->type == IGW_NODE_STRING ? n->str : dflt;
}

int
dci_kv(struct igw_buf *b, const char *key, const char *val, bool comma)
{
    int rv = igw_buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
    return rv == IGW_OK ? igw_buf_json_str(b, val, strlen(val)) : rv;
}

int
dci_item_head(struct igw_buf *b, bool *first, const struct igw_node *it, const char *status)
{
    char now[40];
    dci_now(now, sizeof(now));
    int rv = igw_buf_puts(b, *first ? "{" : ",{");
    *first = false;
    rv = rv == IGW_OK ? dci_kv(b, "reference_id", dci_str_of(it, "reference_id", ""), false) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "timestamp", now, true) : rv;
    return rv == IGW_OK ? dci_kv(b, "status", status, true) : rv;
}

int
dci_item_locale(struct igw_buf *b, const struct igw_node *it)
{
    int rv = dci_kv(b, "locale", dci_str_of(it, "locale", "eng"), true);
    return rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
}

int
dci_item_reject(struct igw_buf *b, bool *first, const struct igw_node *it, const char *code,
                const char *msg)
{
    int rv = dci_item_head(b, first, it, "rjct");
    rv = rv == IGW_OK ? dci_kv(b, "status_reason_code", code, true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "status_reason_message", msg, true) : rv;
    return rv == IGW_OK ? dci_item_locale(b, it) : rv;
}

static const char *
mongo_op(const char *k)
{
    static const char *const ops[][2] = {{"$eq", "eq"}, {"$gt", "gt"},  {"$gte", "ge"},
                                         {"$lt", "lt"}, {"$lte", "le"}, {"$in", "in"}};
    for (size_t i = 0; i < IGW_ARRAY_LEN(ops); i++) {
        if (strcmp(k, ops[i][0]) == 0) {
            return ops[i][1];
        }
    }
    return NULL;
}

/* A NoSql expression document: {"$and": [doc...]}, {attr: scalar}, {attr: {"$op": v, ...}}. */
static int
expr_doc(const struct igw_node *d, int depth, dci_cond_fn fn, void *arg, const char **why)
{
    int rv = IGW_OK;
    if (d == NULL || d->type != IGW_NODE_OBJECT || depth > 8) {
        *why = "an expression is an object of conditions";
        return IGW_EPARSE;
    }
    for (const struct igw_node *c = d->first; rv == IGW_OK && c != NULL; c = c->next) {
        if (strcmp(c->key, "$and") == 0 && c->type == IGW_NODE_ARRAY) {
            for (const struct igw_node *e = c->first; rv == IGW_OK && e != NULL; e = e->next) {
                rv = expr_doc(e, depth + 1, fn, arg, why);
            }
        } else if (c->key[0] == '$') {
            *why = "only $and combines conditions ($or, $not ... are not supported)";
            return IGW_EPARSE;
        } else if (c->type == IGW_NODE_OBJECT) {
            for (const struct igw_node *o = c->first; rv == IGW_OK && o != NULL; o = o->next) {
                const char *op = mongo_op(o->key);
                if (op == NULL) {
                    *why = "unknown operator ($eq, $gt, $gte, $lt, $lte)";
                    return IGW_EPARSE;
                }
                rv = fn(arg, c->key, op, o, why);
            }
        } else {
            rv = fn(arg, c->key, "eq", c, why);
        }
    }
    return rv;
}

int
dci_query_walk(const struct igw_node *crit, dci_cond_fn fn, void *arg, const char **why)
{
    const char *qt = dci_str_of(crit, "query_type", "");
    const struct igw_node *query = dci_mem(crit, "query");
    int rv = IGW_OK;

    if (query != NULL && query->type == IGW_NODE_ARRAY) { /* predicate (also sent as another
                                                           * query_type: drift 7.10) */
        for (const struct igw_node *p = query->first; rv == IGW_OK && p != NULL; p = p->next) {
            const char *cnd = dci_str_of(p, "condition", "and");
            const struct igw_node *e1 = dci_mem(p, "expression1"), *e2 = dci_mem(p, "expression2");
            if (strcasecmp(cnd, "and") != 0 && !(e2 == NULL && p->next == NULL)) {
                *why = "only the condition and is supported";
                return IGW_EPARSE;
            }
            for (const struct igw_node *e = e1; rv == IGW_OK && e != NULL;
                 e = e == e1 ? e2 : NULL) {
                rv = fn(arg, dci_str_of(e, "attribute_name", ""), dci_str_of(e, "operator", ""),
                        dci_mem(e, "attribute_value"), why);
            }
        }
        return rv;
    }
    if (strcmp(qt, "expression") == 0 || dci_mem(dci_mem(query, "value"), "expression") != NULL) {
        const struct igw_node *ex = dci_mem(dci_mem(query, "value"), "expression");
        if (ex != NULL && ex->type == IGW_NODE_STRING) {
            *why = "igw answers expressions in the NoSql (document) shape, not query text";
            return IGW_EPARSE;
        }
        return expr_doc(dci_mem(ex, "query") != NULL ? dci_mem(ex, "query") : ex, 0, fn, arg, why);
    }
    /* idtype-value */
    return fn(arg, dci_str_of(query, "type", ""), "eq", dci_mem(query, "value"), why);
}

int
dci_search_envelope(struct igw_med *m, const struct igw_node *req, size_t n,
                    const struct igw_buf *items)
{
    const struct igw_node *h = dci_mem(req, "header");
    struct igw_buf hb, mb;
    char now[40], mid[128], err[IGW_ERRBUF_SIZE];
    const char *mid_in = dci_str_of(h, "message_id", "search");
    /* an async search answered at delivery time (internal): the correlation_id its ACK gave */
    const char *qid =
        m->internal && m->header != NULL ? m->header(m->header_arg, "X-Igw-Message-Id") : NULL;
    int rv;

    dci_now(now, sizeof(now));
    snprintf(mid, sizeof(mid), "%.90s-on-search", mid_in);
    igw_buf_init(&hb, 64 * 1024);
    igw_buf_init(&mb, 16u * 1024u * 1024u);
    rv = igw_buf_puts(&hb, "{\"version\":\"1.0.0\"");
    rv = rv == IGW_OK ? dci_kv(&hb, "message_id", mid, true) : rv;
    rv = rv == IGW_OK ? dci_kv(&hb, "message_ts", now, true) : rv;
    rv = rv == IGW_OK ? dci_kv(&hb, "action", "on-search", true) : rv;
    rv = rv == IGW_OK ? dci_kv(&hb, "status", "succ", true) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(&hb, ",\"total_count\":%zu,\"completed_count\":%zu", n, n)
                      : rv;
    rv = rv == IGW_OK ? dci_kv(&hb, "sender_id", dci_str_of(h, "receiver_id", "igw"), true) : rv;
    rv = rv == IGW_OK ? dci_kv(&hb, "receiver_id", dci_str_of(h, "sender_id", ""), true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&hb, ",\"is_msg_encrypted\":false}") : rv;
    rv = rv == IGW_OK ? igw_buf_putc(&mb, '{') : rv;
    rv = rv == IGW_OK ? dci_kv(&mb, "transaction_id",
                               dci_str_of(dci_mem(req, "message"), "transaction_id", ""), false)
                      : rv;
    rv = rv == IGW_OK ? dci_kv(&mb, "correlation_id", qid != NULL ? qid : mid_in, true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&mb, ",\"search_response\":[") : rv;
    rv = rv == IGW_OK && items->len > 0 ? igw_buf_append(&mb, items->ptr, items->len) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&mb, "]}") : rv;
    igw_buf_reset(&m->answer.body);
    if (rv == IGW_OK) {
        /* signed with igw's key when one is configured, else "signature":"". An answer to
         * igw's own route (answer_from: an async search's on-search) goes unsigned: the route's
         * signing body hook signs it or not, as the route's sign and the partner's sign say */
        struct igw_buf sig;
        igw_buf_init(&sig, 64 * 1024);
        int srv = m->internal
                      ? IGW_ENOENT
                      : igw_sign_envelope(hb.ptr, hb.len, mb.ptr, mb.len, &sig, err, sizeof(err));
        rv = igw_buf_puts(&m->answer.body, "{\"signature\":");
        rv = rv == IGW_OK ? igw_buf_json_str(&m->answer.body, srv == IGW_OK ? sig.ptr : "",
                                             srv == IGW_OK ? sig.len : 0)
                          : rv;
        igw_buf_fini(&sig);
        rv = rv == IGW_OK ? igw_buf_puts(&m->answer.body, ",\"header\":") : rv;
        rv = rv == IGW_OK ? igw_buf_append(&m->answer.body, hb.ptr, hb.len) : rv;
        rv = rv == IGW_OK ? igw_buf_puts(&m->answer.body, ",\"message\":") : rv;
        rv = rv == IGW_OK ? igw_buf_append(&m->answer.body, mb.ptr, mb.len) : rv;
        rv = rv == IGW_OK ? igw_buf_putc(&m->answer.body, '}') : rv;
    }
    igw_buf_fini(&hb);
    igw_buf_fini(&mb);
    if (rv != IGW_OK) {
        snprintf(m->err, sizeof(m->err), "the answer could not be written");
        return -IGW_ENOMEM;
    }
    m->answer.status = 200;
    m->answer.content_type = DCI_CT;
    return IGW_MED_ANSWER;
}
