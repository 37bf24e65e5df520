/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tree diff of `igw map test` (cmd_map_int.h cmdmap_diff_report): walks want and got
 * together and prints one "-want +got at PATH: -VALUE +VALUE" line per difference, where PATH is
 * the dotted member path with [i] for array items ("entry[2].resource.status"), values are shown
 * as compact JSON cut at REPR_MAX bytes, repeated keys (XML) are matched by occurrence, and
 * member order is checked last. At most DIFF_MAX_LINES lines are printed, then a count.
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/buf.h"
#include "igw/doc.h"

#include "cmd_map_int.h"

#define DIFF_MAX_LINES 20
#define REPR_MAX 72

/* ---- tree diffs (igw map test) ------------------------------------------------------------ */

struct diff {
    struct igw_buf *log; /* report lines go here, printed after the verdict */
    unsigned lines;      /* differences found */
    char path[1024];
    size_t plen;
};

static void
repr(const struct igw_node *n, char *buf, size_t len)
{
    struct igw_buf b;

    igw_buf_init(&b, 4096);
    if (n == NULL) {
        snprintf(buf, len, "(nothing)");
    } else if (igw_json_write(n, &b, 0) == IGW_OK && b.len <= REPR_MAX) {
        snprintf(buf, len, "%.*s", (int)b.len, b.ptr != NULL ? b.ptr : "");
    } else {
        snprintf(buf, len, "%.*s...", REPR_MAX, b.ptr != NULL ? b.ptr : "");
    }
    igw_buf_fini(&b);
}

static void
diff_line(struct diff *d, const struct igw_node *want, const struct igw_node *got, const char *note)
{
    char w[REPR_MAX + 8];
    char g[REPR_MAX + 8];

    d->lines++;
    if (d->lines > DIFF_MAX_LINES) {
        return;
    }
    repr(want, w, sizeof(w));
    repr(got, g, sizeof(g));
    (void)igw_buf_printf(d->log, "    -want +got at %s:", d->plen != 0 ? d->path : "(root)");
    if (want != NULL) {
        (void)igw_buf_printf(d->log, " -%s", w);
    }
    if (got != NULL) {
        (void)igw_buf_printf(d->log, " +%s", g);
    }
    (void)igw_buf_printf(d->log, "%s%s\n", note != NULL ? " " : "", note != NULL ? note : "");
}

/* The path length after snprintf wrote n at d->path + old (cut where it did not fit). */
static void
path_grew(struct diff *d, size_t old, int n)
{
    d->plen = n < 0 || (size_t)n >= sizeof(d->path) - old ? sizeof(d->path) - 1 : old + (size_t)n;
}

static size_t
path_push_key(struct diff *d, const char *key, size_t len)
{
    size_t old = d->plen;
    int n = snprintf(d->path + old, sizeof(d->path) - old, "%s%.*s", old != 0 ? "." : "", (int)len,
                     key != NULL ? key : "");
    path_grew(d, old, n);
    return old;
}

static size_t
path_push_index(struct diff *d, size_t i)
{
    size_t old = d->plen;
    int n = snprintf(d->path + old, sizeof(d->path) - old, "[%zu]", i);
    path_grew(d, old, n);
    return old;
}

static void
path_pop(struct diff *d, size_t old)
{
    d->plen = old;
    d->path[old] = '\0';
}

/* The k-th member of obj keyed like m (k counts from 0 among equal keys). */
static const struct igw_node *
nth_same(const struct igw_node *obj, const struct igw_node *m, unsigned k)
{
    const struct igw_node *c = igw_node_get(obj, m->key, m->key_len);
    for (; c != NULL && k > 0; k--) {
        c = igw_node_next_same(c);
    }
    return c;
}

/* Which occurrence of its key m is among its siblings (0 for the first). */
static unsigned
occurrence(const struct igw_node *m)
{
    unsigned k = 0;
    for (const struct igw_node *c = m->parent->first; c != m; c = c->next) {
        k += c->key_len == m->key_len && memcmp(c->key, m->key, m->key_len) == 0;
    }
    return k;
}

static bool
is_container(const struct igw_node *n)
{
    return n->type == IGW_NODE_OBJECT || n->type == IGW_NODE_ARRAY;
}

static void diff_tree(struct diff *d, const struct igw_node *want, const struct igw_node *got,
                      bool subset);

