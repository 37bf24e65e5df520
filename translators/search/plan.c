/* SPDX-License-Identifier: Apache-2.0 */
/* FHIR search parameters -> GraphQL filter arguments, generically by parameter type. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "igw/err.h"
#include "search_int.h"

/* Outcome of applying one parameter value. */
enum { APPLIED = 0, UNSUPPORTED = 1 };

struct pctx {
    igw_search_op *op;
    char *errbuf;
    size_t errlen;
    const char *why; /* UNSUPPORTED: the reason */
};

void
igw_sr_issue(igw_search_op *op, const char *sev, const char *code, const char *fmt, ...)
{
    char text[IGW_ERRBUF_SIZE];
    va_list ap;
    if (op->nissues >= SR_ISSUES_MAX) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    struct sr_issue *is = &op->issues[op->nissues];
    is->severity = sev;
    is->code = code;
    is->text = igw_arena_strndup(op->a, text, strlen(text));
    op->nissues += is->text != NULL;
}

const char *
igw_sr_lit(igw_search_op *op, const char *v, bool raw)
{
    struct igw_buf b;
    const char *out;
    if (raw) {
        for (const char *p = v; *p != '\0'; p++) {
            bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-';
            if (!ok) {
                return NULL;
            }
        }
        return igw_arena_strndup(op->a, v, strlen(v));
    }
    igw_buf_init(&b, 64 * 1024);
    if (igw_buf_json_str(&b, v, strlen(v)) != IGW_OK) {
        igw_buf_fini(&b);
        return NULL;
    }
    out = igw_arena_strndup(op->a, b.ptr, b.len);
    igw_buf_fini(&b);
    return out;
}

static bool
ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

/* A second value for an argument: ranges keep the tighter bound, anything else must agree. */
int
igw_sr_add_arg(igw_search_op *op, const char *name, const char *lit)
{
    if (name == NULL || lit == NULL) {
        return IGW_ENOMEM;
    }
    for (size_t i = 0; i < op->nargs; i++) {
        if (strcmp(op->args[i].name, name) != 0) {
            continue;
        }
        int c = strcmp(lit, op->args[i].lit);
        bool quoted = lit[0] == '"' && op->args[i].lit[0] == '"';
        if (c == 0) {
            return IGW_OK;
        }
        if (quoted && (ends_with(name, "_Gte") || ends_with(name, "_Gt"))) {
            op->args[i].lit = c > 0 ? lit : op->args[i].lit;
            return IGW_OK;
        }
        if (quoted && (ends_with(name, "_Lte") || ends_with(name, "_Lt"))) {
            op->args[i].lit = c < 0 ? lit : op->args[i].lit;
            return IGW_OK;
        }
        return IGW_ECONFLICT;
    }
    if (op->nargs >= SR_ARGS_MAX) {
        return IGW_ECONFLICT;
    }
    op->args[op->nargs].name = name;
    op->args[op->nargs++].lit = lit;
    return IGW_OK;
}

static const char *
argname(igw_search_op *op, const char *field, const char *suffix)
{
    size_t n = strlen(field), k = strlen(suffix);
    char *s = igw_arena_alloc(op->a, n + k + 1);
    if (s != NULL) {
        memcpy(s, field, n);
        memcpy(s + n, suffix, k + 1);
    }
    return s;
}

static int
put(struct pctx *c, const char *field, const char *suffix, const char *v, bool raw)
{
    const char *lit = igw_sr_lit(c->op, v, raw);
    if (lit == NULL) {
        igw_errbuf_set(c->errbuf, c->errlen, "value '%.60s' cannot be sent upstream", v);
        return IGW_EPARSE;
    }
    int rv = igw_sr_add_arg(c->op, argname(c->op, field, suffix), lit);
    if (rv == IGW_ECONFLICT) {
        c->why = "cannot be combined with another value of the same filter";
        return UNSUPPORTED;
    }
    return rv;
}

