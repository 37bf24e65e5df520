/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The generic `map` mediator (docs/MEDIATION.md): one upstream call per request. The call's
 * path comes from the channel's mediate.path template ({param} from the path, {query.x} from
 * the query, percent-encoded), its body from mediate.request_map (or the inbound body), and the
 * answer from the upstream's JSON through mediate.response_map (or as it came). Upstream 4xx
 * listed in mediate.pass_status are passed on (404 in the dialect's shape), anything else that
 * is not 2xx is 502.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "igw/json.h"
#include "http/http.h"
#include "mediate/mediate_int.h"
#include "mediate/mediator.h"

#define PASS_MAX 16
#define PATH_OUT_MAX 8192
#define VALUE_MAX 4096

struct map_state {
    int pass[PASS_MAX];
    unsigned npass;
};

/* ---- channel ------------------------------------------------------------------------------ */

static int
check_template(const struct igw_channel *ch, char *err, size_t errlen)
{
    const char *t = ch->mediate_path;

    if (t[0] != '/') {
        igw_errbuf_set(err, errlen, "mediate.path must start with '/'");
        return IGW_ECONFIG;
    }
    for (const char *p = strchr(t, '{'); p != NULL; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        char name[64];
        size_t n = close != NULL ? (size_t)(close - p - 1) : 0;
        if (close == NULL || n == 0 || n >= sizeof(name)) {
            igw_errbuf_set(err, errlen, "mediate.path: unterminated or empty {...}");
            return IGW_ECONFIG;
        }
        memcpy(name, p + 1, n);
        name[n] = '\0';
        if (strncmp(name, "query.", 6) != 0 && !igw_path_has_param(ch->path, name)) {
            igw_errbuf_set(err, errlen, "mediate.path: {%s} is no parameter of \"%s\"", name,
                           ch->path);
            return IGW_ECONFIG;
        }
    }
    return IGW_OK;
}

static int
parse_pass(struct map_state *st, const char *list, char *err, size_t errlen)
{
    for (const char *p = list; p != NULL && *p != '\0';) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p || v < 400 || v > 499 || st->npass >= PASS_MAX) {
            igw_errbuf_set(err, errlen, "mediate.pass_status: expected 4xx statuses, e.g. 404,410");
            return IGW_ECONFIG;
        }
        st->pass[st->npass++] = (int)v;
        p = *end == ',' ? end + 1 : end;
        while (*p == ' ') {
            p++;
        }
    }
    return IGW_OK;
}

static int
map_channel_init(const struct igw_channel *ch, void **state, char *err, size_t errlen)
{
    struct map_state *st;
    int rv;

    if (ch->mediate_path == NULL || ch->upstream == NULL) {
        igw_errbuf_set(err, errlen, "answer: map needs upstream and mediate.path");
        return IGW_ECONFIG;
    }
    rv = check_template(ch, err, errlen);
    if (rv != IGW_OK) {
        return rv;
    }
    st = IGW_NEW(struct map_state);
    if (st == NULL) {
        return IGW_ENOMEM;
    }
    rv = parse_pass(st, ch->mediate_pass_status, err, errlen);
    if (rv != IGW_OK) {
        igw_free(st);
        return rv;
    }
    *state = st;
    return IGW_OK;
}

static void
map_channel_fini(void *state)
{
    igw_free(state);
}

/* ---- the call ----------------------------------------------------------------------------- */

/* Appends the value of one {name} of the template, percent-encoded. */
static int
put_param(struct igw_med *m, struct igw_buf *b, const char *name, size_t n)
{
    char key[64];
    char val[VALUE_MAX];
    size_t len = 0;
    int rv;

    memcpy(key, name, n);
    key[n] = '\0';
    if (strncmp(key, "query.", 6) == 0) {
        rv = igw_med_query_get(m->target, key + 6, val, sizeof(val), &len);
        if (rv == IGW_ENOENT) {
            return IGW_OK;
        }
        if (rv != IGW_OK) {
            igw_errbuf_set(m->err, sizeof(m->err), "query parameter %s: bad or too long value",
                           key + 6);
            return IGW_EPARSE;
        }
        return igw_med_pct_encode(b, val, len);
    }
    const struct igw_path_param *pp = m->pm != NULL ? igw_path_param_get(m->pm, key) : NULL;
    return pp != NULL ? igw_med_pct_encode(b, pp->value, pp->value_len) : IGW_OK;
}

