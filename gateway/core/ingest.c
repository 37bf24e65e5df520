/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request helpers shared by the HTTP and SP intake: JSON reply bodies, order keys and the
 * metadata stored with each message, and the ingest pipeline that calls the channel's dialect
 * through its ops (core/dialect.h; docs/internals/DIALECTS.md). No nng here, nothing blocks,
 * no dialect is named.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/json.h"
#include "igw/config.h"
#include "igw/queue.h"
#include "http/http.h"
#include "core/ingest.h"
#include "core/translate.h"
#include "core/dialect.h"
#include "stats/stats.h"

#define KEYS_MAX 65536 /* order keys of one message, all routes */
#define META_MAX 16384 /* metadata of one message */
#define ORDER_KEY_MAX 1024
#define ERRBODY_MAX (1u << 20) /* a dialect's refusal or answer body */

/* ---- reply bodies ------------------------------------------------------------------------- */

int
igw_http_error_json(struct igw_buf *b, int status, const char *code, const char *message)
{
    int rv = igw_buf_printf(b, "{\"error\":{\"status\":%d,\"code\":", status);
    if (rv == IGW_OK) {
        rv = igw_buf_json_str(b, code, strlen(code));
    }
    if (rv == IGW_OK) {
        rv = igw_buf_puts(b, ",\"message\":");
    }
    if (rv == IGW_OK) {
        rv = igw_buf_json_str(b, message, strlen(message));
    }
    if (rv == IGW_OK) {
        rv = igw_buf_puts(b, "}}");
    }
    return rv;
}

int
igw_http_error_body(const struct igw_channel *ch, struct igw_buf *b, int status, const char *code,
                    const char *message, const char **content_type)
{
    const struct igw_dialect_ops *d = igw_channel_dialect(ch);

    if (d != NULL && d->refusal != NULL) {
        return d->refusal(ch, b, status, code, message, content_type);
    }
    *content_type = "application/json";
    return igw_http_error_json(b, status, code, message);
}

const char *
igw_ingest_parse_code(const struct igw_ingest *in)
{
    switch (igw_channel_format(in->ch, in->content_type)) {
    case IGW_FMT_XML:
        return "invalid_xml";
    case IGW_FMT_CSV:
        return "invalid_csv";
    default:
        return "invalid_json";
    }
}

int
igw_accept_response(const struct igw_ingest *in, uint64_t id, bool duplicate,
                    struct igw_accept_resp *out)
{
    const struct igw_dialect_ops *d = igw_channel_dialect(in->ch);

    igw_buf_init(&out->body, ERRBODY_MAX);
    out->location[0] = '\0';
    out->etag[0] = '\0';
    out->last_modified[0] = '\0';
    if (d != NULL && d->answer != NULL) {
        return d->answer(in, id, duplicate, out);
    }
    out->status = 202;
    out->content_type = "application/json";
    return igw_http_accept_json(&out->body, id, duplicate);
}

int
igw_http_accept_json(struct igw_buf *b, uint64_t id, bool duplicate)
{
    char hex[IGW_QUEUE_ID_STRLEN];
    igw_queue_id_format(id, hex);
    return igw_buf_printf(b, "{\"id\":\"%s\",\"status\":\"accepted\"%s}", hex,
                          duplicate ? ",\"duplicate\":true" : "");
}

bool
igw_idem_key_ok(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] >= 0x7f || n >= 255) {
            return false;
        }
    }
    return n > 0;
}

/* ---- order keys --------------------------------------------------------------------------- */

/* Follows a dotted path (a.b.c) through objects; NULL when a step is missing. */
static const struct igw_node *
json_lookup(const struct igw_node *node, const char *path)
{
    while (node != NULL && *path != '\0') {
        size_t n = strcspn(path, ".");
        node = igw_node_get(node, path, n);
        path += n;
        path += *path == '.' ? 1 : 0;
    }
    return node;
}