static int
do_string(struct pctx *c, const struct sm_param *p, const char *field, const char *mod,
          const char *v)
{
    if (mod == NULL) {
        return put(c, field, "_Istartswith", v, false);
    }
    if (strcmp(mod, "exact") == 0) {
        return put(c, field, "", v, false);
    }
    if (strcmp(mod, "contains") == 0) {
        return put(c, field, "_Icontains", v, false);
    }
    (void)p;
    c->why = "modifier not supported for a string parameter";
    return UNSUPPORTED;
}

static int
do_token(struct pctx *c, const struct sm_param *p, const char *field, const char *mod,
         const char *v)
{
    const char *bar = strchr(v, '|');
    const char *code = bar != NULL ? bar + 1 : v;
    if (mod != NULL && strcmp(mod, "text") == 0) {
        if (p->text_arg == NULL) {
            c->why = ":text is not supported for this parameter";
            return UNSUPPORTED;
        }
        return put(c, p->text_arg, "", v, false);
    }
    if (bar != NULL) {
        size_t sl = (size_t)(bar - v);
        bool same = p->system != NULL && strlen(p->system) == sl && memcmp(p->system, v, sl) == 0;
        if (!(same || (p->system == NULL && sl == 0))) {
            c->op->nomatch = true; /* no record has that system */
            return APPLIED;
        }
    }
    if (p->nvalues > 0) {
        const char *up = NULL;
        for (size_t i = 0; i < p->nvalues && up == NULL; i++) {
            up = strcmp(p->values[i].code, code) == 0 ? p->values[i].up : NULL;
        }
        if (up == NULL) {
            if (mod == NULL) {
                c->op->nomatch = true;
            }
            return APPLIED;
        }
        code = up;
    }
    if (p->uuid && (mod == NULL || strcmp(mod, "not") == 0) && !igw_sr_is_uuid(code)) {
        if (mod == NULL) {
            c->op->nomatch = true; /* the upstream would refuse the value: nothing matches */
            return APPLIED;
        }
        c->why = "this parameter takes a uuid";
        return UNSUPPORTED;
    }
    if (mod == NULL) {
        return put(c, field, "", code, p->raw);
    }
    if (strcmp(mod, "not") == 0 && p->not_arg != NULL) {
        return put(c, p->not_arg, "", code, p->raw);
    }
    c->why = "modifier not supported for this token parameter";
    return UNSUPPORTED;
}

/* Splits an optional two-letter prefix off v. */
static int
prefix(struct pctx *c, const char **v, const char **pre)
{
    static const char *const P[] = {"eq", "ne", "lt", "gt", "le", "ge", "sa", "eb", "ap"};
    const char *s = *v;
    *pre = "eq";
    if (s[0] >= 'a' && s[0] <= 'z') {
        for (size_t i = 0; i < 9; i++) {
            if (strncmp(s, P[i], 2) == 0) {
                *pre = P[i];
                *v = s + 2;
                return IGW_OK;
            }
        }
        igw_errbuf_set(c->errbuf, c->errlen, "unknown prefix in '%.40s'", s);
        return IGW_EPARSE;
    }
    return IGW_OK;
}

static int
put_time(struct pctx *c, const char *field, const char *suf, int64_t t, bool datetime)
{
    char d[32];
    igw_sr_fmt_date(t, datetime, d);
    return put(c, field, suf, d, false);
}

