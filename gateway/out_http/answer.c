/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out_http, a route's answer_from (docs/DCI.md, "Asynchronous search"): each payload is first
 * answered by the mediator of the channel answer_from names (dci-search: the search run over
 * openIMIS), through the mediation engine (mediate/mediate.h, igw_mediate_submit_current) with
 * that channel's upstream, limits and timeout, and the answer is what the route then sends.
 * The mediation runs on the engine's thread; its answer comes back through a ticket that
 * collect picks up. Every failure of the mediation is an attempt's failure: retried with the
 * route's backoff (5xx, 408, 429, the engine not running) or dead-lettered (other statuses),
 * so an ACKed request is never lost when its upstream is down.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "igw/common.h"
#include "delivery/retry.h"
#include "mediate/mediate.h"
#include "out_http/http_int.h"

static void
ticket_free(struct http_ticket *t)
{
    igw_free(t->payload);
    igw_free(t->answer);
    igw_free(t);
}

/* The mediation engine's answer (its thread, or the delivery thread when it answers at once). */
static void
ticket_answer(void *arg, nng_http_res *res)
{
    struct http_ticket *t = arg;
    struct http_engine *eng = t->eng;
    bool orphan;

    if (res != NULL) {
        void *p = NULL;
        size_t n = 0;
        const char *ra = nng_http_res_get_header(res, "Retry-After");
        nng_http_res_get_data(res, &p, &n);
        t->answer = igw_malloc(n + 1);
        if (t->answer != NULL) {
            if (n > 0) {
                memcpy(t->answer, p, n);
            }
            t->answer[n] = '\0';
            t->alen = n;
            t->status = (int)nng_http_res_get_status(res);
        }
        if (ra != NULL && strlen(ra) < sizeof(t->retry_after)) {
            snprintf(t->retry_after, sizeof(t->retry_after), "%s", ra);
        }
        nng_http_res_free(res);
    }
    pthread_mutex_lock(&eng->mtx);
    orphan = t->dl == NULL;
    if (!orphan) {
        t->next = eng->done;
        eng->done = t;
    }
    pthread_mutex_unlock(&eng->mtx);
    if (orphan) {
        ticket_free(t);
    } else {
        igw_deliverer_wakeup(eng->d);
    }
}

/* A mediator that commits is refused by the config (answer_from); never reached. */
static void
ticket_commit(void *arg, const char *method, const char *content_type, char *body, size_t len)
{
    IGW_UNUSED(method);
    IGW_UNUSED(content_type);
    IGW_UNUSED(len);
    igw_free(body);
    ticket_answer(arg, NULL);
}

/* An answered ticket: the answer is sent (2xx), or the attempt failed. */
static void
ticket_done(struct http_ticket *t)
{
    struct igw_dlv *dl = t->dl;
    struct http_dlv *h = igw_dlv_state(dl);
    const char *ch = igw_dlv_route(dl)->answer_from;
    char what[IGW_DLV_ERROR_MAX];
    uint64_t ms = 0;

    h->ticket = NULL;
    if (t->status >= 200 && t->status < 300) {
        igw_buf_fini(&h->body);
        igw_buf_init(&h->body, HTTP_BODY_MAX);
        if (igw_buf_append(&h->body, t->answer, t->alen) != IGW_OK) {
            igw_dlv_finish_transient(dl, 0, "answer_from: out of memory");
            return;
        }
        h->has_body = true;
        http_send(dl, true);
        return;
    }
    snprintf(what, sizeof(what), "answer_from %s: HTTP %d", ch, t->status);
    if (t->answer != NULL) {
        igw_dlv_keep_response(dl, t->answer, t->alen);
    }
    if (t->status == 0 || t->status >= 500 || t->status == 408 || t->status == 429) {
        bool has = t->retry_after[0] != '\0' &&
                   igw_retry_after_parse(t->retry_after, igw_now_ms(), &ms) == IGW_OK;
        igw_dlv_retry_after(dl, has, ms);
        /* the mediator's upstream failed, not the destination: the breaker is not moved */
        igw_dlv_finish_transient_health(dl, t->status, what, IGW_DLV_HEALTH_NONE);
        return;
    }
    igw_dlv_finish_fail(dl, t->status, what, IGW_DLV_HEALTH_NONE);
}

