/* SPDX-License-Identifier: Apache-2.0 */
/* The search map language (include/igw/search.h): one declaration a line, compiled at load. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "igw/common.h"
#include "igw/err.h"
#include "search_int.h"

#define SM_TEXT_MAX (256u * 1024u)
#define SM_WORDS_MAX 24

struct word {
    char *s;
    unsigned col;
};

struct cx {
    igw_search_map *m;
    const char *file;
    unsigned line;
    char *errbuf;
    size_t errlen;
};

static int
fail(struct cx *c, unsigned col, int rv, const char *what, const char *arg)
{
    igw_errbuf_set(c->errbuf, c->errlen, "%s:%u:%u: %s%s%.80s%s", c->file, c->line, col, what,
                   arg != NULL ? " '" : "", arg != NULL ? arg : "", arg != NULL ? "'" : "");
    return rv;
}

static char *
dup(struct cx *c, const char *s)
{
    return igw_arena_strndup(c->m->arena, s, strlen(s));
}

/* Splits one line (NUL-terminated, modified in place) into words; quotes group, '#' ends. */
static int
split(struct cx *c, char *line, struct word *w, size_t *nw)
{
    char *p = line;
    *nw = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r') {
            p++;
        }
        if (*p == '\0' || *p == '#') {
            return IGW_OK;
        }
        if (*nw >= SM_WORDS_MAX) {
            return fail(c, (unsigned)(p - line) + 1, IGW_EPARSE, "too many words", NULL);
        }
        w[*nw].col = (unsigned)(p - line) + 1;
        char *q = p;
        w[*nw].s = p;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r') {
            if (*p == '"') { /* a quoted run, the quotes dropped */
                p++;
                while (*p != '"') {
                    if (*p == '\0') {
                        return fail(c, w[*nw].col, IGW_EPARSE, "unterminated string", NULL);
                    }
                    if (*p == '\\' && p[1] != '\0') {
                        p++;
                    }
                    *q++ = *p++;
                }
                p++;
                continue;
            }
            *q++ = *p++;
        }
        bool end = *p == '\0';
        *q = '\0';
        (*nw)++;
        if (end) {
            return IGW_OK;
        }
        p++;
    }
}

static const char *const TYPES[] = {"string", "token",    "date",      "datetime",
                                    "number", "quantity", "reference", "uri"};

const char *
igw_sm_type_name(enum sm_type t)
{
    static const char *const FHIR[] = {"string", "token",    "date",      "date",
                                       "number", "quantity", "reference", "uri"};
    return FHIR[t];
}

static int
parse_cmp(struct cx *c, struct word *w, enum sm_cmp *out)
{
    if (strcmp(w->s, "string") == 0) {
        *out = SM_CMP_STRING;
    } else if (strcmp(w->s, "number") == 0) {
        *out = SM_CMP_NUMBER;
    } else if (strcmp(w->s, "relay") == 0) {
        *out = SM_CMP_RELAY;
    } else {
        return fail(c, w->col, IGW_ECONFIG, "unknown compare (string, number, relay):", w->s);
    }
    return IGW_OK;
}

static int
parse_values(struct cx *c, struct sm_param *p, struct word *w)
{
    char *s = dup(c, w->s + strlen("values="));
    size_t n = 1;
    for (char *q = s; *q != '\0'; q++) {
        n += *q == ',';
    }
    p->values = igw_arena_calloc(c->m->arena, n * sizeof(*p->values));
    if (s == NULL || p->values == NULL) {
        return IGW_ENOMEM;
    }
    for (char *item = s; item != NULL;) {
        char *comma = strchr(item, ',');
        if (comma != NULL) {
            *comma = '\0';
        }
        char *colon = strchr(item, ':');
        if (colon == NULL || colon == item) {
            return fail(c, w->col, IGW_EPARSE, "values= takes code:value,...", NULL);
        }
        *colon = '\0';
        p->values[p->nvalues].code = item;
        p->values[p->nvalues++].up = colon + 1;
        item = comma != NULL ? comma + 1 : NULL;
    }
    return IGW_OK;
}

