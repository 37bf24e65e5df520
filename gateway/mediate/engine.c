/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mediation engine (mediate/mediate.h): requests in, the channel's mediator decides, the
 * engine thread runs the upstream calls (engine_call.c) on one libcurl multi loop, answers go
 * back through the intake's callback. Answers that need no call (a cache hit, a limit, a
 * mediator answering at once) are given on the submitting nng thread.
 */
#include <string.h>

#include "igw/common.h"
#include "igw/log.h"
#include "core/ingest.h"
#include "http/server.h"
#include "http/status.h"
#include "mediate/engine_int.h"

#define POLL_MAX_MS 200

/* ---- requests ----------------------------------------------------------------------------- */

static void
mreq_free(struct mreq *r)
{
    struct chan *cs = r->cs;

    if (r->m.state != NULL && r->rq.ch->mediator_ops->fini != NULL) {
        r->rq.ch->mediator_ops->fini(&r->m);
    }
    igw_buf_fini(&r->m.answer.body);
    igw_buf_fini(&r->rbody);
    igw_buf_fini(&r->rhdrs);
    igw_buf_fini(&r->key);
    curl_slist_free_all(r->hdrs);
    igw_free(r->url);
    igw_maps_unhold(r->mref);
    igw_arena_free(r->m.arena);
    igw_free(r);
    atomic_fetch_sub(&cs->inflight, 1);
}

/* Sends res (NULL: close) to the intake and frees r: r's borrowed request is the intake's
 * again from here. */
static void
answer(struct mreq *r, nng_http_res *res)
{
    void (*fn)(void *, nng_http_res *) = r->rq.answer;
    void *arg = r->rq.arg;

    mreq_free(r);
    fn(arg, res);
}

/* answer() for the hot path: the answer goes out first, the line is logged after (the log
 * write and its formatting are not on the caller's time). The request is freed before, as in
 * answer(): its slot is free when the caller sees the answer. */
static void
answer_then_log(struct mreq *r, nng_http_res *res, unsigned status, const char *code, size_t bytes)
{
    char ch[256];
    unsigned calls = r->m.ncalls;

    snprintf(ch, sizeof(ch), "%s", r->rq.ch->name);
    answer(r, res);
    if (code != NULL) {
        IGW_INFO("mediate %u %s channel=%s calls=%u", status, code, ch, calls);
    } else {
        IGW_INFO("mediate %u channel=%s calls=%u bytes=%zu", status, ch, calls, bytes);
    }
}

static bool
is_head(const struct mreq *r)
{
    return strcmp(r->rq.method, "HEAD") == 0;
}

void
eng_fail(struct mreq *r, int err, const char *detail)
{
    struct igw_http_verdict v;
    struct igw_buf b;
    const char *ctype = "application/json";
    nng_http_res *res = NULL;

    igw_http_verdict_of(IGW_HTTP_MEDIATE, err, NULL, detail, &v);
    if (err == IGW_EAGAIN && r->retry_after[0] != '\0') {
        v.retry_after = r->retry_after;
    }
    igw_buf_init(&b, 64 * 1024);
    if (igw_http_error_body(r->rq.ch, &b, v.status, v.code, v.msg, &ctype) == IGW_OK) {
        res = igw_http_res_new(v.status, ctype, b.ptr != NULL ? b.ptr : "", b.len);
    }
    if (res != NULL) {
        (void)igw_http_res_hints(res, &v);
    }
    igw_buf_fini(&b);
    answer_then_log(r, res, v.status, v.code, 0);
}

static int
set_header(nng_http_res *res, const char *name, const char *value)
{
    return value != NULL ? nng_http_res_set_header(res, name, value) : 0;
}

static const char *
default_ctype(const struct igw_channel *ch)
{
    if (ch->mediate_content_type != NULL) {
        return ch->mediate_content_type;
    }
    return ch->dialect != NULL && strcmp(ch->dialect, "fhir") == 0 ? "application/fhir+json"
                                                                   : "application/json";
}