void
http_tickets_collect(void *ectx)
{
    struct http_engine *eng = ectx;
    struct http_ticket *t;

    if (eng == NULL) {
        return;
    }
    pthread_mutex_lock(&eng->mtx);
    t = eng->done;
    eng->done = NULL;
    pthread_mutex_unlock(&eng->mtx);
    while (t != NULL) {
        struct http_ticket *next = t->next;
        if (t->dl != NULL) { /* only abort (this thread) orphans a ticket */
            ticket_done(t);
        }
        ticket_free(t);
        t = next;
    }
}

int
http_engine_init(igw_deliverer *d, void **ectx)
{
    struct http_engine *eng = IGW_NEW(struct http_engine);

    if (eng == NULL) {
        return IGW_ENOMEM;
    }
    if (pthread_mutex_init(&eng->mtx, NULL) != 0) {
        igw_free(eng);
        return IGW_ENOMEM;
    }
    eng->d = d;
    *ectx = eng;
    return IGW_OK;
}

/* After every delivery was released; the mediation engine stopped before the deliverer, so no
 * answer can arrive any more. */
void
http_engine_fini(void *ectx)
{
    struct http_engine *eng = ectx;

    if (eng == NULL) {
        return;
    }
    while (eng->done != NULL) {
        struct http_ticket *t = eng->done;
        eng->done = t->next;
        ticket_free(t);
    }
    pthread_mutex_destroy(&eng->mtx);
    igw_free(eng);
}

/* The synthetic request's headers: only X-Igw-Message-Id, the message's queue id (the
 * correlation_id its ACK gave, which the answer carries). */
static const char *
ticket_header(void *arg, const char *name)
{
    struct http_ticket *t = arg;
    return strcasecmp(name, "X-Igw-Message-Id") == 0 ? t->qid : NULL;
}

void
http_answer_start(struct igw_dlv *dl)
{
    const struct igw_route *r = igw_dlv_route(dl);
    const struct igw_buf *pl = &igw_dlv_claim(dl)->payload;
    struct http_dlv *h = igw_dlv_state(dl);
    struct http_ticket *t;
    struct igw_mediate_req rq;

    t = IGW_NEW(struct http_ticket);
    if (t != NULL) {
        t->payload = igw_malloc(pl->len + 1);
    }
    if (t == NULL || t->payload == NULL) {
        igw_free(t);
        igw_dlv_finish_released(dl, igw_now_ms() + 1000);
        return;
    }
    if (pl->len > 0) {
        memcpy(t->payload, pl->ptr, pl->len);
    }
    t->payload[pl->len] = '\0';
    t->len = pl->len;
    t->eng =
        igw_dlv_route_ctx(dl) != NULL ? ((struct http_route *)igw_dlv_route_ctx(dl))->eng : NULL;
    t->dl = dl;
    igw_queue_id_format(igw_dlv_claim(dl)->id, t->qid);
    h->ticket = t;
    rq = (struct igw_mediate_req){.ch = r->answer_ch,
                                  .method = "POST",
                                  .target = r->answer_ch->path,
                                  .header = ticket_header,
                                  .header_arg = t,
                                  .body = t->payload,
                                  .body_len = t->len,
                                  .answer = ticket_answer,
                                  .commit = ticket_commit,
                                  .arg = t,
                                  .internal = true};
    igw_dlv_active_add(dl); /* the answer may come before submit returns: collect takes it */
    if (t->eng == NULL || igw_mediate_submit_current(&rq) != IGW_OK) {
        h->ticket = NULL;
        ticket_free(t);
        igw_dlv_finish_transient_health(dl, 0, "answer_from: the mediation engine is not running",
                                        IGW_DLV_HEALTH_NONE);
    }
}

void
http_ticket_orphan(struct http_route *rs, struct http_dlv *h)
{
    if (h->ticket == NULL || rs->eng == NULL) {
        return;
    }
    pthread_mutex_lock(&rs->eng->mtx);
    h->ticket->dl = NULL; /* freed by its answer, or by collect when answered already */
    pthread_mutex_unlock(&rs->eng->mtx);
    h->ticket = NULL;
}
