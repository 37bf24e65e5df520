/* SPDX-License-Identifier: Apache-2.0 */
/* The result parameters (_count _offset _sort _total _summary _elements _include _cursor) and the
 * start of a search or a read. */
#include <stdlib.h>
#include <string.h>

#include "igw/err.h"
#include "search_int.h"

int igw_sr_control(igw_search_op *op, const struct igw_search_param *sp, char *errbuf,
                   size_t errlen, const char **why);

enum { APPLIED = 0, UNSUPPORTED = 1 };

static int
set_count(igw_search_op *op, const char *v, char *errbuf, size_t errlen)
{
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*v < '0' || *v > '9' || *end != '\0' || n < 0 || n > (long)IGW_SEARCH_COUNT_MAX) {
        igw_errbuf_set(errbuf, errlen, "_count must be a whole number from 0 to %u",
                       IGW_SEARCH_COUNT_MAX);
        return IGW_EPARSE;
    }
    op->count = (unsigned)n;
    if (n == 0) {
        op->summary_count = true;
        op->total = true;
    }
    return APPLIED;
}

static int
set_sort(igw_search_op *op, const char *v, const char **why)
{
    char *s = igw_arena_strndup(op->a, v, strlen(v));
    if (s == NULL) {
        return IGW_ENOMEM;
    }
    op->nkeys = 0;
    for (char *k = s; k != NULL;) {
        char *comma = strchr(k, ',');
        if (comma != NULL) {
            *comma = '\0';
        }
        bool desc = *k == '-';
        const char *name = desc ? k + 1 : k;
        const struct sm_sort *so = NULL;
        for (size_t i = 0; i < op->m->nsorts && so == NULL; i++) {
            so = strcmp(op->m->sorts[i].name, name) == 0 ? &op->m->sorts[i] : NULL;
        }
        if (so == NULL || op->nkeys + 1 >= SR_KEYS_MAX || op->m->unordered) {
            op->nkeys = 0;
            *why = "a sort key igw cannot sort by upstream";
            return UNSUPPORTED;
        }
        op->keys[op->nkeys++] = (struct sr_key){so->order, so->path, so->cmp, desc};
        k = comma != NULL ? comma + 1 : NULL;
    }
    op->custom_sort = true;
    return APPLIED;
}

static int
set_include(igw_search_op *op, const char *v, bool rev, const char **why)
{
    for (size_t i = 0; i < op->m->nincs; i++) {
        const struct sm_include *in = &op->m->incs[i];
        size_t n = strlen(in->spec);
        bool match = in->rev == rev && strncmp(v, in->spec, n) == 0 &&
                     (v[n] == '\0' || (v[n] == ':' && strcmp(v + n + 1, in->target) == 0));
        if (match) {
            for (size_t j = 0; j < op->nincs; j++) {
                if (op->incs[j] == in) {
                    return APPLIED;
                }
            }
            if (op->nincs < SR_INCS_MAX) {
                op->incs[op->nincs++] = in;
            }
            return APPLIED;
        }
    }
    *why = "a relation igw does not follow upstream";
    return UNSUPPORTED;
}

int
igw_sr_control(igw_search_op *op, const struct igw_search_param *sp, char *errbuf, size_t errlen,
               const char **why)
{
    const char *n = sp->name;
    const char *v = sp->value;
    if (sp->modifier != NULL && strcmp(n, "_include") != 0 && strcmp(n, "_revinclude") != 0) {
        *why = "modifier not supported";
        return UNSUPPORTED;
    }
    if (strcmp(n, "_count") == 0) {
        return set_count(op, v, errbuf, errlen);
    }
    if (strcmp(n, "_sort") == 0) {
        return set_sort(op, v, why);
    }
    if (strcmp(n, "_offset") == 0) {
        char *end = NULL;
        long k = strtol(v, &end, 10);
        if (*v < '0' || *v > '9' || *end != '\0' || k < 0 || k > 1000000000L) {
            igw_errbuf_set(errbuf, errlen, "_offset must be a whole number from 0 to 1000000000");
            return IGW_EPARSE;
        }
        op->start_off = k;
        return APPLIED;
    }
    if (strcmp(n, "_total") == 0) {
        if (strcmp(v, "none") != 0 && strcmp(v, "estimate") != 0 && strcmp(v, "accurate") != 0) {
            igw_errbuf_set(errbuf, errlen, "_total takes none, estimate or accurate");
            return IGW_EPARSE;
        }
        op->total = strcmp(v, "none") != 0;
        return APPLIED;
    }
    if (strcmp(n, "_summary") == 0) {
        if (strcmp(v, "count") == 0) {
            op->summary_count = op->total = true;
            return APPLIED;
        }
        *why = "only _summary=count is supported";
        return strcmp(v, "false") == 0 ? APPLIED : UNSUPPORTED;
    }
    if (strcmp(n, "_elements") == 0) {
        op->elements = v;
        return APPLIED;
    }
    if (strcmp(n, "_include") == 0 || strcmp(n, "_revinclude") == 0) {
        if (sp->modifier != NULL) {
            *why = "include modifiers (:iterate) are not supported";
            return UNSUPPORTED;
        }
        return set_include(op, v, n[1] == 'r', why);
    }
    if (strcmp(n, "_cursor") == 0) {
        return igw_sr_cursor_decode(op, v, errbuf, errlen);
    }
    if (strcmp(n, "_format") == 0 || strcmp(n, "_pretty") == 0) {
        return APPLIED; /* the dialect negotiates the format */
    }
    *why = "unknown result parameter";
    return UNSUPPORTED;
}

