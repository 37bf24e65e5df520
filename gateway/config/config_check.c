/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config loader, cross-checks: the finishers of sections (http, sp, admin, channels, routes,
 * retry) run once a section is parsed, and the strict address syntax check done before nng
 * sees an address.
 */
#include <stdio.h>
#include <string.h>
#include <nng/nng.h>

#include "igw/common.h"
#include "igw/queue.h"
#include "http/http.h"
#include "dialect/dialect.h"
#include "config/config_int.h"
#include "igw/queue_backend.h"
#include "delivery/output.h"
#include "dialect/fhir/fhir_out.h"

/* ---- cross-checks ------------------------------------------------------------------------- */

/* host[:port] of a tcp or http address: a name, an IPv4 address, [IPv6], empty or '*'. */
static const char *
skip_host(const char *p)
{
    if (*p == '[') {
        p++;
        while (*p != '\0' && (strchr("0123456789abcdefABCDEF:.", *p) != NULL)) {
            p++;
        }
        return *p == ']' ? p + 1 : NULL;
    }
    if (*p == '*') {
        return p + 1;
    }
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '.' || *p == '-') {
        p++;
    }
    return p;
}

/* Strict syntax check before nng sees an address: nng 1.5.2's nng_url_parse reads past the
 * end of some malformed strings (found by fuzzing, e.g. a trailing '@'). */
bool
cfg_addr_ok(const char *url)
{
    const char *p = strstr(url, "://");
    size_t digits = 0;

    if (p == NULL || strchr(url, '@') != NULL) {
        return false;
    }
    p += 3;
    if (strncmp(url, "ipc://", 6) == 0) {
        for (const char *q = p; *q != '\0'; q++) {
            if (*q <= 0x20 || *q >= 0x7f) {
                return false;
            }
        }
        return *p != '\0';
    }
    p = skip_host(p);
    if (p == NULL || *p != ':') {
        return false;
    }
    while (*++p >= '0' && *p <= '9') {
        digits++;
    }
    return digits >= 1 && digits <= 5 && (*p == '\0' || strcmp(p, "/") == 0);
}

static int
check_nng_url(struct ctx *c, const yaml_node_t *sect, const char *key, const char *url)
{
    nng_url *u = NULL;
    int rv;

    if (url == NULL) {
        return IGW_OK;
    }
    if (!cfg_addr_ok(url)) {
        size_t old = cfg_path_push(c, key, strlen(key));
        rv = cfg_fail(c, cfg_map_get(c, sect, key),
                      "invalid address \"%.100s\" (expected e.g. tcp://127.0.0.1:5555, "
                      "ipc://var/igw.ipc or http://127.0.0.1:7400)",
                      url);
        cfg_path_pop(c, old);
        return rv;
    }
    rv = nng_url_parse(&u, url);
    nng_url_free(u);
    if (rv != 0) {
        size_t old = cfg_path_push(c, key, strlen(key));
        rv = cfg_fail(c, cfg_map_get(c, sect, key), "invalid address \"%.100s\" (%s)", url,
                      nng_strerror(rv));
        cfg_path_pop(c, old);
        return rv;
    }
    return IGW_OK;
}

int
cfg_finish_http(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    bool tls = cfg->tls_cert != NULL || cfg->tls_key != NULL;
    const char *l = cfg->http_listen;
    int rv = check_nng_url(c, n, "listen", l);

    if (rv != IGW_OK || l == NULL) {
        return rv;
    }
    if (strncmp(l, "http://", 7) != 0 && strncmp(l, "https://", 8) != 0) {
        return cfg_fail(c, cfg_map_get(c, n, "listen"),
                        "listen must be http://HOST:PORT or "
                        "https://HOST:PORT");
    }
    if ((strncmp(l, "https://", 8) == 0) != tls ||
        (tls && (cfg->tls_cert == NULL || cfg->tls_key == NULL))) {
        return cfg_fail(c, n,
                        "https:// needs tls.cert_file and tls.key_file, and tls needs "
                        "https://");
    }
    return IGW_OK;
}

int
cfg_finish_sp(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    int rv = check_nng_url(c, n, "listen", cfg->sp_listen);

    if (rv == IGW_OK) {
        rv = check_nng_url(c, n, "publish", cfg->pub_listen);
    }
    if (rv == IGW_OK && cfg->sp_listen != NULL && cfg->pub_listen != NULL &&
        strcmp(cfg->sp_listen, cfg->pub_listen) == 0) {
        rv = cfg_fail(c, cfg_map_get(c, n, "publish"), "publish must differ from listen");
    }
    return rv;
}