int
igw_json_key(const struct igw_node *root, const char *path, struct igw_buf *b)
{
    const struct igw_node *v = json_lookup(root, path);

    if (v == NULL || (v->type != IGW_NODE_STRING && v->type != IGW_NODE_NUMBER)) {
        return IGW_ENOENT;
    }
    /* numbers keep their text as written, so 42 and "42" are the same key */
    return igw_buf_append(b, v->str, v->len);
}

/* Appends the key of route r to in->keys; *off and *len locate it (len 0 = no key). */
static int
route_key(struct igw_ingest *in, const struct igw_route *r, size_t *off, size_t *len)
{
    const char *v = NULL;
    int rv = IGW_OK;

    *off = in->keys.len;
    if (r->order_src == IGW_ORDER_HEADER && in->header != NULL) {
        v = in->header(in->header_arg, r->order_by);
    } else if (r->order_src == IGW_ORDER_PARAM && in->pm != NULL) {
        const struct igw_path_param *p = igw_path_param_get(in->pm, r->order_by);
        v = p != NULL ? p->value : NULL;
    } else if (r->order_src == IGW_ORDER_JSON && in->root != NULL) {
        rv = igw_json_key(in->root, r->order_by, &in->keys);
        rv = rv == IGW_ENOENT ? IGW_OK : rv;
    }
    if (v != NULL) {
        rv = igw_buf_append(&in->keys, v, strnlen(v, ORDER_KEY_MAX));
    }
    *len = in->keys.len - *off;
    return rv;
}

static int
order_keys(struct igw_ingest *in)
{
    const struct igw_channel *ch = in->ch;
    size_t offs[2 * 64];
    size_t *pos = ch->nroutes <= 64 ? offs : igw_calloc(2 * ch->nroutes, sizeof(size_t));
    int rv = pos == NULL ? IGW_ENOMEM : IGW_OK;

    for (size_t i = 0; rv == IGW_OK && i < ch->nroutes; i++) {
        in->routes[i].route = ch->routes[i].name;
        rv = route_key(in, &ch->routes[i], &pos[2 * i], &pos[2 * i + 1]);
    }
    /* keys may have moved while growing: point into the final buffer */
    for (size_t i = 0; rv == IGW_OK && i < ch->nroutes; i++) {
        in->routes[i].order_key = pos[2 * i + 1] > 0 ? in->keys.ptr + pos[2 * i] : NULL;
        in->routes[i].order_key_len = pos[2 * i + 1];
    }
    if (pos != offs) {
        igw_free(pos);
    }
    return rv == IGW_ETOOBIG ? IGW_ENOMEM : rv;
}

/* ---- metadata ----------------------------------------------------------------------------- */

/* Appends "key":"v" (nothing when v is NULL), preceded by a comma unless *first. */
static int
meta_kv(struct igw_buf *b, const char *key, const char *v, bool *first)
{
    int rv;
    if (v == NULL) {
        return IGW_OK;
    }
    rv = *first ? IGW_OK : igw_buf_putc(b, ',');
    *first = false;
    if (rv == IGW_OK) {
        rv = igw_buf_json_str(b, key, strlen(key));
    }
    if (rv == IGW_OK) {
        rv = igw_buf_putc(b, ':');
    }
    return rv != IGW_OK ? rv : igw_buf_json_str(b, v, strnlen(v, 4096));
}

static int
meta_str(struct igw_buf *b, const char *key, const char *v)
{
    bool first = false;
    return meta_kv(b, key, v, &first);
}

static int
meta_params(struct igw_buf *b, const struct igw_path_match *pm)
{
    int rv = igw_buf_puts(b, ",\"params\":{");
    for (unsigned i = 0; rv == IGW_OK && pm != NULL && i < pm->nparams; i++) {
        const struct igw_path_param *p = &pm->params[i];
        rv = igw_buf_puts(b, i > 0 ? "," : "");
        if (rv == IGW_OK) {
            rv = igw_buf_json_str(b, p->name, p->name_len);
        }
        if (rv == IGW_OK) {
            rv = igw_buf_putc(b, ':');
        }
        if (rv == IGW_OK) {
            rv = igw_buf_json_str(b, p->value, p->value_len);
        }
    }
    return rv != IGW_OK ? rv : igw_buf_putc(b, '}');
}