static int
op_new(igw_search_op **out, igw_arena *a, const igw_search_set *s, const char *resource,
       char *errbuf, size_t errlen)
{
    const igw_search_map *m = igw_search_set_find(s, resource);
    if (m == NULL) {
        igw_errbuf_set(errbuf, errlen, "no search map for %.60s", resource);
        return IGW_ENOENT;
    }
    igw_search_op *op = igw_arena_calloc(a, sizeof(*op));
    if (op == NULL) {
        return IGW_ENOMEM;
    }
    op->a = a;
    op->m = m;
    op->count = IGW_SEARCH_COUNT_DEFAULT;
    *out = op;
    return IGW_OK;
}

static void
add_tiebreak(igw_search_op *op)
{
    const struct sm_sort *k = &op->m->key;
    for (size_t i = 0; i < op->nkeys; i++) {
        if (strcmp(op->keys[i].order, k->order) == 0) {
            return;
        }
    }
    op->keys[op->nkeys++] = (struct sr_key){k->order, k->path, k->cmp, false};
}

int
igw_search_begin(igw_search_op **out, igw_arena *a, const igw_search_set *s, const char *resource,
                 const struct igw_search_query *q, unsigned flags, char *errbuf, size_t errlen)
{
    igw_search_op *op = NULL;
    if (out == NULL || a == NULL || s == NULL || resource == NULL || q == NULL) {
        return IGW_EINVAL;
    }
    int rv = op_new(&op, a, s, resource, errbuf, errlen);
    if (rv != IGW_OK) {
        return rv;
    }
    rv = igw_sr_plan(op, q, flags, errbuf, errlen);
    if (rv != IGW_OK) {
        return rv;
    }
    add_tiebreak(op);
    if (op->have_cursor && op->cur_nkeys != op->nkeys) {
        igw_errbuf_set(errbuf, errlen, "_cursor does not fit this search's sort");
        return IGW_EPARSE;
    }
    op->win_off = op->have_cursor ? op->cur_off : op->start_off;
    if (op->have_cursor && op->prev) {
        long back = (long)op->count + 1;
        op->win_off = op->cur_off > back ? op->cur_off - back : 0;
    } else if (op->have_cursor) {
        op->win_off = op->cur_off > 0 ? op->cur_off - 1 : 0;
    }
    op->done = op->nomatch;
    *out = op;
    return IGW_OK;
}

int
igw_search_begin_read(igw_search_op **out, igw_arena *a, const igw_search_set *s,
                      const char *resource, const char *id, char *errbuf, size_t errlen)
{
    igw_search_op *op = NULL;
    if (out == NULL || a == NULL || s == NULL || resource == NULL || id == NULL) {
        return IGW_EINVAL;
    }
    int rv = op_new(&op, a, s, resource, errbuf, errlen);
    if (rv != IGW_OK) {
        return rv;
    }
    size_t n = strlen(id);
    bool ok = n > 0 && n <= 64;
    for (size_t i = 0; ok && i < n; i++) {
        char c = id[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '.';
    }
    if (!ok || (op->m->id_uuid && !igw_sr_is_uuid(id))) {
        igw_errbuf_set(errbuf, errlen, "no %s has id '%.64s'", resource, id);
        return IGW_ENOENT;
    }
    op->read = true;
    op->count = 1;
    rv = igw_sr_add_arg(op, op->m->id_arg, igw_sr_lit(op, id, false));
    if (rv != IGW_OK) {
        return rv;
    }
    add_tiebreak(op);
    *out = op;
    return IGW_OK;
}
