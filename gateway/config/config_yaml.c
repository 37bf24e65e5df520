/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config loader, YAML side: errors with file:line:column and the option path, small helpers
 * over libyaml's document nodes, and typed values (durations, sizes, integers, booleans,
 * choices, paths, lists of strings) set into a section by an option of the table.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "igw/buf.h"
#include "config/config_int.h"

/* ---- errors and option paths -------------------------------------------------------------- */

int
cfg_fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[IGW_ERRBUF_SIZE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n == NULL) {
        igw_errbuf_set(c->errbuf, c->errlen, "%s: %s%s%s", c->file, c->path,
                       c->pathlen > 0 ? ": " : "", msg);
    } else {
        igw_errbuf_set(c->errbuf, c->errlen, "%s:%zu:%zu: %s%s%s", c->file, n->start_mark.line + 1,
                       n->start_mark.column + 1, c->path, c->pathlen > 0 ? ": " : "", msg);
    }
    return IGW_ECONFIG;
}

size_t
cfg_path_push(struct ctx *c, const char *seg, size_t seglen)
{
    size_t old = c->pathlen;
    int k = snprintf(c->path + old, sizeof(c->path) - old, "%s%.*s", old > 0 ? "." : "",
                     (int)seglen, seg);
    if (k > 0) {
        c->pathlen += (size_t)k;
        if (c->pathlen >= sizeof(c->path)) {
            c->pathlen = sizeof(c->path) - 1;
        }
    }
    return old;
}

void
cfg_path_pop(struct ctx *c, size_t old)
{
    c->pathlen = old;
    c->path[old] = '\0';
}

/* Copies a scalar for display: truncated, non-printable bytes shown as '?'. */
const char *
cfg_show(const yaml_node_t *n, char *out, size_t outlen)
{
    size_t len = n->data.scalar.length;
    size_t max = outlen - 4 < VALUE_SHOW_MAX ? outlen - 4 : VALUE_SHOW_MAX;
    size_t i;

    for (i = 0; i < len && i < max; i++) {
        unsigned char ch = n->data.scalar.value[i];
        out[i] = (char)(ch >= 0x20 && ch < 0x7f ? ch : '?');
    }
    if (len > max) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
    return out;
}

const char *
cfg_node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

/* ---- small YAML helpers ------------------------------------------------------------------- */

const yaml_node_t *
cfg_node_at(struct ctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

bool
cfg_is_null(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (n->data.scalar.length == 0 ||
            (n->data.scalar.length == 1 && n->data.scalar.value[0] == '~') ||
            (n->data.scalar.length == 4 && memcmp(n->data.scalar.value, "null", 4) == 0));
}

bool
cfg_key_is(const yaml_node_t *k, const char *s)
{
    size_t n = strlen(s);
    return k != NULL && k->type == YAML_SCALAR_NODE && k->data.scalar.length == n &&
           memcmp(k->data.scalar.value, s, n) == 0;
}

/* Value node of key in a mapping node (NULL if absent or not a mapping). */
const yaml_node_t *
cfg_map_get(struct ctx *c, const yaml_node_t *map, const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE) {
        return NULL;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        if (cfg_key_is(cfg_node_at(c, p->key), key)) {
            return cfg_node_at(c, p->value);
        }
    }
    return NULL;
}

/* A scalar's text as a new C string; errors for non-scalars and embedded NULs. */
int
cfg_scalar_dup(struct ctx *c, const yaml_node_t *n, char **out)
{
    if (n->type != YAML_SCALAR_NODE) {
        return cfg_fail(c, n, "expected a single value, got %s", cfg_node_kind(n));
    }
    if (memchr(n->data.scalar.value, '\0', n->data.scalar.length) != NULL) {
        return cfg_fail(c, n, "value contains a NUL character");
    }
    *out = igw_strndup((const char *)n->data.scalar.value, n->data.scalar.length);
    return *out == NULL ? IGW_ENOMEM : IGW_OK;
}

void
cfg_free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        igw_free(v[i]);
    }
    igw_free(v);
}

/* ---- scalar options ----------------------------------------------------------------------- */

bool
cfg_choice_index(const char *choices, const char *v, unsigned *idx)
{
    size_t vlen = strlen(v);
    const char *p = choices;
    unsigned i = 0;

    while (*p != '\0') {
        size_t n = strcspn(p, "|");
        if (n == vlen && memcmp(p, v, n) == 0) {
            *idx = i;
            return true;
        }
        p += n;
        p += *p == '|' ? 1 : 0;
        i++;
    }
    return false;
}

static int
bad_value(struct ctx *c, const struct opt *o, const yaml_node_t *n, const char *text)
{
    char shown[VALUE_SHOW_MAX + 8];
    const char *v = n != NULL ? cfg_show(n, shown, sizeof(shown)) : text;

    switch (o->type) {
    case T_DUR:
        return cfg_fail(c, n, "invalid duration \"%s\" (expected e.g. 500ms, 1s, 10m)", v);
    case T_SIZE:
        return cfg_fail(c, n, "invalid size \"%s\" (expected e.g. 512KiB, 1MiB, 2GiB)", v);
    case T_UINT:
        return cfg_fail(c, n, "invalid number \"%s\" (expected an integer from %llu to %llu)", v,
                        (unsigned long long)o->min, (unsigned long long)o->max);
    case T_BOOL:
        return cfg_fail(c, n, "invalid boolean \"%s\" (expected true or false)", v);
    default:
        return cfg_fail(c, n, "invalid value \"%s\" (expected one of: %s)", v, o->choices);
    }
}

