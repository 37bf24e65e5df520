/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dci-fhir-search mediator (docs/DCI.md, "Search answered from a FHIR server"): a DCI
 * /registry/sync/search answered live from a FHIR R4 server (the channel's upstream: openIMIS's
 * FHIR API, igw's own FHIR face, any other). Which FHIR resource a DCI record type is and which
 * FHIR search parameter each DCI attribute becomes is declared in a mapping file,
 * <mappings>/<name>/dci-fhir-search (no C per attribute):
 *
 *   record Person Patient map fhir-bundle-to-dci-search-response [paging next|offset]
 *   param  <dci attribute> token|string|date <fhir parameter> [system=<uri>]
 *   sort   <dci attribute> <fhir parameter>
 *
 * Every search_request item is one FHIR search (GET <type>?<params>&_count=<page_size>): eq on
 * a string is `<p>:exact=v`, on a token `<p>=[system|]v`, on a date `<p>=eq<v>`; gt ge lt le on
 * a date the FHIR prefixes. Page n of a DCI search is reached by following the Bundle's `next`
 * link n-1 times (paging next, any FHIR server) or with `_offset` (paging offset: igw's FHIR
 * face and HAPI). Only the path and query of a next link are used, under the upstream's own
 * base: the server never makes igw call another address. The Bundle becomes the item's records
 * through the record's map (fhir-bundle-to-dci-search-response, input {request, bundle}); the
 * answer is the sync search envelope dci-search answers with (dci_query.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <dirent.h>

#include "igw/common.h"
#include "igw/json.h"
#include "igw/map.h"
#include "dialect/dci/dci_int.h"
#include "mediate/mediator.h"
#include "sign/sign.h"

#define FS_FILE "dci-fhir-search"
#define FS_PAGE_MAX 1000L
#define FS_PAGE_DEFAULT 100L
#define FS_OUT_MAX (16u * 1024u * 1024u)
#define FS_CRIT "rjct.search_criteria.invalid"
#define FS_WORD 128

struct fs_param {
    char name[FS_WORD], fhir[FS_WORD], system[256];
    char kind; /* 't' token, 's' string, 'd' date */
};

struct fs_sort {
    char name[FS_WORD], fhir[FS_WORD];
};

struct fs_record {
    char rtype[FS_WORD], ftype[FS_WORD], map[FS_WORD];
    bool offset;
    struct fs_param params[48];
    size_t np;
    struct fs_sort sorts[16];
    size_t ns;
};

struct fs_chan {
    struct fs_record recs[8];
    size_t n;
};

struct fs_req {
    struct dci_items d; /* first: the request, its items, the answer's items */
    const struct fs_record *rec;
    long page_size, page_number, skip; /* skip: next links still to follow */
    long last_total;                   /* the total of the last Bundle of the item, -1: none */
    struct igw_buf path;
};

/* ---- the mapping file --------------------------------------------------------------------- */

static bool
word(char *dst, const char *src)
{
    size_t n = strlen(src);
    if (n == 0 || n >= FS_WORD) {
        return false;
    }
    memcpy(dst, src, n + 1);
    return true;
}

/* One line, split into words (at most 8); "" when blank or a comment. */
static int
parse_line(struct fs_chan *c, char *line, const char *file, unsigned ln, char *err, size_t errlen)
{
    char *w[8];
    size_t n = 0;
    struct fs_record *r = c->n > 0 ? &c->recs[c->n - 1] : NULL;

    for (char *p = line; n < 8;) {
        p += strspn(p, " \t\r\n");
        if (*p == '\0' || *p == '#') {
            break;
        }
        w[n++] = p;
        p += strcspn(p, " \t\r\n");
        if (*p != '\0') {
            *p++ = '\0';
        }
    }
    if (n == 0) {
        return IGW_OK;
    }
    if (strcmp(w[0], "record") == 0 && n >= 5 && strcmp(w[3], "map") == 0 &&
        c->n < IGW_ARRAY_LEN(c->recs)) {
        r = &c->recs[c->n];
        if (word(r->rtype, w[1]) && word(r->ftype, w[2]) && word(r->map, w[4]) &&
            (n == 5 || (n == 7 && strcmp(w[5], "paging") == 0 &&
                        (strcmp(w[6], "next") == 0 || strcmp(w[6], "offset") == 0)))) {
            r->offset = n == 7 && strcmp(w[6], "offset") == 0;
            c->n++;
            return IGW_OK;
        }
    } else if (strcmp(w[0], "param") == 0 && r != NULL && (n == 4 || n == 5) &&
               r->np < IGW_ARRAY_LEN(r->params)) {
        struct fs_param *p = &r->params[r->np];
        p->kind = strcmp(w[2], "token") == 0    ? 't'
                  : strcmp(w[2], "string") == 0 ? 's'
                  : strcmp(w[2], "date") == 0   ? 'd'
                                                : 0;
        if (p->kind != 0 && word(p->name, w[1]) && word(p->fhir, w[3]) &&
            (n == 4 ||
             (strncmp(w[4], "system=", 7) == 0 && strlen(w[4] + 7) < sizeof(p->system)))) {
            snprintf(p->system, sizeof(p->system), "%s", n == 5 ? w[4] + 7 : "");
            r->np++;
            return IGW_OK;
        }
    } else if (strcmp(w[0], "sort") == 0 && r != NULL && n == 3 &&
               r->ns < IGW_ARRAY_LEN(r->sorts)) {
        if (word(r->sorts[r->ns].name, w[1]) && word(r->sorts[r->ns].fhir, w[2])) {
            r->ns++;
            return IGW_OK;
        }
    }
    igw_errbuf_set(
        err, errlen,
        "%s:%u: expected 'record <DCI type> <FHIR type> map <map> [paging next|offset]', "
        "'param <attribute> token|string|date <FHIR parameter> [system=<uri>]' or "
        "'sort <attribute> <FHIR parameter>' (after a record; names < 128 bytes)",
        file, ln);
    return IGW_ECONFIG;
}

static int
load_file(struct fs_chan *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    unsigned ln = 0;
    int rv = IGW_OK;

    if (f == NULL) {
        igw_errbuf_set(err, errlen, "%s: cannot read", path);
        return IGW_ECONFIG;
    }
    while (rv == IGW_OK && fgets(line, sizeof(line), f) != NULL) {
        rv = parse_line(c, line, path, ++ln, err, errlen);
    }
    fclose(f);
    return rv;
}

static int
fs_channel_init(const struct igw_channel *ch, void **state, char *err, size_t errlen)
{
    const char *dir = ch->mappings_dir != NULL ? ch->mappings_dir : "mappings";
    struct fs_chan *c;
    struct dirent *e;
    int rv = IGW_OK;
    DIR *d;

    *state = NULL;
    if (ch->dialect == NULL || strcmp(ch->dialect, "dci") != 0) {
        igw_errbuf_set(err, errlen, "answer: dci-fhir-search needs dialect: dci");
        return IGW_ECONFIG;
    }
    d = opendir(dir);
    if (d == NULL) {
        igw_errbuf_set(err, errlen, "%s: cannot list the mappings directory", dir);
        return IGW_ECONFIG;
    }
    c = igw_calloc(1, sizeof(*c));
    if (c == NULL) {
        closedir(d);
        return IGW_ENOMEM;
    }
    while (rv == IGW_OK && (e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s/%s", dir, e->d_name, FS_FILE);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            rv = load_file(c, path, err, errlen);
        }
    }
    closedir(d);
    for (size_t i = 0; rv == IGW_OK && i < c->n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s/map", dir, c->recs[i].map);
        if (strchr(c->recs[i].map, '/') != NULL || stat(path, &st) != 0) {
            igw_errbuf_set(err, errlen, "dci-fhir-search: record %s names map '%s', not in %s",
                           c->recs[i].rtype, c->recs[i].map, dir);
            rv = IGW_ECONFIG;
        }
    }
    if (rv == IGW_OK && c->n == 0) {
        igw_errbuf_set(err, errlen, "no DCI-over-FHIR search maps (<name>/%s) under %s", FS_FILE,
                       dir);
        rv = IGW_ECONFIG;
    }
    if (rv != IGW_OK) {
        igw_free(c);
        return rv;
    }
    *state = c;
    return IGW_OK;
}

static void
fs_channel_fini(void *state)
{
    igw_free(state);
}

/* ---- the FHIR query of an item ------------------------------------------------------------ */

static int
enc(struct igw_buf *q, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    int rv = IGW_OK;
    for (size_t i = 0; rv == IGW_OK && i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~' ||
                     ch == ':';
        rv = plain ? igw_buf_putc(q, (char)ch)
                   : igw_buf_printf(q, "%%%c%c", hex[ch >> 4], hex[ch & 15]);
    }
    return rv;
}

struct cond_arg {
    const struct fs_record *rec;
    struct igw_buf *q;
};

/* Appends one search value, FHIR-escaped (\\ \\, and in a token \\|: the list and system
 * separators) and percent-encoded. */
static int
put_value(struct igw_buf *q, const char *v, bool token)
{
    int rv = IGW_OK;
    for (const char *s = v; rv == IGW_OK && *s != '\0'; s++) {
        if (*s == '\\' || *s == ',' || (token && *s == '|')) {
            rv = igw_buf_puts(q, "%5C");
        }
        rv = rv == IGW_OK ? enc(q, s, 1) : rv;
    }
    return rv;
}

/* One condition as FHIR search parameters: eq gt ge lt le one value (dates with the prefix),
 * in a comma list (FHIR's OR of values), ne a token's :not modifier or a date's ne prefix. */
static int
cond_cb(void *arg, const char *attr, const char *op, const struct igw_node *const *vals, size_t n,
        const char **why)
{
    struct cond_arg *c = arg;
    const struct fs_param *p = NULL;
    bool ordered = strcmp(op, "gt") == 0 || strcmp(op, "ge") == 0 || strcmp(op, "lt") == 0 ||
                   strcmp(op, "le") == 0;
    bool in = strcmp(op, "in") == 0, ne = strcmp(op, "ne") == 0;
    char v[1024];
    int rv;

    for (size_t i = 0; p == NULL && i < c->rec->np; i++) {
        p = strcmp(c->rec->params[i].name, attr) == 0 ? &c->rec->params[i] : NULL;
    }
    if (p == NULL) {
        *why = "an attribute the registry cannot search";
        return IGW_EPARSE;
    }
    if (strcmp(op, "eq") != 0 && !ordered && !in && !ne) {
        *why = "unknown operator (eq, gt, ge, lt, le, in)";
        return IGW_EPARSE;
    }
    if (ordered && p->kind != 'd') {
        *why = "gt, ge, lt and le apply to dates only";
        return IGW_EPARSE;
    }
    if (ne && p->kind == 's') {
        *why = "not applies to identifiers, codes and dates only (FHIR has no not-equal for "
               "strings)";
        return IGW_EPARSE;
    }
    rv = igw_buf_putc(c->q, '&');
    rv = rv == IGW_OK ? enc(c->q, p->fhir, strlen(p->fhir)) : rv;
    rv = rv == IGW_OK && p->kind == 's' ? igw_buf_puts(c->q, ":exact") : rv;
    rv = rv == IGW_OK && ne && p->kind == 't' ? igw_buf_puts(c->q, ":not") : rv;
    rv = rv == IGW_OK ? igw_buf_putc(c->q, '=') : rv;
    for (size_t i = 0; rv == IGW_OK && i < n; i++) {
        const struct igw_node *val = vals[i];
        if (val == NULL || (val->type != IGW_NODE_STRING && val->type != IGW_NODE_NUMBER) ||
            val->len >= sizeof(v)) {
            *why = "attribute_value must be a string or number";
            return IGW_EPARSE;
        }
        snprintf(v, sizeof(v), "%.*s", (int)val->len, val->str);
        if (p->kind == 'd' && strlen(v) > 10 && v[10] == 'T') {
            v[10] = '\0'; /* a DateTime (birth_date is one in DCI): its date */
        }
        rv = i > 0 ? igw_buf_puts(c->q, "%2C") : IGW_OK; /* the list's separator */
        rv = rv == IGW_OK && p->kind == 'd' ? igw_buf_puts(c->q, in ? "eq" : op) : rv;
        if (rv == IGW_OK && p->kind == 't' && p->system[0] != '\0') {
            rv = enc(c->q, p->system, strlen(p->system));
            rv = rv == IGW_OK ? igw_buf_puts(c->q, "%7C") : rv;
        }
        rv = rv == IGW_OK ? put_value(c->q, v, p->kind == 't') : rv;
    }
    return rv;
}

/* ---- the answer's items ------------------------------------------------------------------- */

/* The item's records from bundle (NULL: nothing matched, a page past the last) through the
 * record's map; total from the Bundle's total, else its entries of the record's FHIR type
 * (past the last page: the last Bundle's). */
static int
item_done(struct igw_med *m, struct fs_req *r, const struct igw_node *bundle)
{
    const struct igw_node *it = r->d.items[r->d.i];
    const struct igw_node *crit = dci_mem(it, "search_criteria");
    const igw_map *map = m->maps != NULL ? igw_map_set_get(m->maps, r->rec->map) : NULL;
    struct igw_buf in;
    struct igw_node *root = NULL, *out = NULL;
    const struct igw_node *recs = NULL;
    long total = r->last_total > 0 ? r->last_total : 0;
    int rv = IGW_OK;

    if (bundle != NULL) {
        total = 0;
        const struct igw_node *ent = dci_mem(bundle, "entry");
        for (const struct igw_node *e = ent != NULL ? ent->first : NULL; e != NULL; e = e->next) {
            total +=
                strcmp(dci_str_of(dci_mem(e, "resource"), "resourceType", ""), r->rec->ftype) == 0;
        }
        total = dci_num_of(bundle, "total", total);
        if (map == NULL) {
            snprintf(m->err, sizeof(m->err), "map '%s' is not loaded", r->rec->map);
            return IGW_EIO;
        }
        igw_buf_init(&in, FS_OUT_MAX);
        rv = igw_buf_puts(&in, "{\"request\":{\"header\":");
        rv = rv == IGW_OK ? igw_json_write(dci_mem(r->d.req, "header"), &in, 0) : rv;
        rv = rv == IGW_OK ? igw_buf_puts(&in, ",\"message\":{") : rv;
        rv = rv == IGW_OK
                 ? dci_kv(&in, "transaction_id",
                          dci_str_of(dci_mem(r->d.req, "message"), "transaction_id", ""), false)
                 : rv;
        rv = rv == IGW_OK ? igw_buf_puts(&in, ",\"search_request\":[") : rv;
        rv = rv == IGW_OK ? igw_json_write(it, &in, 0) : rv;
        rv = rv == IGW_OK ? igw_buf_puts(&in, "]}},\"bundle\":") : rv;
        rv = rv == IGW_OK ? igw_json_write(bundle, &in, 0) : rv;
        rv = rv == IGW_OK ? igw_buf_putc(&in, '}') : rv;
        rv = rv == IGW_OK ? igw_json_parse(m->arena, in.ptr, in.len, NULL, &root, NULL) : rv;
        igw_buf_fini(&in);
        if (rv != IGW_OK) {
            return rv;
        }
        char err[IGW_ERRBUF_SIZE] = "";
        rv = igw_map_apply(map, false, m->arena, root, NULL, &out, err, sizeof(err));
        if (rv == IGW_ETRANSLATE) {
            return dci_item_reject(&r->d.out, &r->d.first, it, FS_CRIT,
                                   err); /* a resource the map cannot turn into one */
        }
        if (rv != IGW_OK) {
            return rv;
        }
        const struct igw_node *sr = dci_mem(dci_mem(out, "message"), "search_response");
        recs = dci_mem(dci_mem(sr != NULL ? sr->first : NULL, "data"), "reg_records");
    }
    struct igw_buf *b = &r->d.out;
    rv = dci_item_head(&r->d.out, &r->d.first, it, "succ");
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"data\":{\"version\":\"1.0.0\"") : rv;
    rv = rv == IGW_OK ? dci_kv(b, "reg_type",
                               dci_str_of(crit, "reg_type", "ns:org:RegistryType:Social"), true)
                      : rv;
    rv = rv == IGW_OK ? dci_kv(b, "reg_record_type", r->rec->rtype, true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"reg_records\":") : rv;
    rv = rv == IGW_OK && recs != NULL && recs->type == IGW_NODE_ARRAY ? igw_json_write(recs, b, 0)
         : rv == IGW_OK                                               ? igw_buf_puts(b, "[]")
                                                                      : rv;
    rv = rv == IGW_OK ? igw_buf_printf(b,
                                       "},\"pagination\":{\"page_size\":%ld,\"page_number\":%ld,"
                                       "\"total_count\":%ld}",
                                       r->page_size, r->page_number, total)
                      : rv;
    return rv == IGW_OK ? dci_item_locale(b, it) : rv;
}

static const struct fs_record *
record_of(const struct fs_chan *c, const struct igw_node *crit)
{
    const char *t = dci_str_of(crit, "reg_record_type", NULL);
    t = t != NULL && *t != '\0' ? t : dci_str_of(crit, "response_entity", NULL);
    t = t != NULL && *t != '\0'
            ? t
            : dci_str_of(dci_mem(dci_mem(dci_mem(crit, "query"), "value"), "expression"),
                         "collection", "Person");
    for (size_t i = 0; i < c->n; i++) {
        if (strcasecmp(c->recs[i].rtype, t) == 0) {
            return &c->recs[i];
        }
    }
    return NULL;
}

static int
call_path(struct igw_med *m, struct fs_req *r, bool *calling)
{
    *calling = true;
    m->call = (struct igw_med_call){NULL, "GET", r->path.ptr, NULL, "application/fhir+json",
                                    NULL, 0,     NULL};
    return IGW_MED_CALL;
}

/* Starts item r->d.i: *calling when it asked for a call, else it was answered at once
 * (refused). @return IGW_OK or an igw error code. */
static int
item_begin(struct igw_med *m, struct dci_items *d, bool *calling)
{
    struct fs_req *r = (struct fs_req *)d;
    const struct igw_node *it = r->d.items[r->d.i];
    const struct igw_node *crit = dci_mem(it, "search_criteria");
    const struct igw_node *pg = dci_mem(crit, "pagination");
    const struct igw_node *sort = dci_mem(crit, "sort");
    const char *why = NULL;
    int rv;

    r->rec = record_of(m->chstate, crit);
    if (r->rec == NULL) {
        return dci_item_reject(&r->d.out, &r->d.first, it, FS_CRIT,
                               "a record type this registry does not hold");
    }
    r->page_size = dci_num_of(pg, "page_size", FS_PAGE_DEFAULT);
    r->page_number = dci_num_of(pg, "page_number", 1);
    if (r->page_size < 1 || r->page_number < 1 || r->page_number > 1000000) {
        return dci_item_reject(&r->d.out, &r->d.first, it, "rjct.pagination.invalid",
                               "page_size and page_number are whole numbers from 1");
    }
    r->page_size = r->page_size > FS_PAGE_MAX ? FS_PAGE_MAX : r->page_size;
    r->skip = r->rec->offset ? 0 : r->page_number - 1;
    r->last_total = -1;
    igw_buf_reset(&r->path);
    rv = igw_buf_printf(&r->path, "/%s?_count=%ld&_total=accurate", r->rec->ftype, r->page_size);
    if (rv == IGW_OK && r->rec->offset) {
        rv = igw_buf_printf(&r->path, "&_offset=%ld", (r->page_number - 1) * r->page_size);
    }
    struct cond_arg ca = {r->rec, &r->path};
    rv = rv == IGW_OK ? dci_query_walk(crit, cond_cb, &ca, &why) : rv;
    bool sfirst = true;
    for (const struct igw_node *s = sort != NULL && sort->type == IGW_NODE_ARRAY ? sort->first
                                                                                 : NULL;
         rv == IGW_OK && s != NULL; s = s->next) {
        const char *an = dci_str_of(s, "attribute_name", "");
        const struct fs_sort *so = NULL;
        for (size_t i = 0; so == NULL && i < r->rec->ns; i++) {
            so = strcmp(r->rec->sorts[i].name, an) == 0 ? &r->rec->sorts[i] : NULL;
        }
        if (so == NULL) {
            return dci_item_reject(&r->d.out, &r->d.first, it, "rjct.sort.invalid",
                                   "an attribute igw cannot sort by");
        }
        rv = igw_buf_puts(&r->path, sfirst ? "&_sort=" : ",");
        sfirst = false;
        rv = rv == IGW_OK && strcasecmp(dci_str_of(s, "sort_order", "asc"), "desc") == 0
                 ? igw_buf_putc(&r->path, '-')
                 : rv;
        rv = rv == IGW_OK ? enc(&r->path, so->fhir, strlen(so->fhir)) : rv;
    }
    if (rv == IGW_EPARSE) {
        return dci_item_reject(&r->d.out, &r->d.first, it, FS_CRIT,
                               why != NULL ? why : "bad query");
    }
    if (rv == IGW_OK) {
        call_path(m, r, calling);
    }
    return rv;
}

static int
fs_start(struct igw_med *m)
{
    struct dci_items *d = NULL;
    int rv = dci_items_start(m, sizeof(struct fs_req), &d);

    if (rv != IGW_OK || d == NULL) {
        return rv;
    }
    igw_buf_init(&((struct fs_req *)d)->path, 64 * 1024);
    return dci_items_advance(m, d, item_begin);
}

/* The path and query of the Bundle's next link under the upstream's base path, in r->path;
 * false when there is none or it leaves the upstream's base. */
static bool
next_link(struct igw_med *m, struct fs_req *r, const struct igw_node *bundle)
{
    const struct igw_node *links = dci_mem(bundle, "link");
    const char *url = NULL, *base = "";
    const struct igw_upstream *u = m->ch->upstream_ref;

    for (const struct igw_node *l = links != NULL ? links->first : NULL; l != NULL; l = l->next) {
        url = strcmp(dci_str_of(l, "relation", ""), "next") == 0 ? dci_str_of(l, "url", NULL) : url;
    }
    if (u != NULL && u->url != NULL && strstr(u->url, "://") != NULL) {
        base = strstr(u->url, "://") + 3;
        base += strcspn(base, "/");
    }
    if (url == NULL) {
        return false;
    }
    if (strstr(url, "://") != NULL) {
        url = strstr(url, "://") + 3;
        url += strcspn(url, "/");
    }
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    if (strncmp(url, base, bl) != 0 || url[bl] != '/') {
        return false;
    }
    igw_buf_reset(&r->path);
    return igw_buf_puts(&r->path, url + bl) == IGW_OK;
}

static const char *
diagnostics(const struct igw_node *oo)
{
    const struct igw_node *issue = dci_mem(oo, "issue");
    const char *d = dci_str_of(issue != NULL ? issue->first : NULL, "diagnostics", NULL);
    return d != NULL ? d : "the FHIR server refused the search";
}

static int
fs_step(struct igw_med *m, const struct igw_med_result *res)
{
    struct fs_req *r = m->state;
    struct igw_node *doc = NULL;
    int rv;

    if (res->err != IGW_OK) {
        snprintf(m->err, sizeof(m->err), "upstream: %s", igw_strerror(res->err));
        return -res->err;
    }
    if (res->status == 401 || res->status == 403) {
        snprintf(m->err, sizeof(m->err), "the upstream refused igw's credentials (%d)",
                 res->status);
        return -IGW_EAUTH;
    }
    if (res->status == 429 || res->status == 503) {
        snprintf(m->err, sizeof(m->err), "the upstream is busy (%d)", res->status);
        return -IGW_EAGAIN;
    }
    if (res->status != 200 && res->status != 400 && res->status != 404 && res->status != 422) {
        snprintf(m->err, sizeof(m->err), "the upstream answered %d", res->status);
        return -IGW_EIO;
    }
    if (igw_json_parse(m->arena, res->body, res->body_len, NULL, &doc, NULL) != IGW_OK ||
        doc->type != IGW_NODE_OBJECT) {
        snprintf(m->err, sizeof(m->err), "the upstream answered %d without a FHIR resource",
                 res->status);
        return -IGW_EIO;
    }
    const char *rt = dci_str_of(doc, "resourceType", "");
    if (res->status == 404) {
        rv = item_done(m, r, NULL); /* openIMIS answers an identifier search of none so */
    } else if (res->status != 200) {
        rv = dci_item_reject(&r->d.out, &r->d.first, r->d.items[r->d.i], FS_CRIT, diagnostics(doc));
    } else if (strcmp(rt, "Bundle") == 0 && r->skip > 0) {
        r->skip--;
        r->last_total = dci_num_of(doc, "total", -1);
        bool calling = false;
        if (next_link(m, r, doc)) {
            return call_path(m, r, &calling);
        }
        rv = item_done(m, r, NULL); /* past the last page */
    } else if (strcmp(rt, "Bundle") == 0) {
        rv = item_done(m, r, doc);
    } else if (strcmp(rt, r->rec->ftype) == 0) {
        /* openIMIS's FHIR API answers an identifier search with the resource itself */
        struct igw_node *b = NULL;
        struct igw_buf t;
        igw_buf_init(&t, FS_OUT_MAX);
        rv = igw_buf_printf(&t, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\","
                                "\"total\":1,\"entry\":[{\"resource\":");
        rv = rv == IGW_OK ? igw_json_write(doc, &t, 0) : rv;
        rv = rv == IGW_OK ? igw_buf_puts(&t, "}]}") : rv;
        rv = rv == IGW_OK ? igw_json_parse(m->arena, t.ptr, t.len, NULL, &b, NULL) : rv;
        igw_buf_fini(&t);
        rv = rv == IGW_OK ? item_done(m, r, b) : rv;
    } else {
        snprintf(m->err, sizeof(m->err), "the upstream answered a %s, not a Bundle", rt);
        return -IGW_EIO;
    }
    if (rv != IGW_OK) {
        return -rv;
    }
    r->d.i++;
    return dci_items_advance(m, &r->d, item_begin);
}

static void
fs_fini(struct igw_med *m)
{
    struct fs_req *r = m->state;
    if (r != NULL) {
        igw_buf_fini(&r->path);
        dci_items_fini(&r->d);
    }
}

const struct igw_mediator_ops igw_mediator_dci_fhir_search = {
    .name = "dci-fhir-search",
    .description = "DCI /registry/sync/search answered live from a FHIR R4 server: every "
                   "search_request item, idtype-value, expression and predicate queries as the "
                   "FHIR parameters the dci-fhir-search maps declare, pages by _count and next "
                   "links, records by fhir-bundle-to-dci-search-response",
    .channel_init = fs_channel_init,
    .channel_fini = fs_channel_fini,
    .start = fs_start,
    .step = fs_step,
    .fini = fs_fini,
};