/* Selected request headers only: never Authorization or cookies. */
static int
meta_headers(struct igw_buf *b, const struct igw_ingest *in)
{
    static const char *const names[] = {"Content-Type", "Idempotency-Key", "X-Request-Id"};
    static const char *const keys[] = {"content-type", "idempotency-key", "x-request-id"};
    bool first = true;
    int rv = igw_buf_puts(b, ",\"headers\":{");

    for (size_t i = 0; rv == IGW_OK && i < IGW_ARRAY_LEN(names); i++) {
        const char *v = NULL;
        if (i == 0 && in->content_type != NULL) {
            v = in->content_type; /* a mediator's commit may have set another body's type */
        } else if (in->header != NULL) {
            v = in->header(in->header_arg, names[i]);
        } else if (i == 0) {
            v = in->content_type;
        } else if (i == 1) {
            v = in->idem_key;
        }
        rv = meta_kv(b, keys[i], v, &first);
    }
    return rv != IGW_OK ? rv : igw_buf_putc(b, '}');
}

static int
build_meta(struct igw_ingest *in)
{
    struct igw_buf *b = &in->meta;
    int rv = igw_buf_puts(b, "{\"v\":1");

    if (rv == IGW_OK) {
        rv = meta_str(b, "channel", in->ch->name);
    }
    if (rv == IGW_OK) {
        rv = meta_str(b, "method", in->method);
    }
    if (rv == IGW_OK) {
        rv = meta_str(b, "target", in->target);
    }
    if (rv == IGW_OK) {
        rv = igw_buf_puts(b, ",\"received_ms\":");
    }
    if (rv == IGW_OK) {
        rv = igw_buf_u64(b, igw_now_ms());
    }
    if (rv == IGW_OK) {
        rv = meta_params(b, in->pm);
    }
    if (rv == IGW_OK) {
        rv = meta_headers(b, in);
    }
    if (rv == IGW_OK) {
        rv = igw_buf_putc(b, '}');
    }
    return rv == IGW_ETOOBIG ? IGW_ENOMEM : rv;
}

/* ---- prepare ------------------------------------------------------------------------------ */

/* The body is parsed when the channel declares its format (json, xml, csv: validated on
 * receipt), translates, or orders by a JSON field. */
static bool
orders_by_json(const struct igw_channel *ch)
{
    for (size_t i = 0; i < ch->nroutes; i++) {
        if (ch->routes[i].order_src == IGW_ORDER_JSON) {
            return true;
        }
    }
    return false;
}

static bool
needs_parse(const struct igw_channel *ch)
{
    if (ch->input != NULL && strcmp(ch->input, "any") != 0) {
        return true;
    }
    return igw_channel_translates(ch) || orders_by_json(ch);
}

/* Parses the body into in->root. A body that only an order key wanted (input: any, no map)
 * may be anything: the key is then left unset. */
static int
parse_body(struct igw_ingest *in, char *err, size_t errlen)
{
    const struct igw_channel *ch = in->ch;
    const struct igw_dialect_ops *d = igw_channel_dialect(ch);
    bool strict =
        igw_channel_translates(ch) || (ch->input != NULL && strcmp(ch->input, "any") != 0);
    enum igw_format f = igw_channel_format(ch, in->content_type);
    int rv;

    /* Nothing reads a tree (no map, no JSON order key, a dialect that reads none): the
     * streaming check that builds nothing (igw/json.h) gives the parser's verdict; a refusal is
     * parsed again below for its error text. */
    if (strict && f == IGW_FMT_JSON && !igw_channel_translates(ch) && !orders_by_json(ch) &&
        (d == NULL || d->tree_free) && igw_json_check(in->body, in->body_len, 0) == IGW_OK) {
        in->root = NULL;
        return IGW_OK;
    }
    rv = igw_xlate_parse(&in->x, f, in->body, in->body_len, &in->root, err, errlen);

    if (rv == IGW_ENOMEM || (rv != IGW_OK && strict)) {
        return rv == IGW_ELIMIT ? IGW_EPARSE : rv;
    }
    if (rv != IGW_OK) {
        in->root = NULL;
    }
    return IGW_OK;
}

