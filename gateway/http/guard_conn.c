/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection guard, one connection (http/guard_int.h): client bytes are parsed into
 * request header blocks (rewritten with X-Igw-Peer) and Content-Length bodies and written to
 * nng's private listener; nng's bytes are copied back unchanged. A side that cannot take more
 * stops the other side's reads (backpressure); refusals (431, 503) are written by the guard.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "igw/common.h"
#include "igw/log.h"
#include "http/guard_int.h"

/* ---- refusals ------------------------------------------------------------------------------ */

size_t
guard_canned(int status, char *buf, size_t cap)
{
    const char *reason = status == 431 ? "Request Header Fields Too Large" : "Service Unavailable";
    const char *code = status == 431 ? "header_too_large" : "too_many_connections";
    const char *msg =
        status == 431 ? "request line and headers over 8 KiB" : "too many connections; retry later";
    char body[192];
    int blen = snprintf(body, sizeof(body),
                        "{\"error\":{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\"}}", status,
                        code, msg);
    int n = snprintf(buf, cap,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n%sConnection: close\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     status, reason, status == 503 ? "Retry-After: 1\r\n" : "", blen, body);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* ---- writing with backpressure --------------------------------------------------------------- */

/* Appends p[0..n) to what e still has to write. @return false when out of memory. */
static bool
pend_add(struct gend *e, const char *p, size_t n)
{
    char *np = igw_realloc(e->pend, e->plen + n);

    if (np == NULL) {
        return false;
    }
    memcpy(np + e->plen, p, n);
    e->pend = np;
    e->plen += n;
    return true;
}

/* Writes as much of p[0..n) to fd as the socket takes now. @return the bytes written (fewer
 * than n when the socket is full), or -1 on a write error. */
static ssize_t
send_now(int fd, const char *p, size_t n)
{
    size_t off = 0;

    while (off < n) {
        ssize_t w = send(fd, p + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        if (w <= 0) {
            return -1;
        }
        off += (size_t)w;
    }
    return (ssize_t)off;
}

/* Writes what e has pending. @return false on a write error (the connection is to close). */
static bool
pend_flush(struct gend *e)
{
    ssize_t w = send_now(e->fd, e->pend, e->plen);
    size_t off;

    if (w < 0) {
        return false;
    }
    off = (size_t)w;
    if (off == e->plen) {
        igw_free(e->pend);
        e->pend = NULL;
        e->plen = 0;
    } else if (off > 0) {
        memmove(e->pend, e->pend + off, e->plen - off);
        e->plen -= off;
    }
    return true;
}

/* Sends p[0..n) to e: at once when nothing is pending, else after it. @return false when the
 * connection is to close (write error, out of memory). */
static bool
send_to(struct gend *e, const char *p, size_t n, bool can_write)
{
    if (e->plen == 0 && can_write) {
        ssize_t w = send_now(e->fd, p, n);
        if (w < 0) {
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return n == 0 || pend_add(e, p, n);
}

/* When nng stopped reading (it answered early and closed: 413, 401 with a large body), the
 * rest of the client's bytes are dropped and nng's answer is still read and passed on. */
static void
backend_broken(struct gconn *c)
{
    igw_free(c->be.pend);
    c->be.pend = NULL;
    c->be.plen = 0;
    c->state = GS_OPAQUE;
    c->ilen = 0;
}

/* send_to for the backend side. @return true (kept for the callers' one cleanup path). */
static bool
send_be(struct gconn *c, const char *p, size_t n)
{
    if (!send_to(&c->be, p, n, !c->connecting)) {
        backend_broken(c); /* a write error, or out of memory for the pending bytes */
    }
    return true;
}

void
gconn_interest(struct igw_guard *g, struct gconn *c)
{
    uint32_t ce = 0;
    uint32_t be = 0;

    if (c->dead) {
        return;
    }
    if (!c->cl.eof && !c->close_after && !c->waiting && c->state != GS_OPAQUE && c->be.plen == 0 &&
        c->ilen < GUARD_IBUF) {
        ce |= EPOLLIN;
    }
    if (c->cl.plen > 0) {
        ce |= EPOLLOUT;
    }
    if (c->be.fd >= 0) {
        if (!c->connecting && !c->be.eof && c->cl.plen == 0) {
            be |= EPOLLIN;
        }
        if (c->connecting || c->be.plen > 0) {
            be |= EPOLLOUT;
        }
        guard_watch(g, &c->be, be);
    }
    guard_watch(g, &c->hop, EPOLLIN | EPOLLRDHUP);
    guard_watch(g, &c->cl, ce);
}

/* ---- closing ------------------------------------------------------------------------------- */

void
gconn_free(struct gconn *c)
{
    igw_free(c->cl.pend);
    igw_free(c->be.pend);
    igw_free(c->ibuf);
    igw_free(c);
}

static void
end_close(struct gend *e)
{
    if (e->fd >= 0) {
        close(e->fd); /* also leaves the epoll set */
        e->fd = -1;
        e->in_ep = false;
    }
}

/* Closes the backend side: nng's end too while nng has not accepted it yet. */
static void
hop_end(struct igw_guard *g, struct gconn *c)
{
    if (c->hop.fd >= 0) {
        end_close(&c->hop);
        g->hops_pending--;
    }
}

static void
backend_close(struct igw_guard *g, struct gconn *c)
{
    end_close(&c->be);
    hop_end(g, c);
    if (c->hop_port != 0) {
        (void)guard_hop_cancel(ntohs(g->be_addr.sin_port), c->hop_port);
        c->hop_port = 0;
    }
}

/* Takes c out of the queue of connections waiting for a hop slot. */
static void
wait_remove(struct igw_guard *g, struct gconn *c)
{
    struct gconn *prev = NULL;

    for (struct gconn *w = g->wait_head; w != NULL; prev = w, w = w->wait_next) {
        if (w == c) {
            if (prev != NULL) {
                prev->wait_next = c->wait_next;
            } else {
                g->wait_head = c->wait_next;
            }
            if (g->wait_tail == c) {
                g->wait_tail = prev;
            }
            break;
        }
    }
    c->wait_next = NULL;
    c->waiting = false;
}

void
gconn_close(struct igw_guard *g, struct gconn *c)
{
    if (c->dead) {
        return;
    }
    c->dead = true;
    if (c->waiting) {
        wait_remove(g, c);
    }
    end_close(&c->cl);
    backend_close(g, c);
    if (c->addr != NULL) {
        c->addr->n--;
    }
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        g->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    g->nconns--;
    c->dead_next = g->dead;
    g->dead = c;
}

/* The refusal of c's header block over the limit: the head_refusal hook's, else the canned 431.
 * @return its length in buf (0: none fits). */
static size_t
head_refusal(struct igw_guard *g, struct gconn *c, char *buf, size_t cap)
{
    size_t start = 0;
    size_t n = 0;
    const char *nl;

    if (g->o.head_refusal != NULL) {
        while (start < c->ilen && (c->ibuf[start] == '\r' || c->ibuf[start] == '\n')) {
            start++;
        }
        nl = memchr(c->ibuf + start, '\n', c->ilen - start);
        n = nl != NULL ? (size_t)(nl - (c->ibuf + start)) : c->ilen - start;
        if (n > 0 && c->ibuf[start + n - 1] == '\r') {
            n--;
        }
        n = g->o.head_refusal(g->o.head_refusal_arg, c->ibuf + start, n, nl != NULL, buf, cap);
    }
    return n > 0 && n < cap ? n : guard_canned(431, buf, cap);
}

/* Answers status itself (431, 503) and closes once the answer is written. */
void
gconn_refuse(struct igw_guard *g, struct gconn *c, int status)
{
    char buf[GUARD_REFUSAL_MAX];
    size_t n = status == 431 ? head_refusal(g, c, buf, sizeof(buf))
                             : guard_canned(status, buf, sizeof(buf));

    guard_note(g, status == 431 ? "header block over 8 KiB (431)" : "no backend (503)", c->peer,
               false);
    backend_close(g, c);
    c->ilen = 0;
    c->close_after = true;
    if (n == 0 || !send_to(&c->cl, buf, n, true) || c->cl.plen == 0) {
        gconn_close(g, c);
        return;
    }
    gconn_interest(g, c);
}

/* ---- client -> backend ------------------------------------------------------------------------
 */

/* A TCP socket on 127.0.0.1 whose local port is registered in the handoff table with pair
 * (nng's end of a socket pair, or -1: nng is to take the TCP connection itself), before it
 * connects, since nng may accept at once. pair belongs to the table from here, or is closed on
 * failure. @return the socket or -1; *port its local port. */
static int
signal_socket(struct igw_guard *g, int pair, uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0 ||
        !guard_hop_add(ntohs(g->be_addr.sin_port), ntohs(sa.sin_port), pair)) {
        if (fd >= 0) {
            close(fd);
        }
        if (pair >= 0) {
            close(pair);
        }
        return -1;
    }
    *port = ntohs(sa.sin_port);
    if (connect(fd, (struct sockaddr *)&g->be_addr, sizeof(g->be_addr)) != 0 &&
        errno != EINPROGRESS) {
        (void)guard_hop_cancel(ntohs(g->be_addr.sin_port), *port); /* closes pair */
        *port = 0;
        close(fd);
        return -1;
    }
    return fd;
}

/* The hop over a Unix socket pair (guard_handoff.c): the pair's guard end becomes c->be at
 * once (what the guard writes waits in it until nng accepts), nng's end goes into the handoff
 * table under the local port of a TCP connection to nng's private listener, whose accept()
 * swaps it in. */
bool
gconn_hop_connect(struct igw_guard *g, struct gconn *c)
{
    int sp[2];
    int fd;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) != 0) {
        return false;
    }
    fd = signal_socket(g, sp[1], &c->hop_port);
    if (fd < 0) {
        close(sp[0]);
        return false;
    }
    c->hop = (struct gend){.c = c, .fd = fd};
    c->be = (struct gend){.c = c, .fd = sp[0]};
    c->connecting = false;
    c->hop_tries = 1;
    c->hop_due = igw_mono_ms() + GUARD_HOP_RETRY_MS;
    g->hops_pending++;
    return true;
}

/* The hop nng has not accepted in time is signalled again: its entry in the handoff table
 * (nng's end of the pair, with the bytes already written to it) moves to the port of a new
 * TCP connection. A first signal the kernel dropped half-way (under a burst nng's accept queue
 * overflows: the final ACK is dropped and the half-open entry pruned, while the guard's end
 * stays established and, sending nothing, never learns it) would otherwise leave the client
 * waiting for ever. When nng has taken the pair meanwhile, the hop's close is on its way. */
void
gconn_hop_retry(struct igw_guard *g, struct gconn *c, uint64_t now)
{
    uint16_t be = ntohs(g->be_addr.sin_port);
    int pair = -1;
    int fd;

    if (c->hop_port == 0 || !guard_hop_take(be, c->hop_port, &pair)) {
        c->hop_due = now + GUARD_HOP_RETRY_MS;
        return;
    }
    end_close(&c->hop); /* still pending: hops_pending is unchanged */
    c->hop_port = 0;
    fd = c->hop_tries < GUARD_HOP_TRIES ? signal_socket(g, pair, &c->hop_port) : -1;
    if (fd < 0) {
        if (c->hop_tries >= GUARD_HOP_TRIES) {
            close(pair); /* signal_socket closes it on its own failure */
        }
        g->hops_pending--;
        gconn_refuse(g, c, 503);
        return;
    }
    c->hop = (struct gend){.c = c, .fd = fd};
    c->hop_due = now + GUARD_HOP_RETRY_MS;
    c->hop_tries++;
    g->n_resignalled++;
    gconn_interest(g, c);
}

static bool
backend_connect(struct igw_guard *g, struct gconn *c)
{
    int one = 1;
    int fd;

    if (g->handoff && g->hops_pending < GUARD_HOPS_PENDING_MAX) {
        g->n_hops++;
        return gconn_hop_connect(g, c);
    }
    if (g->handoff) {
        /* not reached: process() queues c until a hop slot is free (gconn_wait_resume); kept
         * as the TCP relay, registered so that nng's accept() passes it through */
        fd = signal_socket(g, -1, &c->hop_port);
    } else {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&g->be_addr, sizeof(g->be_addr)) != 0 &&
            errno != EINPROGRESS) {
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0) {
        return false;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->be.fd = fd;
    c->be.events = 0;
    c->be.in_ep = false;
    c->connecting = true; /* confirmed on the first EPOLLOUT */
    return true;
}

static void
consume(struct gconn *c, size_t n)
{
    memmove(c->ibuf, c->ibuf + n, c->ilen - n);
    c->ilen -= n;
}

/* A complete header block at the start of ibuf. @return false when c was closed. */
static bool
head_done(struct igw_guard *g, struct gconn *c, const struct igw_guard_head_info *info)
{
    if (c->be.fd < 0 && !backend_connect(g, c)) {
        gconn_refuse(g, c, 503);
        return false;
    }
    if (!send_be(c, g->out, info->outlen)) {
        gconn_close(g, c);
        return false;
    }
    if (c->state == GS_OPAQUE) {
        return true; /* nng is gone: its answer, if any, is read next */
    }
    consume(c, info->consumed);
    c->in_head = false;
    c->served = true;
    if (info->opaque) {
        c->state = GS_OPAQUE; /* igw answers it with Connection: close; forward nothing more */
        c->ilen = 0;
        c->deadline = 0;
    } else if (info->clen > 0) {
        c->state = GS_BODY;
        c->body_left = info->clen;
        c->deadline = 0; /* the body has igw's own 30 s limit */
    } else {
        c->deadline = 0; /* awaiting the answer: the idle timer starts again with its bytes */
    }
    return true;
}

/* Queues c, whose first header block is read, until a hop slot is free: at most
 * GUARD_HOPS_PENDING_MAX connections to nng's private listener are ever unaccepted, well
 * within its accept queue (128), so a burst of clients does not overflow it. c reads nothing
 * more meanwhile, and no header timeout runs (the wait is the guard's, not the client's). */
static void
wait_add(struct igw_guard *g, struct gconn *c)
{
    if (c->waiting) {
        return; /* read again while waiting (a hang-up with bytes): already queued */
    }
    c->waiting = true;
    c->deadline = 0;
    c->wait_next = NULL;
    if (g->wait_tail != NULL) {
        g->wait_tail->wait_next = c;
    } else {
        g->wait_head = c;
    }
    g->wait_tail = c;
    g->n_waited++;
}

static bool process(struct igw_guard *g, struct gconn *c);

void
gconn_wait_resume(struct igw_guard *g)
{
    while (g->wait_head != NULL && g->hops_pending < GUARD_HOPS_PENDING_MAX) {
        struct gconn *c = g->wait_head;

        wait_remove(g, c);
        if (process(g, c)) {
            gconn_interest(g, c);
        }
    }
}

/* Forwards what ibuf holds, request by request. @return false when c was closed. */
static bool
process(struct igw_guard *g, struct gconn *c)
{
    while (c->ilen > 0) {
        struct igw_guard_head_info info;
        enum igw_guard_head r;

        if (c->state == GS_OPAQUE) {
            c->ilen = 0;
        } else if (c->state == GS_BODY) {
            size_t k = c->ilen < c->body_left ? c->ilen : (size_t)c->body_left;
            if (!send_be(c, c->ibuf, k)) {
                gconn_close(g, c);
                return false;
            }
            if (c->state == GS_OPAQUE) {
                continue;
            }
            consume(c, k);
            c->body_left -= k;
            if (c->body_left == 0) {
                c->state = GS_HEAD;
                c->deadline = 0; /* awaiting the answer, as above */
            }
        } else {
            r = igw_guard_head_rewrite(c->ibuf, c->ilen, GUARD_IBUF, c->peer, g->out, &info);
            if (r == IGW_HEAD_TOO_BIG) {
                gconn_refuse(g, c, 431);
                return false;
            }
            if (r == IGW_HEAD_MORE) {
                if (!c->in_head && g->o.header_timeout_ms) {
                    /* from the first byte; a new connection keeps its deadline from accept */
                    uint64_t d = igw_mono_ms() + g->o.header_timeout_ms;
                    c->in_head = true;
                    c->deadline = c->deadline == 0 || d < c->deadline ? d : c->deadline;
                }
                break;
            }
            if (c->be.fd < 0 && g->handoff && g->hops_pending >= GUARD_HOPS_PENDING_MAX) {
                wait_add(g, c);
                break;
            }
            if (!head_done(g, c, &info)) {
                return false;
            }
        }
    }
    if (c->ilen == 0) {
        igw_free(c->ibuf);
        c->ibuf = NULL;
    }
    return true;
}

static void
client_in(struct igw_guard *g, struct gconn *c)
{
    ssize_t n;

    if (c->ibuf == NULL) {
        c->ibuf = igw_malloc(GUARD_IBUF);
        if (c->ibuf == NULL) {
            gconn_close(g, c);
            return;
        }
    }
    n = read(c->cl.fd, c->ibuf + c->ilen, GUARD_IBUF - c->ilen);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        /* the client is gone or half-closed: nng 1.5 drops a half-closed connection too */
        gconn_close(g, c);
        return;
    }
    c->ilen += (size_t)n;
    if (process(g, c)) {
        gconn_interest(g, c);
    }
}

