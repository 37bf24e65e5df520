/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nng SP intake and event publisher (docs/SP-PROTOCOL.md).
 *
 * rep0 at sp.listen: SP_WORKERS contexts, each cycling recv -> parse -> igw_queue_submit ->
 * (queue commit callback) send reply -> recv. Nothing blocks: the reply is sent from the queue
 * callback with an asynchronous nng_ctx_send.
 *
 * pub0 at sp.publish: one line per queue event, "<kind> <json>", sent with NNG_FLAG_NONBLOCK from
 * the queue's event listener (pub0 drops messages for slow subscribers instead of blocking).
 */
#include <stdio.h>
#include <string.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/log.h"
#include "core/ingest.h"
#include "in_sp/in_sp.h"
#include "http/commit.h"
#include "http/status.h"

#define SP_WORKERS 16
#define SP_FIELD_MAX 256   /* longest channel, content type or idempotency key */
#define SP_HEADER_MAX 1024 /* room for the three header lines */
#define EVENT_MAX 2048

enum wstate { W_RECV, W_COMMIT, W_SEND };

struct worker {
    struct igw_sp_in *s;
    nng_ctx ctx;
    nng_aio *aio;
    enum wstate state;
    nng_msg *req; /* the request being handled (its body is the message body) */
    const struct igw_channel *ch;
    char content_type[SP_FIELD_MAX + 1];
    char idem[SP_FIELD_MAX + 1];
    struct igw_ingest in;
    struct igw_commit commit;
};

struct igw_sp_in {
    const struct igw_config *cfg;
    igw_queue *q;
    igw_deliverer *d;
    igw_maps *maps;
    nng_socket rep;
    nng_socket pub;
    bool rep_open;
    bool pub_open;
    struct worker w[SP_WORKERS];
    nng_mtx *mtx;
    nng_cv *cv;
    unsigned busy; /* workers between a received request and its sent reply */
    bool closing;
};

/* ---- replies ------------------------------------------------------------------------------ */

static void recv_next(struct worker *w);

static void
worker_release(struct worker *w)
{
    igw_ingest_fini(&w->in);
    memset(&w->in, 0, sizeof(w->in));
    if (w->req != NULL) {
        nng_msg_free(w->req);
        w->req = NULL;
    }
}

static void
busy_done(struct igw_sp_in *s)
{
    nng_mtx_lock(s->mtx);
    s->busy--;
    nng_cv_wake(s->cv);
    nng_mtx_unlock(s->mtx);
}

/* Sends body as the reply; the aio callback (W_SEND) re-arms the receive. */
static void
send_reply(struct worker *w, const struct igw_buf *body)
{
    nng_msg *msg = NULL;

    worker_release(w);
    w->state = W_SEND;
    if (body->ptr == NULL || nng_msg_alloc(&msg, 0) != 0 ||
        nng_msg_append(msg, body->ptr, body->len) != 0) {
        if (msg != NULL) {
            nng_msg_free(msg);
        }
        /* no reply: the requester times out and resends (rep0 allows a silent drop) */
        busy_done(w->s);
        recv_next(w);
        return;
    }
    nng_aio_set_msg(w->aio, msg);
    nng_ctx_send(w->ctx, w->aio);
}

static void
reply_error(struct worker *w, int status, const char *code, const char *msg)
{
    struct igw_buf b;
    igw_buf_init(&b, 1024);
    if (igw_http_error_json(&b, status, code, msg) != IGW_OK) {
        igw_buf_reset(&b);
    }
    IGW_INFO("sp %d %s channel=%s", status, code, w->ch != NULL ? w->ch->name : "-");
    send_reply(w, &b);
    igw_buf_fini(&b);
}

static void
reply_verdict(struct worker *w, const struct igw_http_verdict *v)
{
    reply_error(w, v->status, v->code, v->msg);
}

static void
commit_refuse(void *arg, const struct igw_http_verdict *v)
{
    reply_verdict(arg, v);
}

/* Queue writer thread, after the commit. */
static void
commit_accept(void *arg, uint64_t id, bool duplicate)
{
    struct worker *w = arg;
    struct igw_buf b;

    igw_buf_init(&b, 256);
    if (igw_http_accept_json(&b, id, duplicate) != IGW_OK) {
        igw_buf_reset(&b);
    }
    send_reply(w, &b);
    igw_buf_fini(&b);
}

static const struct igw_commit_ops commit_ops = {
    .name = "sp", .via = " via=sp", .refuse = commit_refuse, .accept = commit_accept};

