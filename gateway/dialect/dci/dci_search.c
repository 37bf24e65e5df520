/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dci-search mediator (docs/DCI.md, "Registry facade"): /registry/sync/search answered from
 * openIMIS through the synchronous mediation. Every search_request item is one search of
 * translators/search over the channel's upstream GraphQL API, planned from a declarative map
 * (mappings/<name>/dci-search) and turned into DCI records (Person, Member, Group) by the record
 * maps it names; the items run one after the other and the answer is one SearchResponse under
 * a callback header (action on-search) with one search_response item per request item.
 *
 * The query of an item becomes a search query string over the map's parameters, whose names are
 * the DCI attributes: idtype-value {type, value} is `<type>=<value>`; predicate conditions
 * {attribute_name, operator, attribute_value} joined by `and` and expression documents in the
 * Mongo-like NoSql shape ({"$and": [...]}, {attr: v}, {attr: {"$gte": v}}) become one parameter
 * each (eq: exact; gt ge lt le: the date and number prefixes; in, and an or of one attribute, a
 * comma list, ne a token's :not: both only through the map's declared in= / not= argument, see
 * dci_query.c). sort is `_sort`, pagination
 * `_count` and `_offset` ((page_number - 1) * page_size) with the total counted. An item igw
 * cannot answer (unknown record type, attribute or operator, an or across attributes, a value the
 * attribute cannot take, an upstream refusal of the value) gets status rjct with the spec's reason
 * code; the other items are still answered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "igw/common.h"
#include "igw/json.h"
#include "igw/search.h"
#include "dialect/dci/dci_int.h"
#include "mediate/mediator.h"
#include "sign/sign.h"

#define DS_PATH "/api/graphql"
#define DS_OUT_MAX (16u * 1024u * 1024u)
#define DS_CRIT "rjct.search_criteria.invalid"

struct ds_chan {
    igw_search_set *set;
};

struct ds_req {
    struct dci_items d; /* first: the request, its items, the answer's items */
    igw_search_op *op;
    const char *rtype; /* the current item's record type */
    long page_size, page_number;
    struct igw_buf call; /* the body of the call under way */
};

static int
ds_channel_init(const struct igw_channel *ch, void **state, char *err, size_t errlen)
{
    const char *dir = ch->mappings_dir != NULL ? ch->mappings_dir : "mappings";
    struct ds_chan *c;
    int rv;

    *state = NULL;
    if (ch->dialect == NULL || strcmp(ch->dialect, "dci") != 0) {
        igw_errbuf_set(err, errlen, "answer: dci-search needs dialect: dci");
        return IGW_ECONFIG;
    }
    c = igw_calloc(1, sizeof(*c));
    if (c == NULL) {
        return IGW_ENOMEM;
    }
    rv = igw_search_set_load_named(&c->set, dir, "dci-search", err, errlen);
    if (rv == IGW_OK && igw_search_set_count(c->set) == 0) {
        igw_errbuf_set(err, errlen, "no DCI search maps (<name>/dci-search) under %s", dir);
        rv = IGW_ECONFIG;
    }
    if (rv != IGW_OK) {
        igw_search_set_free(c->set);
        igw_free(c);
        return rv == IGW_ENOMEM ? rv : IGW_ECONFIG;
    }
    *state = c;
    return IGW_OK;
}

static void
ds_channel_fini(void *state)
{
    struct ds_chan *c = state;
    if (c != NULL) {
        igw_search_set_free(c->set);
        igw_free(c);
    }
}

/* ---- the query string of an item ---------------------------------------------------------- */

struct ptype_find {
    const char *name;
    const char *type;
};

static void
ptype_cb(void *arg, const char *resource, const char *param, const char *type, const char *doc)
{
    struct ptype_find *f = arg;
    (void)resource;
    (void)doc;
    if (f->type == NULL && strcmp(param, f->name) == 0) {
        f->type = type; /* a static string of translators/search */
    }
}

/* The parameter type of attribute name in map sm, NULL when the map has no such parameter. */
static const char *
ptype(const igw_search_map *sm, const char *name)
{
    struct ptype_find f = {name, NULL};
    igw_search_map_params(sm, ptype_cb, &f);
    return f.type;
}

/* Appends "&" + text percent-encoded (name or value). */
static int
enc(struct igw_buf *q, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    int rv = IGW_OK;
    for (size_t i = 0; rv == IGW_OK && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~' || c == ':';
        rv = plain ? igw_buf_putc(q, (char)c)
                   : igw_buf_printf(q, "%%%c%c", hex[c >> 4], hex[c & 15]);
    }
    return rv;
}

