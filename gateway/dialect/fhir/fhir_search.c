/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fhir-read and fhir-search mediators (fhir_search.h): a FHIR read or search becomes the
 * GraphQL calls translators/search plans, made by the mediation engine on the channel's
 * upstream; the answer is the resource or the searchset Bundle, cacheable under the resource
 * type. Bad queries are answered 400 and absent resources 404, each with an OperationOutcome.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "igw/common.h"
#include "igw/fhir.h"
#include "igw/json.h"
#include "igw/search.h"
#include "dialect/fhir/fhir_search.h"
#include "http/http.h"
#include "mediate/mediator.h"

#define FS_GRAPHQL_PATH "/api/graphql"
#define FS_CT "application/fhir+json"

struct fs_chan {
    igw_search_set *set;
};

struct fs_req {
    igw_search_op *op;
    const char *resource;
    bool read;
    struct igw_buf call; /* the body of the call under way */
};

static int
fs_channel_init(const struct igw_channel *ch, void **state, char *err, size_t errlen)
{
    struct fs_chan *c = igw_calloc(1, sizeof(*c));
    const char *dir = ch->mappings_dir != NULL ? ch->mappings_dir : "mappings";
    if (c == NULL) {
        return IGW_ENOMEM;
    }
    int rv = igw_search_set_load(&c->set, dir, err, errlen);
    if (rv == IGW_OK && igw_search_set_count(c->set) == 0) {
        igw_errbuf_set(err, errlen, "no search maps (<name>/search) under %s", dir);
        rv = IGW_ECONFIG;
    }
    if (rv != IGW_OK) {
        igw_free(c);
        return rv == IGW_ENOMEM ? rv : IGW_ECONFIG;
    }
    *state = c;
    return IGW_OK;
}

static void
fs_channel_fini(void *state)
{
    struct fs_chan *c = state;
    if (c != NULL) {
        igw_search_set_free(c->set);
        igw_free(c);
    }
}

/* The literal segment before `stop` (a "{id}" or "_search" segment, or the end) in pattern. */
static const char *
literal_type(igw_arena *a, const char *pattern, bool read)
{
    const char *segs[32];
    size_t lens[32], n = 0;
    for (const char *p = pattern; *p == '/' && n < 32;) {
        const char *s = p + 1;
        const char *e = strchr(s, '/');
        size_t k = e != NULL ? (size_t)(e - s) : strlen(s);
        segs[n] = s;
        lens[n++] = k;
        p = s + k;
    }
    while (n > 0 &&
           (segs[n - 1][0] == '{' || (lens[n - 1] == 7 && !strncmp(segs[n - 1], "_search", 7)))) {
        n--;
        if (read) {
            break;
        }
    }
    return n > 0 ? igw_arena_strndup(a, segs[n - 1], lens[n - 1]) : NULL;
}

static const char *
resource_of(struct igw_med *m, bool read)
{
    const struct igw_path_param *p = m->pm != NULL ? igw_path_param_get(m->pm, "type") : NULL;
    if (p != NULL) {
        return igw_arena_strndup(m->arena, p->value, p->value_len);
    }
    return literal_type(m->arena, m->ch->path, read);
}

/* Answers status with an OperationOutcome of one issue. */
static int
outcome(struct igw_med *m, int status, const char *code, const char *text)
{
    struct igw_node *oo = igw_fhir_outcome_simple(m->arena, IGW_FHIR_SEV_ERROR, code, text, NULL);
    m->answer.status = status;
    m->answer.content_type = FS_CT;
    if (oo == NULL || igw_json_write(oo, &m->answer.body, 0) != IGW_OK) {
        return -IGW_ENOMEM;
    }
    return IGW_MED_ANSWER;
}

static int
fail(struct igw_med *m, int rv, const char *text)
{
    switch (rv) {
    case IGW_EPARSE:
    case IGW_ETOOBIG:
        return outcome(m, 400, IGW_FHIR_IT_INVALID, text);
    case IGW_ENOENT:
        return outcome(m, 404, IGW_FHIR_IT_NOT_FOUND, text);
    case IGW_ETRANSLATE:
        return outcome(m, 502, IGW_FHIR_IT_EXCEPTION, text);
    default:
        snprintf(m->err, sizeof(m->err), "%s", text);
        return -rv;
    }
}