static int
do_date(struct pctx *c, const struct sm_param *p, const char *field, const char *v)
{
    const char *pre = NULL;
    int64_t lo, hi;
    bool dt = p->type == SM_DATETIME;
    int rv = prefix(c, &v, &pre);
    if (rv != IGW_OK) {
        return rv;
    }
    if (igw_sr_date_range(v, &lo, &hi) != IGW_OK) {
        igw_errbuf_set(c->errbuf, c->errlen, "'%.40s' is not a FHIR date or dateTime", v);
        return IGW_EPARSE;
    }
    if (!dt) { /* a Date field holds whole days: work on [first day, last day] */
        lo = (lo >= 0 ? lo / 86400 : (lo - 86399) / 86400) * 86400;
        hi = ((hi - 1) >= 0 ? (hi - 1) / 86400 : (hi - 86400) / 86400) * 86400; /* last day */
    }
    if (strcmp(pre, "ap") == 0) {
        int64_t now = (int64_t)time(NULL);
        int64_t w = (now > lo ? now - lo : lo - now) / 10;
        w = w < 86400 ? 86400 : w;
        lo -= w;
        hi += w;
        pre = "eq";
    }
    if (strcmp(pre, "eq") == 0) {
        if (!dt && lo == hi) {
            return put_time(c, field, "", lo, false);
        }
        rv = put_time(c, field, "_Gte", lo, dt);
        return rv != APPLIED ? rv : put_time(c, field, dt ? "_Lt" : "_Lte", hi, dt);
    }
    if (strcmp(pre, "lt") == 0 || strcmp(pre, "eb") == 0) {
        return put_time(c, field, "_Lt", lo, dt);
    }
    if (strcmp(pre, "ge") == 0) {
        return put_time(c, field, "_Gte", lo, dt);
    }
    if (strcmp(pre, "gt") == 0 || strcmp(pre, "sa") == 0) {
        return put_time(c, field, dt ? "_Gte" : "_Gt", hi, dt);
    }
    if (strcmp(pre, "le") == 0) {
        return put_time(c, field, dt ? "_Lt" : "_Lte", hi, dt);
    }
    c->why = "prefix ne is not supported (the upstream has no not-equal filter)";
    return UNSUPPORTED;
}

static int
do_number(struct pctx *c, const struct sm_param *p, const char *field, const char *v)
{
    const char *pre = NULL;
    char num[48];
    int rv = prefix(c, &v, &pre);
    if (rv != IGW_OK) {
        return rv;
    }
    const char *bar = strchr(v, '|');
    size_t n = bar != NULL ? (size_t)(bar - v) : strlen(v);
    if (n >= sizeof(num)) {
        n = sizeof(num) - 1;
    }
    memcpy(num, v, n);
    num[n] = '\0';
    if (!igw_sr_number_ok(num)) {
        igw_errbuf_set(c->errbuf, c->errlen, "'%.40s' is not a number", v);
        return IGW_EPARSE;
    }
    if (bar != NULL && p->type == SM_QUANTITY) { /* value|system|code: the unit must be ours */
        const char *unit = strrchr(bar, '|');
        if (unit[1] != '\0' && (p->system == NULL || strcmp(unit + 1, p->system) != 0)) {
            c->op->nomatch = true;
            return APPLIED;
        }
    }
    static const char *const PRE[] = {"eq", "lt", "gt", "le", "ge", "sa", "eb"};
    static const char *const SUF[] = {"", "_Lt", "_Gt", "_Lte", "_Gte", "_Gt", "_Lt"};
    for (size_t i = 0; i < 7; i++) {
        if (strcmp(pre, PRE[i]) == 0) {
            return put(c, field, SUF[i], num, true);
        }
    }
    if (strcmp(pre, "ap") == 0) {
        char lo[48], hi[48];
        double x = strtod(num, NULL);
        snprintf(lo, sizeof(lo), "%.17g", x < 0 ? x * 1.1 : x * 0.9);
        snprintf(hi, sizeof(hi), "%.17g", x < 0 ? x * 0.9 : x * 1.1);
        rv = put(c, field, "_Gte", lo, true);
        return rv != APPLIED ? rv : put(c, field, "_Lte", hi, true);
    }
    c->why = "prefix ne is not supported (the upstream has no not-equal filter)";
    return UNSUPPORTED;
}

