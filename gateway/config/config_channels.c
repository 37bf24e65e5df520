/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config loader, channels and routes: the named maps channels and channels.<name>.routes,
 * and the options with their own syntax (a channel's listen, a route's url - its scheme picks
 * the route's output from the registry, delivery/outputs.c - headers and ordered_by).
 */
#include <string.h>
#include <strings.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/queue.h"
#include "http/http.h"
#include "config/config_int.h"
#include "delivery/output.h"

#define NAME_MAX_LEN 63

/* ---- names and named maps ----------------------------------------------------------------- */

static int
check_name(struct ctx *c, const yaml_node_t *k, const char *what)
{
    char shown[VALUE_SHOW_MAX + 8];
    size_t len = k->data.scalar.length;

    if (k->type != YAML_SCALAR_NODE) {
        return cfg_fail(c, k, "%s names must be plain strings", what);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = k->data.scalar.value[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-')) {
            return cfg_fail(c, k, "invalid %s name \"%s\" (use letters, digits, '_' and '-')", what,
                            cfg_show(k, shown, sizeof(shown)));
        }
    }
    if (len == 0 || len > NAME_MAX_LEN) {
        return cfg_fail(c, k, "%s name must have 1 to %d characters", what, NAME_MAX_LEN);
    }
    return IGW_OK;
}

static int
check_unique_names(struct ctx *c, const yaml_node_t *map, const char *what)
{
    yaml_node_pair_t *start = map->data.mapping.pairs.start;
    for (yaml_node_pair_t *p = start; p < map->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = cfg_node_at(c, p->key);
        int rv = check_name(c, k, what);
        if (rv != IGW_OK) {
            return rv;
        }
        for (yaml_node_pair_t *q = start; q < p; q++) {
            const yaml_node_t *k2 = cfg_node_at(c, q->key);
            if (k2->data.scalar.length == k->data.scalar.length &&
                memcmp(k2->data.scalar.value, k->data.scalar.value, k->data.scalar.length) == 0) {
                return cfg_fail(c, k, "%s \"%.*s\" defined twice", what, (int)k->data.scalar.length,
                                (const char *)k->data.scalar.value);
            }
        }
    }
    return IGW_OK;
}

static size_t
map_size_of(const yaml_node_t *n)
{
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static int
parse_one_channel(struct ctx *c, const yaml_node_t *k, const yaml_node_t *v, struct igw_channel *ch)
{
    size_t old = cfg_path_push(c, (const char *)k->data.scalar.value, k->data.scalar.length);
    int rv;

    ch->name = igw_strndup((const char *)k->data.scalar.value, k->data.scalar.length);
    if (ch->name == NULL) {
        return IGW_ENOMEM;
    }
    rv = cfg_apply_defaults(c, S_CHANNEL, ch);
    if (rv == IGW_OK) {
        ch->max_body = c->cfg->http_max_body;
        c->chan = ch;
        rv = cfg_parse_section(c, S_CHANNEL, v, ch);
    }
    if (rv == IGW_OK) {
        cfg_path_pop(c, old);
    }
    return rv;
}

int
cfg_fn_channels(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    int rv;

    if (n->type != YAML_MAPPING_NODE) {
        return cfg_fail(c, n, "expected a mapping of channel names, got %s", cfg_node_kind(n));
    }
    rv = check_unique_names(c, n, "channel");
    if (rv != IGW_OK) {
        return rv;
    }
    cfg->channels = igw_calloc(map_size_of(n) + 1, sizeof(struct igw_channel));
    if (cfg->channels == NULL) {
        return IGW_ENOMEM;
    }
    cfg->nchannels = map_size_of(n);
    for (size_t i = 0; rv == IGW_OK && i < cfg->nchannels; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        rv = parse_one_channel(c, cfg_node_at(c, p->key), cfg_node_at(c, p->value),
                               &cfg->channels[i]);
    }
    return rv;
}

static int
route_names(struct igw_route *r, const struct igw_channel *ch, const yaml_node_t *k)
{
    struct igw_buf b;
    r->short_name = igw_strndup((const char *)k->data.scalar.value, k->data.scalar.length);
    igw_buf_init(&b, IGW_QUEUE_NAME_MAX + 1);
    if (r->short_name == NULL || igw_buf_printf(&b, "%s.%s", ch->name, r->short_name) != IGW_OK) {
        igw_buf_fini(&b);
        return IGW_ENOMEM;
    }
    r->name = igw_buf_steal(&b, NULL);
    return IGW_OK;
}

static int
parse_one_route(struct ctx *c, const yaml_node_t *k, const yaml_node_t *v, struct igw_route *r)
{
    size_t old = cfg_path_push(c, (const char *)k->data.scalar.value, k->data.scalar.length);
    int rv = route_names(r, c->chan, k);

    if (rv == IGW_OK) {
        igw_retry_policy_default(&r->retry);
        rv = cfg_apply_defaults(c, S_ROUTE, r);
    }
    if (rv == IGW_OK) {
        rv = cfg_parse_section(c, S_ROUTE, v, r);
    }
    if (rv == IGW_OK) {
        cfg_path_pop(c, old);
    }
    return rv;
}

int
cfg_fn_routes(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_channel *ch = base;
    int rv;

    if (n->type != YAML_MAPPING_NODE) {
        return cfg_fail(c, n, "expected a mapping of route names, got %s", cfg_node_kind(n));
    }
    rv = check_unique_names(c, n, "route");
    if (rv != IGW_OK) {
        return rv;
    }
    ch->routes = igw_calloc(map_size_of(n) + 1, sizeof(struct igw_route));
    if (ch->routes == NULL) {
        return IGW_ENOMEM;
    }
    ch->nroutes = map_size_of(n);
    for (size_t i = 0; rv == IGW_OK && i < ch->nroutes; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        rv = parse_one_route(c, cfg_node_at(c, p->key), cfg_node_at(c, p->value), &ch->routes[i]);
    }
    return rv;
}

/* ---- channel listen, route url, headers, ordered_by --------------------------------------- */

int
cfg_fn_listen(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_channel *ch = base;
    char err[IGW_ERRBUF_SIZE];
    char *text = NULL;
    char *sp;
    unsigned idx;
    int rv = cfg_scalar_dup(c, n, &text);

    if (rv != IGW_OK) {
        return rv;
    }
    sp = strchr(text, ' ');
    if (sp == NULL) {
        rv = cfg_fail(c, n, "expected \"METHOD /path\", e.g. \"POST /events/{event}\"");
        goto out;
    }
    *sp = '\0';
    if (!cfg_choice_index("POST|PUT|PATCH|GET|DELETE", text, &idx)) {
        rv = cfg_fail(c, n,
                      "method \"%.16s\" not supported (expected POST, PUT, PATCH, GET or DELETE)",
                      text);
        goto out;
    }
    while (*++sp == ' ') {
    }
    if (igw_path_pattern_check(sp, err, sizeof(err)) != IGW_OK) {
        rv = cfg_fail(c, n, "invalid path pattern \"%.100s\": %s", sp, err);
        goto out;
    }
    ch->method = igw_strdup(text);
    ch->path = igw_strdup(sp);
    rv = ch->method == NULL || ch->path == NULL ? IGW_ENOMEM : IGW_OK;
out:
    igw_free(text);
    return rv;
}

/* The rest of a route's url after its scheme: the checks every output shares, then the
 * output's own (its url_check, which also derives the route's fields from the url). */
static int
check_url_rest(struct ctx *c, const yaml_node_t *n, struct igw_route *r,
               const struct igw_output_ops *o, const struct igw_output_scheme *sc)
{
    const char *rest = r->url + strlen(sc->prefix);
    char err[IGW_ERRBUF_SIZE];
    int rv;

    if (rest[0] == '\0' || (sc->needs_host && rest[0] == '/')) {
        return cfg_fail(c, n, "URL has no %s", sc->needs_host ? "host" : "path");
    }
    if (strpbrk(rest, " \t\r\n") != NULL) {
        return cfg_fail(c, n, "URL must not contain blanks");
    }
    if (o->url_check == NULL) {
        return IGW_OK;
    }
    err[0] = '\0';
    rv = o->url_check(r, rest, err, sizeof(err));
    return rv == IGW_EINVAL ? cfg_fail(c, n, "%s", err) : rv;
}

/* "http://, https://, file://, tcp:// or ipc://": every scheme of the output registry. */
static int
schemes_list(struct igw_buf *b)
{
    size_t total = 0;
    size_t k = 0;
    int rv = IGW_OK;

    for (size_t i = 0; i < igw_output_count(); i++) {
        total += igw_output_at(i)->nschemes;
    }
    for (size_t i = 0; i < igw_output_count() && rv == IGW_OK; i++) {
        const struct igw_output_ops *o = igw_output_at(i);
        for (size_t j = 0; j < o->nschemes && rv == IGW_OK; j++, k++) {
            const char *sep = k == 0 ? "" : k + 1 == total ? " or " : ", ";
            rv = igw_buf_printf(b, "%s%s", sep, o->schemes[j].prefix);
        }
    }
    return rv;
}

int
cfg_fn_url(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_route *r = base;
    const struct igw_output_scheme *sc = NULL;
    const struct igw_output_ops *o;
    unsigned kind = 0;
    struct igw_buf b;
    int rv = cfg_scalar_dup(c, n, &r->url);

    if (rv != IGW_OK) {
        return rv;
    }
    o = igw_output_by_url(r->url, &kind, &sc);
    if (o != NULL) {
        r->kind = (enum igw_dest_kind)kind;
        return check_url_rest(c, n, r, o, sc);
    }
    igw_buf_init(&b, IGW_ERRBUF_SIZE);
    rv = schemes_list(&b) == IGW_OK && igw_buf_putc(&b, '\0') == IGW_OK ? IGW_OK : IGW_ENOMEM;
    if (rv == IGW_OK) {
        rv = cfg_fail(c, n, "unsupported URL \"%.100s\" (expected %s)", r->url, b.ptr);
    }
    igw_buf_fini(&b);
    return rv;
}

static bool
header_name_ok(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!(*s > 0x20 && *s < 0x7f) || strchr("()<>@,;:\\\"/[]?={}", *s) != NULL) {
            return false;
        }
    }
    return true;
}

