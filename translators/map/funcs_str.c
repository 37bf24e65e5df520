/* SPDX-License-Identifier: Apache-2.0 */
/*
 * String functions of the map library: concat, split, join, trim, upper, lower, length,
 * substring, replace, contains, startsWith, endsWith and matches (POSIX regex compiled at load).
 */
#include <regex.h>
#include <string.h>

#include "igw/common.h"
#include "map_int.h"

struct map_regex {
    regex_t re;
    struct map_regex *next;
};

void
map_free_regexes(struct map_regex *r)
{
    while (r != NULL) {
        struct map_regex *n = r->next;
        regfree(&r->re);
        igw_free(r);
        r = n;
    }
}

static void
set_str(struct val *out, const char *s, uint32_t len)
{
    memset(out, 0, sizeof(*out));
    out->kind = V_STR;
    out->s = s;
    out->len = len;
}

static void
set_bool(struct val *out, bool b)
{
    memset(out, 0, sizeof(*out));
    out->kind = V_BOOL;
    out->b = b;
}

/* Text of argument i, or NULL (nothing, object, list). */
static int
arg_str(struct ev *ev, struct val *args, unsigned i, const char **s, uint32_t *len)
{
    return map_val_str(ev, &args[i], s, len);
}

static int
f_concat(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    size_t total = 0;
    const char *s[MAP_MAX_ARGS];
    uint32_t n[MAP_MAX_ARGS];
    for (unsigned i = 0; i < x->nargs; i++) {
        int rv = arg_str(ev, args, i, &s[i], &n[i]);
        if (rv != IGW_OK) {
            return rv;
        }
        total += n[i];
    }
    char *d = igw_arena_alloc(ev->a, total + 1);
    size_t k = 0;
    if (d == NULL) {
        return map_oom(ev);
    }
    for (unsigned i = 0; i < x->nargs; i++) {
        if (n[i] > 0) {
            memcpy(d + k, s[i], n[i]);
            k += n[i];
        }
    }
    d[k] = '\0';
    set_str(out, d, (uint32_t)k);
    return IGW_OK;
}

int
map_split(struct ev *ev, const char *s, uint32_t len, const char *sep, uint32_t seplen,
          struct val *out)
{
    uint32_t parts = 1;
    uint32_t k = 0;
    const char *p = s;
    const char *end = s + len;
    struct val *items;
    if (seplen == 0) {
        set_str(out, s, len);
        return IGW_OK;
    }
    for (const char *q = s; q + seplen <= end;) {
        if (memcmp(q, sep, seplen) == 0) {
            parts++;
            q += seplen;
        } else {
            q++;
        }
    }
    items = igw_arena_alloc(ev->a, parts * sizeof(*items));
    if (items == NULL) {
        return map_oom(ev);
    }
    for (const char *q = s; k + 1 < parts;) {
        if (q + seplen <= end && memcmp(q, sep, seplen) == 0) {
            set_str(&items[k++], p, (uint32_t)(q - p));
            q += seplen;
            p = q;
        } else {
            q++;
        }
    }
    set_str(&items[k++], p, (uint32_t)(end - p));
    memset(out, 0, sizeof(*out));
    out->kind = V_LIST;
    out->items = items;
    out->len = k;
    return IGW_OK;
}

static int
f_split(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    const char *s;
    const char *sep;
    uint32_t n;
    uint32_t sn;
    int rv = arg_str(ev, args, 0, &s, &n);
    if (rv == IGW_OK) {
        rv = arg_str(ev, args, 1, &sep, &sn);
    }
    IGW_UNUSED(x);
    if (rv != IGW_OK || s == NULL || sep == NULL) {
        return rv;
    }
    return map_split(ev, s, n, sep, sn, out);
}

int
map_join(struct ev *ev, const struct val *v, const char *sep, uint32_t seplen, struct val *out)
{
    struct val *items;
    uint32_t n;
    size_t total = 0;
    int rv = map_val_items(ev, v, &items, &n);
    if (rv != IGW_OK || n == 0) {
        return rv;
    }
    const char **ss = igw_arena_alloc(ev->a, n * (sizeof(char *) + sizeof(uint32_t)));
    uint32_t *ls = ss != NULL ? (uint32_t *)(void *)(ss + n) : NULL;
    if (ss == NULL) {
        return map_oom(ev);
    }
    for (uint32_t i = 0; i < n; i++) {
        rv = map_val_str(ev, &items[i], &ss[i], &ls[i]);
        if (rv != IGW_OK) {
            return rv;
        }
        total += ls[i] + (i > 0 ? seplen : 0);
    }
    char *d = igw_arena_alloc(ev->a, total + 1);
    size_t k = 0;
    if (d == NULL) {
        return map_oom(ev);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0 && seplen > 0) {
            memcpy(d + k, sep, seplen);
            k += seplen;
        }
        if (ls[i] > 0) {
            memcpy(d + k, ss[i], ls[i]);
            k += ls[i];
        }
    }
    d[k] = '\0';
    set_str(out, d, (uint32_t)k);
    return IGW_OK;
}

