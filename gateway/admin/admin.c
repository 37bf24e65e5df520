/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin HTTP API (docs/ADMIN-API.md): a second nng 1.5 HTTP server on admin.listen with
 * its own credentials. One tree handler on "/" checks framing (no Transfer-Encoding; a bounded
 * body only on edit and bulk), credentials, route and role on nng's task thread, answers the
 * probes, whoami, metrics and alerts at once, hands GET /admin/events to admin_events.c and
 * queues every other request as a job; the admin worker thread runs the queue calls (replay,
 * release and purge block until their group commit) and finishes nng's handler aio. This file holds
 * the handler, the job queue and its worker, the reply helpers and start/stop; admin_int.h lists
 * the other files (request checks, the jobs, replay).
 */
#include <pthread.h>
#include <string.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/log.h"
#include "admin/admin_int.h"
#include "payments/recon.h"
#include "admin/console/console.h"
#include "http/server.h"
#include "http/status.h"

#define JOBS_MAX 64         /* queued admin jobs before 503 */
#define RESP_MAX (8u << 20) /* largest admin response */

/* ---- responses ---------------------------------------------------------------------------- */

int
admin_err_json(struct igw_buf *b, int status, const char *code, const char *msg, const char *raw)
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

/* Hands a JSON response to nng (a body always: nng then sends Content-Length), with the
 * headers v asks for (v may be NULL). */
static void
reply_as(nng_aio *aio, int status, const char *ctype, const struct igw_buf *b,
         const struct igw_http_verdict *v)
{
    nng_http_res *res = igw_http_res_new((uint16_t)status, ctype, b->ptr != NULL ? b->ptr : "{}",
                                         b->ptr != NULL ? b->len : 2);
    int rv = res != NULL ? nng_http_res_set_header(res, "Cache-Control", "no-store") : NNG_ENOMEM;

    if (rv == 0 && v != NULL) {
        rv = igw_http_res_hints(res, v);
    }
    if (rv != 0 && res != NULL) {
        nng_http_res_free(res);
        res = NULL;
    }
    igw_http_finish(aio, res); /* NULL: nng closes the connection */
}

static void
reply(nng_aio *aio, int status, const struct igw_buf *b, const struct igw_http_verdict *v)
{
    reply_as(aio, status, "application/json", b, v);
}

static void
reply_verdict(nng_aio *aio, const struct igw_http_verdict *v)
{
    struct igw_buf b;

    igw_buf_init(&b, 4096);
    admin_err_json(&b, v->status, v->code, v->msg, NULL);
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

int
admin_queue_err(struct igw_buf *b, int rv)
{
    struct igw_http_verdict v;

    igw_http_verdict_of(IGW_HTTP_ADMIN, rv, NULL, NULL, &v);
    if (v.status == 500) {
        IGW_ERROR("admin: queue call failed: %s", igw_strerror(rv));
    }
    return admin_err_json(b, v.status, v.code, v.msg, NULL);
}

/* ---- request bodies (worker thread) ------------------------------------------------------- */

#define BODY_TIMEOUT_MS 10000

int
admin_body_read(const struct admin_job *j, struct igw_buf *body)
{
    nng_aio *io = NULL;
    nng_iov iov;
    int rv;

    igw_buf_reset(body);
    if (j->clen == 0) {
        return IGW_EINVAL; /* edit and bulk need a body */
    }
    rv = igw_buf_reserve(body, (size_t)j->clen + 1);
    if (rv != IGW_OK) {
        return rv;
    }
    if (nng_aio_alloc(&io, NULL, NULL) != 0) {
        return IGW_ENOMEM;
    }
    iov.iov_buf = body->ptr;
    iov.iov_len = (size_t)j->clen;
    nng_aio_set_iov(io, 1, &iov);
    nng_aio_set_timeout(io, BODY_TIMEOUT_MS);
    nng_http_conn_read_all(j->conn, io);
    nng_aio_wait(io);
    rv = nng_aio_result(io);
    nng_aio_free(io);
    if (rv != 0) {
        return rv == NNG_ETIMEDOUT ? IGW_ETIMEDOUT : IGW_EIO;
    }
    body->len = (size_t)j->clen;
    body->ptr[body->len] = '\0';
    return IGW_OK;
}

/* ---- requests (nng task thread) ----------------------------------------------------------- */

static bool
enqueue(igw_admin *a, struct admin_job *j, struct igw_http_verdict *v)
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
        v->status = 503;
        v->code = "unavailable";
        v->msg = "the admin API is busy or shutting down";
        v->close = true;
    }
    return ok;
}