static int
param_opt(struct cx *c, struct sm_param *p, struct word *w)
{
    static const char *const NAMES[] = {
        "system=", "not=", "text=", "in=", "chain=", "target=", "doc="};
    char **slots[] = {&p->system, &p->not_arg, &p->text_arg, &p->in_arg,
                      &p->chain,  &p->target,  &p->doc};
    if (strncmp(w->s, "values=", 7) == 0) {
        return parse_values(c, p, w);
    }
    if (strcmp(w->s, "raw=1") == 0) {
        p->raw = true;
        return IGW_OK;
    }
    if (strcmp(w->s, "uuid=1") == 0) {
        p->uuid = true;
        return IGW_OK;
    }
    for (size_t i = 0; i < sizeof(NAMES) / sizeof(NAMES[0]); i++) {
        size_t n = strlen(NAMES[i]);
        if (strncmp(w->s, NAMES[i], n) == 0) {
            *slots[i] = dup(c, w->s + n);
            return *slots[i] != NULL ? IGW_OK : IGW_ENOMEM;
        }
    }
    return fail(c, w->col, IGW_ECONFIG, "unknown parameter option", w->s);
}

static int
decl_param(struct cx *c, struct word *w, size_t nw)
{
    igw_search_map *m = c->m;
    if (nw < 4) {
        return fail(c, w[0].col, IGW_EPARSE, "param <name> <type> <argument> [options]", NULL);
    }
    if (igw_sm_param(m, w[1].s) != NULL) {
        return fail(c, w[1].col, IGW_ECONFIG, "duplicate parameter", w[1].s);
    }
    struct sm_param *np = igw_arena_calloc(m->arena, (m->nparams + 1) * sizeof(*np));
    if (np == NULL) {
        return IGW_ENOMEM;
    }
    if (m->nparams > 0) {
        memcpy(np, m->params, m->nparams * sizeof(*np));
    }
    m->params = np;
    struct sm_param *p = &np[m->nparams];
    size_t t = 0;
    while (t < 8 && strcmp(TYPES[t], w[2].s) != 0) {
        t++;
    }
    if (t == 8) {
        return fail(c, w[2].col, IGW_ECONFIG, "unknown type", w[2].s);
    }
    p->type = (enum sm_type)t;
    p->name = dup(c, w[1].s);
    p->field = dup(c, w[3].s);
    p->doc = dup(c, "");
    for (size_t i = 4; i < nw; i++) {
        int rv = param_opt(c, p, &w[i]);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    if (p->type == SM_REFERENCE && p->target == NULL) {
        return fail(c, w[1].col, IGW_ECONFIG, "a reference parameter needs target=<Type>", NULL);
    }
    m->nparams++;
    return IGW_OK;
}

static int
decl_sort(struct cx *c, struct word *w, size_t nw)
{
    igw_search_map *m = c->m;
    if (nw < 4 || nw > 5) {
        return fail(c, w[0].col, IGW_EPARSE, "sort <param> <orderBy field> <record path> [cmp]",
                    NULL);
    }
    struct sm_sort *ns = igw_arena_calloc(m->arena, (m->nsorts + 1) * sizeof(*ns));
    if (ns == NULL) {
        return IGW_ENOMEM;
    }
    if (m->nsorts > 0) {
        memcpy(ns, m->sorts, m->nsorts * sizeof(*ns));
    }
    m->sorts = ns;
    struct sm_sort *s = &ns[m->nsorts];
    s->name = dup(c, w[1].s);
    s->order = dup(c, w[2].s);
    s->path = dup(c, w[3].s);
    s->cmp = SM_CMP_STRING;
    if (nw == 5 && parse_cmp(c, &w[4], &s->cmp) != IGW_OK) {
        return IGW_ECONFIG;
    }
    m->nsorts++;
    return IGW_OK;
}

static int
decl_include(struct cx *c, struct word *w, size_t nw, bool rev)
{
    igw_search_map *m = c->m;
    if (nw != 4 || strchr(w[1].s, ':') == NULL) {
        return fail(c, w[0].col, IGW_EPARSE, "include <Type:param> <record path> <Type>", NULL);
    }
    struct sm_include *ni = igw_arena_calloc(m->arena, (m->nincs + 1) * sizeof(*ni));
    if (ni == NULL) {
        return IGW_ENOMEM;
    }
    if (m->nincs > 0) {
        memcpy(ni, m->incs, m->nincs * sizeof(*ni));
    }
    m->incs = ni;
    ni[m->nincs].rev = rev;
    ni[m->nincs].spec = dup(c, w[1].s);
    ni[m->nincs].path = dup(c, w[2].s);
    ni[m->nincs].target = dup(c, w[3].s);
    m->nincs++;
    return IGW_OK;
}

static int
decl_simple(struct cx *c, struct word *w, size_t nw)
{
    igw_search_map *m = c->m;
    const char *k = w[0].s;
    if (strcmp(k, "search") == 0) {
        if (nw != 6 || strcmp(w[2].s, "from") != 0 || strcmp(w[4].s, "map") != 0) {
            return fail(c, w[0].col, IGW_EPARSE, "search <Type> from <connection> map <map>", NULL);
        }
        m->resource = dup(c, w[1].s);
        m->connection = dup(c, w[3].s);
        m->record_map = dup(c, w[5].s);
    } else if (strcmp(k, "select") == 0 && nw == 2) {
        m->select = dup(c, w[1].s);
    } else if (strcmp(k, "id") == 0 && nw >= 2 && nw <= 4) {
        m->id_uuid = nw > 2 && strcmp(w[nw - 1].s, "uuid") == 0;
        size_t last = m->id_uuid ? nw - 2 : nw - 1;
        if (nw == 4 && !m->id_uuid) {
            return fail(c, w[3].col, IGW_EPARSE, "id <argument> [record path] [uuid]", NULL);
        }
        m->id_arg = dup(c, w[1].s);
        m->id_path = dup(c, w[last].s);
    } else if (strcmp(k, "global-id") == 0 && nw >= 2) {
        for (size_t i = 1; i < nw; i++) {
            if (m->ngids == sizeof(m->gids) / sizeof(m->gids[0])) {
                return fail(c, w[i].col, IGW_ECONFIG, "too many global-id paths", NULL);
            }
            m->gids[m->ngids++] = dup(c, w[i].s);
        }
    } else if (strcmp(k, "key") == 0 && (nw == 4 || (nw == 5 && !strcmp(w[4].s, "unordered")))) {
        m->key.order = dup(c, w[1].s);
        m->key.path = dup(c, w[2].s);
        m->unordered = nw == 5;
        return parse_cmp(c, &w[3], &m->key.cmp);
    } else if (strcmp(k, "updated") == 0 &&
               (nw == 2 || (nw == 3 && !strcmp(w[2].s, "field-only")))) {
        m->updated = dup(c, w[1].s);
        m->updated_filter = nw == 2;
    } else {
        return fail(c, w[0].col, IGW_EPARSE, "unknown declaration or wrong number of words:", k);
    }
    return IGW_OK;
}

static int
decl(struct cx *c, struct word *w, size_t nw)
{
    if (c->m->resource == NULL && strcmp(w[0].s, "search") != 0) {
        return fail(c, w[0].col, IGW_EPARSE, "a search map starts with: search <Type> ...", NULL);
    }
    if (strcmp(w[0].s, "param") == 0) {
        return decl_param(c, w, nw);
    }
    if (strcmp(w[0].s, "sort") == 0) {
        return decl_sort(c, w, nw);
    }
    if (strcmp(w[0].s, "include") == 0 || strcmp(w[0].s, "revinclude") == 0) {
        return decl_include(c, w, nw, w[0].s[0] == 'r');
    }
    return decl_simple(c, w, nw);
}

static int
compile(struct cx *c, const char *text, size_t len)
{
    char *buf = igw_arena_strndup(c->m->arena, text, len);
    if (buf == NULL) {
        return IGW_ENOMEM;
    }
    if (strlen(buf) != len) {
        c->line = 1;
        return fail(c, 1, IGW_EPARSE, "a NUL byte in the file", NULL);
    }
    char *line = buf;
    c->line = 0;
    while (line != NULL) {
        char *nl = strchr(line, '\n');
        struct word w[SM_WORDS_MAX];
        size_t nw = 0;
        if (nl != NULL) {
            *nl = '\0';
        }
        c->line++;
        int rv = split(c, line, w, &nw);
        if (rv == IGW_OK && nw > 0) {
            rv = decl(c, w, nw);
        }
        if (rv != IGW_OK) {
            return rv;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    c->line++;
    if (c->m->resource == NULL || c->m->select == NULL || c->m->id_arg == NULL ||
        c->m->key.order == NULL) {
        return fail(c, 1, IGW_ECONFIG, "a search map needs search, select, id and key", NULL);
    }
    return IGW_OK;
}

const struct sm_param *
igw_sm_param(const igw_search_map *m, const char *name)
{
    for (size_t i = 0; m != NULL && i < m->nparams; i++) {
        if (strcmp(m->params[i].name, name) == 0) {
            return &m->params[i];
        }
    }
    return NULL;
}

int
igw_search_set_new(igw_search_set **out)
{
    if (out == NULL) {
        return IGW_EINVAL;
    }
    *out = igw_calloc(1, sizeof(**out));
    return *out != NULL ? IGW_OK : IGW_ENOMEM;
}

int
igw_search_set_add(igw_search_set *s, const char *file, const char *text, size_t len, char *errbuf,
                   size_t errlen)
{
    struct cx c = {NULL, file != NULL ? file : "<search>", 0, errbuf, errlen};
    igw_search_map *m = NULL;
    int rv;

    if (s == NULL || (text == NULL && len > 0)) {
        return IGW_EINVAL;
    }
    if (len > SM_TEXT_MAX) {
        igw_errbuf_set(errbuf, errlen, "%s: over %u bytes", c.file, SM_TEXT_MAX);
        return IGW_ETOOBIG;
    }
    struct igw_search_map **nm = igw_realloc(s->maps, (s->count + 1) * sizeof(*nm));
    m = igw_calloc(1, sizeof(*m));
    if (nm != NULL) {
        s->maps = nm;
    }
    if (nm == NULL || m == NULL || igw_arena_new(&m->arena, 0) != IGW_OK) {
        igw_free(m);
        return IGW_ENOMEM;
    }
    c.m = m;
    m->set = s;
    m->file = dup(&c, c.file);
    rv = m->file != NULL ? compile(&c, text != NULL ? text : "", len) : IGW_ENOMEM;
    if (rv == IGW_OK && igw_search_set_find(s, m->resource) != NULL) {
        rv = fail(&c, 1, IGW_ECONFIG, "a second search map for", m->resource);
    }
    if (rv != IGW_OK) {
        igw_arena_free(m->arena);
        igw_free(m);
        return rv;
    }
    s->maps[s->count++] = m;
    return IGW_OK;
}

void
igw_search_set_free(igw_search_set *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->count; i++) {
        igw_arena_free(s->maps[i]->arena);
        igw_free(s->maps[i]);
    }
    igw_free(s->maps);
    igw_free(s);
}

static int
load_one(igw_search_set *s, const char *path, char *errbuf, size_t errlen)
{
    struct igw_buf b;
    igw_buf_init(&b, SM_TEXT_MAX);
    int rv = igw_buf_read_file(&b, path);
    if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "%s: cannot read (%s)", path, igw_strerror(rv));
        igw_buf_fini(&b);
        return rv == IGW_ETOOBIG ? rv : IGW_EIO;
    }
    rv = igw_search_set_add(s, path, b.ptr != NULL ? b.ptr : "", b.len, errbuf, errlen);
    igw_buf_fini(&b);
    return rv;
}

