/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin HTTP API (docs/ADMIN-API.md): a second nng 1.5 HTTP server on admin.listen with
 * its own credentials. One tree handler on "/" checks framing (no Transfer-Encoding, no body),
 * credentials and the route on nng's task thread, answers /admin/health at once and queues
 * every other request as a job; the admin worker thread runs the queue calls (replay, release
 * and purge block until their group commit) and finishes nng's handler aio.
 *
 * Replay re-reads the original body and runs the channel's intake pipeline again
 * (igw_ingest_prepare: parse with the channel's input format, FHIR checks, every route's map
 * from the CURRENT mapping set), then igw_queue_replay swaps in the new payloads in one commit.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/log.h"
#include "admin/admin.h"
#include "core/ingest.h"
#include "http/server.h"

#define JOBS_MAX 64               /* queued admin jobs before 503 */
#define RESP_MAX (8u << 20)       /* largest admin response */
#define BODY_SHOW_MAX (64u << 10) /* message bodies shown inline up to this */
#define DEAD_SHOW_MAX 4096        /* dead-letter response bytes shown */
#define PREFIX_MSGS "/admin/messages/"

enum op { OP_STATS = 1, OP_INFO, OP_REPLAY, OP_RELEASE, OP_PURGE };

struct job {
    struct job *next;
    nng_aio *aio;
    enum op op;
    uint64_t id;
    bool has_route;
    char route[IGW_QUEUE_NAME_MAX + 1];
};

struct igw_admin {
    const struct igw_config *cfg;
    igw_queue *q;
    igw_deliverer *d;
    igw_maps *maps;
    nng_http_server *srv;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* worker: jobs or closing; stop: inflight reached 0 */
    struct job *head;  /* under mu */
    struct job *tail;  /* under mu */
    unsigned njobs;    /* under mu */
    bool closing;      /* under mu */
    unsigned inflight; /* under mu: handlers running plus queued jobs */
    pthread_t thread;
    bool started;
};

/* A refusal decided on the task thread. */
struct verdict {
    uint16_t status;
    const char *code;
    const char *msg;
    const char *allow; /* 405 */
    bool close;
};

/* ---- responses ---------------------------------------------------------------------------- */

/* {"error":{"status":N,"code":"...","message":"..."[,"outcome":RAW]}}; returns status. */
static int
err_json(struct igw_buf *b, int status, const char *code, const char *msg, const char *raw)
{
    int rv;

    igw_buf_reset(b);
    rv = igw_buf_printf(b, "{\"error\":{\"status\":%d,\"code\":", status);
    rv = rv == IGW_OK ? igw_buf_json_str(b, code, strlen(code)) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"message\":") : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(b, msg, strnlen(msg, IGW_ERRBUF_SIZE)) : rv;
    if (rv == IGW_OK && raw != NULL) {
        rv = igw_buf_printf(b, ",\"outcome\":%s", raw);
    }
    if (rv == IGW_OK) {
        rv = igw_buf_puts(b, "}}");
    }
    return status;
}