/* ---- requests ----------------------------------------------------------------------------- */

/* Takes the next '\n'-terminated field of [*p, end) into out. false if missing or too long. */
static bool
take_field(const char **p, const char *end, char *out, size_t *len)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n;

    if (nl == NULL || (size_t)(nl - *p) > SP_FIELD_MAX) {
        return false;
    }
    n = (size_t)(nl - *p);
    memcpy(out, *p, n);
    out[n] = '\0';
    *len = n;
    *p = nl + 1;
    return true;
}

static bool
content_type_ok(const struct igw_channel *ch, const char *ct)
{
    for (size_t i = 0; i < ch->ncontent_types; i++) {
        if (igw_media_type_is(ct, ch->content_types[i])) {
            return true;
        }
    }
    return ch->ncontent_types == 0;
}

/* Parses "<channel>\n<content-type>\n<idempotency-key>\n<body>" and checks it. Replies with an
 * error and returns false when the request is refused. */
static bool
parse_request(struct worker *w, const char **body, size_t *blen)
{
    const char *p = nng_msg_body(w->req);
    const char *end = p + nng_msg_len(w->req);
    char name[SP_FIELD_MAX + 1];
    size_t nlen;
    size_t tlen;
    size_t ilen;

    if (!take_field(&p, end, name, &nlen) || !take_field(&p, end, w->content_type, &tlen) ||
        !take_field(&p, end, w->idem, &ilen)) {
        reply_error(w, 400, "bad_request",
                    "expected channel, content type and idempotency key "
                    "lines before the body");
        return false;
    }
    w->ch = igw_channel_by_name(w->s->cfg, name, nlen);
    if (w->ch == NULL) {
        reply_error(w, 404, "not_found", "no such channel");
        return false;
    }
    *body = p;
    *blen = (size_t)(end - p);
    if (*blen > w->ch->max_body) {
        reply_error(w, 413, "payload_too_large", "the body exceeds the channel's max_body");
        return false;
    }
    if (!content_type_ok(w->ch, tlen > 0 ? w->content_type : NULL)) {
        reply_error(w, 415, "unsupported_media_type", "content type not allowed on this channel");
        return false;
    }
    if (ilen > 0 && !igw_idem_key_ok(w->idem)) {
        reply_error(w, 400, "bad_idempotency_key", "idempotency key must be printable ASCII");
        return false;
    }
    return true;
}

static void
handle_request(struct worker *w)
{
    char err[IGW_ERRBUF_SIZE] = "invalid body";
    struct igw_queue_msg m;
    struct igw_http_verdict v;
    const char *body = NULL;
    size_t blen = 0;
    int rv;

    w->ch = NULL;
    if (!parse_request(w, &body, &blen)) {
        return;
    }
    w->in.ch = w->ch;
    w->in.method = "SP";
    w->in.content_type = w->content_type[0] != '\0' ? w->content_type : NULL;
    w->in.idem_key = w->idem[0] != '\0' ? w->idem : NULL;
    w->in.body = body;
    w->in.body_len = blen;
    w->in.maps = w->s->maps;
    w->commit.ops = &commit_ops;
    w->commit.arg = w;
    w->commit.ch = w->ch;
    w->commit.d = w->s->d;
    w->commit.bytes = blen;
    rv = igw_ingest_prepare(&w->in, err, sizeof(err));
    if (rv == IGW_EPARSE || rv == IGW_ETRANSLATE) {
        igw_http_verdict_of(IGW_HTTP_INTAKE, rv, igw_ingest_parse_code(&w->in), err, &v);
        reply_verdict(w, &v);
        return;
    }
    w->state = W_COMMIT;
    if (rv != IGW_OK) {
        igw_commit_fail(&w->commit, rv);
        return;
    }
    igw_ingest_msg(&w->in, &m);
    igw_commit_submit(&w->commit, w->s->q, &m); /* from here the commit answers for w */
}

static void
recv_next(struct worker *w)
{
    w->state = W_RECV;
    nng_ctx_recv(w->ctx, w->aio);
}

static void
on_received(struct worker *w)
{
    struct igw_sp_in *s = w->s;
    bool closing;

    w->req = nng_aio_get_msg(w->aio);
    nng_aio_set_msg(w->aio, NULL);
    nng_mtx_lock(s->mtx);
    s->busy++;
    closing = s->closing;
    nng_mtx_unlock(s->mtx);
    if (closing) {
        struct igw_http_verdict v;
        igw_http_verdict_of(IGW_HTTP_INTAKE, IGW_ECLOSED, NULL, NULL, &v);
        reply_verdict(w, &v);
        return;
    }
    handle_request(w);
}