static int
out_of_range(struct ctx *c, const struct opt *o, const yaml_node_t *n, const char *text)
{
    static const char *const unit[] = {[T_SIZE] = " bytes", [T_DUR] = " ms", [T_UINT] = ""};
    return cfg_fail(c, n, "value \"%s\" out of range (%llu%s to %llu%s)", text,
                    (unsigned long long)o->min, unit[o->type], (unsigned long long)o->max,
                    unit[o->type]);
}

static int
parse_uint(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0') {
        return IGW_EINVAL;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10) {
            return IGW_EINVAL;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return IGW_OK;
}

static int
parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < IGW_ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *out = strcasecmp(s, yes[i]) == 0;
            return IGW_OK;
        }
    }
    return IGW_EINVAL;
}

/* Joins dir and rel unless rel is absolute. */
char *
cfg_resolve_path(const char *dir, const char *rel)
{
    struct igw_buf b;
    if (rel[0] == '/' || dir == NULL || dir[0] == '\0') {
        return igw_strdup(rel);
    }
    igw_buf_init(&b, 8192);
    if (igw_buf_printf(&b, "%s/%s", dir, rel) != IGW_OK) {
        igw_buf_fini(&b);
        return NULL;
    }
    return igw_buf_steal(&b, NULL);
}

static int
set_number(struct ctx *c, const struct opt *o, void *base, const char *text, const yaml_node_t *n)
{
    uint64_t v = 0;
    int rv = IGW_EINVAL;

    if (o->type == T_SIZE) {
        rv = igw_parse_size(text, &v);
    } else if (o->type == T_DUR) {
        rv = igw_parse_duration_ms(text, &v);
    } else {
        rv = parse_uint(text, &v);
    }
    if (rv != IGW_OK) {
        return bad_value(c, o, n, text);
    }
    if (v < o->min || v > o->max) {
        return out_of_range(c, o, n, text);
    }
    if (o->type == T_UINT) {
        *FIELD(base, o->off, unsigned) = (unsigned)v;
    } else {
        *FIELD(base, o->off, uint64_t) = v;
    }
    return IGW_OK;
}

static int
set_string(struct ctx *c, const struct opt *o, void *base, const char *text, const yaml_node_t *n)
{
    char **field = FIELD(base, o->off, char *);
    unsigned idx;
    char *v;

    if ((o->type == T_CHOICE || o->type == T_ENUM) && !cfg_choice_index(o->choices, text, &idx)) {
        return bad_value(c, o, n, text);
    }
    if (o->type == T_ENUM) {
        *FIELD(base, o->off, int) = (int)(idx + o->min);
        return IGW_OK;
    }
    if (text[0] == '\0') {
        return cfg_fail(c, n, "empty value");
    }
    v = o->type == T_PATH ? cfg_resolve_path(c->dir, text) : igw_strdup(text);
    if (v == NULL) {
        return IGW_ENOMEM;
    }
    igw_free(*field);
    *field = v;
    return IGW_OK;
}

/* Sets a scalar option from text; n is the node for messages (NULL for defaults). */
int
cfg_set_scalar(struct ctx *c, const struct opt *o, void *base, const char *text,
               const yaml_node_t *n)
{
    bool b;

    switch (o->type) {
    case T_SIZE:
    case T_DUR:
    case T_UINT:
        return set_number(c, o, base, text, n);
    case T_BOOL:
        if (parse_bool(text, &b) != IGW_OK) {
            return bad_value(c, o, n, text);
        }
        *FIELD(base, o->off, bool) = b;
        return IGW_OK;
    default:
        return set_string(c, o, base, text, n);
    }
}

static int
append_str(char ***v, size_t *n, char *s)
{
    char **nv = igw_realloc(*v, (*n + 1) * sizeof(char *));
    if (nv == NULL) {
        igw_free(s);
        return IGW_ENOMEM;
    }
    nv[(*n)++] = s;
    *v = nv;
    return IGW_OK;
}

/* A list of strings: a YAML sequence of scalars, or one scalar. */
int
cfg_set_list(struct ctx *c, const struct opt *o, void *base, const yaml_node_t *n)
{
    char ***v = FIELD(base, o->off, char **);
    size_t *cnt = FIELD(base, o->off2, size_t);
    char *s = NULL;
    int rv;

    if (n->type == YAML_SCALAR_NODE) {
        rv = cfg_scalar_dup(c, n, &s);
        return rv != IGW_OK ? rv : append_str(v, cnt, s);
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        return cfg_fail(c, n, "expected a list, got %s", cfg_node_kind(n));
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        rv = cfg_scalar_dup(c, cfg_node_at(c, *it), &s);
        if (rv == IGW_OK) {
            rv = append_str(v, cnt, s);
        }
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}
