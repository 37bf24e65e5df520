/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Date functions: date(value, in[, out[, tz]]) with patterns compiled at load (yyyy MM M dd d
 * HH H mm ss SSS XXX Z, quoted literals), strict parsing, offset conversion, and now().
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "map_int.h"

enum dk {
    DK_LIT = 0,
    DK_YYYY,
    DK_MM,
    DK_M,
    DK_DD,
    DK_D,
    DK_HH,
    DK_H,
    DK_MI,
    DK_SS,
    DK_SSS,
    DK_XXX,
    DK_Z
};

#define DP_MAX 64

struct ditem {
    uint8_t kind;
    char lit;
};

struct dpat {
    uint8_t n;
    bool has_time;
    bool has_ms;
    struct ditem items[DP_MAX];
};

struct dpair {
    const struct dpat *in;
    const struct dpat *out;
};

struct dt {
    int y, mo, d, h, mi, s, ms;
    int off; /* minutes east of UTC */
    bool has_off;
};

struct letter {
    char c;
    uint8_t count;
    uint8_t kind;
};

static const struct letter letters[] = {
    {'y', 4, DK_YYYY}, {'M', 2, DK_MM},  {'M', 1, DK_M},   {'d', 2, DK_DD},
    {'d', 1, DK_D},    {'H', 2, DK_HH},  {'H', 1, DK_H},   {'m', 2, DK_MI},
    {'s', 2, DK_SS},   {'S', 3, DK_SSS}, {'X', 3, DK_XXX}, {'Z', 1, DK_Z},
};

static bool
is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
pat_push(struct dpat *p, uint8_t kind, char lit)
{
    if (p->n == DP_MAX) {
        return IGW_EINVAL;
    }
    p->items[p->n].kind = kind;
    p->items[p->n].lit = lit;
    p->n++;
    if (kind >= DK_HH && kind <= DK_SSS) {
        p->has_time = true;
    }
    p->has_ms = p->has_ms || kind == DK_SSS;
    return IGW_OK;
}

static int
pat_letters(struct dpat *p, const char **s, const char *end)
{
    char c = **s;
    uint8_t n = 0;
    while (*s < end && **s == c && n < 8) {
        (*s)++;
        n++;
    }
    for (size_t i = 0; i < IGW_ARRAY_LEN(letters); i++) {
        if (letters[i].c == c && letters[i].count == n) {
            return pat_push(p, letters[i].kind, 0);
        }
    }
    return IGW_EINVAL;
}

static int
pat_quoted(struct dpat *p, const char **s, const char *end)
{
    (*s)++;
    if (*s < end && **s == '\'') {
        (*s)++;
        return pat_push(p, DK_LIT, '\'');
    }
    while (*s < end && **s != '\'') {
        if (pat_push(p, DK_LIT, **s) != IGW_OK) {
            return IGW_EINVAL;
        }
        (*s)++;
    }
    if (*s >= end) {
        return IGW_EINVAL;
    }
    (*s)++;
    return IGW_OK;
}

static int
pat_compile(const char *s, size_t len, struct dpat *p)
{
    const char *end = s + len;
    memset(p, 0, sizeof(*p));
    while (s < end) {
        int rv;
        if (is_letter(*s)) {
            rv = pat_letters(p, &s, end);
        } else if (*s == '\'') {
            rv = pat_quoted(p, &s, end);
        } else {
            rv = pat_push(p, DK_LIT, *s++);
        }
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return p->n > 0 ? IGW_OK : IGW_EINVAL;
}

static const char iso_date[] = "yyyy-MM-dd";
static const char iso_time[] = "yyyy-MM-dd'T'HH:mm:ssXXX";
static const char iso_time_ms[] = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX";

static struct dpat *
pat_const(struct cctx *c, const struct xnode *a)
{
    struct dpat *p = igw_arena_alloc(c->a, sizeof(*p));
    if (p == NULL) {
        map_fail(c, IGW_ENOMEM, a->line, a->col, "out of memory");
        return NULL;
    }
    if (a->kind != X_CONST || a->k.kind != V_STR) {
        map_fail(c, IGW_ECONFIG, a->line, a->col, "date patterns must be constant strings");
        return NULL;
    }
    if (pat_compile(a->k.s, a->k.len, p) != IGW_OK) {
        map_fail(c, IGW_ECONFIG, a->line, a->col, "bad date pattern \"%s\"", a->k.s);
        return NULL;
    }
    return p;
}

static int
parse_offset_text(const char *s, uint32_t n, int *off)
{
    if (n == 1 && s[0] == 'Z') {
        *off = 0;
        return IGW_OK;
    }
    if (n != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') {
        return IGW_EINVAL;
    }
    int h = (s[1] - '0') * 10 + (s[2] - '0');
    int m = (s[4] - '0') * 10 + (s[5] - '0');
    if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' || s[4] < '0' || s[4] > '9' ||
        s[5] < '0' || s[5] > '9' || h > 14 || m > 59) {
        return IGW_EINVAL;
    }
    *off = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
    return IGW_OK;
}