/* A scalar query value as text into t (tlen); false when it is not a scalar. */
static bool
scalar(const struct igw_node *v, char *t, size_t tlen)
{
    if (v == NULL) {
        return false;
    }
    switch (v->type) {
    case IGW_NODE_STRING:
    case IGW_NODE_NUMBER:
        snprintf(t, tlen, "%.*s", (int)v->len, v->str);
        return v->len < tlen;
    case IGW_NODE_BOOL:
        snprintf(t, tlen, "%s", v->boolean ? "true" : "false");
        return true;
    default:
        return false;
    }
}

/* One condition "attr op values" as a query parameter for the search map (docs/FHIR-SEARCH.md):
 * eq gt ge lt le one value, in a comma list (the map's in= argument), ne the :not modifier of
 * a token (its not= argument) or the ne prefix of a date; why says what is wrong. */
static int
cond(struct igw_buf *q, const igw_search_map *sm, const char *attr, const char *op,
     const struct igw_node *const *vals, size_t n, const char **why)
{
    const char *ty = ptype(sm, attr);
    char v[1024];
    const char *prefix = "", *mod = "";
    bool ordered = strcmp(op, "gt") == 0 || strcmp(op, "ge") == 0 || strcmp(op, "lt") == 0 ||
                   strcmp(op, "le") == 0;
    bool in = strcmp(op, "in") == 0, ne = strcmp(op, "ne") == 0;
    int rv;

    if (ty == NULL || attr[0] == '_') {
        *why = "an attribute the registry cannot search";
        return IGW_EPARSE;
    }
    if (strcmp(op, "eq") != 0 && !ordered && !in && !ne) {
        *why = "unknown operator (eq, gt, ge, lt, le, in)";
        return IGW_EPARSE;
    }
    if (ordered && strcmp(ty, "date") != 0 && strcmp(ty, "number") != 0) {
        *why = "gt, ge, lt and le apply to dates and numbers only";
        return IGW_EPARSE;
    }
    if (ne && strcmp(ty, "token") != 0 && strcmp(ty, "date") != 0) {
        *why = "not applies to identifiers, codes and dates only";
        return IGW_EPARSE;
    }
    if (strcmp(ty, "date") == 0 && !in) {
        prefix = ordered || ne ? op : "eq";
    }
    mod = strcmp(ty, "string") == 0 ? ":exact" : ne && strcmp(ty, "token") == 0 ? ":not" : "";
    rv = igw_buf_putc(q, '&');
    rv = rv == IGW_OK ? enc(q, attr, strlen(attr)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(q, "%s=%s", mod, prefix) : rv;
    for (size_t i = 0; rv == IGW_OK && i < n; i++) {
        if (!scalar(vals[i], v, sizeof(v))) {
            *why = "attribute_value must be a string, number or boolean";
            return IGW_EPARSE;
        }
        if (n > 1 && strchr(v, ',') != NULL) {
            *why = "a value of an in list (or an or) must not contain a comma";
            return IGW_EPARSE;
        }
        if (strcmp(ty, "date") == 0 && strlen(v) > 10 && v[10] == 'T') {
            v[10] = '\0'; /* a DateTime (birth_date is one in DCI): its date */
        }
        rv = i > 0 ? igw_buf_putc(q, ',') : IGW_OK;
        rv = rv == IGW_OK ? enc(q, v, strlen(v)) : rv;
    }
    return rv;
}

struct cond_arg {
    struct igw_buf *q;
    const igw_search_map *sm;
};

static int
cond_cb(void *arg, const char *attr, const char *op, const struct igw_node *const *vals, size_t n,
        const char **why)
{
    struct cond_arg *c = arg;
    return cond(c->q, c->sm, attr, op, vals, n, why);
}

/* The query of one item as a query string after q's current content. */
static int
query_of(struct igw_buf *q, const igw_search_map *sm, const struct igw_node *crit, const char **why)
{
    struct cond_arg c = {q, sm};
    return dci_query_walk(crit, cond_cb, &c, why);
}

/* The record type of an item: reg_record_type, else response_entity, else the expression's
 * collection, else Person; NULL when the channel's maps serve none of that name. */
static const char *
record_type(const struct ds_chan *c, const struct igw_node *crit)
{
    const char *t = dci_str_of(crit, "reg_record_type", NULL);
    t = t != NULL && *t != '\0' ? t : dci_str_of(crit, "response_entity", NULL);
    t = t != NULL && *t != '\0'
            ? t
            : dci_str_of(dci_mem(dci_mem(dci_mem(crit, "query"), "value"), "expression"),
                         "collection", "Person");
    for (size_t i = 0; i < igw_search_set_count(c->set); i++) {
        const char *r = igw_search_map_resource(igw_search_set_at(c->set, i));
        if (strcasecmp(r, t) == 0) {
            return r;
        }
    }
    return NULL;
}

/* ---- the answer --------------------------------------------------------------------------- */

/* The finished search of item i: its records from the searchset Bundle the record maps built. */
static int
item_done(struct igw_med *m, struct ds_req *r, const struct igw_node *it)
{
    const struct igw_node *crit = dci_mem(it, "search_criteria");
    struct igw_buf bundle;
    struct igw_node *root = NULL;
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_buf *b = &r->d.out;
    int rv;

    igw_buf_init(&bundle, DS_OUT_MAX);
    rv = igw_search_bundle(r->op, "dci:", m->maps, &bundle, err, sizeof(err));
    if (rv == IGW_OK) {
        rv = igw_json_parse(m->arena, bundle.ptr, bundle.len, NULL, &root, NULL);
    }
    igw_buf_fini(&bundle);
    if (rv == IGW_ETRANSLATE) {
        return dci_item_reject(&r->d.out, &r->d.first, it, DS_CRIT,
                               err); /* a record the map cannot turn into one */
    }
    if (rv != IGW_OK) {
        return rv;
    }
    rv = dci_item_head(&r->d.out, &r->d.first, it, "succ");
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"data\":{\"version\":\"1.0.0\"") : rv;
    rv = rv == IGW_OK ? dci_kv(b, "reg_type",
                               dci_str_of(crit, "reg_type", "ns:org:RegistryType:Social"), true)
                      : rv;
    rv = rv == IGW_OK ? dci_kv(b, "reg_record_type", r->rtype, true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"reg_records\":[") : rv;
    bool first = true;
    const struct igw_node *entries = dci_mem(root, "entry");
    for (const struct igw_node *e = entries != NULL ? entries->first : NULL; rv == IGW_OK && e;
         e = e->next) {
        const struct igw_node *res = dci_mem(e, "resource");
        if (res == NULL || strcmp(dci_str_of(dci_mem(e, "search"), "mode", ""), "match") != 0) {
            continue;
        }
        rv = first ? IGW_OK : igw_buf_putc(b, ',');
        first = false;
        rv = rv == IGW_OK ? igw_json_write(res, b, 0) : rv;
    }
    rv = rv == IGW_OK ? igw_buf_printf(b,
                                       "]},\"pagination\":{\"page_size\":%ld,\"page_number\":%ld,"
                                       "\"total_count\":%ld}",
                                       r->page_size, r->page_number, dci_num_of(root, "total", 0))
                      : rv;
    return rv == IGW_OK ? dci_item_locale(b, it) : rv;
}

