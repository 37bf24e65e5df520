/* SPDX-License-Identifier: Apache-2.0 */
/* The searchset Bundle (matches, includes, the outcome entry, links) and the read answer. */
#include <stdio.h>
#include <string.h>

#include "igw/err.h"
#include "igw/json.h"
#include "search_int.h"

struct seen {
    const char **keys;
    size_t n, cap;
};

static bool
seen_add(igw_arena *a, struct seen *s, const char *type, const char *id)
{
    char k[256];
    snprintf(k, sizeof(k), "%s/%s", type, id);
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->keys[i], k) == 0) {
            return false;
        }
    }
    if (s->n == s->cap) {
        size_t cap = s->cap == 0 ? 64 : s->cap * 2;
        const char **nk = igw_arena_alloc(a, cap * sizeof(*nk));
        if (nk == NULL) {
            return false;
        }
        if (s->n > 0) {
            memcpy(nk, s->keys, s->n * sizeof(*nk));
        }
        s->keys = nk;
        s->cap = cap;
    }
    s->keys[s->n] = igw_arena_strndup(a, k, strlen(k));
    return s->keys[s->n++] != NULL;
}

/* _elements: keeps resourceType, id, meta and the listed top-level elements. */
static void
subset(struct igw_node *res, const char *elements)
{
    struct igw_node *prev = NULL;
    struct igw_node *c = res->first;
    while (c != NULL) {
        struct igw_node *next = c->next;
        bool keepit = strcmp(c->key, "resourceType") == 0 || strcmp(c->key, "id") == 0 ||
                      strcmp(c->key, "meta") == 0;
        for (const char *p = elements; !keepit && *p != '\0';) {
            const char *comma = strchr(p, ',');
            size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
            keepit = n == c->key_len && memcmp(p, c->key, n) == 0;
            p = comma != NULL ? comma + 1 : p + n;
        }
        if (keepit) {
            prev = c;
        } else {
            if (prev != NULL) {
                prev->next = next;
            } else {
                res->first = next;
            }
            if (res->last == c) {
                res->last = prev;
            }
            res->count--;
        }
        c = next;
    }
}

static int
to_resource(igw_search_op *op, const igw_search_map *m, const igw_map_set *maps,
            const struct igw_node *rec, struct igw_node **out, char *errbuf, size_t errlen)
{
    const igw_map *map = igw_map_set_get(maps, m->record_map);
    char why[IGW_ERRBUF_SIZE] = "";
    if (map == NULL) {
        igw_errbuf_set(errbuf, errlen, "no map called '%s'", m->record_map);
        return IGW_ETRANSLATE;
    }
    int rv = igw_map_apply(map, false, op->a, rec, NULL, out, why, sizeof(why));
    if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "%s record -> %s: %s", m->connection, m->resource, why);
        return rv == IGW_ENOMEM ? rv : IGW_ETRANSLATE;
    }
    return IGW_OK;
}

static int
entry(struct igw_buf *b, const char *base, const char *type, const char *id,
      const struct igw_node *res, const char *mode, bool *first)
{
    int rv = igw_buf_puts(b, *first ? "{\"fullUrl\":" : ",{\"fullUrl\":");
    *first = false;
    if (rv == IGW_OK) { /* base/type/id, one JSON string (a longer one is written empty) */
        char url[1024];
        size_t lb = strlen(base), lt = strlen(type), li = strlen(id);
        size_t n = lb + lt + li + 2;
        if (n < sizeof(url)) {
            memcpy(url, base, lb);
            url[lb] = '/';
            memcpy(url + lb + 1, type, lt);
            url[lb + 1 + lt] = '/';
            memcpy(url + lb + 2 + lt, id, li);
        }
        rv = igw_buf_json_str(b, url, n < sizeof(url) ? n : 0);
    }
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"resource\":") : rv;
    rv = rv == IGW_OK ? igw_json_write(res, b, 0) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"search\":{\"mode\":\"") : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, mode) : rv;
    return rv == IGW_OK ? igw_buf_puts(b, "\"}}") : rv;
}