static void
cache_store(struct mreq *r, const char *ctype)
{
    const struct igw_med_answer *a = &r->m.answer;
    struct igw_mcache_val v = {a->status,        ctype,       a->etag,
                               a->last_modified, a->body.ptr, a->body.len};

    if (r->cs->cache != NULL && r->key.len > 0 && a->cacheable && a->status == 200) {
        (void)igw_mcache_put(r->cs->cache, r->key.ptr, r->key.len, r->cache_tag, igw_mono_ms(), &v);
    }
}

/* Answers with what the mediator put in m->answer. */
static void
answer_mediated(struct mreq *r)
{
    struct igw_med_answer *a = &r->m.answer;
    const char *ctype = a->content_type != NULL ? a->content_type : default_ctype(r->rq.ch);
    nng_http_res *res;
    int rv = 0;

    cache_store(r, ctype);
    res = igw_http_res_new((uint16_t)a->status, ctype, a->body.ptr != NULL ? a->body.ptr : "",
                           a->no_body ? 0 : a->body.len);
    if (res != NULL) {
        rv |= set_header(res, "ETag", a->etag);
        rv |= set_header(res, "Last-Modified", a->last_modified);
        rv |= set_header(res, "Location", a->location);
        rv |= set_header(res, "X-Igw-Cache", r->key.len > 0 ? "miss" : NULL);
        for (size_t i = 0; i < IGW_MED_HEADERS_MAX && a->headers[i].name != NULL; i++) {
            rv |= set_header(res, a->headers[i].name, a->headers[i].value);
        }
    }
    if (res != NULL && rv != 0) {
        nng_http_res_free(res);
        res = NULL;
    }
    answer_then_log(r, res, (unsigned)a->status, NULL, a->body.len);
}

static void
commit(struct mreq *r)
{
    void (*fn)(void *, const char *, const char *, char *, size_t) = r->rq.commit;
    void *arg = r->rq.arg;
    char *body = NULL;
    size_t len = r->m.commit.body_len;
    const char *method = r->m.commit.method;
    char ctype[128] = "";

    if (r->m.commit.body != NULL) {
        body = igw_malloc(len + 1);
        if (body == NULL) {
            eng_fail(r, IGW_ENOMEM, NULL);
            return;
        }
        memcpy(body, r->m.commit.body, len);
        body[len] = '\0';
    }
    method = method != NULL ? method : r->rq.method;
    /* static method names only cross: the arena goes with r */
    method = strcmp(method, "PUT") == 0      ? "PUT"
             : strcmp(method, "PATCH") == 0  ? "PATCH"
             : strcmp(method, "DELETE") == 0 ? "DELETE"
                                             : "POST";
    if (r->m.commit.content_type != NULL) {
        snprintf(ctype, sizeof(ctype), "%s", r->m.commit.content_type);
    }
    mreq_free(r);
    fn(arg, method, ctype[0] != '\0' ? ctype : NULL, body, len);
}

static void
push_incoming(igw_mediate *e, struct mreq *r)
{
    bool closing;
    bool first;

    pthread_mutex_lock(&e->mtx);
    closing = atomic_load(&e->closing);
    first = e->in_head == NULL;
    if (!closing) {
        r->next = NULL;
        if (e->in_tail != NULL) {
            e->in_tail->next = r;
        } else {
            e->in_head = r;
        }
        e->in_tail = r;
    }
    pthread_mutex_unlock(&e->mtx);
    if (closing) {
        eng_fail(r, IGW_ECLOSED, NULL);
        return;
    }
    if (first) {
        /* a list that was not empty has its wakeup pending: one per batch, not per request */
        (void)curl_multi_wakeup(e->multi);
    }
}

/* A decision taken on the submitting thread (after start). */
static void
dispatch_first(struct mreq *r, int rv)
{
    if (rv == IGW_MED_CALL) {
        push_incoming(r->e, r);
        return;
    }
    eng_dispatch(r, rv);
}