/* ---- backend -> client ------------------------------------------------------------------------
 */

static void
backend_in(struct igw_guard *g, struct gconn *c)
{
    ssize_t n = read(c->be.fd, g->scratch, sizeof(g->scratch));

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        c->be.eof = true; /* nng closed: so does the client side, once its answer is out */
        c->close_after = true;
        if (c->cl.plen == 0) {
            gconn_close(g, c);
        } else {
            end_close(&c->be);
            gconn_interest(g, c);
        }
        return;
    }
    if (!send_to(&c->cl, g->scratch, (size_t)n, true)) {
        gconn_close(g, c);
        return;
    }
    if (c->state == GS_HEAD && c->ilen == 0 && g->o.idle_timeout_ms) {
        c->deadline = igw_mono_ms() + g->o.idle_timeout_ms;
    }
    gconn_interest(g, c);
}

static bool
backend_connected(struct gconn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->be.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        return false;
    }
    c->connecting = false;
    return true;
}

/* The signal connection closed: nng has accepted the pair (its entry is gone from the table),
 * or nng refused or dropped it unaccepted (the entry is still there: no backend, 503). */
static void
hop_event(struct igw_guard *g, struct gconn *c)
{
    hop_end(g, c);
    if (c->hop_port != 0 && guard_hop_cancel(ntohs(g->be_addr.sin_port), c->hop_port)) {
        c->hop_port = 0;
        gconn_refuse(g, c, 503);
        return;
    }
    c->hop_port = 0;
}