static const char *
rec_id(const igw_search_map *m, const struct igw_node *rec)
{
    const struct igw_node *v = igw_sr_path(rec, m->id_path);
    return v != NULL && v->type == IGW_NODE_STRING ? v->str : NULL;
}

static int
includes(igw_search_op *op, const char *base, const igw_map_set *maps, struct igw_buf *b,
         struct seen *seen, bool *first, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < op->nrecs; i++) {
        for (size_t j = 0; j < op->nincs; j++) {
            const struct sm_include *in = op->incs[j];
            const igw_search_map *tm = igw_search_set_find(op->m->set, in->target);
            const struct igw_node *v = igw_sr_path(op->recs[i].node, in->path);
            const struct igw_node *it = v != NULL && v->type == IGW_NODE_ARRAY ? v->first : v;
            for (; tm != NULL && it != NULL; it = v->type == IGW_NODE_ARRAY ? it->next : NULL) {
                const char *id = rec_id(tm, it);
                struct igw_node *res = NULL;
                if (id == NULL || !seen_add(op->a, seen, tm->resource, id)) {
                    continue;
                }
                int rv = to_resource(op, tm, maps, it, &res, errbuf, errlen);
                rv = rv == IGW_OK ? entry(b, base, tm->resource, id, res, "include", first) : rv;
                if (rv != IGW_OK) {
                    return rv;
                }
            }
        }
    }
    return IGW_OK;
}

static int
outcome_entry(igw_search_op *op, struct igw_buf *b, bool *first)
{
    int rv = igw_buf_puts(b, *first ? "" : ",");
    *first = false;
    rv = rv == IGW_OK ? igw_buf_puts(b, "{\"resource\":{\"resourceType\":\"OperationOutcome\","
                                        "\"issue\":[")
                      : rv;
    for (size_t i = 0; rv == IGW_OK && i < op->nissues; i++) {
        rv = igw_buf_printf(b, "%s{\"severity\":\"%s\",\"code\":\"%s\",\"diagnostics\":",
                            i > 0 ? "," : "", op->issues[i].severity, op->issues[i].code);
        rv =
            rv == IGW_OK ? igw_buf_json_str(b, op->issues[i].text, strlen(op->issues[i].text)) : rv;
        rv = rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    }
    return rv == IGW_OK ? igw_buf_puts(b, "]},\"search\":{\"mode\":\"outcome\"}}") : rv;
}

static int
link(igw_search_op *op, struct igw_buf *b, const char *base, const char *rel, const char *cursor,
     bool *first)
{
    char *url = NULL;
    size_t n = strlen(base) + strlen(op->m->resource) + strlen(op->self_qs) +
               (cursor != NULL ? strlen(cursor) : 0) + 16;
    url = igw_arena_alloc(op->a, n);
    if (url == NULL) {
        return IGW_ENOMEM;
    }
    bool q = op->self_qs[0] != '\0';
    snprintf(url, n, "%s/%s%s%s%s%s", base, op->m->resource, q || cursor ? "?" : "", op->self_qs,
             cursor != NULL && q ? "&_cursor=" : (cursor ? "_cursor=" : ""),
             cursor != NULL ? cursor : "");
    int rv = igw_buf_printf(b, "%s{\"relation\":\"%s\",\"url\":", *first ? "" : ",", rel);
    *first = false;
    rv = rv == IGW_OK ? igw_buf_json_str(b, url, strlen(url)) : rv;
    return rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
}

static int
links(igw_search_op *op, struct igw_buf *b, const char *base)
{
    bool first = true;
    int rv = igw_buf_puts(b, ",\"link\":[");
    rv =
        rv == IGW_OK ? link(op, b, base, "self", op->have_cursor ? op->cur_raw : NULL, &first) : rv;
    if (rv == IGW_OK && op->nrecs > 0 && op->has_more && !op->summary_count) {
        const struct sr_rec *last = &op->recs[op->nrecs - 1];
        const char *c = igw_sr_cursor_encode(op, false, last->off + 1, last->node);
        rv = c != NULL ? link(op, b, base, "next", c, &first) : IGW_ENOMEM;
    }
    if (rv == IGW_OK && op->nrecs > 0 && op->recs[0].off > 0 && !op->summary_count) {
        const char *c = igw_sr_cursor_encode(op, true, op->recs[0].off, op->recs[0].node);
        rv = c != NULL ? link(op, b, base, "previous", c, &first) : IGW_ENOMEM;
    }
    return rv == IGW_OK ? igw_buf_putc(b, ']') : rv;
}