static void
worker_cb(void *arg)
{
    struct worker *w = arg;
    int rv = nng_aio_result(w->aio);

    if (w->state == W_RECV) {
        if (rv == 0) {
            on_received(w);
        } else if (rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
            recv_next(w);
        }
        return;
    }
    if (rv != 0) {
        nng_msg *msg = nng_aio_get_msg(w->aio);
        if (msg != NULL) {
            nng_msg_free(msg);
        }
        nng_aio_set_msg(w->aio, NULL);
    }
    busy_done(w->s);
    if (rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
        recv_next(w);
    }
}

/* ---- events ------------------------------------------------------------------------------- */

static const char *
event_topic(enum igw_queue_event_kind k)
{
    static const char *const names[] = {
        [IGW_QEV_ACCEPTED] = "accepted", [IGW_QEV_DELIVERED] = "delivered",
        [IGW_QEV_RETRY] = "retry",       [IGW_QEV_DEAD] = "dead",
        [IGW_QEV_RELEASED] = "released", [IGW_QEV_PURGED] = "purged",
        [IGW_QEV_REPLAYED] = "replayed",
    };
    return (unsigned)k < IGW_ARRAY_LEN(names) && names[k] != NULL ? names[k] : "event";
}

static int
event_field(struct igw_buf *b, const char *key, const char *v)
{
    int rv;
    if (v == NULL) {
        return IGW_OK;
    }
    rv = igw_buf_printf(b, ",\"%s\":", key);
    return rv != IGW_OK ? rv : igw_buf_json_str(b, v, strnlen(v, 512));
}

static int
format_event(struct igw_buf *b, const struct igw_queue_event *ev)
{
    char hex[IGW_QUEUE_ID_STRLEN];
    int rv;

    igw_queue_id_format(ev->id, hex);
    rv = igw_buf_printf(b, "%s {\"event\":\"%s\",\"id\":\"%s\"", event_topic(ev->kind),
                        event_topic(ev->kind), hex);
    rv = rv == IGW_OK ? event_field(b, "channel", ev->channel) : rv;
    rv = rv == IGW_OK ? event_field(b, "route", ev->route) : rv;
    if (rv == IGW_OK && ev->route != NULL) {
        rv = igw_buf_printf(b, ",\"attempts\":%u", (unsigned)ev->attempts);
    }
    if (rv == IGW_OK && ev->kind == IGW_QEV_RETRY) {
        rv = igw_buf_printf(b, ",\"next_due_ms\":%llu", (unsigned long long)ev->next_due_ms);
    }
    rv = rv == IGW_OK ? event_field(b, "error", ev->error) : rv;
    return rv == IGW_OK ? igw_buf_puts(b, "}") : rv;
}

/* Queue writer thread: must not block. */
static void
on_event(void *arg, const struct igw_queue_event *ev)
{
    struct igw_sp_in *s = arg;
    nng_msg *msg = NULL;
    struct igw_buf b;

    igw_buf_init(&b, EVENT_MAX);
    if (format_event(&b, ev) == IGW_OK && nng_msg_alloc(&msg, 0) == 0 &&
        nng_msg_append(msg, b.ptr, b.len) == 0 &&
        nng_sendmsg(s->pub, msg, NNG_FLAG_NONBLOCK) == 0) {
        msg = NULL; /* sent: nng owns it */
    }
    if (msg != NULL) {
        nng_msg_free(msg);
    }
    igw_buf_fini(&b);
}

/* ---- start and stop ----------------------------------------------------------------------- */

/* Listens at url; ipc:// socket files get mode 0600 (only igw's user may connect). */
static int
listen_at(nng_socket sock, const char *url, char *errbuf, size_t errlen)
{
    nng_listener l;
    int rv = nng_listener_create(&l, sock, url);

    if (rv == 0 && strncmp(url, "ipc://", 6) == 0) {
        rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0600);
    }
    rv = rv == 0 ? nng_listener_start(l, 0) : rv;
    if (rv != 0) {
        igw_errbuf_set(errbuf, errlen, "listen %s: %s", url, nng_strerror(rv));
        return IGW_EIO;
    }
    return IGW_OK;
}

