/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /admin/events (admin_int.h, docs/ADMIN-API.md "Events"): Server-Sent Events of queue
 * events. The handler takes the connection over from nng (nng_http_hijack) and writes the
 * response head itself; a queue listener (igw_queue_listener_add) formats each event once and
 * appends it to every client's buffer; one asynchronous write per client drains it. Bounded: at
 * most CLIENTS_MAX clients, and a client whose buffer holds CLIENT_EVENTS_MAX events (or
 * CLIENT_BYTES_MAX bytes) is sent an `overflow` event and disconnected: it never blocks the
 * queue's thread or the other clients. A comment line every KEEPALIVE_MS keeps proxies and the
 * connection guard from closing an idle stream.
 */
#include <pthread.h>
#include <string.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/log.h"
#include "admin/admin_int.h"

#define CLIENTS_MAX 16
#define CLIENT_EVENTS_MAX 1024
#define CLIENT_BYTES_MAX (1u << 20)
#define KEEPALIVE_MS 10000
#define EVENT_MAX 2048

static const char HEAD[] = "HTTP/1.1 200 OK\r\n"
                           "Content-Type: text/event-stream\r\n"
                           "Cache-Control: no-store\r\n"
                           "Connection: close\r\n"
                           "X-Accel-Buffering: no\r\n"
                           "\r\n"
                           "retry: 2000\n: connected\n\n";

struct sse_client {
    struct admin_events *ev;
    nng_http_conn *conn;
    nng_aio *aio;
    struct igw_buf queued; /* under ev->mu: bytes not yet handed to a write */
    struct igw_buf out;    /* the bytes of the write in flight */
    unsigned nq;           /* events in queued */
    bool writing;          /* under ev->mu */
    bool closing;          /* under ev->mu: close once queued is written */
};

struct admin_events {
    igw_admin *a;
    pthread_mutex_t mu;
    struct sse_client *c[CLIENTS_MAX]; /* under mu */
    uint64_t seq;                      /* under mu */
    bool closing;                      /* under mu */
    bool listening;
    nng_aio *tick;
};

static const char *
kind_name(enum igw_queue_event_kind k)
{
    static const char *const names[] = {"",     "accepted", "delivered", "retry",
                                        "dead", "released", "purged",    "replayed"};
    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "event";
}

/* Frees a client whose write is not in flight and that is off the list. */
static void
client_free(struct sse_client *c, bool reap)
{
    nng_http_conn_close(c->conn);
    if (reap) {
        nng_aio_reap(c->aio); /* from its own callback */
    } else {
        nng_aio_free(c->aio);
    }
    igw_buf_fini(&c->queued);
    igw_buf_fini(&c->out);
    igw_free(c);
}

static void
client_unlink(struct admin_events *ev, struct sse_client *c)
{
    for (unsigned i = 0; i < CLIENTS_MAX; i++) {
        if (ev->c[i] == c) {
            ev->c[i] = NULL;
        }
    }
}

/* Starts a write of what is queued (under ev->mu). false when there is nothing to write. */
static bool
client_flush(struct sse_client *c)
{
    struct igw_buf t;
    nng_iov iov;

    if (c->writing || c->queued.len == 0) {
        return false;
    }
    t = c->out; /* swap: out (written, empty) becomes the next queue */
    c->out = c->queued;
    c->queued = t;
    igw_buf_reset(&c->queued);
    c->nq = 0;
    iov.iov_buf = c->out.ptr;
    iov.iov_len = c->out.len;
    nng_aio_set_iov(c->aio, 1, &iov);
    nng_aio_set_timeout(c->aio, 30000);
    c->writing = true;
    nng_http_conn_write_all(c->conn, c->aio);
    return true;
}