static int
cmp_names(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

int
igw_search_set_load(igw_search_set **out, const char *dir, char *errbuf, size_t errlen)
{
    return igw_search_set_load_named(out, dir, "search", errbuf, errlen);
}

int
igw_search_set_load_named(igw_search_set **out, const char *dir, const char *file, char *errbuf,
                          size_t errlen)
{
    igw_search_set *s = NULL;
    char *names[512];
    size_t n = 0;
    struct dirent *e;
    int rv;

    if (out == NULL || dir == NULL || file == NULL || strchr(file, '/') != NULL) {
        return IGW_EINVAL;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        igw_errbuf_set(errbuf, errlen, "%s: cannot list", dir);
        return IGW_EIO;
    }
    rv = igw_search_set_new(&s);
    while (rv == IGW_OK && (e = readdir(d)) != NULL && n < 512) {
        if (e->d_name[0] != '.') {
            names[n] = igw_strdup(e->d_name);
            rv = names[n] != NULL ? IGW_OK : IGW_ENOMEM;
            n += names[n] != NULL;
        }
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_names);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s/%s", dir, names[i], file);
        if (rv == IGW_OK && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            rv = load_one(s, path, errbuf, errlen);
        }
        igw_free(names[i]);
    }
    if (rv != IGW_OK) {
        igw_search_set_free(s);
        return rv;
    }
    *out = s;
    return IGW_OK;
}

