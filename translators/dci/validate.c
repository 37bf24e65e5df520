/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SPDCI envelope validation (include/igw/dci.h) over the generated schema tables
 * (dci_tables.c, translators/dci/gen/). A walk of the tree against the schema nodes that stops
 * at the first failure and reports it with the reason code of the innermost named property on
 * its path. oneOf/anyOf: the first alternative that passes wins; when none does, the failure
 * that got deepest is reported (the alternative the sender most likely meant).
 *
 * No allocation, no global state; recursion is bounded by MAX_DEPTH.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "igw/dci.h"
#include "dci_tables.h"

#define MAX_DEPTH 48

struct igw_dci_endpoint {
    struct dci_endpoint ep; /* never instantiated: pointers into dci_endpoints */
};

struct vctx {
    char where[sizeof(((struct igw_dci_error *)0)->where)];
    size_t wlen;
    unsigned code; /* index into dci_codes */
    unsigned depth;
    struct igw_dci_error *err;
};

/* ---- codes -------------------------------------------------------------------------------- */

static int
code_index(const char *code)
{
    size_t lo = 0, hi = dci_ncodes;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(dci_codes[mid], code);
        if (c == 0) {
            return (int)mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

bool
igw_dci_code_known(const char *code)
{
    return code != NULL && code_index(code) >= 0;
}

/* ---- endpoints ---------------------------------------------------------------------------- */

const struct igw_dci_endpoint *
igw_dci_endpoint_at(size_t i)
{
    return i < dci_nendpoints ? (const struct igw_dci_endpoint *)(const void *)&dci_endpoints[i]
                              : NULL;
}

const struct igw_dci_endpoint *
igw_dci_endpoint_find(const char *action, bool sync)
{
    const struct dci_endpoint *async_ep = NULL;

    for (size_t i = 0; action != NULL && i < dci_nendpoints; i++) {
        const struct dci_endpoint *e = &dci_endpoints[i];
        if (strcmp(e->action, action) != 0) {
            continue;
        }
        if (((e->flags & DCI_EP_SYNC) != 0) == sync) {
            return (const struct igw_dci_endpoint *)(const void *)e;
        }
        async_ep = e;
    }
    return sync ? NULL : (const struct igw_dci_endpoint *)(const void *)async_ep;
}

void
igw_dci_endpoint_info(const struct igw_dci_endpoint *ep, struct igw_dci_endpoint_info *out)
{
    const struct dci_endpoint *e = (const struct dci_endpoint *)(const void *)ep;

    out->path = e->path;
    out->action = e->action;
    out->flags = e->flags;
}

static bool
action_known(const char *s, size_t len)
{
    for (size_t i = 0; i < dci_nendpoints; i++) {
        if (strlen(dci_endpoints[i].action) == len &&
            memcmp(dci_endpoints[i].action, s, len) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- formats ------------------------------------------------------------------------------ */

static bool
digits(const char *s, size_t n, int *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

bool
igw_dci_datetime_ok(const char *s, size_t len)
{
    int y, mo, d, h, mi, sec = 0, zh, zm = 0;
    size_t i = 16;

    if (s == NULL || len < 17 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi)) {
        return false;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59) {
        return false;
    }
    if (i < len && s[i] == ':') {
        if (i + 3 > len || !digits(s + i + 1, 2, &sec) || sec > 60) {
            return false;
        }
        i += 3;
        if (i < len && (s[i] == '.' || s[i] == ',')) {
            size_t f = ++i;
            while (i < len && s[i] >= '0' && s[i] <= '9') {
                i++;
            }
            if (i == f) {
                return false;
            }
        }
    }
    if (i == len) {
        return false; /* no zone */
    }
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        return true;
    }
    if (s[i] != '+' && s[i] != '-') {
        return false;
    }
    i++;
    if (len - i == 5 && s[i + 2] == ':') {
        return digits(s + i, 2, &zh) && digits(s + i + 3, 2, &zm) && zh <= 23 && zm <= 59;
    }
    if (len - i == 4) {
        return digits(s + i, 2, &zh) && digits(s + i + 2, 2, &zm) && zh <= 23 && zm <= 59;
    }
    return len - i == 2 && digits(s + i, 2, &zh) && zh <= 23;
}

bool
igw_dci_locale_ok(const char *s, size_t len)
{
    if (s == NULL || len != 3) {
        return false;
    }
    for (size_t i = 0; i < 3; i++) {
        if (s[i] < 'a' || s[i] > 'z') {
            return false;
        }
    }
    return true;
}

static bool
uri_ok(const char *s, size_t len)
{
    size_t i = 0;

    if (len == 0) {
        return true; /* drift: the official samples send "sender_uri": "" (a missing one) */
    }
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) {
        return false;
    }
    while (i < len && s[i] != ':') {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.')) {
            return false;
        }
        i++;
    }
    if (i == len || i + 1 == len) {
        return false;
    }
    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f || strchr("<>\"|\\^`", c) != NULL) {
            return false;
        }
    }
    return true;
}