/* A write finished (nng's thread). */
static void
client_written(void *arg)
{
    struct sse_client *c = arg;
    struct admin_events *ev = c->ev;
    bool gone = nng_aio_result(c->aio) != 0;

    pthread_mutex_lock(&ev->mu);
    if (ev->closing) {
        c->writing = false; /* admin_events_fini frees it */
        pthread_mutex_unlock(&ev->mu);
        return;
    }
    c->writing = false;
    igw_buf_reset(&c->out);
    if (!gone && client_flush(c)) {
        pthread_mutex_unlock(&ev->mu);
        return;
    }
    gone = gone || c->closing;
    if (gone) {
        client_unlink(ev, c);
    }
    pthread_mutex_unlock(&ev->mu);
    if (gone) {
        client_free(c, true);
    }
}

/* Appends text (one event) to every client (under ev->mu); a client that is too far behind
 * gets the overflow event and is closed after it. */
static void
broadcast(struct admin_events *ev, const char *text, size_t n)
{
    static const char over[] = "event: overflow\ndata: {\"dropped\":true}\n\n";

    for (unsigned i = 0; i < CLIENTS_MAX; i++) {
        struct sse_client *c = ev->c[i];
        if (c == NULL || c->closing) {
            continue;
        }
        if (c->nq >= CLIENT_EVENTS_MAX || c->queued.len + n > CLIENT_BYTES_MAX ||
            igw_buf_append(&c->queued, text, n) != IGW_OK) {
            (void)igw_buf_append(&c->queued, over, sizeof(over) - 1);
            c->closing = true;
            IGW_WARN("admin events: a client fell behind; disconnected");
        } else {
            c->nq++;
        }
        client_flush(c);
    }
}

/* The queue listener (a queue thread, after each commit): must not block. */
static void
on_event(void *arg, const struct igw_queue_event *e)
{
    struct admin_events *ev = arg;
    char hex[IGW_QUEUE_ID_STRLEN];
    struct igw_buf b;
    int rv;

    igw_buf_init(&b, EVENT_MAX + 256);
    igw_queue_id_format(e->id, hex);
    pthread_mutex_lock(&ev->mu);
    rv =
        igw_buf_printf(&b, "id: %llu\nevent: %s\ndata: {\"kind\":\"%s\",\"id\":\"%s\",\"channel\":",
                       (unsigned long long)++ev->seq, kind_name(e->kind), kind_name(e->kind), hex);
    rv = rv == IGW_OK ? (e->channel != NULL ? igw_buf_json_str(&b, e->channel, strlen(e->channel))
                                            : igw_buf_puts(&b, "null"))
                      : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&b, ",\"route\":") : rv;
    rv = rv == IGW_OK ? (e->route != NULL ? igw_buf_json_str(&b, e->route, strlen(e->route))
                                          : igw_buf_puts(&b, "null"))
                      : rv;
    rv = rv == IGW_OK ? igw_buf_printf(&b, ",\"attempts\":%u,\"next_due_ms\":%llu,\"error\":",
                                       (unsigned)e->attempts, (unsigned long long)e->next_due_ms)
                      : rv;
    rv = rv == IGW_OK ? (e->error != NULL ? igw_buf_json_str(&b, e->error, strnlen(e->error, 255))
                                          : igw_buf_puts(&b, "null"))
                      : rv;
    rv = rv == IGW_OK
             ? igw_buf_printf(&b, ",\"time_ms\":%llu}\n\n", (unsigned long long)igw_now_ms())
             : rv;
    if (rv == IGW_OK) {
        broadcast(ev, b.ptr, b.len);
    }
    pthread_mutex_unlock(&ev->mu);
    igw_buf_fini(&b);
}

static void
on_tick(void *arg)
{
    struct admin_events *ev = arg;
    static const char ka[] = ": keepalive\n\n";

    if (nng_aio_result(ev->tick) != 0) {
        return; /* stopped */
    }
    pthread_mutex_lock(&ev->mu);
    broadcast(ev, ka, sizeof(ka) - 1);
    pthread_mutex_unlock(&ev->mu);
    nng_sleep_aio(KEEPALIVE_MS, ev->tick);
}

