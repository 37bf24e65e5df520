/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the DCI search mediators share (dci-search over openIMIS GraphQL, dci-fhir-search over a
 * FHIR R4 server): the walk over the query of one search_request item, which hands every
 * condition (attribute, operator, values) to the mediator's own translation (and, or and not
 * become conditions the upstream searches can AND: an or of one attribute its list of values,
 * a not the negated operator), and the sync search
 * answer envelope (a callback header, action on-search, signed with igw's key when one is
 * configured). CPU only.
 */
#include <stdio.h>
#include <stdlib.h>
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
                                         {"$lt", "lt"}, {"$lte", "le"}, {"$in", "in"},
                                         {"$ne", "ne"}};
    for (size_t i = 0; i < IGW_ARRAY_LEN(ops); i++) {
        if (strcmp(k, ops[i][0]) == 0) {
            return ops[i][1];
        }
    }
    return NULL;
}

/* The operator that negates op (not gt = le ...); NULL when none can (in: "not in"). */
static const char *
negate(const char *op)
{
    static const char *const neg[][2] = {{"eq", "ne"}, {"ne", "eq"}, {"gt", "le"},
                                         {"ge", "lt"}, {"lt", "ge"}, {"le", "gt"}};
    for (size_t i = 0; i < IGW_ARRAY_LEN(neg); i++) {
        if (strcmp(op, neg[i][0]) == 0) {
            return neg[i][1];
        }
    }
    return NULL;
}

/* The walk: the callback and, for the condition being built, its values (an in list, or an or
 * of eq/in on one attribute; one condition is built at a time). A predicate's attribute_value
 * is a string in the schema, so an in list there is comma-separated: its parts are nodes of
 * split[], pointing into the string. */
struct walk {
    dci_cond_fn fn;
    void *arg;
    const char **why;
    const char *attr;
    const struct igw_node *vals[DCI_QUERY_VALUES_MAX];
    size_t n;
    struct igw_node split[DCI_QUERY_VALUES_MAX];
    size_t nsplit;
};

static int
refuse(struct walk *w, const char *why)
{
    *w->why = why;
    return IGW_EPARSE;
}

static int
add_one(struct walk *w, const struct igw_node *v)
{
    if (w->n == DCI_QUERY_VALUES_MAX) {
        return refuse(w, "at most 64 values in one in list (or an or of them)");
    }
    w->vals[w->n++] = v;
    return IGW_OK;
}

/* Adds the values of an in's val to w: an array's members, a string's comma-separated parts
 * (blanks around them dropped), else val itself. */
static int
add_vals(struct walk *w, const struct igw_node *val)
{
    int rv = IGW_OK;

    if (val != NULL && val->type == IGW_NODE_ARRAY) {
        for (const struct igw_node *v = val->first; rv == IGW_OK && v != NULL; v = v->next) {
            rv = add_one(w, v);
        }
    } else if (val != NULL && val->type == IGW_NODE_STRING) {
        const char *s = val->str, *end = val->str + val->len;
        while (rv == IGW_OK && s <= end) {
            const char *c = memchr(s, ',', (size_t)(end - s));
            const char *e = c != NULL ? c : end, *b = s;
            while (b < e && (*b == ' ' || *b == '\t')) {
                b++;
            }
            while (e > b && (e[-1] == ' ' || e[-1] == '\t')) {
                e--;
            }
            if (e > b) {
                struct igw_node *n = &w->split[w->nsplit % DCI_QUERY_VALUES_MAX];
                memset(n, 0, sizeof(*n));
                n->type = IGW_NODE_STRING;
                n->str = b;
                n->len = (uint32_t)(e - b);
                w->nsplit++;
                rv = add_one(w, n);
            }
            s = (c != NULL ? c : end) + 1;
        }
    } else {
        rv = add_one(w, val);
    }
    return rv == IGW_OK && w->n == 0 ? refuse(w, "an in list needs at least one value") : rv;
}

/* Hands the condition built in w to fn: eq for one value, in for more. */
static int
flush(struct walk *w)
{
    int rv = w->fn(w->arg, w->attr, w->n == 1 ? "eq" : "in", w->vals, w->n, w->why);
    w->attr = NULL;
    w->n = 0;
    w->nsplit = 0;
    return rv;
}