static bool
js_name_ok(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > 64) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_')) {
            return false;
        }
    }
    return true;
}

/* The queue: a backend this build has, names JetStream accepts, a TLS certificate with its key. */
int
cfg_finish_queue(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    const yaml_node_t *js = cfg_map_get(c, n, "jetstream");
    bool jetstream = cfg->queue_backend != NULL && strcmp(cfg->queue_backend, "jetstream") == 0;

    if (jetstream && igw_queue_backend_find("jetstream") == NULL) {
        return cfg_fail(c, cfg_map_get(c, n, "backend"),
                        "this igw was built without the JetStream backend (libnats)");
    }
    if (js == NULL) {
        return IGW_OK;
    }
    if (!js_name_ok(cfg->js_name)) {
        return cfg_fail(c, cfg_map_get(c, js, "name"), "use [A-Za-z0-9_-], at most 64 characters");
    }
    if (cfg->js_instance != NULL && !js_name_ok(cfg->js_instance)) {
        return cfg_fail(c, cfg_map_get(c, js, "instance"),
                        "use [A-Za-z0-9_-], at most 64 characters");
    }
    if ((cfg->js_tls_cert == NULL) != (cfg->js_tls_key == NULL)) {
        return cfg_fail(c, js, "tls_cert_file and tls_key_file go together");
    }
    return IGW_OK;
}

/* The admin API: plain http://, its own address, and always credentials. */
int
cfg_finish_admin(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    const char *l = cfg->admin_listen;
    int rv = check_nng_url(c, n, "listen", l);

    if (rv != IGW_OK || l == NULL) {
        return rv;
    }
    if (strncmp(l, "http://", 7) != 0 && strncmp(l, "https://", 8) != 0) {
        return cfg_fail(c, cfg_map_get(c, n, "listen"), "listen must be http(s)://HOST:PORT");
    }
    if ((strncmp(l, "https://", 8) == 0) != (cfg->admin_tls_cert != NULL)) {
        return cfg_fail(c, cfg_map_get(c, n, "listen"),
                        "an https:// listen needs tls.cert_file and tls.key_file, and tls needs "
                        "https://");
    }
    if ((cfg->admin_tls_cert == NULL) != (cfg->admin_tls_key == NULL)) {
        return cfg_fail(c, cfg_map_get(c, n, "tls"), "tls needs both cert_file and key_file");
    }
    if (cfg->http_listen != NULL && strcmp(cfg->http_listen, l) == 0) {
        return cfg_fail(c, cfg_map_get(c, n, "listen"), "listen must differ from http.listen");
    }
    if (cfg->admin_auth.type == IGW_AUTH_NONE && cfg->nadmin_creds == 0) {
        return cfg_fail(c, n,
                        "listen needs credentials (or auth: type bearer with a tokens_file, or "
                        "basic): the admin API can replay and purge messages");
    }
    return IGW_OK;
}

static int
lower_content_types(struct ctx *c, const yaml_node_t *n, struct igw_channel *ch)
{
    for (size_t i = 0; i < ch->ncontent_types; i++) {
        char *t = ch->content_types[i];
        if (strchr(t, '/') == NULL || strpbrk(t, " ;\t") != NULL) {
            size_t old = cfg_path_push(c, "content_types", 13);
            int rv = cfg_fail(c, cfg_map_get(c, n, "content_types"),
                              "invalid media type \"%.60s\" (expected e.g. application/json)", t);
            cfg_path_pop(c, old);
            return rv;
        }
        for (; *t != '\0'; t++) {
            *t = (char)((*t >= 'A' && *t <= 'Z') ? *t + 32 : *t);
        }
    }
    return IGW_OK;
}

/* Binds the channel to the dialect its `dialect` option names (the registry in dialect/) and
 * lets the dialect build its per-channel state from the channel's options. */