static int
start_rep(struct igw_sp_in *s, char *errbuf, size_t errlen)
{
    int rv = nng_rep0_open(&s->rep);

    if (rv != 0) {
        igw_errbuf_set(errbuf, errlen, "rep0: %s", nng_strerror(rv));
        return IGW_EIO;
    }
    s->rep_open = true;
    nng_socket_set_size(s->rep, NNG_OPT_RECVMAXSZ,
                        (size_t)s->cfg->http_max_body + 3 * SP_FIELD_MAX + 3);
    for (unsigned i = 0; i < SP_WORKERS; i++) {
        s->w[i].s = s;
        if (nng_aio_alloc(&s->w[i].aio, worker_cb, &s->w[i]) != 0 ||
            nng_ctx_open(&s->w[i].ctx, s->rep) != 0) {
            igw_errbuf_set(errbuf, errlen, "rep0 contexts: out of memory");
            return IGW_ENOMEM;
        }
    }
    rv = listen_at(s->rep, s->cfg->sp_listen, errbuf, errlen);
    for (unsigned i = 0; rv == IGW_OK && i < SP_WORKERS; i++) {
        recv_next(&s->w[i]);
    }
    return rv;
}

static int
start_pub(struct igw_sp_in *s, char *errbuf, size_t errlen)
{
    int rv = nng_pub0_open(&s->pub);

    if (rv != 0) {
        igw_errbuf_set(errbuf, errlen, "pub0: %s", nng_strerror(rv));
        return IGW_EIO;
    }
    s->pub_open = true;
    rv = listen_at(s->pub, s->cfg->pub_listen, errbuf, errlen);
    if (rv == IGW_OK) {
        igw_queue_set_listener(s->q, on_event, s);
    }
    return rv;
}

int
igw_sp_in_start(igw_sp_in **out, const struct igw_config *cfg, igw_queue *q, igw_deliverer *d,
                igw_maps *maps, char *errbuf, size_t errlen)
{
    struct igw_sp_in *s = IGW_NEW(struct igw_sp_in);
    int rv = IGW_OK;

    if (s == NULL || nng_mtx_alloc(&s->mtx) != 0 || nng_cv_alloc(&s->cv, s->mtx) != 0) {
        igw_errbuf_set(errbuf, errlen, "out of memory");
        igw_sp_in_stop(s);
        return IGW_ENOMEM;
    }
    s->cfg = cfg;
    s->q = q;
    s->d = d;
    s->maps = maps;
    if (cfg->sp_listen != NULL) {
        rv = start_rep(s, errbuf, errlen);
    }
    if (rv == IGW_OK && cfg->pub_listen != NULL) {
        rv = start_pub(s, errbuf, errlen);
    }
    if (rv != IGW_OK) {
        igw_sp_in_stop(s);
        return rv;
    }
    *out = s;
    return IGW_OK;
}

void
igw_sp_in_drain(igw_sp_in *s, unsigned timeout_ms)
{
    nng_time deadline = nng_clock() + timeout_ms;

    if (s == NULL) {
        return;
    }
    nng_mtx_lock(s->mtx);
    s->closing = true;
    while (s->busy > 0 && nng_clock() < deadline) {
        nng_cv_until(s->cv, deadline);
    }
    nng_mtx_unlock(s->mtx);
}

static void
stop_workers(struct igw_sp_in *s)
{
    if (s->rep_open) {
        nng_close(s->rep); /* pending receives and sends finish with NNG_ECLOSED */
    }
    nng_mtx_lock(s->mtx);
    while (s->busy > 0) { /* a worker waiting for a commit: the queue is still open */
        nng_cv_wait(s->cv);
    }
    nng_mtx_unlock(s->mtx);
    for (unsigned i = 0; i < SP_WORKERS; i++) {
        if (s->w[i].aio != NULL) {
            nng_aio_stop(s->w[i].aio);
            nng_aio_free(s->w[i].aio);
        }
        worker_release(&s->w[i]);
    }
}

void
igw_sp_in_stop(igw_sp_in *s)
{
    if (s == NULL) {
        return;
    }
    if (s->mtx != NULL && s->cv != NULL) {
        s->closing = true;
        stop_workers(s);
    }
    if (s->pub_open) {
        nng_close(s->pub);
    }
    if (s->cv != NULL) {
        nng_cv_free(s->cv);
    }
    if (s->mtx != NULL) {
        nng_mtx_free(s->mtx);
    }
    igw_free(s);
}
