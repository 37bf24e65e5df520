/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Paging over the upstream's relay connection: the GraphQL call for each window, the records a
 * page keeps, and the opaque cursor. A cursor carries the sort-key values of the record it
 * follows (keyset) plus an offset hint: the next window starts one record before the hint and
 * the page takes only records whose keys come after the cursor's, so rows inserted or deleted
 * before the position neither repeat nor skip a record; when the window starts past the
 * position (rows were deleted before it) igw steps back a window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/err.h"
#include "igw/json.h"
#include "search_int.h"

#define SR_BACKS_MAX 3
#define SR_CALLS_MAX 40

const struct igw_node *
igw_sr_path(const struct igw_node *n, const char *path)
{
    const char *p = path;
    while (n != NULL && *p != '\0') {
        const char *dot = strchr(p, '.');
        size_t k = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (k > 0 && p[k - 1] == '*') {
            k--; /* a connection marker: the walk is on the flattened tree */
        }
        if (n->type == IGW_NODE_ARRAY) {
            n = n->first;
        }
        n = igw_node_get(n, p, k);
        p = dot != NULL ? dot + 1 : p + strlen(p);
    }
    return n;
}

/* Turns every relay connection {edges: [{node: X}]} under n into the array [X ...] and drops
 * null members. */
static void
flatten(struct igw_node *n)
{
    if (n == NULL || (n->type != IGW_NODE_OBJECT && n->type != IGW_NODE_ARRAY)) {
        return;
    }
    struct igw_node *edges = n->type == IGW_NODE_OBJECT ? igw_node_get(n, "edges", 5) : NULL;
    if (edges != NULL && edges->type == IGW_NODE_ARRAY) {
        struct igw_node *e = edges->first;
        n->type = IGW_NODE_ARRAY;
        n->first = n->last = NULL;
        n->count = 0;
        while (e != NULL) {
            struct igw_node *next = e->next;
            struct igw_node *node = igw_node_get(e, "node", 4);
            if (node != NULL) {
                node->key = NULL;
                igw_node_link(n, NULL, 0, node);
            }
            e = next;
        }
    }
    struct igw_node *prev = NULL;
    for (struct igw_node *c = n->first; c != NULL; c = c->next) {
        if (n->type == IGW_NODE_OBJECT && c->type == IGW_NODE_NULL) {
            /* GraphQL's null is an absent value to the record maps */
            if (prev != NULL) {
                prev->next = c->next;
            } else {
                n->first = c->next;
            }
            if (n->last == c) {
                n->last = prev;
            }
            n->count--;
            continue;
        }
        flatten(c);
        prev = c;
    }
}

/* A relay global id base64("Type:pk") -> pk, for the map's global-id paths (openIMIS's
 * HistoryModels are keyed by a uuid: the records' own id is that uuid). Left as it is when the
 * text is not a global id. */
static void
decode_gids(igw_search_op *op, struct igw_node *list)
{
    for (struct igw_node *r = list->first; r != NULL; r = r->next) {
        for (size_t i = 0; i < op->m->ngids; i++) {
            struct igw_node *v = r;
            for (const char *p = op->m->gids[i]; v != NULL && *p != '\0';) {
                const char *dot = strchr(p, '.');
                size_t k = dot != NULL ? (size_t)(dot - p) : strlen(p);
                v = igw_node_get(v, p, k);
                p += dot != NULL ? k + 1 : k;
            }
            size_t n = 0;
            if (v == NULL || v->type != IGW_NODE_STRING) {
                continue;
            }
            char *t = igw_sr_unb64(op->a, v->str, v->len, &n);
            if (t == NULL) {
                continue; /* not base64 (or no memory for the copy): kept as it came */
            }
            char *colon = memchr(t, ':', n);
            if (colon != NULL && colon > t && memchr(t, '\0', n) == NULL) {
                v->str = colon + 1;
                v->len = (uint32_t)(n - (size_t)(colon + 1 - t));
            }
        }
    }
}

const char *
igw_sr_key_text(const igw_search_op *op, const struct igw_node *rec, size_t i)
{
    const struct igw_node *v = igw_sr_path(rec, op->keys[i].path);
    if (v != NULL && (v->type == IGW_NODE_STRING || v->type == IGW_NODE_NUMBER)) {
        return v->str;
    }
    if (v != NULL && v->type == IGW_NODE_BOOL) {
        return v->boolean ? "true" : "false";
    }
    return "";
}

