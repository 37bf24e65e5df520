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
 * delivery on this output's completion list and wakes the engine's loop; its collect finishes it.
 * The message is the payload as is (no igw headers: nng has no place for them).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/req.h>

#include "igw/common.h"
#include "igw/log.h"
#include "delivery/output.h"
#include "out_nng/nng_conf.h"

#define NNG_DEFAULT_TIMEOUT_MS 10000

enum nng_phase { NNG_PHASE_SEND = 0, NNG_PHASE_RECV };

/* Engine-wide: the completion list the aio callbacks (nng threads) fill under mtx. */
struct nng_engine {
    igw_deliverer *d;
    pthread_mutex_t mtx;
    struct igw_dlv *head;
    struct igw_dlv *tail;
};

/* The route's context: the socket, opened and dialled on first use. */
struct nng_route {
    const struct igw_route *cfg;
    struct nng_engine *eng;
    nng_socket sock;
    bool sock_open;
};

/* Per-delivery state. */
struct nng_dlv {
    struct igw_dlv *next; /* completion list (under eng->mtx) */
    nng_aio *aio;
    nng_ctx ctx;
    bool ctx_open;
    enum nng_phase phase;
    uint64_t deadline; /* igw_mono_ms */
    int rv;
    bool err_reply;
};

static struct nng_dlv *
st(struct igw_dlv *dl)
{
    return igw_dlv_state(dl);
}

static uint64_t
route_timeout_ms(const struct nng_route *rs)
{
    return rs->cfg->timeout_ms != 0 ? rs->cfg->timeout_ms : NNG_DEFAULT_TIMEOUT_MS;
}

/* The part of the route's timeout left for the current phase (send, then reply). */
static void
set_timeout(struct nng_dlv *n)
{
    uint64_t now = igw_mono_ms();
    uint64_t left = n->deadline > now ? n->deadline - now : 1;
    nng_aio_set_timeout(n->aio, left > INT32_MAX ? INT32_MAX : (nng_duration)left);
}

static bool
is_req(const struct nng_route *rs)
{
    return rs->cfg->nng_mode == IGW_NNG_REQ;
}

static int
sock_open(struct nng_route *rs)
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
post(struct igw_dlv *dl, int rv)
{
    struct nng_route *rs = igw_dlv_route_ctx(dl);
    struct nng_engine *e = rs->eng;
    struct nng_dlv *n = st(dl);

    pthread_mutex_lock(&e->mtx);
    n->rv = rv;
    n->next = NULL;
    if (e->tail == NULL) {
        e->head = dl;
    } else {
        st(e->tail)->next = dl;
    }
    e->tail = dl;
    pthread_mutex_unlock(&e->mtx);
    igw_deliverer_wakeup(e->d);
}

static void
on_reply(struct igw_dlv *dl, struct nng_dlv *n)
{
    nng_msg *m = nng_aio_get_msg(n->aio);
    size_t len;
    const char *body;

    if (m == NULL) {
        return;
    }
    body = nng_msg_body(m);
    len = nng_msg_len(m);
    n->err_reply = len >= 3 && memcmp(body, "ERR", 3) == 0;
    igw_dlv_keep_response(dl, body, len);
    nng_msg_free(m);
}

static void
on_aio(void *arg)
{
    struct igw_dlv *dl = arg;
    struct nng_dlv *n = st(dl);
    int rv = nng_aio_result(n->aio);

    if (n->phase == NNG_PHASE_RECV) {
        if (rv == 0) {
            on_reply(dl, n);
        }
        post(dl, rv);
        return;
    }
    if (rv != 0) {
        nng_msg *m = nng_aio_get_msg(n->aio);
        if (m != NULL) {
            nng_msg_free(m);
        }
        post(dl, rv);
        return;
    }
    if (!is_req(igw_dlv_route_ctx(dl))) {
        post(dl, 0);
        return;
    }
    n->phase = NNG_PHASE_RECV;
    set_timeout(n);
    nng_ctx_recv(n->ctx, n->aio);
}

/* ---- start / collect ---------------------------------------------------------------------- */

static int
prepare(struct igw_dlv *dl, struct nng_dlv *n)
{
    struct nng_route *rs = igw_dlv_route_ctx(dl);
    const struct igw_buf *pl = &igw_dlv_claim(dl)->payload;
    nng_msg *m = NULL;
    int rv = sock_open(rs);

    if (rv == 0) {
        rv = nng_aio_alloc(&n->aio, on_aio, dl);
    }
    if (rv == 0 && is_req(rs)) {
        rv = nng_ctx_open(&n->ctx, rs->sock);
        n->ctx_open = rv == 0;
    }
    if (rv == 0) {
        rv = nng_msg_alloc(&m, 0);
    }
    if (rv == 0 && pl->len > 0) {
        rv = nng_msg_append(m, pl->ptr, pl->len);
    }
    if (rv != 0) {
        if (m != NULL) {
            nng_msg_free(m);
        }
        return rv;
    }
    n->phase = NNG_PHASE_SEND;
    n->deadline = igw_mono_ms() + route_timeout_ms(rs);
    nng_aio_set_msg(n->aio, m);
    set_timeout(n);
    return 0;
}