void
eng_dispatch(struct mreq *r, int rv)
{
    if (rv == IGW_MED_CALL) {
        if (r->m.ncalls >= r->rq.ch->mediate_max_calls) {
            eng_fail(r, IGW_EIO, "the mediation needed more upstream calls than allowed");
            return;
        }
        eng_call_queue(r->e, r);
        return;
    }
    if (rv == IGW_MED_ANSWER) {
        answer_mediated(r);
        return;
    }
    if (rv == IGW_MED_COMMIT) {
        commit(r);
        return;
    }
    eng_fail(r, rv < 0 ? -rv : IGW_EINTERNAL, r->m.err[0] != '\0' ? r->m.err : NULL);
}

/* ---- cache hits --------------------------------------------------------------------------- */

struct hit {
    nng_http_res *res;
};

static void
hit_cb(void *arg, const struct igw_mcache_val *v)
{
    struct hit *h = arg;
    nng_http_res *res =
        igw_http_res_new((uint16_t)v->status, v->content_type, v->body, v->body_len);
    int rv = 0;

    if (res != NULL) {
        rv |= set_header(res, "ETag", v->etag);
        rv |= set_header(res, "Last-Modified", v->last_modified);
        rv |= set_header(res, "X-Igw-Cache", "hit");
    }
    if (res != NULL && rv != 0) {
        nng_http_res_free(res);
        res = NULL;
    }
    h->res = res;
}

/* true when r was answered from the cache (r is freed then). */
static bool
cache_lookup(struct mreq *r)
{
    const struct igw_mediate_req *rq = &r->rq;
    const char *accept = rq->header != NULL ? rq->header(rq->header_arg, "Accept") : NULL;
    struct hit h = {NULL};

    if (r->cs->cache == NULL || (strcmp(rq->method, "GET") != 0 && !is_head(r))) {
        return false;
    }
    igw_buf_init(&r->key, 8192);
    if (igw_med_cache_key(&r->key, rq->ch->name, rq->method, rq->target, accept) != IGW_OK) {
        igw_buf_fini(&r->key); /* too many parameters, or too long: not cached */
        return false;
    }
    if (!igw_mcache_get(r->cs->cache, r->key.ptr, r->key.len, igw_mono_ms(), hit_cb, &h)) {
        return false;
    }
    IGW_INFO("mediate hit channel=%s", rq->ch->name);
    answer(r, h.res);
    return true;
}

/* ---- submit ------------------------------------------------------------------------------- */

static void
refuse_now(const struct igw_mediate_req *rq, int err)
{
    struct igw_http_verdict v;
    struct igw_buf b;
    const char *ctype = "application/json";
    nng_http_res *res = NULL;

    igw_http_verdict_of(IGW_HTTP_MEDIATE, err, NULL, NULL, &v);
    igw_buf_init(&b, 64 * 1024);
    if (igw_http_error_body(rq->ch, &b, v.status, v.code, v.msg, &ctype) == IGW_OK) {
        res = igw_http_res_new(v.status, ctype, b.ptr != NULL ? b.ptr : "", b.len);
    }
    if (res != NULL) {
        (void)igw_http_res_hints(res, &v);
    }
    igw_buf_fini(&b);
    IGW_INFO("mediate %u %s channel=%s", v.status, v.code, rq->ch->name);
    rq->answer(rq->arg, res);
}