static int
f_join(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    const char *sep = "";
    uint32_t sn = 0;
    int rv = x->nargs > 1 ? arg_str(ev, args, 1, &sep, &sn) : IGW_OK;
    if (rv != IGW_OK || sep == NULL) {
        return rv;
    }
    return map_join(ev, &args[0], sep, sn, out);
}

static int
f_trim(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    const char *s;
    uint32_t n;
    int rv = arg_str(ev, args, 0, &s, &n);
    IGW_UNUSED(x);
    if (rv != IGW_OK || s == NULL) {
        return rv;
    }
    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) {
        n--;
    }
    set_str(out, s, n);
    return IGW_OK;
}

static int
change_case(struct ev *ev, struct val *args, struct val *out, bool up)
{
    const char *s;
    uint32_t n;
    int rv = arg_str(ev, args, 0, &s, &n);
    if (rv != IGW_OK || s == NULL) {
        return rv;
    }
    char *d = igw_arena_alloc(ev->a, (size_t)n + 1);
    if (d == NULL) {
        return map_oom(ev);
    }
    for (uint32_t i = 0; i < n; i++) {
        char c = s[i];
        if (up && c >= 'a' && c <= 'z') {
            c = (char)(c - 32);
        } else if (!up && c >= 'A' && c <= 'Z') {
            c = (char)(c + 32);
        }
        d[i] = c;
    }
    d[n] = '\0';
    set_str(out, d, n);
    return IGW_OK;
}

static int
f_upper(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    IGW_UNUSED(x);
    return change_case(ev, args, out, true);
}

static int
f_lower(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    IGW_UNUSED(x);
    return change_case(ev, args, out, false);
}

static int
f_length(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    const char *s;
    uint32_t n;
    int rv = arg_str(ev, args, 0, &s, &n);
    IGW_UNUSED(x);
    if (rv != IGW_OK || s == NULL) {
        return rv;
    }
    return map_num_val(ev, (double)n, out);
}

static int
f_substring(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    const char *s;
    uint32_t n;
    double start = 0;
    double cnt = -1;
    int rv = arg_str(ev, args, 0, &s, &n);
    if (rv != IGW_OK || s == NULL || map_val_num(&args[1], &start) != IGW_OK) {
        return rv;
    }
    if (x->nargs > 2 && map_val_num(&args[2], &cnt) != IGW_OK) {
        return IGW_OK;
    }
    if (start < 0) {
        start = start + n < 0 ? 0 : start + n;
    }
    uint32_t b = start > n ? n : (uint32_t)start;
    uint32_t len = n - b;
    if (cnt >= 0 && cnt < len) {
        len = (uint32_t)cnt;
    }
    set_str(out, s + b, len);
    return IGW_OK;
}

static int
f_replace(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    const char *s;
    const char *f;
    const char *w;
    uint32_t n;
    uint32_t fn;
    uint32_t wn;
    int rv = arg_str(ev, args, 0, &s, &n);
    IGW_UNUSED(x);
    if (rv == IGW_OK) {
        rv = arg_str(ev, args, 1, &f, &fn);
    }
    if (rv == IGW_OK) {
        rv = arg_str(ev, args, 2, &w, &wn);
    }
    if (rv != IGW_OK || s == NULL || f == NULL || w == NULL) {
        return rv;
    }
    if (fn == 0) {
        set_str(out, s, n);
        return IGW_OK;
    }
    struct val parts;
    rv = map_split(ev, s, n, f, fn, &parts);
    return rv != IGW_OK ? rv : map_join(ev, &parts, w, wn, out);
}

static bool
find_bytes(const char *s, uint32_t n, const char *p, uint32_t pn)
{
    if (pn == 0) {
        return true;
    }
    for (uint32_t i = 0; i + pn <= n; i++) {
        if (memcmp(s + i, p, pn) == 0) {
            return true;
        }
    }
    return false;
}