/* One condition (attr op val, negated when neg) to fn. */
static int
emit(struct walk *w, const char *attr, const char *op, const struct igw_node *val, bool neg)
{
    if (strcmp(op, "in") == 0) {
        if (neg) {
            return refuse(w, "not in cannot be searched (no upstream filter excludes a list)");
        }
        w->attr = attr;
        int rv = add_vals(w, val);
        return rv == IGW_OK ? flush(w) : rv;
    }
    if (val != NULL && val->type == IGW_NODE_ARRAY) {
        return refuse(w, "a list of values needs the operator in");
    }
    if (neg && negate(op) == NULL) {
        return refuse(w, "unknown operator (eq, gt, ge, lt, le, in)");
    }
    w->vals[0] = val;
    return w->fn(w->arg, attr, neg ? negate(op) : op, w->vals, 1, w->why);
}

/* Adds "attr op val" to the or being built in w: every member of an or names the same
 * attribute with eq or in (the upstream searches AND their parameters; an or of one attribute
 * is its list of values). */
static int
or_add(struct walk *w, const char *attr, const char *op, const struct igw_node *val)
{
    if (strcmp(op, "eq") != 0 && strcmp(op, "in") != 0) {
        return refuse(w, "or joins conditions with eq or in only (an or of gt/ge/lt/le, or of "
                         "a negation, cannot be searched upstream)");
    }
    if (w->attr != NULL && strcmp(w->attr, attr) != 0) {
        return refuse(w, "or joins conditions on the same attribute only (the registry's search "
                         "ANDs its parameters: an or across attributes cannot be searched)");
    }
    if (strcmp(op, "eq") == 0 && val != NULL && val->type == IGW_NODE_ARRAY) {
        return refuse(w, "a list of values needs the operator in");
    }
    w->attr = attr;
    return strcmp(op, "eq") == 0 ? add_one(w, val) : add_vals(w, val);
}

/* The single condition of an $or member {attr: v} or {attr: {"$eq"|"$in": v}} into w. */
static int
or_member(struct walk *w, const struct igw_node *d)
{
    const struct igw_node *k = d != NULL && d->type == IGW_NODE_OBJECT ? d->first : NULL;
    const struct igw_node *o = k != NULL && k->type == IGW_NODE_OBJECT ? k->first : NULL;

    if (k == NULL || k->next != NULL || k->key[0] == '$' ||
        (o != NULL && (o->next != NULL || mongo_op(o->key) == NULL))) {
        return refuse(w, "each member of $or is one condition {attribute: value} or "
                         "{attribute: {$eq|$in: ...}}");
    }
    return o == NULL ? or_add(w, k->key, "eq", k) : or_add(w, k->key, mongo_op(o->key), o);
}

/* A NoSql expression document: {"$and": [doc...]}, {"$or": [doc...]} (one attribute),
 * {attr: scalar}, {attr: {"$op": v, ...}}, {attr: {"$not": {"$op": v}}}. */
static int
expr_doc(struct walk *w, const struct igw_node *d, int depth)
{
    int rv = IGW_OK;
    if (d == NULL || d->type != IGW_NODE_OBJECT || depth > 8) {
        return refuse(w, "an expression is an object of conditions");
    }
    for (const struct igw_node *c = d->first; rv == IGW_OK && c != NULL; c = c->next) {
        if (strcmp(c->key, "$and") == 0 && c->type == IGW_NODE_ARRAY) {
            for (const struct igw_node *e = c->first; rv == IGW_OK && e != NULL; e = e->next) {
                rv = expr_doc(w, e, depth + 1);
            }
        } else if (strcmp(c->key, "$or") == 0 && c->type == IGW_NODE_ARRAY) {
            for (const struct igw_node *e = c->first; rv == IGW_OK && e != NULL; e = e->next) {
                rv = or_member(w, e);
            }
            if (rv == IGW_OK && w->attr == NULL) {
                return refuse(w, "$or needs at least one condition");
            }
            rv = rv == IGW_OK ? flush(w) : rv;
        } else if (c->key[0] == '$') {
            return refuse(w, "$and and $or combine conditions ($nor, $not at the top ... are "
                             "not supported)");
        } else if (c->type == IGW_NODE_OBJECT) {
            for (const struct igw_node *o = c->first; rv == IGW_OK && o != NULL; o = o->next) {
                bool neg = strcmp(o->key, "$not") == 0;
                const struct igw_node *x = neg ? o->first : o;
                const char *op = NULL;
                if (x != NULL && (!neg || (o->type == IGW_NODE_OBJECT && x->next == NULL))) {
                    op = mongo_op(x->key);
                }
                if (op == NULL) {
                    return refuse(w, "unknown operator ($eq, $ne, $gt, $gte, $lt, $lte, $in, "
                                     "$not: {$op})");
                }
                rv = emit(w, c->key, op, x, neg);
            }
        } else {
            rv = emit(w, c->key, "eq", c, false);
        }
    }
    return rv;
}