static int
ask(struct igw_med *m, struct ds_req *r)
{
    igw_buf_reset(&r->call);
    int rv = igw_search_next_call(r->op, &r->call);
    if (rv != IGW_OK) {
        return rv;
    }
    m->call = (struct igw_med_call){
        NULL,        "POST",      DS_PATH, "application/json", "application/json",
        r->call.ptr, r->call.len, NULL};
    return IGW_MED_CALL;
}

/* Starts item r->d.i: IGW_OK when it was answered at once (refused, or nothing to call). */
static int
item_begin(struct igw_med *m, struct dci_items *d, bool *calling)
{
    struct ds_req *r = (struct ds_req *)d;
    const struct ds_chan *c = m->chstate;
    const struct igw_node *it = r->d.items[r->d.i];
    const struct igw_node *crit = dci_mem(it, "search_criteria");
    const struct igw_node *pg = dci_mem(crit, "pagination");
    const igw_search_map *sm;
    struct igw_search_query sq;
    struct igw_buf q;
    const char *why = NULL;
    char err[IGW_ERRBUF_SIZE] = "";
    int rv;

    *calling = false;
    r->rtype = record_type(c, crit);
    if (r->rtype == NULL) {
        return dci_item_reject(&r->d.out, &r->d.first, it, DS_CRIT,
                               "a record type this registry does not hold "
                               "(Person, Member, Group)");
    }
    sm = igw_search_set_find(c->set, r->rtype);
    r->page_size = dci_num_of(pg, "page_size", IGW_SEARCH_COUNT_DEFAULT);
    r->page_number = dci_num_of(pg, "page_number", 1);
    if (r->page_size < 1 || r->page_number < 1 || r->page_number > 1000000) {
        return dci_item_reject(&r->d.out, &r->d.first, it, "rjct.pagination.invalid",
                               "page_size and page_number are whole numbers from 1");
    }
    if (r->page_size > (long)IGW_SEARCH_COUNT_MAX) {
        r->page_size = IGW_SEARCH_COUNT_MAX; /* the answer's pagination says so */
    }
    igw_buf_init(&q, 64 * 1024);
    rv = igw_buf_printf(&q, "_total=accurate&_count=%ld&_offset=%ld", r->page_size,
                        (r->page_number - 1) * r->page_size);
    rv = rv == IGW_OK ? query_of(&q, sm, crit, &why) : rv;
    const struct igw_node *sort = dci_mem(crit, "sort");
    bool sfirst = true;
    for (const struct igw_node *s = sort != NULL && sort->type == IGW_NODE_ARRAY ? sort->first
                                                                                 : NULL;
         rv == IGW_OK && s != NULL; s = s->next) {
        const char *an = dci_str_of(s, "attribute_name", "");
        rv = igw_buf_puts(&q, sfirst ? "&_sort=" : ",");
        sfirst = false;
        rv = rv == IGW_OK && strcasecmp(dci_str_of(s, "sort_order", "asc"), "desc") == 0
                 ? igw_buf_putc(&q, '-')
                 : rv;
        rv = rv == IGW_OK ? enc(&q, an, strlen(an)) : rv;
    }
    if (rv == IGW_EPARSE) {
        igw_buf_fini(&q);
        return dci_item_reject(&r->d.out, &r->d.first, it, DS_CRIT,
                               why != NULL ? why : "bad query");
    }
    rv = rv == IGW_OK ? igw_search_query_parse(m->arena, q.ptr, q.len, &sq, err, sizeof(err)) : rv;
    rv = rv == IGW_OK ? igw_search_begin(&r->op, m->arena, c->set, r->rtype, &sq, IGW_SEARCH_STRICT,
                                         err, sizeof(err))
                      : rv;
    igw_buf_fini(&q);
    if (rv == IGW_EPARSE || rv == IGW_ETOOBIG) {
        bool srt = strstr(err, "_sort") != NULL || strstr(err, "sort") != NULL;
        return dci_item_reject(&r->d.out, &r->d.first, it, srt ? "rjct.sort.invalid" : DS_CRIT,
                               err);
    }
    if (rv != IGW_OK) {
        return rv;
    }
    rv = ask(m, r);
    if (rv == IGW_MED_CALL) {
        *calling = true;
        return IGW_OK;
    }
    return rv == IGW_ENOENT ? item_done(m, r, it) : rv;
}