void
gconn_event(struct igw_guard *g, struct gend *e, uint32_t events)
{
    struct gconn *c = e->c;
    bool hup = (events & EPOLLHUP) != 0;

    if (c->dead || e->fd < 0) {
        return;
    }
    if (e == &c->hop) {
        hop_event(g, c);
        return;
    }
    if (e == &c->be && c->connecting && !backend_connected(c)) {
        gconn_refuse(g, c, 503);
        return;
    }
    if ((events & EPOLLERR) && e == &c->cl) {
        gconn_close(g, c);
        return;
    }
    /* nng resets a connection it closes with a body unread (a 413, say): its answer is still
     * in our receive queue, so an error on the backend side is read like a hang-up */
    hup = hup || (events & EPOLLERR) != 0;
    if ((events & EPOLLOUT) && e->plen > 0 && !pend_flush(e)) {
        if (e == &c->cl) {
            gconn_close(g, c);
            return;
        }
        backend_broken(c);
    }
    if (e == &c->cl && c->cl.plen == 0 && c->close_after) {
        gconn_close(g, c);
        return;
    }
    /* a hang-up is read even when reads are paused: epoll reports it regardless of the mask */
    if ((events & EPOLLIN) || hup) {
        if (e == &c->cl && ((c->cl.events & EPOLLIN) || hup)) {
            client_in(g, c);
        } else if (e == &c->be && ((c->be.events & EPOLLIN) || hup)) {
            backend_in(g, c);
        }
    }
    gconn_interest(g, c);
}