/* Hands a JSON response to nng (a body always: nng then sends Content-Length). */
static void
reply(nng_aio *aio, int status, const struct igw_buf *b, const struct verdict *v)
{
    nng_http_res *res = NULL;
    int rv = nng_http_res_alloc(&res);

    rv = rv == 0 ? nng_http_res_set_status(res, (uint16_t)status) : rv;
    rv = rv == 0 ? nng_http_res_set_reason(res, igw_http_reason((uint16_t)status)) : rv;
    rv = rv == 0 ? nng_http_res_set_header(res, "Content-Type", "application/json") : rv;
    rv = rv == 0 ? nng_http_res_set_header(res, "Cache-Control", "no-store") : rv;
    rv = rv == 0 ? nng_http_res_copy_data(res, b->ptr != NULL ? b->ptr : "{}",
                                          b->ptr != NULL ? b->len : 2)
                 : rv;
    if (rv == 0 && v != NULL && v->close) {
        rv = nng_http_res_set_header(res, "Connection", "close");
    }
    if (rv == 0 && status == 401) {
        rv = nng_http_res_set_header(res, "WWW-Authenticate", "Bearer realm=\"igw-admin\"");
    }
    if (rv == 0 && status == 405 && v != NULL && v->allow != NULL) {
        rv = nng_http_res_set_header(res, "Allow", v->allow);
    }
    if (rv != 0) {
        if (res != NULL) {
            nng_http_res_free(res);
        }
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

static void
reply_verdict(nng_aio *aio, const struct verdict *v)
{
    struct igw_buf b;

    igw_buf_init(&b, 4096);
    err_json(&b, v->status, v->code, v->msg, NULL);
    IGW_INFO("admin %u %s", v->status, v->code);
    reply(aio, v->status, &b, v);
    igw_buf_fini(&b);
}

static void
inflight_done(igw_admin *a)
{
    pthread_mutex_lock(&a->mu);
    a->inflight--;
    if (a->closing && a->inflight == 0) {
        pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
}

/* ---- request checks (nng task thread) ----------------------------------------------------- */

static bool
verdict_set(struct verdict *v, uint16_t status, const char *code, const char *msg)
{
    v->status = status;
    v->code = code;
    v->msg = msg;
    return false;
}

/* No Transfer-Encoding (nng 1.5 would hand us an empty body) and no body at all. */
static bool
check_framing(nng_http_req *req, struct verdict *v)
{
    const char *cl = nng_http_req_get_header(req, "Content-Length");
    uint64_t n = 0;

    if (nng_http_req_get_header(req, "Transfer-Encoding") != NULL) {
        v->close = true;
        return verdict_set(v, 501, "transfer_encoding_unsupported",
                           "Transfer-Encoding is not supported");
    }
    if (cl != NULL && (igw_content_length_parse(cl, &n) != IGW_OK || n > 0)) {
        v->close = true; /* the unread body must not be parsed as the next request */
        return verdict_set(v, 413, "body_not_allowed", "admin requests take no body");
    }
    return true;
}

static bool
check_auth(const igw_admin *a, nng_http_req *req, struct verdict *v)
{
    /* checked alone (no channels): a channel's token gets 401 here, never 403 */
    static const struct igw_config none;
    struct igw_channel ch;

    memset(&ch, 0, sizeof(ch));
    ch.auth = a->cfg->admin_auth;
    if (igw_http_auth_check(&none, &ch, nng_http_req_get_header(req, "Authorization")) != 0) {
        return verdict_set(v, 401, "unauthorized", "missing or invalid admin credentials");
    }
    return true;
}

/* ?route=NAME: 1..128 bytes of [A-Za-z0-9_.-]. */
static bool
parse_query(const char *q, struct job *j, struct verdict *v)
{
    const char *p = q;
    size_t n;

    while (p != NULL && *p != '\0' && strncmp(p, "route=", 6) != 0) {
        p = strchr(p, '&');
        p = p != NULL ? p + 1 : NULL;
    }
    if (p == NULL || *p == '\0') {
        return true;
    }
    p += 6;
    n = strcspn(p, "&");
    if (n == 0 || n > IGW_QUEUE_NAME_MAX ||
        strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                  "opqrstuvwxyz0123456789_.-") < n) {
        return verdict_set(v, 400, "bad_route", "route must be a route name");
    }
    memcpy(j->route, p, n);
    j->route[n] = '\0';
    j->has_route = true;
    return true;
}

static bool
method_is(const char *m, const char *want, const char *allow, struct verdict *v)
{
    if (strcmp(m, want) == 0) {
        return true;
    }
    v->allow = allow;
    return verdict_set(v, 405, "method_not_allowed", "this path takes another method (see Allow)");
}

/* /admin/messages/{id}[/replay|/release] */
static bool
route_message(const char *method, const char *rest, size_t len, struct job *j, struct verdict *v)
{
    char hex[IGW_QUEUE_ID_STRLEN];
    const char *action = len > 16 ? rest + 16 : "";
    size_t alen = len > 16 ? len - 16 : 0;

    if (len < 16 || (alen > 0 && action[0] != '/')) {
        return verdict_set(v, 400, "bad_id", "a message id is 16 hex digits");
    }
    memcpy(hex, rest, 16);
    hex[16] = '\0';
    if (igw_queue_id_parse(hex, &j->id) != IGW_OK) {
        return verdict_set(v, 400, "bad_id", "a message id is 16 hex digits");
    }
    if (alen == 0) {
        if (strcmp(method, "DELETE") == 0) {
            j->op = OP_PURGE;
            return true;
        }
        j->op = OP_INFO;
        return method_is(method, "GET", "GET, DELETE", v);
    }
    if (alen == 7 && memcmp(action, "/replay", 7) == 0) {
        j->op = OP_REPLAY;
    } else if (alen == 8 && memcmp(action, "/release", 8) == 0) {
        j->op = OP_RELEASE;
    } else {
        return verdict_set(v, 404, "not_found", "no admin endpoint on this path");
    }
    return method_is(method, "POST", "POST", v);
}

/* Fills j from the method and target; false with *v set when refused. *health for
 * GET /admin/health. */
static bool
route_request(nng_http_req *req, struct job *j, bool *health, struct verdict *v)
{
    const char *method = nng_http_req_get_method(req);
    const char *uri = nng_http_req_get_uri(req);
    size_t plen = strcspn(uri, "?");
    const char *query = uri[plen] == '?' ? uri + plen + 1 : NULL;
    size_t pre = strlen(PREFIX_MSGS);

    *health = false;
    if (query != NULL && !parse_query(query, j, v)) {
        return false;
    }
    if (plen == 13 && memcmp(uri, "/admin/health", 13) == 0) {
        *health = true;
        return method_is(method, "GET", "GET", v);
    }
    if (plen == 12 && memcmp(uri, "/admin/stats", 12) == 0) {
        j->op = OP_STATS;
        return method_is(method, "GET", "GET", v);
    }
    if (plen > pre && memcmp(uri, PREFIX_MSGS, pre) == 0) {
        return route_message(method, uri + pre, plen - pre, j, v);
    }
    return verdict_set(v, 404, "not_found", "no admin endpoint on this path");
}

/* Queues j for the worker; false when closing or full. */
static bool
enqueue(igw_admin *a, struct job *j, struct verdict *v)
{
    bool ok;

    pthread_mutex_lock(&a->mu);
    ok = !a->closing && a->njobs < JOBS_MAX;
    if (ok) {
        j->next = NULL;
        if (a->tail == NULL) {
            a->head = j;
        } else {
            a->tail->next = j;
        }
        a->tail = j;
        a->njobs++;
        a->inflight++; /* released by the worker after it finished the aio */
        pthread_cond_signal(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
    if (!ok) {
        v->close = true;
        verdict_set(v, 503, "unavailable", "the admin API is busy or shutting down");
    }
    return ok;
}

static void
reply_health(nng_aio *aio)
{
    struct igw_buf b;

    igw_buf_init(&b, 64);
    igw_buf_puts(&b, "{\"status\":\"ok\"}");
    reply(aio, 200, &b, NULL);
    igw_buf_fini(&b);
}

/* nng's handler: task thread; never blocks. */
static void
handle(nng_aio *aio)
{
    igw_admin *a = nng_http_handler_get_data(nng_aio_get_input(aio, 1));
    nng_http_req *req = nng_aio_get_input(aio, 0);
    struct verdict v = {0, NULL, NULL, NULL, false};
    struct job *j = IGW_NEW(struct job);
    bool health = false;

    pthread_mutex_lock(&a->mu);
    a->inflight++;
    pthread_mutex_unlock(&a->mu);
    if (j == NULL) {
        v.close = true;
        verdict_set(&v, 503, "overloaded", "out of memory");
    } else if (check_framing(req, &v) && check_auth(a, req, &v) &&
               route_request(req, j, &health, &v)) {
        j->aio = aio;
        if (health) {
            reply_health(aio);
        } else if (enqueue(a, j, &v)) {
            j = NULL; /* the worker owns it */
        }
    }
    if (v.status != 0) {
        reply_verdict(aio, &v);
    }
    igw_free(j);
    inflight_done(a);
}

/* ---- jobs (worker thread) ----------------------------------------------------------------- */

static const char *
state_name(enum igw_delivery_state s)
{
    switch (s) {
    case IGW_DS_PENDING:
        return "pending";
    case IGW_DS_INFLIGHT:
        return "inflight";
    case IGW_DS_DELIVERED:
        return "delivered";
    case IGW_DS_DEAD:
        return "dead";
    }
    return "unknown";
}

static int
queue_err(struct igw_buf *b, int rv)
{
    switch (rv) {
    case IGW_ENOENT:
        return err_json(b, 404, "not_found", "no such message (or route)", NULL);
    case IGW_EAGAIN:
        return err_json(b, 409, "in_flight",
                        "a delivery of this message is being attempted; retry in a moment", NULL);
    case IGW_ENOSPC:
        return err_json(b, 503, "queue_full", "the queue is full", NULL);
    case IGW_ECLOSED:
        return err_json(b, 503, "shutting_down", "igw is shutting down", NULL);
    case IGW_ENOMEM:
        return err_json(b, 503, "overloaded", "out of memory", NULL);
    default:
        IGW_ERROR("admin: queue call failed: %s", igw_strerror(rv));
        return err_json(b, 500, "internal", igw_strerror(rv), NULL);
    }
}

static int
op_stats(igw_admin *a, struct igw_buf *b)
{
    struct igw_queue_stats s;
    int rv = igw_queue_stats(a->q, &s);

    if (rv != IGW_OK) {
        return queue_err(b, rv);
    }
    rv = igw_buf_printf(b,
                        "{\"messages\":%llu,\"pending\":%llu,\"inflight\":%llu,"
                        "\"delivered\":%llu,\"dead\":%llu,\"map_size\":%llu,\"map_used\":%llu,"
                        "\"full\":%s,\"commits\":%llu}",
                        (unsigned long long)s.messages, (unsigned long long)s.pending,
                        (unsigned long long)s.inflight, (unsigned long long)s.delivered,
                        (unsigned long long)s.dead, (unsigned long long)s.capacity_bytes,
                        (unsigned long long)s.used_bytes, s.full ? "true" : "false",
                        (unsigned long long)s.commits);
    return rv == IGW_OK ? 200 : queue_err(b, rv);
}

static size_t
utf8_seq_len(unsigned c)
{
    if (c < 0x80) {
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        return 2;
    }
    if ((c & 0xF0) == 0xE0) {
        return 3;
    }
    return (c & 0xF8) == 0xF0 ? 4 : 0;
}

/* True when p[0..n) is UTF-8 without NUL bytes (then shown as a JSON string). */
static bool
utf8_text(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t k = utf8_seq_len(p[i]);
        if (p[i] == 0 || k == 0 || k > n - i) {
            return false;
        }
        for (size_t m = 1; m < k; m++) {
            if ((p[i + m] & 0xC0) != 0x80) {
                return false;
            }
        }
        i += k;
    }
    return true;
}

static int
json_kv_str(struct igw_buf *b, const char *key, const char *v, size_t n)
{
    int rv = igw_buf_printf(b, ",\"%s\":", key);

    if (rv != IGW_OK) {
        return rv;
    }
    return v == NULL ? igw_buf_puts(b, "null") : igw_buf_json_str(b, v, n);
}

static int
info_dead(igw_admin *a, uint64_t id, const char *route, struct igw_buf *b)
{
    struct igw_queue_dead_info dl;
    size_t n;
    int rv = igw_queue_dead_get(a->q, id, route, &dl);

    if (rv == IGW_ENOENT) {
        return IGW_OK;
    }
    if (rv != IGW_OK) {
        return rv;
    }
    n = dl.response.len < DEAD_SHOW_MAX ? dl.response.len : DEAD_SHOW_MAX;
    rv = igw_buf_printf(b, ",\"dead_letter\":{\"dead_ms\":%llu,\"status\":%d",
                        (unsigned long long)dl.dead_ms, dl.status);
    rv = rv == IGW_OK ? json_kv_str(b, "error", dl.error, strlen(dl.error)) : rv;
    if (rv == IGW_OK && utf8_text((const unsigned char *)dl.response.ptr, n)) {
        rv = json_kv_str(b, "response", n > 0 ? dl.response.ptr : "", n);
    }
    rv = rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    igw_queue_dead_info_fini(&dl);
    return rv;
}

static int
info_delivery(igw_admin *a, uint64_t id, const struct igw_queue_delivery_info *d, struct igw_buf *b)
{
    int rv = igw_buf_puts(b, "{\"route\":");

    rv = rv == IGW_OK ? igw_buf_json_str(b, d->route, strlen(d->route)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(b,
                                       ",\"state\":\"%s\",\"attempts\":%u,\"next_due_ms\":%llu,"
                                       "\"last_attempt_ms\":%llu,\"last_status\":%d",
                                       state_name(d->state), (unsigned)d->attempts,
                                       (unsigned long long)d->next_due_ms,
                                       (unsigned long long)d->last_attempt_ms, d->last_status)
                      : rv;
    if (rv == IGW_OK) {
        rv = json_kv_str(b, "last_error", d->last_error, strlen(d->last_error));
    }
    if (rv == IGW_OK && d->state == IGW_DS_DEAD) {
        rv = info_dead(a, id, d->route, b);
    }
    return rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
}

static int
info_message(const struct igw_queue_message *m, struct igw_buf *b)
{
    char hex[IGW_QUEUE_ID_STRLEN];
    bool text =
        m->body.len <= BODY_SHOW_MAX && utf8_text((const unsigned char *)m->body.ptr, m->body.len);
    int rv;

    igw_queue_id_format(m->id, hex);
    rv = igw_buf_printf(b, "{\"id\":\"%s\"", hex);
    rv = rv == IGW_OK ? json_kv_str(b, "channel", m->channel, strlen(m->channel)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(b, ",\"created_ms\":%llu,\"body_len\":%zu",
                                       (unsigned long long)m->created_ms, m->body.len)
                      : rv;
    if (rv == IGW_OK) {
        const char *ct = m->content_type;
        rv = json_kv_str(b, "content_type", ct, ct != NULL ? strlen(ct) : 0);
    }
    if (rv == IGW_OK) {
        rv = json_kv_str(b, "body", text ? m->body.ptr : NULL, m->body.len);
    }
    if (rv == IGW_OK && m->meta.len > 0 && m->meta.ptr[0] == '{') {
        rv = igw_buf_printf(b, ",\"metadata\":%s", m->meta.ptr); /* igw's own JSON text */
    }
    return rv;
}

static int
op_info(igw_admin *a, const struct job *j, struct igw_buf *b)
{
    struct igw_queue_message m;
    struct igw_queue_delivery_info *di = NULL;
    unsigned n = 0;
    int rv = igw_queue_message_get(a->q, j->id, &m);

    if (rv == IGW_OK) {
        di = igw_calloc(m.nroutes + 1, sizeof(*di));
        rv = di == NULL ? IGW_ENOMEM : igw_queue_deliveries(a->q, j->id, di, m.nroutes + 1, &n);
    }
    rv = rv == IGW_OK ? info_message(&m, b) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"deliveries\":[") : rv;
    for (unsigned i = 0; rv == IGW_OK && i < n; i++) {
        rv = i > 0 ? igw_buf_putc(b, ',') : IGW_OK;
        rv = rv == IGW_OK ? info_delivery(a, j->id, &di[i], b) : rv;
    }
    rv = rv == IGW_OK ? igw_buf_puts(b, "]}") : rv;
    igw_free(di);
    igw_queue_message_fini(&m);
    return rv == IGW_OK ? 200 : queue_err(b, rv);
}

static int
done_json(struct igw_buf *b, uint64_t id, const char *status)
{
    char hex[IGW_QUEUE_ID_STRLEN];

    igw_queue_id_format(id, hex);
    igw_buf_reset(b);
    return igw_buf_printf(b, "{\"id\":\"%s\",\"status\":\"%s\"}", hex, status) == IGW_OK
               ? 200
               : queue_err(b, IGW_ENOMEM);
}

static int
op_release(igw_admin *a, const struct job *j, struct igw_buf *b)
{
    int rv = igw_queue_release(a->q, j->id, j->has_route ? j->route : NULL);

    if (rv != IGW_OK) {
        return queue_err(b, rv);
    }
    if (a->d != NULL) {
        igw_deliverer_kick(a->d);
    }
    IGW_INFO("admin release id=%016llx", (unsigned long long)j->id);
    return done_json(b, j->id, "released");
}

static int
op_purge(igw_admin *a, const struct job *j, struct igw_buf *b)
{
    int rv = igw_queue_purge(a->q, j->id);

    if (rv != IGW_OK) {
        return queue_err(b, rv);
    }
    IGW_INFO("admin purge id=%016llx", (unsigned long long)j->id);
    return done_json(b, j->id, "purged");
}

/* ---- replay ------------------------------------------------------------------------------- */

struct replay {
    struct igw_queue_message m;
    struct igw_ingest in;
    bool prepared;
    struct igw_xlate mx; /* the metadata's tree */
    struct igw_buf method;
    struct igw_buf target;
    struct igw_path_match pm;
    struct igw_queue_delivery_info *di;
    unsigned ndi;
    struct igw_queue_replay_route *rr;
    unsigned nrr;
};

static const char *
replay_header(void *arg, const char *name)
{
    const struct igw_queue_message *m = arg;
    return strcasecmp(name, "Content-Type") == 0 ? m->content_type : NULL;
}

/* The stored request's method and target (FHIR channels need them), from the metadata. */
static void
replay_request_line(struct replay *r, const struct igw_channel *ch)
{
    const struct igw_node *root = NULL;
    char err[IGW_ERRBUF_SIZE];

    igw_buf_init(&r->method, 16);
    igw_buf_init(&r->target, IGW_PATH_MAX_LEN);
    r->in.method = ch->method;
    if (r->m.meta.len == 0 || igw_xlate_parse(&r->mx, IGW_FMT_JSON, r->m.meta.ptr, r->m.meta.len,
                                              &root, err, sizeof(err)) != IGW_OK) {
        return;
    }
    if (igw_json_key(root, "method", &r->method) == IGW_OK &&
        igw_buf_putc(&r->method, '\0') == IGW_OK) {
        r->in.method = r->method.ptr;
    }
    if (igw_json_key(root, "target", &r->target) == IGW_OK &&
        igw_buf_putc(&r->target, '\0') == IGW_OK) {
        r->in.target = r->target.ptr;
        if (ch->path != NULL &&
            igw_path_match(ch->path, r->target.ptr, strlen(r->target.ptr), &r->pm)) {
            r->in.pm = &r->pm;
        }
    }
}

/* Parses and translates the stored body again with the current maps; HTTP status or 0. */
static int
replay_prepare(igw_admin *a, struct replay *r, const struct igw_channel *ch, struct igw_buf *b)
{
    char err[IGW_ERRBUF_SIZE] = "invalid body";
    int rv;

    replay_request_line(r, ch);
    r->in.ch = ch;
    r->in.header = replay_header;
    r->in.header_arg = &r->m;
    r->in.content_type = r->m.content_type;
    r->in.body = r->m.body.ptr;
    r->in.body_len = r->m.body.len;
    r->in.maps = a->maps;
    r->prepared = true;
    rv = igw_ingest_prepare(&r->in, err, sizeof(err));
    if (rv != IGW_OK && r->in.errbody.len > 0 && igw_buf_putc(&r->in.errbody, '\0') == IGW_OK &&
        r->in.errbody.ptr[0] == '{') {
        return err_json(b, 422, "validation_failed",
                        "the channel's checks refused the input or its new translation",
                        r->in.errbody.ptr);
    }
    if (rv == IGW_EPARSE) {
        return err_json(b, 422, igw_ingest_parse_code(&r->in), err, NULL);
    }
    if (rv == IGW_ETRANSLATE || (rv != IGW_OK && r->in.errbody.len > 0)) {
        return err_json(b, 422, "translation_failed", err, NULL);
    }
    return rv == IGW_OK ? 0 : queue_err(b, rv);
}

static bool
route_named(const struct igw_route *rt, const char *name)
{
    return strcmp(rt->name, name) == 0 || strcmp(rt->short_name, name) == 0;
}

static bool
has_delivery(const struct replay *r, const char *route)
{
    for (unsigned i = 0; i < r->ndi; i++) {
        if (strcmp(r->di[i].route, route) == 0) {
            return true;
        }
    }
    return false;
}

/* The configured routes the message has (or the one asked for); HTTP status or 0. */
static int
replay_routes(igw_admin *a, const struct job *j, struct replay *r, const struct igw_channel *ch,
              struct igw_buf *b)
{
    int rv;

    r->di = igw_calloc(r->m.nroutes + 1, sizeof(*r->di));
    r->rr = igw_calloc(ch->nroutes + 1, sizeof(*r->rr));
    if (r->di == NULL || r->rr == NULL) {
        return queue_err(b, IGW_ENOMEM);
    }
    rv = igw_queue_deliveries(a->q, j->id, r->di, r->m.nroutes + 1, &r->ndi);
    if (rv != IGW_OK) {
        return queue_err(b, rv);
    }
    for (size_t i = 0; i < ch->nroutes; i++) {
        const struct igw_route *rt = &ch->routes[i];
        const struct igw_queue_route_init *ri = &r->in.routes[i];
        if ((j->has_route && !route_named(rt, j->route)) || !has_delivery(r, rt->name)) {
            continue;
        }
        r->rr[r->nrr].route = rt->name;
        r->rr[r->nrr].payload = ri->payload;
        r->rr[r->nrr].payload_len = ri->payload != NULL ? ri->payload_len : 0;
        r->rr[r->nrr].content_type = ri->content_type;
        r->nrr++;
    }
    if (r->nrr == 0) {
        return j->has_route ? err_json(b, 404, "unknown_route",
                                       "the message has no configured route of this name", NULL)
                            : err_json(b, 409, "no_routes",
                                       "none of the message's routes is configured any more", NULL);
    }
    return 0;
}

static int
replay_done(igw_admin *a, const struct job *j, const struct replay *r, struct igw_buf *b)
{
    char hex[IGW_QUEUE_ID_STRLEN];
    int rv;

    if (a->d != NULL) {
        igw_deliverer_kick(a->d);
    }
    igw_queue_id_format(j->id, hex);
    IGW_INFO("admin replay id=%s channel=%s routes=%u", hex, r->m.channel, r->nrr);
    rv = igw_buf_printf(b, "{\"id\":\"%s\",\"status\":\"replayed\",\"routes\":[", hex);
    for (unsigned i = 0; rv == IGW_OK && i < r->nrr; i++) {
        rv = i > 0 ? igw_buf_putc(b, ',') : IGW_OK;
        rv = rv == IGW_OK ? igw_buf_json_str(b, r->rr[i].route, strlen(r->rr[i].route)) : rv;
    }
    rv = rv == IGW_OK ? igw_buf_puts(b, "]}") : rv;
    return rv == IGW_OK ? 200 : queue_err(b, rv);
}

static int
op_replay(igw_admin *a, const struct job *j, struct igw_buf *b)
{
    struct replay *r = IGW_NEW(struct replay);
    const struct igw_channel *ch = NULL;
    int st = 0;
    int rv = r == NULL ? IGW_ENOMEM : igw_queue_message_get(a->q, j->id, &r->m);

    if (rv != IGW_OK) {
        st = queue_err(b, rv);
        goto cleanup;
    }
    ch = igw_channel_by_name(a->cfg, r->m.channel, strlen(r->m.channel));
    if (ch == NULL) {
        st = err_json(b, 409, "unknown_channel", "the message's channel is not configured", NULL);
        goto cleanup;
    }
    st = replay_prepare(a, r, ch, b);
    st = st == 0 ? replay_routes(a, j, r, ch, b) : st;
    if (st != 0) {
        goto cleanup;
    }
    rv = igw_queue_replay(a->q, j->id, r->rr, r->nrr);
    st = rv == IGW_OK ? replay_done(a, j, r, b) : queue_err(b, rv);
cleanup:
    if (r != NULL) {
        if (r->prepared) {
            igw_ingest_fini(&r->in);
        }
        igw_xlate_fini(&r->mx);
        igw_buf_fini(&r->method);
        igw_buf_fini(&r->target);
        igw_free(r->di);
        igw_free(r->rr);
        igw_queue_message_fini(&r->m);
        igw_free(r);
    }
    return st;
}

/* ---- worker ------------------------------------------------------------------------------- */

static void
run_job(igw_admin *a, struct job *j)
{
    struct igw_buf b;
    int st;

    igw_buf_init(&b, RESP_MAX);
    switch (j->op) {
    case OP_STATS:
        st = op_stats(a, &b);
        break;
    case OP_INFO:
        st = op_info(a, j, &b);
        break;
    case OP_REPLAY:
        st = op_replay(a, j, &b);
        break;
    case OP_RELEASE:
        st = op_release(a, j, &b);
        break;
    default:
        st = op_purge(a, j, &b);
        break;
    }
    reply(j->aio, st, &b, NULL);
    igw_buf_fini(&b);
}

static void *
worker_main(void *arg)
{
    igw_admin *a = arg;

    pthread_mutex_lock(&a->mu);
    for (;;) {
        struct job *j = a->head;
        if (j == NULL && a->closing) {
            break;
        }
        if (j == NULL) {
            pthread_cond_wait(&a->cv, &a->mu);
            continue;
        }
        a->head = j->next;
        if (a->head == NULL) {
            a->tail = NULL;
        }
        a->njobs--;
        pthread_mutex_unlock(&a->mu);
        run_job(a, j);
        igw_free(j);
        inflight_done(a);
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* ---- start and stop ----------------------------------------------------------------------- */

static int
start_server(igw_admin *a, char *errbuf, size_t errlen)
{
    nng_url *url = NULL;
    int rv = nng_url_parse(&url, a->cfg->admin_listen);

    rv = rv == 0 ? nng_http_server_hold(&a->srv, url) : rv;
    nng_url_free(url);
    rv = rv == 0 ? igw_http_tree_handler_add(a->srv, handle, a) : rv;
    rv = rv == 0 ? nng_http_server_start(a->srv) : rv;
    if (rv != 0) {
        igw_errbuf_set(errbuf, errlen, "admin listen %s: %s", a->cfg->admin_listen,
                       nng_strerror(rv));
        return IGW_EIO;
    }
    return IGW_OK;
}

int
igw_admin_start(igw_admin **out, const struct igw_config *cfg, igw_queue *q, igw_deliverer *d,
                igw_maps *maps, char *errbuf, size_t errlen)
{
    igw_admin *a;
    int rv;

    if (cfg->admin_listen == NULL || cfg->admin_auth.type == IGW_AUTH_NONE) {
        igw_errbuf_set(errbuf, errlen, "admin.listen needs admin.auth");
        return IGW_EINVAL;
    }
    a = IGW_NEW(igw_admin);
    if (a == NULL) {
        return IGW_ENOMEM;
    }
    a->cfg = cfg;
    a->q = q;
    a->d = d;
    a->maps = maps;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (pthread_create(&a->thread, NULL, worker_main, a) != 0) {
        igw_errbuf_set(errbuf, errlen, "admin: cannot start the worker thread");
        igw_admin_stop(a);
        return IGW_ENOMEM;
    }
    a->started = true;
    rv = start_server(a, errbuf, errlen);
    if (rv != IGW_OK) {
        igw_admin_stop(a);
        return rv;
    }
    IGW_INFO("admin API listening on %s", cfg->admin_listen);
    *out = a;
    return IGW_OK;
}

void
igw_admin_stop(igw_admin *a)
{
    if (a == NULL) {
        return;
    }
    pthread_mutex_lock(&a->mu);
    a->closing = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (a->started) {
        pthread_join(a->thread, NULL); /* runs the queued jobs first */
    }
    if (a->srv != NULL) {
        nng_http_server_stop(a->srv);
    }
    pthread_mutex_lock(&a->mu);
    while (a->inflight > 0) {
        pthread_cond_wait(&a->cv, &a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    if (a->srv != NULL) {
        nng_http_server_release(a->srv);
    }
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    igw_free(a);
}