int
admin_events_init(igw_admin *a)
{
    struct admin_events *ev = IGW_NEW(struct admin_events);

    if (ev == NULL) {
        return IGW_ENOMEM;
    }
    ev->a = a;
    pthread_mutex_init(&ev->mu, NULL);
    a->events = ev;
    if (nng_aio_alloc(&ev->tick, on_tick, ev) != 0) {
        ev->tick = NULL;
        return IGW_ENOMEM;
    }
    nng_sleep_aio(KEEPALIVE_MS, ev->tick);
    return IGW_OK;
}

void
admin_events_end(igw_admin *a)
{
    struct admin_events *ev = a->events;
    struct sse_client *c[CLIENTS_MAX];

    if (ev == NULL) {
        return;
    }
    igw_queue_listener_remove(a->q, on_event, ev); /* no call after this returns */
    if (ev->tick != NULL) {
        nng_aio_stop(ev->tick);
    }
    pthread_mutex_lock(&ev->mu);
    ev->closing = true;
    memcpy(c, ev->c, sizeof(c));
    memset(ev->c, 0, sizeof(ev->c));
    pthread_mutex_unlock(&ev->mu);
    for (unsigned i = 0; i < CLIENTS_MAX; i++) {
        if (c[i] != NULL) {
            nng_aio_stop(c[i]->aio); /* waits for a write callback in progress */
            client_free(c[i], false);
        }
    }
}

void
admin_events_fini(igw_admin *a)
{
    struct admin_events *ev = a->events;

    if (ev == NULL) {
        return;
    }
    admin_events_end(a); /* again: a stream that raced the first call was refused (closing) */
    nng_aio_free(ev->tick);
    pthread_mutex_destroy(&ev->mu);
    igw_free(ev);
    a->events = NULL;
}

int
admin_events_serve(igw_admin *a, nng_aio *aio)
{
    struct admin_events *ev = a->events;
    nng_http_req *req = nng_aio_get_input(aio, 0);
    nng_http_conn *conn = nng_aio_get_input(aio, 2);
    struct sse_client *c = IGW_NEW(struct sse_client);
    int slot = -1;

    if (c == NULL || nng_aio_alloc(&c->aio, client_written, c) != 0) {
        igw_free(c);
        return 503;
    }
    pthread_mutex_lock(&ev->mu);
    bool first = !ev->listening; /* first client: from now on the queue's events come here */
    ev->listening = true;
    pthread_mutex_unlock(&ev->mu);
    if (first && igw_queue_listener_add(a->q, on_event, ev) != IGW_OK) {
        IGW_WARN("admin events: no queue listener slot left");
    }
    pthread_mutex_lock(&ev->mu);
    for (int i = 0; slot < 0 && !ev->closing && i < CLIENTS_MAX; i++) {
        slot = ev->c[i] == NULL ? i : -1;
    }
    if (slot < 0) {
        pthread_mutex_unlock(&ev->mu);
        nng_aio_free(c->aio);
        igw_free(c);
        return 503;
    }
    c->ev = ev;
    c->conn = conn;
    igw_buf_init(&c->queued, CLIENT_BYTES_MAX + 4096);
    igw_buf_init(&c->out, CLIENT_BYTES_MAX + 4096);
    nng_http_hijack(conn); /* ours from now on: nng's server forgets it */
    ev->c[slot] = c;
    (void)igw_buf_append(&c->queued, HEAD, sizeof(HEAD) - 1);
    client_flush(c);
    pthread_mutex_unlock(&ev->mu);
    nng_http_req_free(req); /* hijacked: the request is ours to free */
    nng_aio_set_output(aio, 0, NULL);
    nng_aio_finish(aio, 0);
    IGW_INFO("admin events: client connected");
    return 0;
}