static int
build_path(struct igw_med *m, const char **out)
{
    const char *t = m->ch->mediate_path;
    struct igw_buf b;
    int rv = IGW_OK;

    igw_buf_init(&b, PATH_OUT_MAX);
    while (*t != '\0' && rv == IGW_OK) {
        const char *close = *t == '{' ? strchr(t, '}') : NULL;
        if (close != NULL) {
            rv = put_param(m, &b, t + 1, (size_t)(close - t - 1));
            t = close + 1;
        } else {
            rv = igw_buf_putc(&b, *t++);
        }
    }
    if (rv == IGW_OK) {
        *out = igw_arena_strndup(m->arena, b.ptr, b.len);
        rv = *out == NULL ? IGW_ENOMEM : IGW_OK;
    }
    igw_buf_fini(&b);
    return rv == IGW_ETOOBIG ? IGW_EPARSE : rv;
}

/* {"params":{...},"query":{...}}: the input of a request map for a request without a body. */
static int
params_doc(struct igw_med *m, struct igw_node **out)
{
    igw_arena *a = m->arena;
    struct igw_node *root = igw_node_new(a, IGW_NODE_OBJECT);
    struct igw_node *params = igw_node_new(a, IGW_NODE_OBJECT);
    struct igw_node *query = igw_node_new(a, IGW_NODE_OBJECT);
    const char *q = strchr(m->target, '?');
    int rv = root != NULL && params != NULL && query != NULL ? IGW_OK : IGW_ENOMEM;

    for (unsigned i = 0; m->pm != NULL && rv == IGW_OK && i < m->pm->nparams; i++) {
        const struct igw_path_param *p = &m->pm->params[i];
        rv = igw_node_append(a, params, p->name, p->name_len,
                             igw_node_string(a, p->value, p->value_len));
    }
    while (q != NULL && rv == IGW_OK) {
        const char *k = q + 1;
        size_t klen = strcspn(k, "=&");
        char name[256];
        char val[VALUE_MAX];
        size_t vlen = 0;
        if (klen > 0 && klen < sizeof(name)) {
            memcpy(name, k, klen);
            name[klen] = '\0';
            rv = igw_med_query_get(m->target, name, val, sizeof(val), &vlen);
            rv = rv == IGW_OK ? igw_node_append(a, query, name, klen, igw_node_string(a, val, vlen))
                              : rv;
        }
        q = strchr(k, '&');
    }
    rv = rv == IGW_OK ? igw_node_append(a, root, "params", 6, params) : rv;
    rv = rv == IGW_OK ? igw_node_append(a, root, "query", 5, query) : rv;
    *out = root;
    return rv == IGW_EPARSE || rv == IGW_ETOOBIG ? IGW_EPARSE : rv;
}

/* Runs map name over in, writing JSON into a new arena string. */
static int
run_map(struct igw_med *m, const char *name, const struct igw_node *in, struct igw_buf *out)
{
    const igw_map *map = m->maps != NULL ? igw_map_set_get(m->maps, name) : NULL;
    struct igw_node *res = NULL;
    int rv;

    if (map == NULL) {
        igw_errbuf_set(m->err, sizeof(m->err), "map '%s' is not loaded", name);
        return IGW_EIO;
    }
    rv = igw_map_apply(map, false, m->arena, in, NULL, &res, m->err, sizeof(m->err));
    if (rv == IGW_OK) {
        rv = igw_json_write(res, out, 0);
    }
    return rv;
}