/* One predicate item {expression1, condition, expression2}: "and" both; "or" the values of
 * both (one attribute, eq/in); "not" expression1 and not expression2 (without an
 * expression2: not expression1). */
static int
predicate(struct walk *w, const struct igw_node *p)
{
    const char *cnd = dci_str_of(p, "condition", "and");
    const struct igw_node *e1 = dci_mem(p, "expression1"), *e2 = dci_mem(p, "expression2");
    const struct igw_node *es[2] = {e1, e2};
    bool neg_last = strcasecmp(cnd, "not") == 0;
    int rv = IGW_OK;

    if (strcasecmp(cnd, "or") == 0 && e1 != NULL && e2 != NULL) {
        for (size_t i = 0; rv == IGW_OK && i < 2; i++) {
            rv = or_add(w, dci_str_of(es[i], "attribute_name", ""),
                        dci_str_of(es[i], "operator", ""), dci_mem(es[i], "attribute_value"));
        }
        return rv == IGW_OK ? flush(w) : rv;
    }
    if (strcasecmp(cnd, "and") != 0 && strcasecmp(cnd, "or") != 0 && !neg_last) {
        return refuse(w, "condition is and, or or not");
    }
    for (size_t i = 0; rv == IGW_OK && i < 2; i++) {
        if (es[i] != NULL) {
            rv = emit(w, dci_str_of(es[i], "attribute_name", ""), dci_str_of(es[i], "operator", ""),
                      dci_mem(es[i], "attribute_value"), neg_last && (i == 1 || e2 == NULL));
        }
    }
    return rv;
}

int
dci_query_walk(const struct igw_node *crit, dci_cond_fn fn, void *arg, const char **why)
{
    const char *qt = dci_str_of(crit, "query_type", "");
    const struct igw_node *query = dci_mem(crit, "query");
    struct walk *w = igw_calloc(1, sizeof(*w));
    int rv = IGW_OK;

    if (w == NULL) {
        return IGW_ENOMEM;
    }
    w->fn = fn;
    w->arg = arg;
    w->why = why;
    if (query != NULL && query->type == IGW_NODE_ARRAY) { /* predicate (also sent as another
                                                           * query_type: drift 7.10) */
        for (const struct igw_node *p = query->first; rv == IGW_OK && p != NULL; p = p->next) {
            rv = predicate(w, p);
        }
    } else if (strcmp(qt, "expression") == 0 ||
               dci_mem(dci_mem(query, "value"), "expression") != NULL) {
        const struct igw_node *ex = dci_mem(dci_mem(query, "value"), "expression");
        if (ex != NULL && ex->type == IGW_NODE_STRING) {
            rv = refuse(w, "igw answers expressions in the NoSql (document) shape, not query text");
        } else {
            rv = expr_doc(w, dci_mem(ex, "query") != NULL ? dci_mem(ex, "query") : ex, 0);
        }
    } else { /* idtype-value */
        rv = emit(w, dci_str_of(query, "type", ""), "eq", dci_mem(query, "value"), false);
    }
    igw_free(w);
    return rv;
}

/* ---- the item loop of the search mediators ----------------------------------------------- */

long
dci_num_of(const struct igw_node *obj, const char *key, long dflt)
{
    const struct igw_node *n = dci_mem(obj, key);
    if (n != NULL && n->type == IGW_NODE_NUMBER) {
        return (long)n->num;
    }
    if (n != NULL && n->type == IGW_NODE_STRING && n->str[0] >= '0' && n->str[0] <= '9') {
        return strtol(n->str, NULL, 10); /* drift 7.1 */
    }
    return dflt;
}