static int
do_reference(struct pctx *c, const struct sm_param *p, const char *field, const char *mod,
             const char *v)
{
    const char *slash = strrchr(v, '/');
    const char *id = slash != NULL ? slash + 1 : v;
    if (mod != NULL && strcmp(mod, p->target) != 0) {
        c->why = "modifier not supported for this reference parameter";
        return UNSUPPORTED;
    }
    if (slash != NULL) { /* [url/]Type/id: the type must be the target */
        const char *t = slash;
        while (t > v && t[-1] != '/') {
            t--;
        }
        if ((size_t)(slash - t) != strlen(p->target) || memcmp(t, p->target, slash - t) != 0) {
            c->op->nomatch = true;
            return APPLIED;
        }
    }
    if (*id == '\0') {
        igw_errbuf_set(c->errbuf, c->errlen, "empty reference in '%.40s'", v);
        return IGW_EPARSE;
    }
    if (p->uuid && !igw_sr_is_uuid(id)) {
        c->op->nomatch = true; /* the upstream would refuse the value: nothing matches */
        return APPLIED;
    }
    return put(c, field, "", id, false);
}

static int
apply_value(struct pctx *c, const struct sm_param *p, const char *field, const char *mod,
            const char *v)
{
    if (mod != NULL && strcmp(mod, "missing") == 0) {
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
            igw_errbuf_set(c->errbuf, c->errlen, ":missing takes true or false");
            return IGW_EPARSE;
        }
        return put(c, field, "_Isnull", v, true);
    }
    switch (p->type) {
    case SM_STRING:
        return do_string(c, p, field, mod, v);
    case SM_TOKEN:
    case SM_URI:
        return p->type == SM_URI && mod == NULL ? put(c, field, "", v, false)
                                                : do_token(c, p, field, mod, v);
    case SM_DATE:
    case SM_DATETIME:
        return mod != NULL ? (c->why = "modifier not supported for a date", UNSUPPORTED)
                           : do_date(c, p, field, v);
    case SM_NUMBER:
    case SM_QUANTITY:
        return mod != NULL ? (c->why = "modifier not supported for a number", UNSUPPORTED)
                           : do_number(c, p, field, v);
    case SM_REFERENCE:
        return do_reference(c, p, field, mod, v);
    }
    return UNSUPPORTED;
}

/* A value with commas (OR): only through the parameter's in= argument. */
static int
apply_param(struct pctx *c, const struct sm_param *p, const char *field, const char *mod,
            const char *v)
{
    if (strchr(v, ',') == NULL) {
        return apply_value(c, p, field, mod, v);
    }
    if (p->in_arg == NULL || mod != NULL) {
        c->why = "a list of values (OR) is not supported for this parameter";
        return UNSUPPORTED;
    }
    return put(c, p->in_arg, "", v, false);
}

/* patient.family: the target's parameter, its argument under the chain prefix. */
static int
apply_chain(struct pctx *c, const struct igw_search_param *sp)
{
    const igw_search_map *m = c->op->m;
    char head[64];
    const char *dot = strchr(sp->name, '.');
    size_t hn = (size_t)(dot - sp->name);
    if (hn >= sizeof(head)) {
        c->why = "unknown parameter";
        return UNSUPPORTED;
    }
    memcpy(head, sp->name, hn);
    head[hn] = '\0';
    const struct sm_param *rp = igw_sm_param(m, head);
    const igw_search_map *tm =
        rp != NULL && rp->chain != NULL ? igw_search_set_find(m->set, rp->target) : NULL;
    const struct sm_param *tp = tm != NULL ? igw_sm_param(tm, dot + 1) : NULL;
    if (tp == NULL || tp->type == SM_REFERENCE) {
        c->why = "chaining is not supported through this parameter";
        return UNSUPPORTED;
    }
    size_t pl = strlen(rp->chain), fl = strlen(tp->field);
    char *f = igw_arena_alloc(c->op->a, pl + fl + 2);
    if (f == NULL) {
        return IGW_ENOMEM;
    }
    memcpy(f, rp->chain, pl);
    f[pl] = '_';
    memcpy(f + pl + 1, tp->field, fl + 1);
    f[pl + 1] = (char)(f[pl + 1] >= 'a' && f[pl + 1] <= 'z' ? f[pl + 1] - 32 : f[pl + 1]);
    return apply_param(c, tp, f, sp->modifier, sp->value);
}