/* Characters (UTF-8 code points) in s[0..len). */
static size_t
chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        n += ((unsigned char)s[i] & 0xC0u) != 0x80u;
    }
    return n;
}

/* ---- the walk ----------------------------------------------------------------------------- */

/* Records the failure at the current place: "<where>: <what>", or with a value
 * "<where>: \"<val>\" <what>". */
static bool
fail(struct vctx *c, const char *what, const char *val)
{
    struct igw_dci_error *e = c->err;
    const char *w = c->wlen > 0 ? c->where : "(body)";

    e->code = dci_codes[c->code];
    snprintf(e->where, sizeof(e->where), "%s", w);
    if (val != NULL) {
        snprintf(e->message, sizeof(e->message), "%s: \"%.64s\" %s", w, val, what);
    } else {
        snprintf(e->message, sizeof(e->message), "%s: %s", w, what);
    }
    return false;
}

static size_t
push(struct vctx *c, const char *name, size_t name_len, long idx)
{
    size_t old = c->wlen;
    size_t room = sizeof(c->where) - old;
    int n = idx >= 0 ? snprintf(c->where + old, room, "[%ld]", idx)
                     : snprintf(c->where + old, room, "%s%.*s", old > 0 ? "." : "", (int)name_len,
                                name != NULL ? name : "");
    c->wlen = n < 0 ? old : ((size_t)n >= room ? sizeof(c->where) - 1 : old + (size_t)n);
    return old;
}

static void
pop(struct vctx *c, size_t old)
{
    c->wlen = old;
    c->where[old] = '\0';
}

static bool walk(struct vctx *c, const struct igw_node *n, unsigned si);

/* A whole number given as a NUMBER, or (drift) as a string of digits. */
static bool
number_value(const struct igw_node *n, const struct dci_node *s, double *v)
{
    if (n->type == IGW_NODE_NUMBER) {
        *v = n->num;
        return true;
    }
    if ((s->flags & DCI_N_NUMSTR) != 0 && n->type == IGW_NODE_STRING && n->len > 0 && n->len < 32) {
        char buf[32], *end = NULL;
        memcpy(buf, n->str, n->len);
        buf[n->len] = '\0';
        *v = strtod(buf, &end);
        return end == buf + n->len && isfinite(*v);
    }
    return false;
}

static bool
walk_string(struct vctx *c, const struct igw_node *n, const struct dci_node *s)
{
    bool in = s->n_enum == 0;

    if (n->type != IGW_NODE_STRING) {
        return fail(c, "must be a string", NULL);
    }
    if (s->max_len > 0 && chars(n->str, n->len) > s->max_len) {
        char lim[48];
        snprintf(lim, sizeof(lim), "is longer than %u characters", (unsigned)s->max_len);
        return fail(c, lim, NULL);
    }
    if (chars(n->str, n->len) < s->min_len) {
        return fail(c, "is too short", NULL);
    }
    for (unsigned k = 0; k < s->n_enum && !in; k++) {
        const char *e = dci_enums[s->first_enum + k];
        in = strlen(e) == n->len &&
             ((s->flags & DCI_N_NOCASE) != 0 ? strncasecmp(e, n->str, n->len) == 0
                                             : memcmp(e, n->str, n->len) == 0);
    }
    if (!in) {
        unsigned act = (unsigned)code_index(IGW_DCI_ACTION_INVALID);
        if (c->code == act && action_known(n->str, n->len)) {
            c->code = (unsigned)code_index(IGW_DCI_ACTION_NOT_SUPPORTED);
            return fail(c, "is a DCI action this endpoint does not take", n->str);
        }
        return fail(c, "is not one of the allowed values", n->str);
    }
    switch (s->fmt) {
    case DCI_F_DATETIME:
        return igw_dci_datetime_ok(n->str, n->len)
                   ? true
                   : fail(c, "is not an ISO 8601 date-time with a time zone", n->str);
    case DCI_F_LOCALE:
        return igw_dci_locale_ok(n->str, n->len)
                   ? true
                   : fail(c, "is not an ISO 639-3 code (three lowercase letters)", n->str);
    case DCI_F_URI:
        return uri_ok(n->str, n->len) ? true : fail(c, "is not an absolute URI", n->str);
    default:
        return true;
    }
}

static bool
plain_string(const struct dci_node *s)
{
    return s->type == DCI_T_ANY ||
           (s->type == DCI_T_STRING && s->n_enum == 0 && s->fmt == DCI_F_NONE);
}

