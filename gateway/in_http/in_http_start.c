/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP intake: starting the server (with the connection guard in front), draining and stopping
 * (in_http.c is the request path). */
#include <stdatomic.h>
#include <string.h>
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "igw/common.h"
#include "igw/log.h"
#include "in_http/in_http_int.h"

/* ---- start and stop ----------------------------------------------------------------------- */

static int
start_server(struct igw_http_in *hi, char *errbuf, size_t errlen)
{
    const struct igw_config *cfg = hi->cfg;
    struct igw_guard_opts g = {.max_conns = cfg->http_max_conns,
                               .fd_share_pct = cfg->admin_listen != NULL ? 75 : 100,
                               .max_per_addr = cfg->http_max_per_addr,
                               .header_timeout_ms = cfg->http_header_timeout_ms,
                               .idle_timeout_ms = cfg->http_idle_timeout_ms,
                               .head_refusal = igw_in_http_head_refusal,
                               .head_refusal_arg = cfg};
    struct igw_http_server_opts o = {.listen = cfg->http_listen,
                                     .tls_cert = cfg->tls_cert,
                                     .tls_key = cfg->tls_key,
                                     .what = "http",
                                     .handle = igw_in_http_handle,
                                     .data = hi,
                                     .guard = cfg->http_guard ? &g : NULL};

    hi->guarded = igw_http_server_guarded(&o); /* before any handler can run */
    return igw_http_server_start(&hi->srv, &o, errbuf, errlen);
}

static void
pool_free(struct igw_http_in *hi)
{
    while (hi->pool != NULL) {
        struct request *r = hi->pool;
        hi->pool = r->pool_next;
        if (r->io != NULL) {
            nng_aio_free(r->io);
        }
        igw_free(r);
    }
    hi->npool = 0;
}

static void
free_hi(struct igw_http_in *hi)
{
    igw_http_server_free(hi->srv);
    igw_throttle_free(hi->thr);
    pool_free(hi);
    if (hi->pool_mtx != NULL) {
        nng_mtx_free(hi->pool_mtx);
    }
    if (hi->cv != NULL) {
        nng_cv_free(hi->cv);
    }
    if (hi->mtx != NULL) {
        nng_mtx_free(hi->mtx);
    }
    igw_free(hi);
}

int
igw_http_in_start(igw_http_in **out, const struct igw_config *cfg, igw_queue *q, igw_deliverer *d,
                  igw_maps *maps, igw_mediate *med, char *errbuf, size_t errlen)
{
    struct igw_http_in *hi = IGW_NEW(struct igw_http_in);
    int rv;

    if (hi == NULL || nng_mtx_alloc(&hi->mtx) != 0 || nng_cv_alloc(&hi->cv, hi->mtx) != 0 ||
        nng_mtx_alloc(&hi->pool_mtx) != 0) {
        igw_errbuf_set(errbuf, errlen, "out of memory");
        rv = IGW_ENOMEM;
        goto fail;
    }
    atomic_init(&hi->inflight, 0);
    atomic_init(&hi->closing, false);
    hi->cfg = cfg;
    hi->q = q;
    hi->d = d;
    hi->maps = maps;
    hi->med = med;
    rv = igw_throttle_new(&hi->thr, cfg->auth_fail_burst, cfg->auth_fail_per_minute,
                          cfg->auth_fail_addresses);
    if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "auth throttle: %s", igw_strerror(rv));
        goto fail;
    }
    rv = start_server(hi, errbuf, errlen);
    if (rv != IGW_OK) {
        goto fail;
    }
    *out = hi;
    return IGW_OK;
fail:
    if (hi != NULL) {
        free_hi(hi);
    }
    return rv;
}

void
igw_http_in_drain(igw_http_in *hi, unsigned timeout_ms)
{
    nng_time deadline = nng_clock() + timeout_ms;

    if (hi == NULL) {
        return;
    }
    nng_mtx_lock(hi->mtx);
    atomic_store(&hi->closing, true);
    while (atomic_load(&hi->inflight) > 0 && nng_clock() < deadline) {
        nng_cv_until(hi->cv, deadline);
    }
    nng_mtx_unlock(hi->mtx);
}

void
igw_http_in_stop(igw_http_in *hi)
{
    if (hi == NULL) {
        return;
    }
    atomic_store(&hi->closing, true);
    igw_http_server_stop(hi->srv);
    nng_mtx_lock(hi->mtx);
    while (atomic_load(&hi->inflight) > 0) {
        nng_cv_wait(hi->cv);
    }
    nng_mtx_unlock(hi->mtx);
    free_hi(hi);
}