int
igw_search_bundle(igw_search_op *op, const char *base, const igw_map_set *maps, struct igw_buf *out,
                  char *errbuf, size_t errlen)
{
    struct seen seen = {NULL, 0, 0};
    bool first = true;
    if (op == NULL || base == NULL || maps == NULL || out == NULL || op->read) {
        return IGW_EINVAL;
    }
    int rv = igw_buf_puts(out, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\"");
    if (rv == IGW_OK && op->total) {
        rv = igw_buf_printf(out, ",\"total\":%ld", op->nomatch ? 0 : op->total_count);
    }
    rv = rv == IGW_OK ? links(op, out, base) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(out, ",\"entry\":[") : rv;
    for (size_t i = 0; rv == IGW_OK && !op->summary_count && i < op->nrecs; i++) {
        struct igw_node *res = NULL;
        const char *id = rec_id(op->m, op->recs[i].node);
        rv = to_resource(op, op->m, maps, op->recs[i].node, &res, errbuf, errlen);
        if (rv == IGW_OK && op->elements != NULL && res->type == IGW_NODE_OBJECT) {
            subset(res, op->elements);
        }
        if (op->nincs > 0) { /* only includes look at what was seen (a linear set) */
            seen_add(op->a, &seen, op->m->resource, id != NULL ? id : "");
        }
        rv = rv == IGW_OK
                 ? entry(out, base, op->m->resource, id != NULL ? id : "", res, "match", &first)
                 : rv;
    }
    if (rv == IGW_OK && !op->summary_count) {
        rv = includes(op, base, maps, out, &seen, &first, errbuf, errlen);
    }
    if (rv == IGW_OK && op->nissues > 0) {
        rv = outcome_entry(op, out, &first);
    }
    return rv == IGW_OK ? igw_buf_puts(out, "]}") : rv;
}

/* "2024-03-18T07:27:45.207000" (naive UTC) -> seconds. */
static bool
updated_secs(const char *s, int64_t *t)
{
    char z[40];
    int64_t hi;
    size_t n = strcspn(s, ".Z+");
    if (n < 10 || n > 19) {
        return false;
    }
    snprintf(z, sizeof(z), "%.*s%s", (int)n, s, n > 10 ? "Z" : "");
    return igw_sr_date_range(z, t, &hi) == IGW_OK;
}

int
igw_search_read(igw_search_op *op, const igw_map_set *maps, struct igw_buf *out, const char **etag,
                const char **last_modified, char *errbuf, size_t errlen)
{
    struct igw_node *res = NULL;
    if (op == NULL || maps == NULL || out == NULL || etag == NULL || last_modified == NULL ||
        !op->read) {
        return IGW_EINVAL;
    }
    *etag = *last_modified = NULL;
    if (op->nrecs == 0) {
        igw_errbuf_set(errbuf, errlen, "no %s with that id", op->m->resource);
        return IGW_ENOENT;
    }
    const struct igw_node *rec = op->recs[0].node;
    int rv = to_resource(op, op->m, maps, rec, &res, errbuf, errlen);
    rv = rv == IGW_OK ? igw_json_write(res, out, 0) : rv;
    const struct igw_node *up = op->m->updated != NULL ? igw_sr_path(rec, op->m->updated) : NULL;
    int64_t t;
    if (rv == IGW_OK && up != NULL && up->type == IGW_NODE_STRING && updated_secs(up->str, &t)) {
        char http[40], tag[48];
        igw_sr_http_date(t, http);
        snprintf(tag, sizeof(tag), "W/\"%lld\"", (long long)t);
        *etag = igw_arena_strndup(op->a, tag, strlen(tag));
        *last_modified = igw_arena_strndup(op->a, http, strlen(http));
    }
    return rv;
}