static int
request_body(struct igw_med *m)
{
    struct igw_node *in = NULL;
    struct igw_parse_error perr;
    struct igw_buf b;
    int rv;

    if (m->ch->mediate_request_map == NULL) {
        m->call.body = m->body_len > 0 ? m->body : NULL;
        m->call.body_len = m->body_len;
        m->call.content_type = m->header != NULL ? m->header(m->header_arg, "Content-Type") : NULL;
        return IGW_OK;
    }
    if (m->body_len > 0) {
        rv = igw_json_parse(m->arena, m->body, m->body_len, NULL, &in, &perr);
        if (rv != IGW_OK) {
            igw_errbuf_set(m->err, sizeof(m->err), "the body is not valid JSON");
            return IGW_EPARSE;
        }
    } else {
        rv = params_doc(m, &in);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    igw_buf_init(&b, 16u << 20);
    rv = run_map(m, m->ch->mediate_request_map, in, &b);
    if (rv == IGW_OK) {
        m->call.body = igw_arena_strndup(m->arena, b.ptr != NULL ? b.ptr : "", b.len);
        m->call.body_len = b.len;
        m->call.content_type = "application/json";
        rv = m->call.body == NULL ? IGW_ENOMEM : IGW_OK;
    }
    igw_buf_fini(&b);
    return rv == IGW_ETRANSLATE || rv == IGW_ELIMIT ? IGW_EPARSE : rv;
}

static int
map_start(struct igw_med *m)
{
    const struct igw_path_param *type = m->pm != NULL ? igw_path_param_get(m->pm, "type") : NULL;
    int rv;

    m->call.method = m->ch->mediate_method != NULL    ? m->ch->mediate_method
                     : strcmp(m->method, "HEAD") == 0 ? "GET"
                                                      : m->method;
    m->call.accept = "application/json";
    m->call.cache_tag = type != NULL ? type->value : m->ch->name;
    rv = build_path(m, &m->call.path);
    if (rv == IGW_OK) {
        rv = request_body(m);
    }
    return rv == IGW_OK ? IGW_MED_CALL : -rv;
}

/* ---- the answer --------------------------------------------------------------------------- */

static bool
passed(const struct map_state *st, int status)
{
    for (unsigned i = 0; i < st->npass; i++) {
        if (st->pass[i] == status) {
            return true;
        }
    }
    return false;
}

static int
answer_body(struct igw_med *m, const struct igw_med_result *res)
{
    struct igw_node *in = NULL;
    struct igw_parse_error perr;

    if (m->ch->mediate_response_map == NULL) {
        m->answer.content_type =
            res->content_type != NULL
                ? igw_arena_strndup(m->arena, res->content_type, strlen(res->content_type))
                : NULL;
        m->answer.etag = res->header(res, "ETag");
        m->answer.last_modified = res->header(res, "Last-Modified");
        return igw_buf_append(&m->answer.body, res->body, res->body_len);
    }
    if (igw_json_parse(m->arena, res->body, res->body_len, NULL, &in, &perr) != IGW_OK) {
        igw_errbuf_set(m->err, sizeof(m->err), "the upstream's answer is not JSON");
        return IGW_EIO;
    }
    int rv = run_map(m, m->ch->mediate_response_map, in, &m->answer.body);
    return rv == IGW_ETRANSLATE || rv == IGW_ELIMIT ? IGW_ETRANSLATE : rv;
}

/* on_success: commit: the inbound request, or the response map's output, becomes a write. */
static int
commit_after(struct igw_med *m, const struct igw_med_result *res)
{
    int rv;

    if (m->ch->mediate_response_map == NULL) {
        m->commit.body = NULL; /* the inbound body and method */
        return IGW_MED_COMMIT;
    }
    rv = answer_body(m, res);
    if (rv != IGW_OK) {
        return -rv;
    }
    m->commit.body = m->answer.body.ptr != NULL ? m->answer.body.ptr : "";
    m->commit.body_len = m->answer.body.len;
    m->commit.content_type = m->ch->dialect != NULL && strcmp(m->ch->dialect, "fhir") == 0
                                 ? "application/fhir+json"
                                 : "application/json"; /* the response map's JSON */
    return IGW_MED_COMMIT;
}

static int
map_step(struct igw_med *m, const struct igw_med_result *res)
{
    const struct map_state *st = m->chstate;
    int rv;

    if (res->err != IGW_OK) {
        return -res->err;
    }
    if (res->status == 404 && passed(st, 404)) {
        igw_errbuf_set(m->err, sizeof(m->err), "the upstream has no such resource");
        return -IGW_ENOENT;
    }
    if ((res->status == 401 || res->status == 403) && !passed(st, res->status)) {
        igw_errbuf_set(m->err, sizeof(m->err), "the upstream refused igw's credentials (%d)",
                       res->status);
        return -IGW_EAUTH;
    }
    if ((res->status < 200 || res->status > 299) && !passed(st, res->status)) {
        igw_errbuf_set(m->err, sizeof(m->err), "the upstream answered %d", res->status);
        return -IGW_EIO;
    }
    if (res->status >= 200 && res->status <= 299 && m->ch->mediate_on_success != NULL &&
        strcmp(m->ch->mediate_on_success, "commit") == 0) {
        return commit_after(m, res);
    }
    m->answer.status = res->status;
    rv = res->status >= 200 && res->status <= 299
             ? answer_body(m, res)
             : igw_buf_append(&m->answer.body, res->body, res->body_len);
    if (rv != IGW_OK) {
        return -(rv == IGW_ETOOBIG ? IGW_ETOOBIG : rv);
    }
    m->answer.cacheable =
        res->status == 200 && (strcmp(m->method, "GET") == 0 || strcmp(m->method, "HEAD") == 0);
    return IGW_MED_ANSWER;
}

const struct igw_mediator_ops igw_mediator_map = {
    .name = "map",
    .description = "one upstream call: path template, request map, response map",
    .channel_init = map_channel_init,
    .channel_fini = map_channel_fini,
    .start = map_start,
    .step = map_step,
    .fini = NULL,
};
