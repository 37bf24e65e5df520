/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nng destinations (tcp://, ipc://), nng 1.x API.
 *
 *   push0 (default): OK when the socket accepted the message for sending (nng_send_aio
 *                    completes; with no connected puller it waits until the timeout).
 *   req0:            one context per delivery; OK when a reply arrives, unless the reply
 *                    starts with "ERR" (transient: retried). The reply (up to 4 KiB) is kept.
 *
 * The socket is opened and dialled (non-blocking, nng reconnects in the background) on first
 * use. Every operation runs on an nng aio with the route's timeout (send and reply together),
 * so the loop never blocks: the aio callback (an nng thread) only records the result, puts the
 * delivery on the engine's completion list and wakes curl_multi_poll; the loop finishes it.
 * The message is the payload as is (no igw headers: nng has no place for them).
 */
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/req.h>

#include "igw/common.h"
#include "igw/log.h"
#include "delivery/deliver_int.h"

#define NNG_DEFAULT_TIMEOUT_MS 10000

static uint64_t
route_timeout_ms(const struct route_state *rs)
{
    return rs->cfg->timeout_ms != 0 ? rs->cfg->timeout_ms : NNG_DEFAULT_TIMEOUT_MS;
}

/* The part of the route's timeout left for the current phase (send, then reply). */
static void
set_timeout(struct dlv *dl)
{
    uint64_t now = igw_mono_ms();
    uint64_t left = dl->deadline > now ? dl->deadline - now : 1;
    nng_aio_set_timeout(dl->aio, left > INT32_MAX ? INT32_MAX : (nng_duration)left);
}

static bool
is_req(const struct route_state *rs)
{
    return rs->cfg->nng_mode == IGW_NNG_REQ;
}

static int
sock_open(struct route_state *rs)
{
    int rv;

    if (rs->sock_open) {
        return 0;
    }
    rv = is_req(rs) ? nng_req0_open(&rs->sock) : nng_push0_open(&rs->sock);
    if (rv != 0) {
        return rv;
    }
    rv = nng_dial(rs->sock, rs->cfg->url, NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        nng_close(rs->sock);
        return rv;
    }
    rs->sock_open = true;
    return 0;
}

/* ---- callback (nng thread) ---------------------------------------------------------------- */

static void
post(struct dlv *dl, int rv)
{
    struct igw_deliverer *d = dl->owner;

    pthread_mutex_lock(&d->mtx);
    dl->nng_rv = rv;
    dl->posted = true;
    dl->next = NULL;
    if (d->async_tail == NULL) {
        d->async_head = dl;
    } else {
        d->async_tail->next = dl;
    }
    d->async_tail = dl;
    pthread_mutex_unlock(&d->mtx);
    (void)curl_multi_wakeup(d->multi);
}

static void
on_reply(struct dlv *dl)
{
    nng_msg *m = nng_aio_get_msg(dl->aio);
    size_t len;
    const char *body;

    if (m == NULL) {
        return;
    }
    body = nng_msg_body(m);
    len = nng_msg_len(m);
    dl->nng_err_reply = len >= 3 && memcmp(body, "ERR", 3) == 0;
    dlv_keep_response(dl, body, len);
    nng_msg_free(m);
}

static void
on_aio(void *arg)
{
    struct dlv *dl = arg;
    int rv = nng_aio_result(dl->aio);

    if (dl->phase == DLV_NNG_RECV) {
        if (rv == 0) {
            on_reply(dl);
        }
        post(dl, rv);
        return;
    }
    if (rv != 0) {
        nng_msg *m = nng_aio_get_msg(dl->aio);
        if (m != NULL) {
            nng_msg_free(m);
        }
        post(dl, rv);
        return;
    }
    if (!is_req(dl->rs)) {
        post(dl, 0);
        return;
    }
    dl->phase = DLV_NNG_RECV;
    set_timeout(dl);
    nng_ctx_recv(dl->ctx, dl->aio);
}

/* ---- start / collect ---------------------------------------------------------------------- */

static int
prepare(struct dlv *dl)
{
    struct route_state *rs = dl->rs;
    nng_msg *m = NULL;
    int rv = sock_open(rs);

    if (rv == 0) {
        rv = nng_aio_alloc(&dl->aio, on_aio, dl);
    }
    if (rv == 0 && is_req(rs)) {
        rv = nng_ctx_open(&dl->ctx, rs->sock);
        dl->ctx_open = rv == 0;
    }
    if (rv == 0) {
        rv = nng_msg_alloc(&m, 0);
    }
    if (rv == 0 && dl->claim.payload.len > 0) {
        rv = nng_msg_append(m, dl->claim.payload.ptr, dl->claim.payload.len);
    }
    if (rv != 0) {
        if (m != NULL) {
            nng_msg_free(m);
        }
        return rv;
    }
    dl->phase = DLV_NNG_SEND;
    dl->deadline = igw_mono_ms() + route_timeout_ms(rs);
    nng_aio_set_msg(dl->aio, m);
    set_timeout(dl);
    return 0;
}

void
dest_nng_start(struct igw_deliverer *d, struct dlv *dl)
{
    char what[DLV_ERROR_MAX];
    int rv = prepare(dl);

    if (rv != 0) {
        snprintf(what, sizeof(what), "nng: %s", nng_strerror(rv));
        dlv_finish_transient(d, dl, 0, what);
        return;
    }
    dlv_active_add(d, dl);
    if (dl->ctx_open) {
        nng_ctx_send(dl->ctx, dl->aio);
    } else {
        nng_send_aio(dl->rs->sock, dl->aio);
    }
}

static void
finish(struct igw_deliverer *d, struct dlv *dl)
{
    char what[DLV_ERROR_MAX];
    int rv = dl->nng_rv;

    if (rv == NNG_ECANCELED && atomic_load(&d->stopping)) {
        dlv_finish_released(d, dl, igw_now_ms());
    } else if (rv == 0 && !dl->nng_err_reply) {
        dlv_finish_ok(d, dl);
    } else if (rv == 0) {
        dlv_finish_transient(d, dl, 0, "nng: ERR reply");
    } else if (rv == NNG_ETIMEDOUT) {
        dlv_finish_transient(d, dl, 0, "timeout");
    } else {
        snprintf(what, sizeof(what), "nng: %s", nng_strerror(rv));
        dlv_finish_transient(d, dl, 0, what);
    }
}

void
dest_nng_collect(struct igw_deliverer *d)
{
    struct dlv *dl;

    pthread_mutex_lock(&d->mtx);
    dl = d->async_head;
    d->async_head = NULL;
    d->async_tail = NULL;
    pthread_mutex_unlock(&d->mtx);
    while (dl != NULL) {
        struct dlv *next = dl->next;
        finish(d, dl);
        dl = next;
    }
}

void
dest_nng_abort(struct dlv *dl)
{
    if (dl->aio != NULL) {
        nng_aio_stop(dl->aio);
    }
}

void
dest_nng_release(struct dlv *dl)
{
    if (dl->aio != NULL) {
        nng_aio_free(dl->aio);
        dl->aio = NULL;
    }
    if (dl->ctx_open) {
        nng_ctx_close(dl->ctx);
        dl->ctx_open = false;
    }
}

void
dest_nng_route_fini(struct route_state *rs)
{
    if (rs->sock_open) {
        nng_close(rs->sock);
        rs->sock_open = false;
    }
}