static int
check_date(struct cctx *c, struct xnode *x)
{
    struct dpair *pp = igw_arena_calloc(c->a, sizeof(*pp));
    struct xnode iso = *x->args[1];
    int off = 0;
    if (pp == NULL) {
        return map_fail(c, IGW_ENOMEM, x->line, x->col, "out of memory");
    }
    pp->in = pat_const(c, x->args[1]);
    if (pp->in == NULL) {
        return c->err;
    }
    if (x->nargs == 2) {
        iso.k.s = !pp->in->has_time ? iso_date : pp->in->has_ms ? iso_time_ms : iso_time;
        iso.k.len = (uint32_t)strlen(iso.k.s);
    }
    pp->out = pat_const(c, x->nargs >= 3 ? x->args[2] : &iso);
    if (pp->out == NULL) {
        return c->err;
    }
    if (x->nargs == 4 && x->args[3]->kind == X_CONST &&
        (x->args[3]->k.kind != V_STR ||
         parse_offset_text(x->args[3]->k.s, x->args[3]->k.len, &off) != IGW_OK)) {
        return map_fail(c, IGW_ECONFIG, x->args[3]->line, x->args[3]->col,
                        "time zone must be \"Z\" or \"+hh:mm\"");
    }
    x->aux = pp;
    return IGW_OK;
}

/* ---- parsing values ---------------------------------------------------------------------- */

static int
digits(const char **s, const char *end, int min, int max, int *out)
{
    int v = 0;
    int n = 0;
    while (*s < end && n < max && **s >= '0' && **s <= '9') {
        v = v * 10 + (**s - '0');
        (*s)++;
        n++;
    }
    *out = v;
    return n >= min ? IGW_OK : IGW_EINVAL;
}

static int
parse_off(const char **s, const char *end, bool colon, struct dt *t)
{
    int h;
    int m;
    int sign;
    if (*s < end && **s == 'Z') {
        (*s)++;
        t->off = 0;
        t->has_off = true;
        return IGW_OK;
    }
    if (*s >= end || (**s != '+' && **s != '-')) {
        return IGW_EINVAL;
    }
    sign = **s == '-' ? -1 : 1;
    (*s)++;
    if (digits(s, end, 2, 2, &h) != IGW_OK) {
        return IGW_EINVAL;
    }
    if (colon && (*s >= end || *(*s)++ != ':')) {
        return IGW_EINVAL;
    }
    if (digits(s, end, 2, 2, &m) != IGW_OK || h > 14 || m > 59) {
        return IGW_EINVAL;
    }
    t->off = sign * (h * 60 + m);
    t->has_off = true;
    return IGW_OK;
}

static int
parse_item(const struct ditem *it, const char **s, const char *end, struct dt *t)
{
    switch (it->kind) {
    case DK_LIT:
        return *s < end && *(*s)++ == it->lit ? IGW_OK : IGW_EINVAL;
    case DK_YYYY:
        return digits(s, end, 4, 4, &t->y);
    case DK_MM:
        return digits(s, end, 2, 2, &t->mo);
    case DK_M:
        return digits(s, end, 1, 2, &t->mo);
    case DK_DD:
        return digits(s, end, 2, 2, &t->d);
    case DK_D:
        return digits(s, end, 1, 2, &t->d);
    case DK_HH:
        return digits(s, end, 2, 2, &t->h);
    case DK_H:
        return digits(s, end, 1, 2, &t->h);
    case DK_MI:
        return digits(s, end, 2, 2, &t->mi);
    case DK_SS:
        return digits(s, end, 2, 2, &t->s);
    case DK_SSS:
        return digits(s, end, 3, 3, &t->ms);
    case DK_XXX:
        return parse_off(s, end, true, t);
    default:
        return parse_off(s, end, false, t);
    }
}

static bool
leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
mdays(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

static int
parse_dt(const struct dpat *p, const char *s, uint32_t len, struct dt *t)
{
    const char *end = s + len;
    memset(t, 0, sizeof(*t));
    t->y = 1970;
    t->mo = 1;
    t->d = 1;
    for (uint8_t i = 0; i < p->n; i++) {
        if (parse_item(&p->items[i], &s, end, t) != IGW_OK) {
            return IGW_EINVAL;
        }
    }
    if (s != end || t->mo < 1 || t->mo > 12 || t->d < 1 || t->d > mdays(t->y, t->mo) || t->h > 23 ||
        t->mi > 59 || t->s > 59) {
        return IGW_EINVAL;
    }
    return IGW_OK;
}

/* ---- time zone arithmetic (H. Hinnant's civil calendar algorithms) ----------------------- */

static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, struct dt *t)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    t->d = (int)(doy - (153 * mp + 2) / 5 + 1);
    t->mo = (int)(mp < 10 ? mp + 3 : mp - 9);
    t->y = (int)(yoe + era * 400 + (t->mo <= 2));
}