static int
ask(struct igw_med *m, struct fs_req *r)
{
    igw_buf_reset(&r->call);
    int rv = igw_search_next_call(r->op, &r->call);
    if (rv != IGW_OK) {
        return rv;
    }
    m->call = (struct igw_med_call){
        NULL,        "POST",      FS_GRAPHQL_PATH, "application/json", "application/json",
        r->call.ptr, r->call.len, r->resource};
    return IGW_MED_CALL;
}

/* The FHIR base the links start with: the configured one, else http://<Host> + the path
 * before the resource type. */
static const char *
base_url(struct igw_med *m, const char *resource)
{
    if (m->ch->fhir_base_url != NULL) {
        return m->ch->fhir_base_url;
    }
    const char *host = m->header != NULL ? m->header(m->header_arg, "Host") : NULL;
    const char *t = m->target;
    size_t plen = strcspn(t, "?");
    size_t rl = strlen(resource);
    size_t cut = 0;
    for (size_t i = 0; i + rl + 1 <= plen; i++) {
        if (t[i] == '/' && strncmp(t + i + 1, resource, rl) == 0 &&
            (t[i + 1 + rl] == '/' || t[i + 1 + rl] == '?' || i + 1 + rl == plen)) {
            cut = i;
            break;
        }
    }
    size_t n = cut + (host != NULL ? strlen(host) : 9) + 16;
    char *b = igw_arena_alloc(m->arena, n);
    if (b != NULL) {
        snprintf(b, n, "http://%s%.*s", host != NULL ? host : "localhost", (int)cut, t);
    }
    return b;
}

static bool
strict(struct igw_med *m)
{
    const char *p = m->header != NULL ? m->header(m->header_arg, "Prefer") : NULL;
    return p != NULL && strstr(p, "handling=strict") != NULL;
}

static int finish(struct igw_med *m, struct fs_req *r);

static int
fs_start_common(struct igw_med *m, bool read)
{
    struct fs_req *r = igw_arena_calloc(m->arena, sizeof(*r));
    const struct fs_chan *c = m->chstate;
    char err[IGW_ERRBUF_SIZE] = "";
    int rv;
    if (r == NULL) {
        return -IGW_ENOMEM;
    }
    igw_buf_init(&r->call, 1u << 20);
    m->state = r;
    r->read = read;
    r->resource = resource_of(m, read);
    if (r->resource == NULL || igw_search_set_find(c->set, r->resource) == NULL) {
        return outcome(m, 404, IGW_FHIR_IT_NOT_SUPPORTED, "no read or search for this type");
    }
    if (read) {
        const struct igw_path_param *id = igw_path_param_get(m->pm, "id");
        const char *ids = id != NULL ? igw_arena_strndup(m->arena, id->value, id->value_len) : "";
        rv = igw_search_begin_read(&r->op, m->arena, c->set, r->resource, ids, err, sizeof(err));
    } else {
        struct igw_search_query q;
        const char *qm = strchr(m->target, '?');
        struct igw_buf all;
        igw_buf_init(&all, IGW_SEARCH_QUERY_MAX + 2);
        rv = qm != NULL ? igw_buf_puts(&all, qm + 1) : IGW_OK;
        if (rv == IGW_OK && m->method != NULL && strcmp(m->method, "POST") == 0 &&
            m->body_len > 0) { /* _search: the form body adds to the query */
            rv = all.len > 0 ? igw_buf_putc(&all, '&') : IGW_OK;
            rv = rv == IGW_OK ? igw_buf_append(&all, m->body, m->body_len) : rv;
        }
        if (rv == IGW_ETOOBIG) {
            snprintf(err, sizeof(err), "the query is over %u bytes", IGW_SEARCH_QUERY_MAX);
        }
        rv = rv == IGW_OK ? igw_search_query_parse(m->arena, all.ptr != NULL ? all.ptr : "",
                                                   all.len, &q, err, sizeof(err))
                          : rv;
        igw_buf_fini(&all);
        rv = rv == IGW_OK ? igw_search_begin(&r->op, m->arena, c->set, r->resource, &q,
                                             strict(m) ? IGW_SEARCH_STRICT : 0, err, sizeof(err))
                          : rv;
    }
    if (rv != IGW_OK) {
        return fail(m, rv, err);
    }
    rv = ask(m, r);
    if (rv == IGW_ENOENT) { /* nothing to ask: no record can match */
        return finish(m, r);
    }
    return rv == IGW_MED_CALL ? rv : -rv;
}