static int
add_header(struct ctx *c, struct igw_route *r, const yaml_node_t *k, const yaml_node_t *v)
{
    struct igw_header *h;
    struct igw_header *nh = igw_realloc(r->headers, (r->nheaders + 1) * sizeof(*nh));
    int rv;

    if (nh == NULL) {
        return IGW_ENOMEM;
    }
    r->headers = nh;
    h = &nh[r->nheaders];
    memset(h, 0, sizeof(*h));
    r->nheaders++;
    rv = cfg_scalar_dup(c, k, &h->name);
    if (rv == IGW_OK && !header_name_ok(h->name)) {
        rv = cfg_fail(c, k, "invalid header name");
    }
    if (rv == IGW_OK) {
        rv = cfg_scalar_dup(c, v, &h->value);
    }
    if (rv == IGW_OK && strpbrk(h->value, "\r\n") != NULL) {
        rv = cfg_fail(c, v, "header values must not contain line breaks");
    }
    return rv;
}

int
cfg_fn_headers(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_route *r = base;

    if (n->type != YAML_MAPPING_NODE) {
        return cfg_fail(c, n, "expected a mapping of header names to values, got %s",
                        cfg_node_kind(n));
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        int rv = add_header(c, r, cfg_node_at(c, p->key), cfg_node_at(c, p->value));
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}

int
cfg_fn_ordered_by(struct ctx *c, const yaml_node_t *n, void *base)
{
    static const char *const prefixes[] = {"header:", "json:", "param:"};
    static const enum igw_order_src srcs[] = {IGW_ORDER_HEADER, IGW_ORDER_JSON, IGW_ORDER_PARAM};
    struct igw_route *r = base;
    char *text = NULL;
    int rv = cfg_scalar_dup(c, n, &text);

    for (size_t i = 0; rv == IGW_OK && i < IGW_ARRAY_LEN(prefixes); i++) {
        size_t len = strlen(prefixes[i]);
        if (strncmp(text, prefixes[i], len) == 0 && text[len] != '\0') {
            r->order_src = srcs[i];
            r->order_by = igw_strdup(text + len);
            igw_free(text);
            return r->order_by == NULL ? IGW_ENOMEM : IGW_OK;
        }
    }
    if (rv == IGW_OK) {
        rv = cfg_fail(c, n,
                      "invalid key source \"%.60s\" (expected header:NAME, json:a.b.c or "
                      "param:NAME)",
                      text);
    }
    igw_free(text);
    return rv;
}