static int
two_strs(struct ev *ev, struct val *args, const char **a, uint32_t *an, const char **b,
         uint32_t *bn)
{
    int rv = arg_str(ev, args, 0, a, an);
    if (rv == IGW_OK) {
        rv = arg_str(ev, args, 1, b, bn);
    }
    return rv;
}

typedef bool (*str_pred_fn)(const char *a, uint32_t an, const char *b, uint32_t bn);

static bool
p_contains(const char *a, uint32_t an, const char *b, uint32_t bn)
{
    return find_bytes(a, an, b, bn);
}

static bool
p_starts(const char *a, uint32_t an, const char *b, uint32_t bn)
{
    return bn <= an && memcmp(a, b, bn) == 0;
}

static bool
p_ends(const char *a, uint32_t an, const char *b, uint32_t bn)
{
    return bn <= an && memcmp(a + an - bn, b, bn) == 0;
}

/* A boolean of two string arguments; nothing when either is missing. */
static int
str_pred(struct ev *ev, struct val *args, struct val *out, str_pred_fn pred)
{
    const char *a;
    const char *b;
    uint32_t an;
    uint32_t bn;
    int rv = two_strs(ev, args, &a, &an, &b, &bn);
    if (rv == IGW_OK && a != NULL && b != NULL) {
        set_bool(out, pred(a, an, b, bn));
    }
    return rv;
}

static int
f_contains(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    IGW_UNUSED(x);
    return str_pred(ev, args, out, p_contains);
}

static int
f_starts(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    IGW_UNUSED(x);
    return str_pred(ev, args, out, p_starts);
}

static int
f_ends(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    IGW_UNUSED(x);
    return str_pred(ev, args, out, p_ends);
}

static int
f_matches(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    const char *s;
    uint32_t n;
    const struct map_regex *r = x->aux;
    int rv = arg_str(ev, args, 0, &s, &n);
    if (rv != IGW_OK || s == NULL) {
        return rv;
    }
    if (memchr(s, '\0', n) != NULL) {
        set_bool(out, false);
        return IGW_OK;
    }
    char *d = igw_arena_strndup(ev->a, s, n);
    if (d == NULL) {
        return map_oom(ev);
    }
    set_bool(out, regexec(&r->re, d, 0, NULL, 0) == 0);
    return IGW_OK;
}

static int
check_matches(struct cctx *c, struct xnode *x)
{
    const struct xnode *p = x->args[1];
    struct map_regex *r;
    if (p->kind != X_CONST || p->k.kind != V_STR) {
        return map_fail(c, IGW_ECONFIG, p->line, p->col, "matches() needs a constant regex string");
    }
    r = IGW_NEW(struct map_regex);
    if (r == NULL) {
        return map_fail(c, IGW_ENOMEM, p->line, p->col, "out of memory");
    }
    int e = regcomp(&r->re, p->k.s, REG_EXTENDED | REG_NOSUB);
    if (e != 0) {
        char msg[128];
        regerror(e, &r->re, msg, sizeof(msg));
        igw_free(r);
        return map_fail(c, IGW_ECONFIG, p->line, p->col, "bad regex: %s", msg);
    }
    r->next = c->m->regexes;
    c->m->regexes = r;
    x->aux = r;
    return IGW_OK;
}

const struct mfunc map_funcs_str[] = {
    {"concat", 1, MAP_MAX_ARGS, T_STR, {0}, f_concat, NULL},
    {"split", 2, 2, T_LIST, {T_STR, T_STR}, f_split, NULL},
    {"join", 1, 2, T_STR, {T_ANY, T_STR}, f_join, NULL},
    {"trim", 1, 1, T_STR, {T_STR}, f_trim, NULL},
    {"upper", 1, 1, T_STR, {T_STR}, f_upper, NULL},
    {"lower", 1, 1, T_STR, {T_STR}, f_lower, NULL},
    {"length", 1, 1, T_NUM, {T_STR}, f_length, NULL},
    {"substring", 2, 3, T_STR, {T_STR, T_NUM, T_NUM}, f_substring, NULL},
    {"replace", 3, 3, T_STR, {T_STR, T_STR, T_STR}, f_replace, NULL},
    {"contains", 2, 2, T_BOOL, {T_STR, T_STR}, f_contains, NULL},
    {"startsWith", 2, 2, T_BOOL, {T_STR, T_STR}, f_starts, NULL},
    {"endsWith", 2, 2, T_BOOL, {T_STR, T_STR}, f_ends, NULL},
    {"matches", 2, 2, T_BOOL, {T_STR, T_STR}, f_matches, check_matches},
    {NULL, 0, 0, 0, {0}, NULL, NULL},
};