static int
finish(struct igw_med *m, struct fs_req *r)
{
    char err[IGW_ERRBUF_SIZE] = "";
    int rv;
    m->answer.status = 200;
    m->answer.content_type = FS_CT;
    if (r->read) {
        rv = igw_search_read(r->op, m->maps, &m->answer.body, &m->answer.etag,
                             &m->answer.last_modified, err, sizeof(err));
    } else {
        rv = igw_search_bundle(r->op, base_url(m, r->resource), m->maps, &m->answer.body, err,
                               sizeof(err));
    }
    if (rv != IGW_OK) {
        igw_buf_reset(&m->answer.body);
        m->answer.etag = m->answer.last_modified = NULL;
        return fail(m, rv, err);
    }
    m->answer.cacheable = true;
    return IGW_MED_ANSWER;
}

static int
fs_step(struct igw_med *m, const struct igw_med_result *res)
{
    struct fs_req *r = m->state;
    char err[IGW_ERRBUF_SIZE] = "";
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
    if (res->status != 200) {
        snprintf(m->err, sizeof(m->err), "the upstream answered %d", res->status);
        return -IGW_EIO;
    }
    int rv = igw_search_feed(r->op, res->body, res->body_len, err, sizeof(err));
    if (rv != IGW_OK) {
        snprintf(m->err, sizeof(m->err), "%s", err);
        return -rv;
    }
    rv = ask(m, r);
    if (rv == IGW_MED_CALL) {
        return rv;
    }
    return rv == IGW_ENOENT ? finish(m, r) : -rv;
}

static int
fs_start_read(struct igw_med *m)
{
    return fs_start_common(m, true);
}

static int
fs_start_search(struct igw_med *m)
{
    return fs_start_common(m, false);
}

static void
fs_fini(struct igw_med *m)
{
    struct fs_req *r = m->state;
    if (r != NULL) {
        igw_buf_fini(&r->call);
    }
}

const struct igw_mediator_ops igw_mediator_fhir_read = {
    .name = "fhir-read",
    .description = "FHIR read GET [base]/{type}/{id} from the upstream's GraphQL API "
                   "(search maps in mappings/<name>/search)",
    .channel_init = fs_channel_init,
    .channel_fini = fs_channel_fini,
    .start = fs_start_read,
    .step = fs_step,
    .fini = fs_fini,
};

const struct igw_mediator_ops igw_mediator_fhir_search = {
    .name = "fhir-search",
    .description = "FHIR search GET [base]/{type}?... and POST [base]/{type}/_search from the "
                   "upstream's GraphQL API (search maps in mappings/<name>/search)",
    .channel_init = fs_channel_init,
    .channel_fini = fs_channel_fini,
    .start = fs_start_search,
    .step = fs_step,
    .fini = fs_fini,
};

struct fs_params {
    const char *only;
    igw_fhir_param_fn fn;
    void *arg;
};

static void
fs_param(void *arg, const char *resource, const char *param, const char *type, const char *doc)
{
    struct fs_params *p = arg;
    p->fn(p->arg, resource, param, type, doc);
}

void
igw_fhir_search_params(const struct igw_channel *ch, igw_fhir_param_fn fn, void *arg)
{
    igw_search_set *set = NULL;
    igw_arena *a = NULL;
    char err[IGW_ERRBUF_SIZE];
    if (ch == NULL || fn == NULL || ch->path == NULL || igw_arena_new(&a, 0) != IGW_OK) {
        return;
    }
    const char *dir = ch->mappings_dir != NULL ? ch->mappings_dir : "mappings";
    struct fs_params p = {NULL, fn, arg};
    if (!igw_path_has_param(ch->path, "type")) {
        p.only = literal_type(a, ch->path, false);
    }
    if (igw_search_set_load(&set, dir, err, sizeof(err)) == IGW_OK) {
        for (size_t i = 0; i < igw_search_set_count(set); i++) {
            const igw_search_map *sm = igw_search_set_at(set, i);
            if (p.only == NULL || strcmp(p.only, igw_search_map_resource(sm)) == 0) {
                igw_search_map_params(sm, fs_param, &p);
            }
        }
    }
    igw_search_set_free(set);
    igw_arena_free(a);
}