/* The idempotency key the dialect derives from the message, when the request has none. */
static int
dialect_key(struct igw_ingest *in, const struct igw_dialect_ops *d)
{
    int rv;

    if (d == NULL || d->message_key == NULL || in->idem_key != NULL) {
        return IGW_OK;
    }
    rv = d->message_key(in, in->idem_buf, sizeof(in->idem_buf));
    if (rv == IGW_OK && igw_idem_key_ok(in->idem_buf)) {
        in->idem_key = in->idem_buf;
    }
    return rv == IGW_ENOENT ? IGW_OK : rv;
}

int
igw_ingest_prepare(struct igw_ingest *in, char *err, size_t errlen)
{
    const struct igw_dialect_ops *d = igw_channel_dialect(in->ch);
    int rv = IGW_OK;

    igw_buf_init(&in->keys, KEYS_MAX);
    igw_buf_init(&in->meta, META_MAX);
    igw_buf_init(&in->errbody, ERRBODY_MAX);
    in->errstatus = 0;
    in->errtype = NULL;
    in->idem_buf[0] = '\0';
    memset(&in->x, 0, sizeof(in->x));
    in->root = NULL;
    in->routes = igw_calloc(in->ch->nroutes + 1, sizeof(*in->routes));
    if (in->routes == NULL) {
        return IGW_ENOMEM;
    }
    if (needs_parse(in->ch) && !(d != NULL && d->accept_unparsed != NULL &&
                                 d->accept_unparsed(in->ch, in->body, in->body_len))) {
        rv = parse_body(in, err, errlen);
    }
    if (rv == IGW_OK) {
        rv = order_keys(in);
    }
    if (rv == IGW_OK) {
        rv = dialect_key(in, d);
    }
    if (rv == IGW_OK && d != NULL && d->check_input != NULL) {
        rv = d->check_input(in, err, errlen);
    }
    if (rv == IGW_OK && in->root != NULL && in->maps != NULL) {
        rv = igw_xlate_run(&in->x, in->maps, in->ch, in->root, in->routes, err, errlen);
        rv = rv == IGW_ELIMIT ? IGW_ETRANSLATE : rv;
        if (rv == IGW_ETRANSLATE) {
            igw_stats_map_error(in->ch);
        }
    }
    if (rv == IGW_OK && d != NULL && d->check_output != NULL) {
        rv = d->check_output(in, err, errlen);
    }
    if (rv == IGW_OK) {
        rv = build_meta(in);
    }
    return rv;
}

void
igw_ingest_msg(const struct igw_ingest *in, struct igw_queue_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->channel = in->ch->name;
    m->idem_key = in->idem_key;
    m->idem_key_len = in->idem_key != NULL ? strlen(in->idem_key) : 0;
    m->content_type = in->content_type;
    m->meta = in->meta.ptr;
    m->meta_len = in->meta.len;
    m->body = in->body;
    m->body_len = in->body_len;
    m->nroutes = (unsigned)in->ch->nroutes;
    m->routes = in->routes;
}

void
igw_ingest_fini(struct igw_ingest *in)
{
    igw_xlate_fini(&in->x);
    igw_buf_fini(&in->errbody);
    in->root = NULL;
    igw_buf_fini(&in->keys);
    igw_buf_fini(&in->meta);
    IGW_FREE(in->routes);
}

const struct igw_channel *
igw_channel_by_name(const struct igw_config *cfg, const char *name, size_t len)
{
    for (size_t i = 0; i < cfg->nchannels; i++) {
        const char *n = cfg->channels[i].name;
        if (strlen(n) == len && memcmp(n, name, len) == 0) {
            return &cfg->channels[i];
        }
    }
    return NULL;
}
