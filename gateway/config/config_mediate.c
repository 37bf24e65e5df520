/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config loader, synchronous mediation (docs/MEDIATION.md): the option rows of upstreams.<name>
 * and of a channel's answer, upstream, mediate and cache options (merged into the loader's
 * table, parsed and documented with the rest), the upstreams' secrets, and the binding of a
 * channel to its mediator (the registry of gateway/mediate/) and its upstream.
 */
#include <errno.h>
#include <string.h>

#include "igw/buf.h"
#include "config/config_int.h"
#include "mediate/mediator.h"

#define CH(f) offsetof(struct igw_channel, f)
#define UP(f) offsetof(struct igw_upstream, f)
#define LG(f) offsetof(struct igw_upstream_login, f)
#define SECRET_FILE_MAX (1u << 20)

/* clang-format off */
static const struct opt med_opts[] = {
    {S_CHANNEL, "answer", T_STR, CH(answer), 0, NULL, 0, 0, NULL, 0, NULL, "mediator name", 0,
     "Answer requests synchronously from upstream calls through this mediator (map, or one "
     "registered by a dialect: fhir-read, fhir-search ...) instead of committing them to the "
     "queue. Needed for GET and DELETE channels; HEAD is answered by a GET channel."},
    {S_CHANNEL, "upstream", T_STR, CH(upstream), 0, NULL, 0, 0, NULL, 0, NULL, "upstream name", 0,
     "The upstreams.<name> the channel's mediator calls."},
    {S_CHANNEL, "mediate", T_SECT, 0, 0, NULL, 0, 0, NULL, S_CH_MEDIATE, NULL, "section", 0,
     "Limits of the mediation and the options of the map mediator."},
    {S_CHANNEL, "cache", T_SECT, 0, 0, NULL, 0, 0, NULL, S_CH_CACHE, NULL, "section", 0,
     "Response cache of a mediating channel (answers the mediator marks cacheable)."},

    {S_CH_MEDIATE, "timeout", T_DUR, CH(mediate_timeout_ms), 0, "15s", 1, 3600000, NULL, 0, NULL,
     "duration", 0, "Limit on the whole mediation of one request (every upstream call and "
     "wait); 504 after it."},
    {S_CH_MEDIATE, "max_inflight", T_UINT, CH(mediate_max_inflight), 0, "256", 1, 1000000, NULL,
     0, NULL, "integer", 0,
     "Requests of this channel mediated at once; beyond it 503 with Retry-After."},
    {S_CH_MEDIATE, "max_calls", T_UINT, CH(mediate_max_calls), 0, "8", 1, 1000, NULL, 0, NULL,
     "integer", 0, "Upstream calls one request may make (502 beyond)."},
    {S_CH_MEDIATE, "method", T_CHOICE, CH(mediate_method), 0, NULL, 0, 0,
     "GET|POST|PUT|PATCH|DELETE", 0, NULL, "choice", 0,
     "map mediator: method of the upstream call. Unset: the inbound method (GET for HEAD)."},
    {S_CH_MEDIATE, "path", T_STR, CH(mediate_path), 0, NULL, 0, 0, NULL, 0, NULL, "template", 0,
     "map mediator: path of the upstream call under the upstream's url, with {param} (a path "
     "parameter) and {query.x} (query parameter x), percent-encoded, e.g. "
     "/api/insurees/{id}?lang={query.lang}. Required with answer: map."},
    {S_CH_MEDIATE, "request_map", T_STR, CH(mediate_request_map), 0, NULL, 0, 0, NULL, 0, NULL,
     "string", 0,
     "map mediator: map from the inbound body (or, without a body, the JSON object "
     "{\"params\":{...},\"query\":{...}}) to the upstream body. Unset: the inbound body, none "
     "for GET."},
    {S_CH_MEDIATE, "response_map", T_STR, CH(mediate_response_map), 0, NULL, 0, 0, NULL, 0, NULL,
     "string", 0,
     "map mediator: map from the upstream's JSON answer to the answer. Unset: the upstream's "
     "body as it came."},
    {S_CH_MEDIATE, "pass_status", T_STR, CH(mediate_pass_status), 0, "404,410", 0, 0, NULL, 0,
     NULL, "list of statuses", 0,
     "map mediator: upstream 4xx statuses answered as they are (comma-separated); any other "
     "4xx or 5xx becomes 502."},
    {S_CH_MEDIATE, "content_type", T_STR, CH(mediate_content_type), 0, NULL, 0, 0, NULL, 0, NULL,
     "string", 0, "map mediator: Content-Type of the answer. Unset: application/json (or the "
     "dialect's, application/fhir+json for dialect: fhir)."},

    {S_CH_CACHE, "ttl", T_DUR, CH(cache_ttl_ms), 0, "0", 0, 86400000, NULL, 0, NULL, "duration", 0,
     "How long a cacheable answer is served from memory; 0: no cache. A write of the same "
     "resource type through igw drops the entries of that type."},
    {S_CH_CACHE, "max_entries", T_UINT, CH(cache_max_entries), 0, "1024", 1, 1000000, NULL, 0,
     NULL, "integer", 0, "Answers kept at once (the least recently used one goes first)."},
    {S_CH_CACHE, "max_bytes", T_SIZE, CH(cache_max_bytes), 0, "16MiB", 1024, 1ull << 32, NULL, 0,
     NULL, "size", 0, "Memory the cached answers of this channel may take."},

    {S_UPSTREAM, "url", T_STR, UP(url), 0, NULL, 0, 0, NULL, 0, NULL, "url", F_REQUIRED,
     "Base URL, http(s)://HOST[:PORT][/PATH]; every call goes to it + the mediator's path (a "
     "message never chooses the address)."},
    {S_UPSTREAM, "timeout", T_DUR, UP(timeout_ms), 0, "10s", 1, 3600000, NULL, 0, NULL,
     "duration", 0, "Limit on one call (the channel's mediate.timeout bounds the whole)."},
    {S_UPSTREAM, "max_inflight", T_UINT, UP(max_inflight), 0, "16", 1, 100000, NULL, 0, NULL,
     "integer", 0, "Calls to this upstream at once; further calls wait (within the channel's "
     "timeout)."},
    {S_UPSTREAM, "rate_per_minute", T_UINT, UP(rate_per_minute), 0, "0", 0, 60000000, NULL, 0,
     NULL, "integer", 0,
     "Calls per minute igw allows itself (a token bucket); when it is empty igw does not call and "
     "answers 503 with Retry-After. 0: no limit. openIMIS allows 150 per client address."},
    {S_UPSTREAM, "rate_burst", T_UINT, UP(rate_burst), 0, "0", 0, 60000000, NULL, 0, NULL,
     "integer", 0, "Calls the bucket holds at once; 0: a tenth of rate_per_minute (at least 1)."},
    {S_UPSTREAM, "tls", T_SECT, 0, 0, NULL, 0, 0, NULL, S_UP_TLS, NULL, "section", 0,
     "TLS settings for an https:// upstream."},
    {S_UPSTREAM, "auth", T_SECT, 0, 0, NULL, 0, 0, NULL, S_UP_AUTH, NULL, "section", 0,
     "Credentials igw presents to the upstream."},

    {S_UP_TLS, "verify", T_BOOL, UP(tls_verify), 0, "true", 0, 0, NULL, 0, NULL, "boolean", 0,
     "Verify the server certificate and host name (turn off only for tests)."},
    {S_UP_TLS, "ca_file", T_PATH, UP(ca_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "PEM CA bundle, relative to the config file's directory. Unset: the system store."},

    {S_UP_AUTH, "type", T_CHOICE, UP(auth_type), 0, "none", 0, 0, "none|bearer|basic|login", 0,
     NULL, "choice", 0,
     "bearer: a fixed token (token_file); basic: user:password (user_file); login: igw logs in "
     "with user_file's user:password (see login), caches the token, renews it before it expires "
     "and once after a 401, and sends it as a bearer token."},
    {S_UP_AUTH, "token_file", T_PATH, UP(token_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "File holding the bearer token (first non-comment line), relative to the config file."},
    {S_UP_AUTH, "user_file", T_PATH, UP(user_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "File holding one user:password line (basic, login; OAuth2: client_id:client_secret)."},
    {S_UP_AUTH, "login", T_SECT, UP(login), 0, NULL, 0, 0, NULL, S_UP_LOGIN, NULL, "section", 0,
     "How type login obtains its token."},

    {S_UP_LOGIN, "preset", T_CHOICE, LG(preset), 0, "openimis-graphql", 0, 0,
     "openimis-graphql|openimis-fhir|oauth2|custom", 0, NULL, "choice", 0,
     "openimis-graphql: POST /api/graphql the tokenAuth mutation, token at data.tokenAuth.token "
     "(lifetime from the JWT's exp); openimis-fhir: POST /api/api_fhir_r4/login/ "
     "{\"username\",\"password\"}, token at token; oauth2: client-credentials form POST "
     "(grant_type=client_credentials) to url, access_token and expires_in; custom: the options "
     "below. Options set below override the preset's."},
    {S_UP_LOGIN, "url", T_STR, LG(url), 0, NULL, 0, 0, NULL, 0, NULL, "url", 0,
     "Absolute token URL (oauth2). Unset: the upstream's url + path."},
    {S_UP_LOGIN, "path", T_STR, LG(path), 0, NULL, 0, 0, NULL, 0, NULL, "string", 0,
     "Login path under the upstream's url."},
    {S_UP_LOGIN, "content_type", T_STR, LG(content_type), 0, NULL, 0, 0, NULL, 0, NULL, "string",
     0, "Content-Type of the login body (its values are encoded for it: JSON or form)."},
    {S_UP_LOGIN, "body", T_STR, LG(body), 0, NULL, 0, 0, NULL, 0, NULL, "template", 0,
     "Login body; {user} and {password} are replaced by user_file's, encoded."},
    {S_UP_LOGIN, "token_path", T_STR, LG(token_path), 0, NULL, 0, 0, NULL, 0, NULL, "JSON path", 0,
     "Dotted path of the token in the login answer, e.g. data.tokenAuth.token."},
    {S_UP_LOGIN, "expires_path", T_STR, LG(expires_path), 0, NULL, 0, 0, NULL, 0, NULL,
     "JSON path", 0, "Dotted path of the token's lifetime in seconds (expires_in). Unset: the "
     "exp claim of a JWT."},
    {S_UP_LOGIN, "default_ttl", T_DUR, LG(default_ttl_ms), 0, "5m", 1000, 366ull * 86400000, NULL,
     0, NULL, "duration", 0, "Lifetime assumed when neither expires_path nor exp gives one."},
    {S_UP_LOGIN, "renew_before", T_DUR, LG(renew_before_ms), 0, "30s", 0, 86400000, NULL, 0, NULL,
     "duration", 0, "Log in again this long before the token expires."},
};
/* clang-format on */

const struct opt *const cfg_med_opts = med_opts;
const size_t cfg_med_nopts = IGW_ARRAY_LEN(med_opts);

/* ---- presets ------------------------------------------------------------------------------ */

struct preset {
    const char *name, *path, *ctype, *body, *token, *expires;
};

static const struct preset presets[] = {
    {"openimis-graphql", "/api/graphql", "application/json",
     "{\"query\":\"mutation authenticate($username: String!, $password: String!) "
     "{ tokenAuth(username: $username, password: $password) { token refreshExpiresIn } }\","
     "\"variables\":{\"username\":\"{user}\",\"password\":\"{password}\"}}",
     "data.tokenAuth.token", NULL},
    {"openimis-fhir", "/api/api_fhir_r4/login/", "application/json",
     "{\"username\":\"{user}\",\"password\":\"{password}\"}", "token", NULL},
    {"oauth2", NULL, "application/x-www-form-urlencoded",
     "grant_type=client_credentials&client_id={user}&client_secret={password}", "access_token",
     "expires_in"},
};

static int
dup_default(char **field, const char *v)
{
    if (*field != NULL || v == NULL) {
        return IGW_OK;
    }
    *field = igw_strdup(v);
    return *field == NULL ? IGW_ENOMEM : IGW_OK;
}

static int
apply_preset(struct igw_upstream_login *l)
{
    int rv = IGW_OK;

    for (size_t i = 0; i < IGW_ARRAY_LEN(presets); i++) {
        const struct preset *p = &presets[i];
        if (strcmp(l->preset, p->name) != 0) {
            continue;
        }
        rv = dup_default(&l->path, p->path);
        rv = rv == IGW_OK ? dup_default(&l->content_type, p->ctype) : rv;
        rv = rv == IGW_OK ? dup_default(&l->body, p->body) : rv;
        rv = rv == IGW_OK ? dup_default(&l->token_path, p->token) : rv;
        rv = rv == IGW_OK ? dup_default(&l->expires_path, p->expires) : rv;
    }
    return rv;
}

/* ---- secrets ------------------------------------------------------------------------------ */

/* The first non-blank, non-comment line of file into s. */
static int
read_secret(struct ctx *c, const yaml_node_t *n, const char *key, const char *file, bool basic,
            struct igw_secret *s)
{
    struct igw_buf b;
    int rv;

    igw_buf_init(&b, SECRET_FILE_MAX);
    rv = cfg_read_all(file, &b);
    if (rv != IGW_OK) {
        igw_buf_fini(&b);
        return rv == IGW_ENOMEM ? rv
                                : cfg_fail(c, cfg_map_get(c, n, key), "cannot read \"%s\" (%s)",
                                           file, rv == IGW_EIO ? strerror(errno) : "too large");
    }
    for (const char *p = b.ptr, *end = b.ptr + b.len; p != NULL && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl != NULL ? nl : end;
        while (p < e && (*p == ' ' || *p == '\t')) {
            p++;
        }
        while (e > p && strchr(" \t\r", e[-1]) != NULL) {
            e--;
        }
        if (e > p && *p != '#') {
            s->value = igw_strndup(p, (size_t)(e - p));
            s->len = (size_t)(e - p);
            break;
        }
        p = nl != NULL ? nl + 1 : NULL;
    }
    memset(b.ptr, 0, b.len);
    igw_buf_fini(&b);
    if (s->value == NULL) {
        return cfg_fail(c, cfg_map_get(c, n, key), "\"%s\" holds no secret", file);
    }
    if (basic && memchr(s->value, ':', s->len) == NULL) {
        return cfg_fail(c, cfg_map_get(c, n, key), "\"%s\": expected one user:password line", file);
    }
    return IGW_OK;
}

static int
finish_auth(struct ctx *c, const yaml_node_t *n, struct igw_upstream *u)
{
    const yaml_node_t *an = cfg_map_get(c, n, "auth");
    unsigned idx = 0;
    int rv;

    (void)cfg_choice_index("none|bearer|basic|login", u->auth_type, &idx);
    u->auth = (enum igw_upstream_auth)idx;
    if (u->auth == IGW_UP_AUTH_NONE) {
        return IGW_OK;
    }
    if (u->auth == IGW_UP_AUTH_BEARER) {
        if (u->token_file == NULL) {
            return cfg_fail(c, an, "type bearer needs token_file");
        }
        return read_secret(c, an, "token_file", u->token_file, false, &u->secret);
    }
    if (u->user_file == NULL) {
        return cfg_fail(c, an, "type %s needs user_file", u->auth_type);
    }
    rv = read_secret(c, an, "user_file", u->user_file, true, &u->secret);
    if (rv == IGW_OK && u->auth == IGW_UP_AUTH_LOGIN) {
        rv = apply_preset(&u->login);
        if (rv == IGW_OK && (u->login.body == NULL || u->login.token_path == NULL ||
                             (u->login.path == NULL && u->login.url == NULL))) {
            rv = cfg_fail(c, an, "login needs body, token_path and path or url");
        }
    }
    return rv;
}

/* ---- upstreams ---------------------------------------------------------------------------- */

static bool
base_url_ok(const char *u)
{
    const char *rest = strncmp(u, "http://", 7) == 0    ? u + 7
                       : strncmp(u, "https://", 8) == 0 ? u + 8
                                                        : NULL;
    size_t n = strlen(u);

    return rest != NULL && rest[0] != '\0' && rest[0] != '/' && strpbrk(u, " \t\r\n?#") == NULL &&
           u[n - 1] != '/';
}

static int
parse_upstream(struct ctx *c, const yaml_node_t *k, const yaml_node_t *v, struct igw_upstream *u)
{
    size_t old = cfg_path_push(c, (const char *)k->data.scalar.value, k->data.scalar.length);
    int rv;

    u->name = igw_strndup((const char *)k->data.scalar.value, k->data.scalar.length);
    if (u->name == NULL) {
        return IGW_ENOMEM;
    }
    rv = cfg_apply_defaults(c, S_UPSTREAM, u);
    if (rv == IGW_OK) {
        rv = cfg_parse_section(c, S_UPSTREAM, v, u);
    }
    if (rv == IGW_OK && !base_url_ok(u->url)) {
        size_t o2 = cfg_path_push(c, "url", 3);
        rv = cfg_fail(c, cfg_map_get(c, v, "url"),
                      "expected http(s)://HOST[:PORT][/PATH] without a trailing '/', query or "
                      "fragment");
        cfg_path_pop(c, o2);
    }
    if (rv == IGW_OK) {
        rv = finish_auth(c, v, u);
    }
    if (rv == IGW_OK && u->rate_burst == 0) {
        u->rate_burst = u->rate_per_minute / 10 > 0 ? u->rate_per_minute / 10 : 1;
    }
    if (rv == IGW_OK) {
        cfg_path_pop(c, old);
    }
    return rv;
}

int
cfg_fn_upstreams(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    size_t count;
    int rv = IGW_OK;

    if (n->type != YAML_MAPPING_NODE) {
        return cfg_fail(c, n, "expected a mapping of upstream names, got %s", cfg_node_kind(n));
    }
    count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    cfg->upstreams = igw_calloc(count + 1, sizeof(struct igw_upstream));
    if (cfg->upstreams == NULL) {
        return IGW_ENOMEM;
    }
    cfg->nupstreams = count;
    for (size_t i = 0; rv == IGW_OK && i < count; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        const yaml_node_t *k = cfg_node_at(c, p->key);
        if (k->type != YAML_SCALAR_NODE || k->data.scalar.length == 0 ||
            k->data.scalar.length > 63) {
            return cfg_fail(c, k, "upstream names are plain strings of 1 to 63 characters");
        }
        rv = parse_upstream(c, k, cfg_node_at(c, p->value), &cfg->upstreams[i]);
    }
    return rv;
}

static void
upstream_free(struct igw_upstream *u)
{
    struct igw_upstream_login *l = &u->login;

    igw_free(u->name);
    igw_free(u->url);
    igw_free(u->ca_file);
    igw_free(u->auth_type);
    igw_free(u->token_file);
    igw_free(u->user_file);
    if (u->secret.value != NULL) {
        memset(u->secret.value, 0, u->secret.len);
    }
    igw_free(u->secret.value);
    igw_free(l->preset);
    igw_free(l->url);
    igw_free(l->path);
    igw_free(l->content_type);
    igw_free(l->body);
    igw_free(l->token_path);
    igw_free(l->expires_path);
}

void
cfg_upstreams_free(struct igw_config *cfg)
{
    for (size_t i = 0; i < cfg->nupstreams; i++) {
        upstream_free(&cfg->upstreams[i]);
    }
    igw_free(cfg->upstreams);
}

void
cfg_channel_mediate_free(struct igw_channel *ch)
{
    if (ch->mediator_ops != NULL && ch->mediator_ops->channel_fini != NULL) {
        ch->mediator_ops->channel_fini(ch->mediator_state);
    }
    igw_free(ch->answer);
    igw_free(ch->upstream);
    igw_free(ch->mediate_method);
    igw_free(ch->mediate_path);
    igw_free(ch->mediate_request_map);
    igw_free(ch->mediate_response_map);
    igw_free(ch->mediate_pass_status);
    igw_free(ch->mediate_content_type);
}

/* ---- binding a channel -------------------------------------------------------------------- */

/* "pre arg post" at option key of section n. */
static int
fail_at(struct ctx *c, const yaml_node_t *n, const char *key, const char *pre, const char *arg,
        const char *post)
{
    size_t old = cfg_path_push(c, key, strlen(key));
    int rv = cfg_fail(c, cfg_map_get(c, n, key), "%s%.200s%s", pre, arg, post);
    cfg_path_pop(c, old);
    return rv;
}

static bool
bodyless(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0;
}

int
cfg_bind_mediator(struct ctx *c, const yaml_node_t *n, struct igw_channel *ch)
{
    char err[IGW_ERRBUF_SIZE] = "invalid options";
    const struct igw_mediator_ops *m;
    void *state = NULL;
    int rv;

    if (ch->answer == NULL) {
        if (bodyless(ch->method)) {
            return fail_at(c, n, "listen", "a ", ch->method, " channel needs an answer: mediator");
        }
        return ch->upstream != NULL ? fail_at(c, n, "upstream", "", "upstream", " needs answer")
                                    : IGW_OK;
    }
    m = igw_mediator_find(ch->answer);
    if (m == NULL) {
        return fail_at(c, n, "answer", "no mediator \"", ch->answer, "\" is built into this igw");
    }
    for (size_t i = 0; ch->upstream != NULL && i < c->cfg->nupstreams; i++) {
        if (strcmp(c->cfg->upstreams[i].name, ch->upstream) == 0) {
            ch->upstream_ref = &c->cfg->upstreams[i];
        }
    }
    if (ch->upstream != NULL && ch->upstream_ref == NULL) {
        return fail_at(c, n, "upstream", "no upstreams.", ch->upstream, " is defined");
    }
    if (ch->nroutes > 0 && !m->commits) { /* its answers come from upstream calls only */
        return fail_at(c, n, "routes", "", "a mediating channel has no routes", "");
    }
    rv = m->channel_init != NULL ? m->channel_init(ch, &state, err, sizeof(err)) : IGW_OK;
    if (rv == IGW_ECONFIG) {
        return fail_at(c, n, "answer", "", err, "");
    }
    if (rv == IGW_OK) {
        ch->mediator_ops = m;
        ch->mediator_state = state;
    }
    return rv;
}