static int
mreq_init(struct mreq *r, igw_mediate *e, const struct igw_mediate_req *rq)
{
    struct igw_med *m = &r->m;

    r->e = e;
    r->rq = *rq;
    r->deadline_ms = igw_mono_ms() + rq->ch->mediate_timeout_ms;
    igw_buf_init(&r->rbody, MED_BODY_MAX);
    igw_buf_init(&r->rhdrs, 64 * 1024);
    igw_buf_init(&m->answer.body, MED_BODY_MAX);
    m->ch = rq->ch;
    m->cfg = e->cfg;
    m->chstate = rq->ch->mediator_state;
    m->queue = e->q;
    m->method = rq->method;
    m->target = rq->target;
    m->pm = rq->pm;
    m->header = rq->header;
    m->header_arg = rq->header_arg;
    m->internal = rq->internal;
    m->body = rq->body != NULL ? rq->body : "";
    m->body_len = rq->body_len;
    m->maps = igw_maps_hold(e->maps, &r->mref);
    return igw_arena_new(&m->arena, 64u << 20);
}

void
igw_mediate_set_queue(igw_mediate *e, igw_queue *q)
{
    if (e != NULL) {
        e->q = q;
    }
}

void
igw_mediate_submit(igw_mediate *e, const struct igw_mediate_req *rq)
{
    struct chan *cs = &e->chans[rq->ch - e->cfg->channels];
    struct mreq *r;
    int rv;

    if (atomic_load(&e->closing)) {
        refuse_now(rq, IGW_ECLOSED);
        return;
    }
    if (atomic_fetch_add(&cs->inflight, 1) >= rq->ch->mediate_max_inflight) {
        atomic_fetch_sub(&cs->inflight, 1);
        refuse_now(rq, IGW_EAGAIN);
        return;
    }
    r = IGW_NEW(struct mreq);
    if (r == NULL) {
        atomic_fetch_sub(&cs->inflight, 1);
        refuse_now(rq, IGW_ENOMEM);
        return;
    }
    r->cs = cs;
    rv = mreq_init(r, e, rq);
    if (rv != IGW_OK) {
        eng_fail(r, rv, NULL);
        return;
    }
    if (cache_lookup(r)) {
        return;
    }
    dispatch_first(r, rq->ch->mediator_ops->start(&r->m));
}

void
igw_mediate_invalidate(igw_mediate *e, const char *tag)
{
    unsigned n = 0;

    if (e == NULL || tag == NULL) {
        return;
    }
    for (size_t i = 0; i < e->cfg->nchannels; i++) {
        n += igw_mcache_invalidate(e->chans[i].cache, tag);
    }
    if (n > 0) {
        IGW_DEBUG("mediate cache: %u answers of %s dropped", n, tag);
    }
}

/* ---- the thread --------------------------------------------------------------------------- */

static void
take_incoming(igw_mediate *e)
{
    struct mreq *r;

    pthread_mutex_lock(&e->mtx);
    r = e->in_head;
    e->in_head = e->in_tail = NULL;
    pthread_mutex_unlock(&e->mtx);
    while (r != NULL) {
        struct mreq *next = r->next;
        r->next = NULL;
        eng_call_queue(e, r);
        r = next;
    }
}