static bool
walk_object(struct vctx *c, const struct igw_node *n, const struct dci_node *s)
{
    if (n->type != IGW_NODE_OBJECT) {
        return fail(c, "must be an object", NULL);
    }
    for (unsigned k = 0; k < s->n; k++) {
        const struct dci_prop *p = &dci_props[s->first + k];
        const struct igw_node *m = igw_node_get(n, p->name, p->name_len);
        unsigned code = c->code;
        size_t old;
        bool ok;

        if (m != NULL && p->required && m->type == IGW_NODE_STRING && m->len == 0 &&
            dci_nodes[p->node].fmt == DCI_F_URI) {
            m = NULL; /* an empty required URI (sender_uri "") is a missing one */
        }
        if (m != NULL && !p->required && m->type == IGW_NODE_STRING && m->len == 0 &&
            !plain_string(&dci_nodes[p->node])) {
            continue; /* drift: "" for an unused optional member ("meta": "") */
        }
        if (m != NULL && !p->required && m->type == IGW_NODE_NULL) {
            continue; /* drift: null for an unused optional member */
        }
        if (m == NULL && !p->required) {
            continue;
        }
        old = push(c, p->name, p->name_len, -1);
        c->code = p->code != DCI_CODE_NONE ? p->code : code;
        ok = m != NULL ? walk(c, m, p->node) : fail(c, "is required", NULL);
        c->code = code;
        pop(c, old);
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool
walk_anyof(struct vctx *c, const struct igw_node *n, const struct dci_node *s)
{
    struct igw_dci_error best = {0}, cur;
    struct igw_dci_error *mine = c->err;
    size_t best_depth = 0;
    bool have = false;

    for (unsigned k = 0; k < s->n; k++) {
        struct vctx alt = *c;
        alt.err = &cur;
        if (walk(&alt, n, dci_alts[s->first + k])) {
            return true;
        }
        if (!have || strlen(cur.where) > best_depth) {
            best = cur;
            best_depth = strlen(cur.where);
            have = true;
        }
    }
    if (!have) {
        return fail(c, "matches none of its forms", NULL);
    }
    *mine = best;
    return false;
}

static bool
walk(struct vctx *c, const struct igw_node *n, unsigned si)
{
    const struct dci_node *s = &dci_nodes[si];
    double v = 0;
    bool ok = true;

    if (++c->depth > MAX_DEPTH) {
        c->depth--;
        return fail(c, "is nested too deeply", NULL);
    }
    switch (s->type) {
    case DCI_T_OBJECT:
        ok = walk_object(c, n, s);
        break;
    case DCI_T_ARRAY:
        if (n->type == IGW_NODE_ARRAY) {
            long i = 0;
            for (const struct igw_node *it = n->first; it != NULL && ok; it = it->next, i++) {
                size_t old = push(c, NULL, 0, i);
                ok = walk(c, it, s->first);
                pop(c, old);
            }
        } else if ((s->flags & DCI_N_SINGLE) != 0 && n->type == IGW_NODE_OBJECT &&
                   dci_nodes[s->first].type == DCI_T_OBJECT) {
            ok = walk(c, n, s->first); /* drift: one object for a one-item array */
        } else {
            ok = fail(c, "must be an array", NULL);
        }
        break;
    case DCI_T_STRING:
        ok = walk_string(c, n, s);
        break;
    case DCI_T_INTEGER:
    case DCI_T_NUMBER:
        if (!number_value(n, s, &v)) {
            ok = fail(c, "must be a number", NULL);
        } else if (s->type == DCI_T_INTEGER && floor(v) != v) {
            ok = fail(c, "must be a whole number", NULL);
        } else if (s->has_min && v < s->minimum) {
            char lim[48];
            snprintf(lim, sizeof(lim), "must be at least %d", (int)s->minimum);
            ok = fail(c, lim, NULL);
        }
        break;
    case DCI_T_BOOLEAN:
        ok = n->type == IGW_NODE_BOOL ? true : fail(c, "must be true or false", NULL);
        break;
    case DCI_T_ANYOF:
        ok = walk_anyof(c, n, s);
        break;
    default:
        break;
    }
    c->depth--;
    return ok;
}

bool
igw_dci_validate(const struct igw_node *envelope, const struct igw_dci_endpoint *ep,
                 struct igw_dci_error *err)
{
    const struct dci_endpoint *e = (const struct dci_endpoint *)(const void *)ep;
    struct vctx c = {.code = dci_default_code, .err = err};

    memset(err, 0, sizeof(*err));
    if (envelope == NULL) {
        return fail(&c, "is missing", NULL);
    }
    if (walk(&c, envelope, e->root)) {
        err->code = NULL;
        return true;
    }
    return false;
}