static int
ds_start(struct igw_med *m)
{
    struct dci_items *d = NULL;
    int rv = dci_items_start(m, sizeof(struct ds_req), &d);

    if (rv != IGW_OK || d == NULL) {
        return rv;
    }
    igw_buf_init(&((struct ds_req *)d)->call, 256 * 1024);
    return dci_items_advance(m, d, item_begin);
}

static int
ds_step(struct igw_med *m, const struct igw_med_result *res)
{
    struct ds_req *r = m->state;
    char err[IGW_ERRBUF_SIZE] = "";
    if (res->err != IGW_OK) {
        snprintf(m->err, sizeof(m->err), "upstream: %s", igw_strerror(res->err));
        return -res->err;
    }
    if (res->status == 401 || res->status == 403) {
        snprintf(m->err, sizeof(m->err), "the upstream refused igw's credentials (%d)",
                 res->status);
        return -IGW_EAUTH;
    }
    if (res->status == 429 || res->status == 503) {
        snprintf(m->err, sizeof(m->err), "the upstream is busy (%d)", res->status);
        return -IGW_EAGAIN;
    }
    if (res->status != 200 && res->status != 400) {
        snprintf(m->err, sizeof(m->err), "the upstream answered %d", res->status);
        return -IGW_EIO;
    }
    int rv = igw_search_feed(r->op, res->body, res->body_len, err, sizeof(err));
    if (rv == IGW_EIO) {
        /* openIMIS refused the value (e.g. a CHFID that is not letters and digits): this item
         * is rejected, the others are still answered */
        rv = dci_item_reject(&r->d.out, &r->d.first, r->d.items[r->d.i], DS_CRIT, err);
        r->d.i++;
        return rv == IGW_OK ? dci_items_advance(m, &r->d, item_begin) : -rv;
    }
    if (rv != IGW_OK) {
        return -rv;
    }
    rv = ask(m, r);
    if (rv == IGW_MED_CALL) {
        return rv;
    }
    if (rv != IGW_ENOENT) {
        return -rv;
    }
    rv = item_done(m, r, r->d.items[r->d.i]);
    if (rv != IGW_OK) {
        return -rv;
    }
    r->d.i++;
    return dci_items_advance(m, &r->d, item_begin);
}

static void
ds_fini(struct igw_med *m)
{
    struct ds_req *r = m->state;
    if (r != NULL) {
        igw_buf_fini(&r->call);
        dci_items_fini(&r->d);
    }
}

const struct igw_mediator_ops igw_mediator_dci_search = {
    .name = "dci-search",
    .description = "DCI /registry/sync/search answered from openIMIS GraphQL: every "
                   "search_request item, idtype-value, expression and predicate queries, "
                   "paging, records built by the dci-search maps",
    .channel_init = ds_channel_init,
    .channel_fini = ds_channel_fini,
    .start = ds_start,
    .step = ds_step,
    .fini = ds_fini,
};