static long long
relay_pk(const char *s)
{
    char buf[128];
    size_t n = strlen(s), j = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '=' && j + 1 < sizeof(buf); i++) {
        const char *A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = strchr(A, s[i]);
        if (p == NULL) {
            return -1;
        }
        acc = (acc << 6) | (unsigned)(p - A);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[j++] = (char)((acc >> bits) & 0xff);
        }
    }
    buf[j] = '\0';
    const char *colon = strrchr(buf, ':');
    return colon != NULL ? strtoll(colon + 1, NULL, 10) : -1;
}

static int
cmp_one(enum sm_cmp how, const char *x, const char *y)
{
    if (how == SM_CMP_NUMBER || how == SM_CMP_RELAY) {
        double a = how == SM_CMP_RELAY ? (double)relay_pk(x) : strtod(x, NULL);
        double b = how == SM_CMP_RELAY ? (double)relay_pk(y) : strtod(y, NULL);
        return a < b ? -1 : (a > b ? 1 : 0);
    }
    int c = strcmp(x, y);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

/* <0: rec sorts before the keys, 0: same position, >0: after (in the search's order). */
int
igw_sr_cmp_keys(const igw_search_op *op, const struct igw_node *rec, const char *const *keys)
{
    for (size_t i = 0; i < op->nkeys; i++) {
        int c = cmp_one(op->keys[i].cmp, igw_sr_key_text(op, rec, i), keys[i]);
        if (c != 0) {
            return op->keys[i].desc ? -c : c;
        }
    }
    return 0;
}

const char *
igw_sr_cursor_encode(igw_search_op *op, bool prev, long off, const struct igw_node *rec)
{
    struct igw_buf b;
    const char *out = NULL;
    igw_buf_init(&b, 64 * 1024);
    int rv = igw_buf_printf(&b, "[\"%c\",%ld,[", prev ? 'p' : 'n', off);
    for (size_t i = 0; rv == IGW_OK && i < op->nkeys; i++) {
        const char *k = igw_sr_key_text(op, rec, i);
        rv = i > 0 ? igw_buf_putc(&b, ',') : IGW_OK;
        rv = rv == IGW_OK ? igw_buf_json_str(&b, k, strlen(k)) : rv;
    }
    rv = rv == IGW_OK ? igw_buf_puts(&b, "]]") : rv;
    if (rv == IGW_OK) {
        out = igw_sr_b64(op->a, b.ptr, b.len, true);
    }
    igw_buf_fini(&b);
    return out;
}

int
igw_sr_cursor_decode(igw_search_op *op, const char *c, char *errbuf, size_t errlen)
{
    size_t n = 0;
    struct igw_node *root = NULL;
    char *text = igw_sr_unb64(op->a, c, strlen(c), &n);
    struct igw_parse_limits lim = {8, 64};
    if (text == NULL || igw_json_parse(op->a, text, n, &lim, &root, NULL) != IGW_OK ||
        root->type != IGW_NODE_ARRAY || root->count != 3) {
        goto bad;
    }
    const struct igw_node *dir = igw_node_at(root, 0);
    const struct igw_node *off = igw_node_at(root, 1);
    const struct igw_node *keys = igw_node_at(root, 2);
    if (dir->type != IGW_NODE_STRING || (strcmp(dir->str, "n") != 0 && strcmp(dir->str, "p")) ||
        off->type != IGW_NODE_NUMBER || off->num < 0 || off->num > 1e12 ||
        keys->type != IGW_NODE_ARRAY || keys->count == 0 || keys->count > SR_KEYS_MAX) {
        goto bad;
    }
    size_t i = 0;
    for (const struct igw_node *k = keys->first; k != NULL; k = k->next) {
        if (k->type != IGW_NODE_STRING) {
            goto bad;
        }
        op->cur_keys[i++] = k->str;
    }
    op->cur_nkeys = i;
    op->prev = dir->str[0] == 'p';
    op->cur_off = (long)off->num;
    op->have_cursor = true;
    op->cur_raw = c;
    return IGW_OK;
bad:
    igw_errbuf_set(errbuf, errlen, "_cursor is not a cursor igw wrote");
    return IGW_EPARSE;
}

static int
sel_include(struct igw_buf *b, const struct sm_include *in, const igw_search_set *set)
{
    const igw_search_map *tm = igw_search_set_find(set, in->target);
    const char *p = in->path;
    int depth = 0, rv = IGW_OK;
    if (tm == NULL) {
        return IGW_OK;
    }
    while (rv == IGW_OK && *p != '\0') {
        const char *dot = strchr(p, '.');
        size_t k = dot != NULL ? (size_t)(dot - p) : strlen(p);
        bool conn = k > 0 && p[k - 1] == '*';
        rv = igw_buf_printf(b, " %.*s {%s", (int)(conn ? k - 1 : k), p,
                            conn ? " edges { node {" : "");
        depth += conn ? 3 : 1;
        p = dot != NULL ? dot + 1 : p + k;
    }
    rv = rv == IGW_OK ? igw_buf_printf(b, " %s", tm->select) : rv;
    while (rv == IGW_OK && depth-- > 0) {
        rv = igw_buf_puts(b, " }");
    }
    return rv;
}

int
igw_search_next_call(igw_search_op *op, struct igw_buf *body)
{
    struct igw_buf q;
    if (op == NULL || body == NULL) {
        return IGW_EINVAL;
    }
    if (op->done) {
        return IGW_ENOENT;
    }
    const igw_search_map *m = op->m;
    unsigned want = op->summary_count ? 1 : op->count + 1;
    want = want > IGW_SEARCH_UPSTREAM_PAGE ? IGW_SEARCH_UPSTREAM_PAGE : want;
    igw_buf_init(&q, 256 * 1024);
    int rv = igw_buf_puts(&q, "{ ");
    rv = rv == IGW_OK ? igw_buf_puts(&q, m->connection) : rv;
    rv = rv == IGW_OK ? igw_buf_putc(&q, '(') : rv;
    for (size_t i = 0; rv == IGW_OK && i < op->nargs; i++) {
        rv = igw_buf_puts(&q, op->args[i].name);
        rv = rv == IGW_OK ? igw_buf_puts(&q, ": ") : rv;
        rv = rv == IGW_OK ? igw_buf_puts(&q, op->args[i].lit) : rv;
        rv = rv == IGW_OK ? igw_buf_puts(&q, ", ") : rv;
    }
    rv = rv == IGW_OK && !m->unordered ? igw_buf_puts(&q, "orderBy: [") : rv;
    for (size_t i = 0; rv == IGW_OK && !m->unordered && i < op->nkeys; i++) {
        rv = igw_buf_puts(&q, i > 0 ? ", \"" : "\"");
        rv = rv == IGW_OK && op->keys[i].desc ? igw_buf_putc(&q, '-') : rv;
        rv = rv == IGW_OK ? igw_buf_puts(&q, op->keys[i].order) : rv;
        rv = rv == IGW_OK ? igw_buf_putc(&q, '"') : rv;
    }
    rv = rv == IGW_OK && !m->unordered ? igw_buf_puts(&q, "], ") : rv;
    rv = rv == IGW_OK ? igw_buf_printf(&q, "first: %u, offset: %ld) { ", want, op->win_off) : rv;
    rv = rv == IGW_OK && op->total ? igw_buf_puts(&q, "totalCount ") : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&q, "pageInfo { hasNextPage } edges { node { ") : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&q, m->select) : rv;
    for (size_t i = 0; rv == IGW_OK && i < op->nincs; i++) {
        rv = sel_include(&q, op->incs[i], m->set);
    }
    rv = rv == IGW_OK ? igw_buf_puts(&q, " } } } }") : rv;
    rv = rv == IGW_OK ? igw_buf_puts(body, "{\"query\":") : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(body, q.ptr, q.len) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(body, "}") : rv;
    igw_buf_fini(&q);
    if (rv == IGW_OK) {
        op->calls++;
    }
    return rv;
}