int
dci_answer_err(struct igw_med *m, int status, const char *corr, const char *code, const char *msg)
{
    igw_buf_reset(&m->answer.body);
    if (dci_response(&m->answer.body, "ERR", corr, code, msg) != IGW_OK) {
        return -IGW_ENOMEM;
    }
    m->answer.status = status;
    m->answer.content_type = DCI_CT;
    return IGW_MED_ANSWER;
}

int
dci_partner_check(struct igw_med *m, const char *mid, const struct igw_partner **who)
{
    struct igw_partner_verdict v;
    const char *auth;

    if (who != NULL) {
        *who = NULL;
    }
    if (m->ch->ndci_partners == 0 || m->internal) { /* internal: checked at intake */
        return IGW_OK;
    }
    auth = m->header != NULL ? m->header(m->header_arg, "Authorization") : NULL;
    if (igw_partner_intake(m->cfg, m->ch->dci_partners, m->ch->ndci_partners, auth, m->body,
                           m->body_len, &v) != IGW_OK) {
        return -IGW_ENOMEM;
    }
    if (v.status != 0) {
        return dci_answer_err(m, v.status, mid, v.code, v.msg);
    }
    if (who != NULL) {
        *who = v.partner;
    }
    return IGW_OK;
}

int
dci_items_start(struct igw_med *m, size_t size, struct dci_items **out)
{
    const struct igw_dci_endpoint *ep = igw_dci_endpoint_find("search", true);
    struct igw_node *req = NULL;
    struct igw_dci_error e;
    const struct igw_node *list;
    const char *mid;
    struct dci_items *d;
    const struct igw_partner *who = NULL;
    int rv;

    *out = NULL;
    if (igw_json_parse(m->arena, m->body, m->body_len, NULL, &req, NULL) != IGW_OK) {
        return dci_answer_err(m, 400, NULL, "err.request.bad", "the body is not JSON");
    }
    mid = dci_str_of(dci_mem(req, "header"), "message_id", NULL);
    rv = dci_partner_check(m, mid, &who);
    if (rv != IGW_OK) {
        return rv;
    }
    if (!igw_dci_validate(req, ep, &e)) {
        return dci_answer_err(m, 400, mid, e.code, e.message);
    }
    if (dci_mem(dci_mem(req, "message"), "ciphertext") != NULL) {
        return dci_answer_err(m, 400, mid, "err.encryption.invalid",
                              "igw holds no decryption key: send the message unencrypted");
    }
    d = igw_arena_calloc(m->arena, size);
    if (d == NULL) {
        return -IGW_ENOMEM;
    }
    d->req = req;
    d->first = true;
    d->nosign = who != NULL && !who->sign;
    list = dci_mem(dci_mem(req, "message"), "search_request");
    if (list != NULL && list->type == IGW_NODE_OBJECT) {
        d->items[d->n++] = list; /* one object for a one-item batch (drift 7.2) */
    }
    for (const struct igw_node *it = list != NULL && list->type == IGW_NODE_ARRAY ? list->first
                                                                                  : NULL;
         it != NULL; it = it->next) {
        if (d->n == DCI_ITEMS_MAX) {
            return dci_answer_err(m, 400, mid, "rjct.total_count.limit_exceeded",
                                  "at most 64 search_request items in one message");
        }
        d->items[d->n++] = it;
    }
    igw_buf_init(&d->out, DCI_ITEMS_OUT_MAX);
    m->state = d;
    *out = d;
    return IGW_OK;
}

int
dci_items_advance(struct igw_med *m, struct dci_items *d, dci_item_fn run)
{
    while (d->i < d->n) {
        bool calling = false;
        int rv = run(m, d, &calling);
        if (rv != IGW_OK) {
            return -rv;
        }
        if (calling) {
            return IGW_MED_CALL;
        }
        d->i++;
    }
    return dci_search_envelope(m, d->req, d->n, &d->out, !d->nosign);
}

void
dci_items_fini(struct dci_items *d)
{
    if (d != NULL) {
        igw_buf_fini(&d->out);
    }
}

int
dci_search_envelope(struct igw_med *m, const struct igw_node *req, size_t n,
                    const struct igw_buf *items, bool sign)
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
         * signing body hook signs it or not, as the route's sign and the partner's sign say;
         * so does the answer to a partner with sign: false */
        struct igw_buf sig;
        igw_buf_init(&sig, 64 * 1024);
        int srv = m->internal || !sign
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