/* True when both objects list the same keys in the same order. */
static bool
same_keys(const struct igw_node *a, const struct igw_node *b)
{
    for (a = a->first, b = b->first; a != NULL && b != NULL; a = a->next, b = b->next) {
        if (a->key_len != b->key_len || memcmp(a->key, b->key, a->key_len) != 0) {
            return false;
        }
    }
    return a == NULL && b == NULL;
}

static void
diff_order(struct diff *d, const struct igw_node *want, const struct igw_node *got)
{
    struct igw_buf w;
    struct igw_buf g;
    const struct igw_node *a;

    for (a = want->first; a != NULL; a = a->next) {
        if (nth_same(got, a, occurrence(a)) == NULL) {
            return; /* missing members were reported instead */
        }
    }
    if (want->count != got->count || same_keys(want, got)) {
        return;
    }
    igw_buf_init(&w, 512);
    igw_buf_init(&g, 512);
    for (a = want->first; a != NULL; a = a->next) {
        (void)igw_buf_printf(&w, "%s%.*s", a == want->first ? "" : ",", (int)a->key_len, a->key);
    }
    for (a = got->first; a != NULL; a = a->next) {
        (void)igw_buf_printf(&g, "%s%.*s", a == got->first ? "" : ",", (int)a->key_len, a->key);
    }
    d->lines++;
    if (d->lines <= DIFF_MAX_LINES) {
        (void)igw_buf_printf(d->log, "    -want +got at %s: member order -[%s] +[%s]\n",
                             d->plen ? d->path : "(root)", w.ptr != NULL ? w.ptr : "",
                             g.ptr != NULL ? g.ptr : "");
    }
    igw_buf_fini(&w);
    igw_buf_fini(&g);
}

/* Objects: members of want missing from got, then got's extra members (in subset mode: got's
 * members must all be in want, want may have more, order is free). */
static void
diff_object(struct diff *d, const struct igw_node *want, const struct igw_node *got, bool subset)
{
    const struct igw_node *m;
    size_t old;

    for (m = want->first; m != NULL && !subset; m = m->next) {
        const struct igw_node *o = nth_same(got, m, occurrence(m));
        old = path_push_key(d, m->key, m->key_len);
        if (o == NULL) {
            diff_line(d, m, NULL, "(missing)");
        } else {
            diff_tree(d, m, o, false);
        }
        path_pop(d, old);
    }
    for (m = got->first; m != NULL; m = m->next) {
        const struct igw_node *w = nth_same(want, m, occurrence(m));
        old = path_push_key(d, m->key, m->key_len);
        if (w == NULL) {
            diff_line(d, NULL, m, subset ? "(not in the input)" : "(extra)");
        } else if (subset) {
            diff_tree(d, w, m, true);
        }
        path_pop(d, old);
    }
    if (!subset) {
        diff_order(d, want, got);
    }
}

static void
diff_array(struct diff *d, const struct igw_node *want, const struct igw_node *got, bool subset)
{
    const struct igw_node *w = want->first;
    const struct igw_node *g = got->first;
    size_t i = 0;

    for (; w != NULL || g != NULL; i++) {
        size_t old = path_push_index(d, i);
        if (g == NULL) {
            diff_line(d, w, NULL, "(missing)");
        } else if (w == NULL) {
            diff_line(d, NULL, g, "(extra)");
        } else {
            diff_tree(d, w, g, subset);
        }
        path_pop(d, old);
        w = w != NULL ? w->next : NULL;
        g = g != NULL ? g->next : NULL;
    }
}

static void
diff_tree(struct diff *d, const struct igw_node *want, const struct igw_node *got, bool subset)
{
    if (want->type != got->type || !is_container(want)) {
        if (!igw_node_equal(want, got)) {
            diff_line(d, want, got, NULL);
        }
        return;
    }
    if (want->type == IGW_NODE_OBJECT) {
        diff_object(d, want, got, subset);
    } else {
        diff_array(d, want, got, subset);
    }
}

/* Prints the differences of got against want; returns how many. */
unsigned
cmdmap_diff_report(struct igw_buf *log, const struct igw_node *want, const struct igw_node *got,
                   bool subset)
{
    struct diff d;

    memset(&d, 0, sizeof(d));
    d.log = log;
    diff_tree(&d, want, got, subset);
    if (d.lines == 0 && !subset && !igw_node_equal(want, got)) {
        (void)igw_buf_puts(log, "    trees differ (number text or XML attribute flags)\n");
        d.lines = 1;
    }
    if (d.lines > DIFF_MAX_LINES) {
        (void)igw_buf_printf(log, "    ... %u more differences\n", d.lines - DIFF_MAX_LINES);
    }
    return d.lines;
}