const igw_search_map *
igw_search_set_find(const igw_search_set *s, const char *resource)
{
    for (size_t i = 0; s != NULL && resource != NULL && i < s->count; i++) {
        if (strcmp(s->maps[i]->resource, resource) == 0) {
            return s->maps[i];
        }
    }
    return NULL;
}

size_t
igw_search_set_count(const igw_search_set *s)
{
    return s != NULL ? s->count : 0;
}

const igw_search_map *
igw_search_set_at(const igw_search_set *s, size_t i)
{
    return (s != NULL && i < s->count) ? s->maps[i] : NULL;
}

const char *
igw_search_map_resource(const igw_search_map *m)
{
    return m != NULL ? m->resource : "";
}

const char *
igw_search_map_record_map(const igw_search_map *m)
{
    return m != NULL ? m->record_map : "";
}

int
igw_search_set_check(const igw_search_set *s, const igw_map_set *maps, char *errbuf, size_t errlen)
{
    if (s == NULL || maps == NULL) {
        return IGW_EINVAL;
    }
    for (size_t i = 0; i < s->count; i++) {
        const igw_search_map *m = s->maps[i];
        if (igw_map_set_get(maps, m->record_map) == NULL) {
            igw_errbuf_set(errbuf, errlen, "%s:1:1: no map called '%s'", m->file, m->record_map);
            return IGW_ECONFIG;
        }
        for (size_t j = 0; j < m->nincs; j++) {
            if (igw_search_set_find(s, m->incs[j].target) == NULL) {
                igw_errbuf_set(errbuf, errlen, "%s: include %s: no search map for %s", m->file,
                               m->incs[j].spec, m->incs[j].target);
                return IGW_ECONFIG;
            }
        }
    }
    return IGW_OK;
}

void
igw_search_map_params(const igw_search_map *m, igw_search_param_fn fn, void *arg)
{
    if (m == NULL || fn == NULL) {
        return;
    }
    fn(arg, m->resource, "_id", "token", "the record's id as the resource id");
    if (m->updated_filter) {
        fn(arg, m->resource, "_lastUpdated", "date", "when the record last changed");
    }
    for (size_t i = 0; i < m->nparams; i++) {
        fn(arg, m->resource, m->params[i].name, igw_sm_type_name(m->params[i].type),
           m->params[i].doc);
    }
}