/* Starts an nng push0/req0 send for dl; on failure finishes dl itself. */
static void
nng_out_start(struct igw_dlv *dl)
{
    struct nng_dlv *n = st(dl);
    char what[IGW_DLV_ERROR_MAX];
    int rv = prepare(dl, n);

    if (rv != 0) {
        snprintf(what, sizeof(what), "nng: %s", nng_strerror(rv));
        igw_dlv_finish_transient(dl, 0, what);
        return;
    }
    igw_dlv_active_add(dl);
    if (n->ctx_open) {
        nng_ctx_send(n->ctx, n->aio);
    } else {
        nng_send_aio(((struct nng_route *)igw_dlv_route_ctx(dl))->sock, n->aio);
    }
}

static void
finish(struct nng_engine *e, struct igw_dlv *dl)
{
    char what[IGW_DLV_ERROR_MAX];
    struct nng_dlv *n = st(dl);
    int rv = n->rv;

    if (rv == NNG_ECANCELED && igw_deliverer_stopping(e->d)) {
        igw_dlv_finish_released(dl, igw_now_ms());
    } else if (rv == 0 && !n->err_reply) {
        igw_dlv_finish_ok(dl);
    } else if (rv == 0) {
        igw_dlv_finish_transient(dl, 0, "nng: ERR reply");
    } else if (rv == NNG_ETIMEDOUT) {
        igw_dlv_finish_transient(dl, 0, "timeout");
    } else {
        snprintf(what, sizeof(what), "nng: %s", nng_strerror(rv));
        igw_dlv_finish_transient(dl, 0, what);
    }
}

/* Finishes deliveries whose nng operations completed (posted by callbacks). */
static void
nng_out_collect(igw_deliverer *d, void *ectx)
{
    struct nng_engine *e = ectx;
    struct igw_dlv *dl;

    IGW_UNUSED(d);
    pthread_mutex_lock(&e->mtx);
    dl = e->head;
    e->head = NULL;
    e->tail = NULL;
    pthread_mutex_unlock(&e->mtx);
    while (dl != NULL) {
        struct igw_dlv *next = st(dl)->next;
        finish(e, dl);
        dl = next;
    }
}

/* Stops dl's nng operation (waits for its callback, which posts it); collect then sees it. */
static void
nng_out_abort(struct igw_dlv *dl)
{
    struct nng_dlv *n = st(dl);

    if (n->aio != NULL) {
        nng_aio_stop(n->aio);
    }
}

/* Frees dl's aio and context. */
static void
nng_out_release(struct igw_dlv *dl)
{
    struct nng_dlv *n = st(dl);

    if (n->aio != NULL) {
        nng_aio_free(n->aio);
        n->aio = NULL;
    }
    if (n->ctx_open) {
        nng_ctx_close(n->ctx);
        n->ctx_open = false;
    }
}

/* ---- engine and routes -------------------------------------------------------------------- */

static int
nng_out_engine_init(igw_deliverer *d, void **ectx)
{
    struct nng_engine *e = IGW_NEW(struct nng_engine);

    if (e == NULL) {
        return IGW_ENOMEM;
    }
    e->d = d;
    pthread_mutex_init(&e->mtx, NULL);
    *ectx = e;
    return IGW_OK;
}

static void
nng_out_engine_fini(void *ectx)
{
    struct nng_engine *e = ectx;

    if (e != NULL) {
        pthread_mutex_destroy(&e->mtx);
        igw_free(e);
    }
}

static int
nng_out_route_init(const struct igw_output_route *r, void **rctx)
{
    struct nng_route *rs = IGW_NEW(struct nng_route);

    if (rs == NULL) {
        return IGW_ENOMEM;
    }
    rs->cfg = r->cfg;
    rs->eng = r->engine_ctx;
    *rctx = rs;
    return IGW_OK;
}

static void
nng_out_route_fini(void *rctx)
{
    struct nng_route *rs = rctx;

    if (rs == NULL) {
        return;
    }
    if (rs->sock_open) {
        nng_close(rs->sock);
    }
    igw_free(rs);
}

static const struct igw_output_scheme nng_schemes[] = {{"tcp://", true}, {"ipc://", false}};

const struct igw_output_ops igw_output_nng = {
    .name = "nng",
    .description = "nng push0 or req0 sockets (tcp://, ipc://), nng 1.x",
    .schemes = nng_schemes,
    .nschemes = IGW_ARRAY_LEN(nng_schemes),
    .config_map = &igw_nng_config_map,
    .url_check = igw_nng_url_check,
    .dlv_size = sizeof(struct nng_dlv),
    .engine_init = nng_out_engine_init,
    .engine_fini = nng_out_engine_fini,
    .route_init = nng_out_route_init,
    .route_fini = nng_out_route_fini,
    .start = nng_out_start,
    .collect = nng_out_collect,
    .abort = nng_out_abort,
    .release = nng_out_release,
};