static int
bind_dialect(struct ctx *c, const yaml_node_t *n, struct igw_channel *ch)
{
    const struct igw_dialect_ops *d = igw_dialect_find(ch->dialect);
    const char *key = "dialect";
    char err[IGW_ERRBUF_SIZE] = "invalid options";
    void *state = NULL;
    size_t old;
    int rv;

    if (d != NULL && d->channel_init != NULL) {
        rv = d->channel_init(ch, &state, err, sizeof(err));
        if (rv != IGW_OK && rv != IGW_ECONFIG) {
            return rv;
        }
        key = d->options != NULL && cfg_map_get(c, n, d->options) != NULL ? d->options : key;
    } else {
        rv = d != NULL ? IGW_OK : IGW_ECONFIG;
        snprintf(err, sizeof(err), "dialect \"%s\" is not built into this igw", ch->dialect);
    }
    if (rv == IGW_OK) {
        ch->dialect_ops = d;
        ch->dialect_state = state;
        return IGW_OK;
    }
    old = cfg_path_push(c, key, strlen(key));
    rv = cfg_fail(c, cfg_map_get(c, n, key), "%s", err);
    cfg_path_pop(c, old);
    return rv;
}

int
cfg_finish_channel(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_channel *ch = base;
    const yaml_node_t *mb = cfg_map_get(c, n, "max_body");

    ch->mappings_dir = c->cfg->mappings_dir;
    if (ch->max_body > c->cfg->http_max_body) {
        size_t old = cfg_path_push(c, "max_body", 8);
        int rv =
            cfg_fail(c, mb, "%llu bytes exceeds http.max_body (%llu bytes)",
                     (unsigned long long)ch->max_body, (unsigned long long)c->cfg->http_max_body);
        cfg_path_pop(c, old);
        return rv;
    }
    for (struct igw_channel *o = c->cfg->channels; o < ch; o++) {
        if (strcmp(o->method, ch->method) == 0 && igw_path_same_shape(o->path, ch->path)) {
            size_t old = cfg_path_push(c, "listen", 6);
            int rv = cfg_fail(c, cfg_map_get(c, n, "listen"),
                              "\"%s %s\" is already the path of channel "
                              "\"%s\"",
                              ch->method, ch->path, o->name);
            cfg_path_pop(c, old);
            return rv;
        }
    }
    int rv = lower_content_types(c, n, ch);
    rv = rv == IGW_OK ? bind_dialect(c, n, ch) : rv;
    return rv == IGW_OK ? cfg_bind_mediator(c, n, ch) : rv;
}

/* Binds the route hook its options ask for (fhir.conditional: identifier binds the FHIR
 * conditional update); the route's output must take hooks. */
static int
bind_hook(struct ctx *c, const yaml_node_t *n, struct igw_route *r)
{
    const struct igw_output_ops *o = igw_output_of_route(r);

    if (strcmp(r->fhir_conditional, "none") == 0) {
        return IGW_OK;
    }
    if (o == NULL || !o->takes_hook) {
        return cfg_fail(c, cfg_map_get(c, n, "fhir"), "fhir.conditional needs an http(s) url");
    }
    r->hook = &igw_fhir_conditional_hook;
    return IGW_OK;
}

int
cfg_finish_route(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_route *r = base;

    if (strlen(r->name) > IGW_QUEUE_NAME_MAX) {
        return cfg_fail(c, n, "full route name longer than %d characters", IGW_QUEUE_NAME_MAX);
    }
    if (r->order_src == IGW_ORDER_PARAM && !igw_path_has_param(c->chan->path, r->order_by)) {
        size_t old = cfg_path_push(c, "ordered_by", 10);
        int rv = cfg_fail(c, cfg_map_get(c, n, "ordered_by"),
                          "channel path \"%s\" has no {%s} parameter", c->chan->path, r->order_by);
        cfg_path_pop(c, old);
        return rv;
    }
    if (r->map == NULL && (r->map_reverse || r->output != NULL)) {
        return cfg_fail(c, n, "%s is set but no map is named",
                        r->map_reverse ? "reverse" : "output");
    }
    return bind_hook(c, n, r);
}

int
cfg_finish_retry(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_retry_policy *p = base;

    if (p->cap_ms < p->base_ms) {
        size_t old = cfg_path_push(c, "cap", 3);
        int rv =
            cfg_fail(c, cfg_map_get(c, n, "cap"), "cap (%llu ms) is shorter than base (%llu ms)",
                     (unsigned long long)p->cap_ms, (unsigned long long)p->base_ms);
        cfg_path_pop(c, old);
        return rv;
    }
    if (p->max_attempts == 0 && p->max_age_ms == 0) {
        return cfg_fail(c, n, "max_attempts 0 and max_age 0 would retry forever: set one of them");
    }
    return IGW_OK;
}