/* An op answered here on the task thread: probes, whoami, metrics, alerts (none blocks). */
static void
reply_inline(igw_admin *a, const struct admin_job *j)
{
    struct igw_buf b;
    int st;

    igw_buf_init(&b, RESP_MAX);
    st = admin_inline(a, j, &b);
    reply_as(j->aio, st, st == 200 ? admin_op_ctype(j->op) : "application/json", &b, NULL);
    igw_buf_fini(&b);
}

/* nng's handler: task thread; never blocks. */
static void
handle(nng_aio *aio)
{
    igw_admin *a = nng_http_handler_get_data(nng_aio_get_input(aio, 1));
    nng_http_req *req = nng_aio_get_input(aio, 0);
    struct igw_http_verdict v = {0};
    struct admin_job *j = IGW_NEW(struct admin_job);

    igw_http_server_admit(a->guarded, req);
    pthread_mutex_lock(&a->mu);
    a->inflight++;
    pthread_mutex_unlock(&a->mu);
    if (igw_console_path(req)) {
        igw_console_serve(aio, req); /* static assets, no credentials (console.h) */
    } else if (j == NULL) {
        igw_http_verdict_of(IGW_HTTP_ADMIN, IGW_ENOMEM, NULL, NULL, &v);
        v.close = true;
    } else if (admin_request_check(a, req, j, &v)) {
        j->aio = aio;
        j->conn = nng_aio_get_input(aio, 2);
        if (j->op > OP_INLINE) {
            reply_inline(a, j);
        } else if (j->op == OP_EVENTS) {
            if (admin_events_serve(a, aio) != 0) { /* 0: it took the connection over */
                v.status = 503;
                v.code = "unavailable";
                v.msg = "too many event streams";
                v.close = true;
            }
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

/* ---- worker ------------------------------------------------------------------------------- */

/* The reconciliation endpoints (docs/PAYMENTS.md, 5): bodies from payments/recon.c. */
static void
admin_op_payments(const struct admin_job *j, struct igw_buf *b)
{
    int st;

    if (j->op == OP_PAY_MISMATCHES) {
        st = igw_pay_mismatches_json(b);
    } else if (j->op == OP_PAYROLL_CSV) {
        st = igw_pay_recon_csv(j->payroll, b);
    } else {
        st = igw_pay_recon_json(j->payroll, b);
    }
    if (st == 200) {
        reply_as(j->aio, 200,
                 j->op == OP_PAYROLL_CSV ? "text/csv; charset=utf-8" : "application/json", b, NULL);
        return;
    }
    igw_buf_reset(b);
    (void)admin_err_json(b, st,
                         st == 404   ? "not_found"
                         : st == 503 ? "payments_off"
                                     : "internal",
                         st == 404   ? "the ledger holds no payment of this payroll"
                         : st == 503 ? "this configuration has no payment flow"
                                     : "the payments ledger could not be read",
                         NULL);
    reply(j->aio, st, b, NULL);
}

static void
run_job(igw_admin *a, struct admin_job *j)
{
    struct igw_buf b;
    int st;

    igw_buf_init(&b, RESP_MAX);
    switch (j->op) {
    case OP_STATS:
        st = admin_op_stats(a, &b);
        break;
    case OP_DCI_SUBS:
        st = admin_op_dci_subs(a, &b);
        break;
    case OP_INFO:
        st = admin_op_info(a, j, &b);
        break;
    case OP_REPLAY:
        st = admin_op_replay(a, j, &b);
        break;
    case OP_RELEASE:
        st = admin_op_release(a, j, &b);
        break;
    case OP_AUDIT:
        st = admin_op_audit(a, j, &b);
        break;
    case OP_RETRY:
        st = admin_op_retry(a, j, &b);
        break;
    case OP_EDIT:
        st = admin_op_edit(a, j, &b);
        break;
    case OP_LIST:
        st = admin_op_list(a, j, &b);
        break;
    case OP_BULK:
        st = admin_op_bulk(a, j, &b);
        break;
    case OP_JOB:
        st = admin_op_job(a, j, &b);
        break;
    case OP_PAYROLL:
    case OP_PAYROLL_CSV:
    case OP_PAY_MISMATCHES:
        admin_op_payments(j, &b); /* answers with its own Content-Type */
        igw_buf_fini(&b);
        return;
    default:
        st = admin_op_purge(a, j, &b);
        break;
    }
    reply(j->aio, st, &b, NULL);
    igw_buf_fini(&b);
}

static void *
worker_main(void *arg)
{
    igw_admin *a = arg;

    igw_thread_name("igw:admin");

    pthread_mutex_lock(&a->mu);
    for (;;) {
        struct admin_job *j = a->head;
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

/* admin.audit_file, or audit.jsonl in the queue directory. */
static int
open_audit(igw_admin *a, char *errbuf, size_t errlen)
{
    const struct igw_config *cfg = a->cfg;
    struct igw_buf path;
    int rv = IGW_OK;

    igw_buf_init(&path, 4096);
    if (cfg->admin_audit_file != NULL) {
        rv = igw_buf_puts(&path, cfg->admin_audit_file);
    } else {
        rv = igw_buf_printf(&path, "%s/audit.jsonl",
                            cfg->data_dir != NULL ? cfg->data_dir : "var/queue");
    }
    rv = rv == IGW_OK ? igw_audit_open(&a->audit, path.ptr, cfg->admin_audit_max, errbuf, errlen)
                      : rv;
    igw_buf_fini(&path);
    return rv;
}

static int
start_server(igw_admin *a, char *errbuf, size_t errlen)
{
    const struct igw_config *cfg = a->cfg;
    /* the admin listener goes through the same guard, with a quarter of the descriptors */
    struct igw_guard_opts g = {.max_conns = cfg->http_max_conns,
                               .fd_share_pct = cfg->http_listen != NULL ? 25 : 100,
                               .max_per_addr = cfg->http_max_per_addr,
                               .header_timeout_ms = cfg->http_header_timeout_ms,
                               .idle_timeout_ms = cfg->http_idle_timeout_ms};
    struct igw_http_server_opts o = {.listen = cfg->admin_listen,
                                     .what = "admin",
                                     .tls_cert = cfg->admin_tls_cert,
                                     .tls_key = cfg->admin_tls_key,
                                     .tls_client_ca = cfg->admin_tls_client_ca,
                                     .handle = handle,
                                     .data = a,
                                     .guard = cfg->http_guard ? &g : NULL};

    a->guarded = igw_http_server_guarded(&o); /* before any handler can run */
    return igw_http_server_start(&a->srv, &o, errbuf, errlen);
}

int
igw_admin_start(igw_admin **out, const struct igw_config *cfg, igw_queue *q, igw_deliverer *d,
                igw_maps *maps, igw_alerts *al, char *errbuf, size_t errlen)
{
    igw_admin *a;
    int rv;

    if (cfg->admin_listen == NULL ||
        (cfg->admin_auth.type == IGW_AUTH_NONE && cfg->nadmin_creds == 0)) {
        igw_errbuf_set(errbuf, errlen, "admin.listen needs admin.credentials or admin.auth");
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
    a->alerts = al;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    rv = igw_throttle_new(&a->thr, cfg->auth_fail_burst, cfg->auth_fail_per_minute,
                          cfg->auth_fail_addresses);
    if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "admin: auth throttle: %s", igw_strerror(rv));
        igw_admin_stop(a);
        return rv;
    }
    rv = open_audit(a, errbuf, errlen);
    if (rv != IGW_OK) {
        igw_admin_stop(a);
        return rv;
    }
    if (pthread_create(&a->thread, NULL, worker_main, a) != 0) {
        igw_errbuf_set(errbuf, errlen, "admin: cannot start the worker thread");
        igw_admin_stop(a);
        return IGW_ENOMEM;
    }
    a->started = true;
    rv = admin_bulk_init(a);
    rv = rv == IGW_OK ? admin_events_init(a) : rv;
    if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "admin: %s", igw_strerror(rv));
        igw_admin_stop(a);
        return rv;
    }
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
    admin_events_end(a); /* first: an open stream would hold the server's graceful stop */
    igw_http_server_stop(a->srv);
    pthread_mutex_lock(&a->mu);
    while (a->inflight > 0) {
        pthread_cond_wait(&a->cv, &a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    admin_events_fini(a); /* before the server is freed: it ends the streams */
    igw_http_server_free(a->srv);
    admin_bulk_fini(a);
    igw_throttle_free(a->thr);
    igw_audit_close(a->audit);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    igw_free(a);
}