static void
read_done(igw_mediate *e)
{
    CURLMsg *msg;
    int left = 0;

    while ((msg = curl_multi_info_read(e->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            CURL *easy = msg->easy_handle;
            CURLcode rc = msg->data.result;
            curl_multi_remove_handle(e->multi, easy);
            eng_transfer_done(e, easy, rc);
        }
    }
}

static void *
run(void *arg)
{
    igw_mediate *e = arg;
    int running = 0;

    while (!atomic_load(&e->closing)) {
        uint64_t now = igw_mono_ms();
        uint64_t next;
        int wait;

        take_incoming(e);
        eng_pump(e, now);
        (void)curl_multi_perform(e->multi, &running);
        read_done(e);
        eng_pump(e, igw_mono_ms());
        next = eng_next_deadline(e);
        now = igw_mono_ms();
        wait = next <= now ? 0 : next - now < POLL_MAX_MS ? (int)(next - now) : POLL_MAX_MS;
        (void)curl_multi_poll(e->multi, NULL, 0, wait, NULL);
    }
    pthread_mutex_lock(&e->mtx);
    pthread_mutex_unlock(&e->mtx);
    take_incoming(e);
    eng_abort_all(e, IGW_ECLOSED);
    return NULL;
}

/* ---- start and stop ----------------------------------------------------------------------- */

static bool
any_mediating(const struct igw_config *cfg)
{
    for (size_t i = 0; i < cfg->nchannels; i++) {
        if (cfg->channels[i].mediator_ops != NULL) {
            return true;
        }
    }
    return false;
}

static int
init_state(igw_mediate *e)
{
    const struct igw_config *cfg = e->cfg;

    e->chans = igw_calloc(cfg->nchannels + 1, sizeof(*e->chans));
    e->ups = igw_calloc(cfg->nupstreams + 1, sizeof(*e->ups));
    if (e->chans == NULL || e->ups == NULL) {
        return IGW_ENOMEM;
    }
    for (size_t i = 0; i < cfg->nchannels; i++) {
        const struct igw_channel *ch = &cfg->channels[i];
        atomic_init(&e->chans[i].inflight, 0);
        if (ch->mediator_ops != NULL && ch->cache_ttl_ms > 0 &&
            igw_mcache_new(&e->chans[i].cache, ch->cache_max_entries, ch->cache_max_bytes,
                           ch->cache_ttl_ms) != IGW_OK) {
            return IGW_ENOMEM;
        }
    }
    for (size_t i = 0; i < cfg->nupstreams; i++) {
        struct up *u = &e->ups[i];
        u->cfg = &cfg->upstreams[i];
        igw_bucket_init(&u->bucket, u->cfg->rate_per_minute, u->cfg->rate_burst, igw_mono_ms());
        igw_buf_init(&u->login_req, 64 * 1024);
        igw_buf_init(&u->login_resp, 1u << 20);
    }
    return IGW_OK;
}

int
igw_mediate_start(igw_mediate **out, const struct igw_config *cfg, igw_maps *maps, char *errbuf,
                  size_t errlen)
{
    igw_mediate *e = IGW_NEW(igw_mediate);
    int rv;

    if (e == NULL) {
        return IGW_ENOMEM;
    }
    e->cfg = cfg;
    e->maps = maps;
    pthread_mutex_init(&e->mtx, NULL);
    atomic_init(&e->closing, false);
    rv = init_state(e);
    if (rv == IGW_OK && any_mediating(cfg)) {
        e->multi = curl_multi_init();
        rv = e->multi == NULL ? IGW_EIO : IGW_OK;
        if (rv == IGW_OK && pthread_create(&e->thr, NULL, run, e) != 0) {
            rv = IGW_EIO;
        }
        e->running = rv == IGW_OK;
    }
    if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "mediation engine: %s", igw_strerror(rv));
        igw_mediate_free(e);
        return rv;
    }
    *out = e;
    return IGW_OK;
}

void
igw_mediate_stop(igw_mediate *e)
{
    if (e == NULL) {
        return;
    }
    pthread_mutex_lock(&e->mtx);
    atomic_store(&e->closing, true);
    pthread_mutex_unlock(&e->mtx);
    if (e->running) {
        (void)curl_multi_wakeup(e->multi);
        pthread_join(e->thr, NULL);
        e->running = false;
    }
}

void
igw_mediate_free(igw_mediate *e)
{
    if (e == NULL) {
        return;
    }
    igw_mediate_stop(e);
    for (size_t i = 0; e->chans != NULL && i < e->cfg->nchannels; i++) {
        igw_mcache_free(e->chans[i].cache);
    }
    for (size_t i = 0; e->ups != NULL && i < e->cfg->nupstreams; i++) {
        eng_up_fini(&e->ups[i]);
    }
    if (e->multi != NULL) {
        curl_multi_cleanup(e->multi);
    }
    igw_free(e->chans);
    igw_free(e->ups);
    pthread_mutex_destroy(&e->mtx);
    igw_free(e);
}
