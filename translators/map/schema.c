/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Optional target schema (docs/MAPPING-LANGUAGE.md section 10): a list of allowed target paths
 * with `[]` for arrays and `required` marks, checked while the map compiles.
 */
#include <stdio.h>
#include <string.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "map_int.h"

#define SCHEMA_MAX (4u * 1024u * 1024u)

int
map_read_file(const char *path, char **text, size_t *len)
{
    struct igw_buf b;
    int rv;

    /* the same bound as the former hand-rolled reader: 4 * SCHEMA_MAX - 4097 bytes */
    igw_buf_init(&b, SCHEMA_MAX * 4 - 4097);
    rv = igw_buf_read_file(&b, path);
    if (rv != IGW_OK) {
        igw_buf_fini(&b);
        return rv;
    }
    *text = igw_buf_steal(&b, len);
    return IGW_OK;
}

static int
add_path(struct cctx *c, const char *s, size_t n, bool req, unsigned line)
{
    struct schema_path *p = igw_arena_calloc(c->a, sizeof(*p));
    char *d = igw_arena_strndup(c->a, s, n);
    if (p == NULL || d == NULL) {
        return IGW_ENOMEM;
    }
    p->path = d;
    p->required = req;
    p->line = line;
    p->next = c->schema;
    c->schema = p;
    return IGW_OK;
}

static int
parse_line(struct cctx *c, const char *s, const char *e, unsigned line)
{
    const char *h = memchr(s, '#', (size_t)(e - s));
    const char *w;
    const char *pe;
    if (h != NULL) {
        e = h;
    }
    while (s < e && (*s == ' ' || *s == '\t')) {
        s++;
    }
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) {
        e--;
    }
    if (s == e) {
        return IGW_OK;
    }
    pe = s;
    while (pe < e && *pe != ' ' && *pe != '\t') {
        pe++;
    }
    w = pe;
    while (w < e && (*w == ' ' || *w == '\t')) {
        w++;
    }
    bool req = (size_t)(e - w) == 8 && memcmp(w, "required", 8) == 0;
    if (w != e && !req) {
        return IGW_EPARSE;
    }
    return add_path(c, s, (size_t)(pe - s), req, line);
}

int
map_schema_load(struct cctx *c, const struct token *t)
{
    char path[1024];
    char *text = NULL;
    size_t len = 0;
    unsigned line = 1;
    int rv;

    if (t->text[0] == '/' || c->base_dir == NULL) {
        snprintf(path, sizeof(path), "%s", t->text);
    } else {
        snprintf(path, sizeof(path), "%s/%s", c->base_dir, t->text);
    }
    if (c->m->body != NULL || c->schema_file != NULL) {
        return map_fail(c, IGW_ECONFIG, t->line, t->col, "schema must come before the rules");
    }
    rv = map_read_file(path, &text, &len);
    if (rv != IGW_OK) {
        return map_fail(c, IGW_ECONFIG, t->line, t->col, "cannot read schema '%s'", path);
    }
    for (const char *s = text; s < text + len; line++) {
        const char *e = memchr(s, '\n', (size_t)(text + len - s));
        e = e != NULL ? e : text + len;
        rv = parse_line(c, s, e, line);
        if (rv != IGW_OK) {
            rv = map_fail(c, IGW_ECONFIG, t->line, t->col, "%s:%u: bad schema line", path, line);
            break;
        }
        s = e + 1;
    }
    igw_free(text);
    c->schema_file = t->text;
    c->schema_line = t->line;
    c->schema_col = t->col;
    return rv;
}

/* path is allowed when listed, when it prefixes a listed path, or when `path[]` is listed */
static bool
allowed(struct schema_path *p, const char *path, size_t n)
{
    size_t pl = strlen(p->path);
    if (pl == n && memcmp(p->path, path, n) == 0) {
        p->seen = true;
        return true;
    }
    if (pl > n && memcmp(p->path, path, n) == 0 && (p->path[n] == '.' || p->path[n] == '[')) {
        if (strcmp(p->path + n, "[]") == 0) {
            p->seen = true;
        }
        return true;
    }
    return false;
}

int
map_schema_check(struct cctx *c, const char *path, unsigned line, unsigned col)
{
    bool ok = false;
    if (c->schema_file == NULL) {
        return IGW_OK;
    }
    for (struct schema_path *p = c->schema; p != NULL; p = p->next) {
        ok = allowed(p, path, strlen(path)) || ok;
    }
    if (!ok) {
        return map_fail(c, IGW_ECONFIG, line, col, "target '%s' is not in schema '%s'", path,
                        c->schema_file);
    }
    return IGW_OK;
}

int
map_schema_finish(struct cctx *c)
{
    for (struct schema_path *p = c->schema; p != NULL; p = p->next) {
        if (p->required && !p->seen) {
            return map_fail(c, IGW_ECONFIG, c->schema_line, c->schema_col,
                            "required target '%s' (schema '%s', line %u) is never written", p->path,
                            c->schema_file, p->line);
        }
    }
    return IGW_OK;
}