/* Moves t to offset off (minutes), t without an offset being UTC. */
static void
shift_to(struct dt *t, int off)
{
    int64_t mins = days_from_civil(t->y, t->mo, t->d) * 1440 + t->h * 60 + t->mi -
                   (t->has_off ? t->off : 0) + off;
    int64_t days = mins >= 0 ? mins / 1440 : -((-mins + 1439) / 1440);
    int64_t rem = mins - days * 1440;
    civil_from_days(days, t);
    t->h = (int)(rem / 60);
    t->mi = (int)(rem % 60);
    t->off = off;
    t->has_off = true;
}

static void
from_epoch_ms(uint64_t ms, struct dt *t)
{
    int64_t secs = (int64_t)(ms / 1000);
    memset(t, 0, sizeof(*t));
    civil_from_days(secs / 86400, t);
    t->h = (int)(secs % 86400 / 3600);
    t->mi = (int)(secs % 3600 / 60);
    t->s = (int)(secs % 60);
    t->ms = (int)(ms % 1000);
    t->has_off = true;
}

/* ---- formatting -------------------------------------------------------------------------- */

static size_t
fmt_off(char *d, size_t cap, const struct dt *t, bool colon)
{
    int a = t->off < 0 ? -t->off : t->off;
    if (t->off == 0 && colon) {
        return (size_t)snprintf(d, cap, "Z");
    }
    return (size_t)snprintf(d, cap, colon ? "%c%02d:%02d" : "%c%02d%02d", t->off < 0 ? '-' : '+',
                            a / 60, a % 60);
}

static size_t
fmt_item(char *d, size_t cap, const struct ditem *it, const struct dt *t)
{
    switch (it->kind) {
    case DK_LIT:
        return (size_t)snprintf(d, cap, "%c", it->lit);
    case DK_YYYY:
        return (size_t)snprintf(d, cap, "%04d", t->y);
    case DK_MM:
    case DK_M:
        return (size_t)snprintf(d, cap, it->kind == DK_MM ? "%02d" : "%d", t->mo);
    case DK_DD:
    case DK_D:
        return (size_t)snprintf(d, cap, it->kind == DK_DD ? "%02d" : "%d", t->d);
    case DK_HH:
    case DK_H:
        return (size_t)snprintf(d, cap, it->kind == DK_HH ? "%02d" : "%d", t->h);
    case DK_MI:
        return (size_t)snprintf(d, cap, "%02d", t->mi);
    case DK_SS:
        return (size_t)snprintf(d, cap, "%02d", t->s);
    case DK_SSS:
        return (size_t)snprintf(d, cap, "%03d", t->ms);
    default:
        return fmt_off(d, cap, t, it->kind == DK_XXX);
    }
}

static int
format_dt(struct ev *ev, const struct dpat *p, const struct dt *t, struct val *out)
{
    char buf[DP_MAX * 8];
    size_t n = 0;
    for (uint8_t i = 0; i < p->n && n < sizeof(buf) - 16; i++) {
        n += fmt_item(buf + n, sizeof(buf) - n, &p->items[i], t);
    }
    char *s = igw_arena_strndup(ev->a, buf, n);
    if (s == NULL) {
        return map_oom(ev);
    }
    memset(out, 0, sizeof(*out));
    out->kind = V_STR;
    out->s = s;
    out->len = (uint32_t)n;
    return IGW_OK;
}

int
map_date_apply(struct ev *ev, const void *in_pat, const void *out_pat, const struct val *tz,
               const struct val *v, struct val *out)
{
    struct dt t;
    const char *s;
    uint32_t n;
    int rv = map_val_str(ev, v, &s, &n);
    memset(out, 0, sizeof(*out));
    if (rv != IGW_OK || s == NULL || parse_dt(in_pat, s, n, &t) != IGW_OK) {
        return rv; /* a value that does not match yields nothing */
    }
    if (tz != NULL && tz->kind != V_NONE) {
        int off;
        if (tz->kind != V_STR || parse_offset_text(tz->s, tz->len, &off) != IGW_OK) {
            return IGW_OK;
        }
        shift_to(&t, off);
    }
    return format_dt(ev, out_pat, &t, out);
}

static int
f_date(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    const struct dpair *pp = x->aux;
    return map_date_apply(ev, pp->in, pp->out, x->nargs == 4 ? &args[3] : NULL, &args[0], out);
}

/* the inverse of date(): patterns swapped (used by reverse.c) */
int
map_date_reverse(struct ev *ev, const struct xnode *x, const struct val *v, struct val *out)
{
    const struct dpair *pp = x->aux;
    return map_date_apply(ev, pp->out, pp->in, NULL, v, out);
}

static int
f_now(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    static const char pat[] = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'";
    struct dpat iso;
    struct dt t;
    IGW_UNUSED(x);
    IGW_UNUSED(args);
    if (pat_compile(pat, sizeof(pat) - 1, &iso) != IGW_OK) {
        return IGW_EINTERNAL;
    }
    from_epoch_ms(ev->now_ms, &t);
    return format_dt(ev, &iso, &t, out);
}

const struct mfunc map_funcs_date[] = {
    {"date", 2, 4, T_STR, {T_STR, T_STR, T_STR, T_STR}, f_date, check_date},
    {"now", 0, 0, T_STR, {0}, f_now, NULL},
    {NULL, 0, 0, 0, {0}, NULL, NULL},
};