static int
apply_one(struct pctx *c, const struct igw_search_param *sp)
{
    const igw_search_map *m = c->op->m;
    if (strcmp(sp->name, "_id") == 0) {
        static const struct sm_param idp = {.type = SM_TOKEN};
        static const struct sm_param idu = {.type = SM_TOKEN, .uuid = true};
        return apply_param(c, m->id_uuid ? &idu : &idp, m->id_arg, sp->modifier, sp->value);
    }
    if (strcmp(sp->name, "_lastUpdated") == 0 && m->updated_filter) {
        static const struct sm_param lu = {.type = SM_DATETIME};
        return apply_param(c, &lu, m->updated, sp->modifier, sp->value);
    }
    if (strchr(sp->name, '.') != NULL) {
        return apply_chain(c, sp);
    }
    const struct sm_param *p = igw_sm_param(m, sp->name);
    if (p == NULL) {
        c->why = "unknown parameter";
        return UNSUPPORTED;
    }
    return apply_param(c, p, p->field, sp->modifier, sp->value);
}

/* Appends name[:mod]=value, percent-encoded, to the self query string being built. */
static int
self_add(struct igw_buf *b, const struct igw_search_param *sp)
{
    static const char HEX[] = "0123456789ABCDEF";
    int rv = b->len > 0 ? igw_buf_putc(b, '&') : IGW_OK;
    rv = rv == IGW_OK ? igw_buf_puts(b, sp->name) : rv;
    if (rv == IGW_OK && sp->modifier != NULL) {
        rv = igw_buf_putc(b, ':');
        rv = rv == IGW_OK ? igw_buf_puts(b, sp->modifier) : rv;
    }
    rv = rv == IGW_OK ? igw_buf_putc(b, '=') : rv;
    for (size_t i = 0; rv == IGW_OK && i < sp->value_len; i++) {
        unsigned char ch = (unsigned char)sp->value[i];
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~' ||
                     ch == ',' || ch == ':';
        if (plain) {
            rv = igw_buf_putc(b, (char)ch);
        } else {
            char e[3] = {'%', HEX[ch >> 4], HEX[ch & 15]};
            rv = igw_buf_append(b, e, 3);
        }
    }
    return rv;
}

int igw_sr_control(igw_search_op *op, const struct igw_search_param *sp, char *errbuf,
                   size_t errlen, const char **why);

int
igw_sr_plan(igw_search_op *op, const struct igw_search_query *q, unsigned flags, char *errbuf,
            size_t errlen)
{
    struct pctx c = {op, errbuf, errlen, NULL};
    struct igw_buf self;
    int rv = IGW_OK;

    igw_buf_init(&self, IGW_SEARCH_QUERY_MAX * 3);
    for (size_t i = 0; rv == IGW_OK && i < q->count; i++) {
        const struct igw_search_param *sp = &q->params[i];
        c.why = NULL;
        bool control = sp->name[0] == '_' && strcmp(sp->name, "_id") != 0 &&
                       strcmp(sp->name, "_lastUpdated") != 0;
        rv = control ? igw_sr_control(op, sp, errbuf, errlen, &c.why) : apply_one(&c, sp);
        if (rv == UNSUPPORTED) {
            if (flags & IGW_SEARCH_STRICT) {
                igw_errbuf_set(errbuf, errlen, "parameter '%s%s%s': %s", sp->name,
                               sp->modifier ? ":" : "", sp->modifier ? sp->modifier : "", c.why);
                rv = IGW_EPARSE;
                break;
            }
            igw_sr_issue(op, "warning", "not-supported", "parameter '%s%s%s' ignored: %s", sp->name,
                         sp->modifier ? ":" : "", sp->modifier ? sp->modifier : "", c.why);
            rv = IGW_OK;
        } else if (rv == APPLIED && strcmp(sp->name, "_cursor") != 0) {
            rv = self_add(&self, sp);
        }
    }
    if (rv == IGW_OK) {
        op->self_qs = igw_arena_strndup(op->a, self.ptr != NULL ? self.ptr : "", self.len);
        rv = op->self_qs != NULL ? IGW_OK : IGW_ENOMEM;
    }
    igw_buf_fini(&self);
    return rv;
}