static int
keep(igw_search_op *op, const struct igw_node *n, long off)
{
    if (op->nrecs == op->caprecs) {
        size_t cap = op->caprecs == 0 ? 32 : op->caprecs * 2;
        struct sr_rec *r = igw_arena_alloc(op->a, cap * sizeof(*r));
        if (r == NULL) {
            return IGW_ENOMEM;
        }
        if (op->nrecs > 0) {
            memcpy(r, op->recs, op->nrecs * sizeof(*r));
        }
        op->recs = r;
        op->caprecs = cap;
    }
    op->recs[op->nrecs++] = (struct sr_rec){n, off};
    return IGW_OK;
}

/* Forward: records after the cursor (or from the start) until the page is full. */
static int
take_forward(igw_search_op *op, const struct igw_node *conn, bool more)
{
    long i = 0;
    const struct igw_node *first = conn->first;
    if (op->have_cursor && !op->synced && first != NULL && op->win_off > 0 &&
        igw_sr_cmp_keys(op, first, op->cur_keys) > 0 && op->backs < SR_BACKS_MAX) {
        op->backs++; /* rows went away before the position: look further back */
        op->win_off = op->win_off > (long)IGW_SEARCH_UPSTREAM_PAGE
                          ? op->win_off - (long)IGW_SEARCH_UPSTREAM_PAGE
                          : 0;
        return IGW_OK;
    }
    op->synced = true;
    for (const struct igw_node *n = first; n != NULL; n = n->next, i++) {
        if (op->nrecs >= op->count) {
            op->has_more = true;
            op->done = true;
            return IGW_OK;
        }
        if (op->have_cursor && igw_sr_cmp_keys(op, n, op->cur_keys) <= 0) {
            continue;
        }
        int rv = keep(op, n, op->win_off + i);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    op->win_off += i;
    op->has_more = more;
    op->done = !more || op->nrecs >= op->count;
    return IGW_OK;
}

/* Backward: the count records just before the cursor's position. */
static int
take_backward(igw_search_op *op, const struct igw_node *conn, bool more)
{
    long i = 0;
    bool reached = false;
    for (const struct igw_node *n = conn->first; n != NULL; n = n->next, i++) {
        if (igw_sr_cmp_keys(op, n, op->cur_keys) >= 0) {
            reached = true;
            break;
        }
        int rv = keep(op, n, op->win_off + i);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    long start = op->nrecs > 0 ? op->recs[0].off : op->win_off;
    if (reached && op->nrecs < op->count && start > 0 && op->backs < SR_BACKS_MAX) {
        op->backs++; /* not enough before the position in this window: start further back */
        op->nrecs = 0;
        op->win_off = start > (long)op->count ? start - (long)op->count : 0;
        return IGW_OK;
    }
    op->win_off += i;
    op->done = reached || !more;
    if (op->done && op->nrecs > op->count) {
        memmove(op->recs, op->recs + (op->nrecs - op->count), op->count * sizeof(*op->recs));
        op->nrecs = op->count;
    }
    op->has_more = true;
    return IGW_OK;
}

static int
upstream_error(const struct igw_node *root, char *errbuf, size_t errlen)
{
    const struct igw_node *errs = igw_node_get(root, "errors", 6);
    const struct igw_node *msg = igw_sr_path(errs, "message");
    igw_errbuf_set(errbuf, errlen, "upstream GraphQL error: %.160s",
                   msg != NULL && msg->type == IGW_NODE_STRING ? msg->str : "no data");
    return IGW_EIO;
}

int
igw_search_feed(igw_search_op *op, const char *body, size_t len, char *errbuf, size_t errlen)
{
    struct igw_node *root = NULL;
    struct igw_parse_error perr;
    if (op == NULL || (body == NULL && len > 0)) {
        return IGW_EINVAL;
    }
    int rv = igw_json_parse(op->a, body, len, NULL, &root, &perr);
    if (rv == IGW_ENOMEM) {
        return rv;
    }
    if (rv != IGW_OK || root->type != IGW_NODE_OBJECT) {
        igw_errbuf_set(errbuf, errlen, "the upstream answer is not JSON");
        return IGW_EIO;
    }
    struct igw_node *data = igw_node_get(root, "data", 4);
    struct igw_node *conn = igw_node_get(data, op->m->connection, strlen(op->m->connection));
    if (conn == NULL || conn->type != IGW_NODE_OBJECT || igw_node_get(root, "errors", 6)) {
        return upstream_error(root, errbuf, errlen);
    }
    const struct igw_node *tc = igw_node_get(conn, "totalCount", 10);
    if (tc != NULL && tc->type == IGW_NODE_NUMBER) {
        op->total_count = (long)tc->num;
    }
    const struct igw_node *hn = igw_sr_path(conn, "pageInfo.hasNextPage");
    bool more = hn != NULL && hn->type == IGW_NODE_BOOL && hn->boolean;
    flatten(conn);
    if (conn->type != IGW_NODE_ARRAY) {
        igw_errbuf_set(errbuf, errlen, "the upstream answer has no edges");
        return IGW_EIO;
    }
    decode_gids(op, conn);
    if (op->summary_count || op->read) {
        op->done = true;
        return op->read && conn->first != NULL ? keep(op, conn->first, 0) : IGW_OK;
    }
    rv = op->have_cursor && op->prev ? take_backward(op, conn, more) : take_forward(op, conn, more);
    if (rv == IGW_OK && !op->done && op->calls >= SR_CALLS_MAX) {
        op->done = true; /* bounded: the page ends early, its next link goes on */
        op->has_more = true;
    }
    return rv;
}
