/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection guard (http/guard.h): its thread and epoll loop, the public listener, the
 * total and per-address limits, the header and idle timeouts, and calm accepting at descriptor
 * exhaustion (a reserve descriptor, and a pause instead of a spin). One connection's
 * forwarding is in guard_conn.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "igw/common.h"
#include "igw/log.h"
#include "http/guard_int.h"

#define ACCEPT_BURST 64
#define ACCEPT_PAUSE_MS 100
#define SWEEP_MS 250
/* How long a stopping guard waits for the answers nng is still writing (drain_begin). */
#define DRAIN_MS 2000
#define LOG_EVERY_MS 1000
#define FD_HEADROOM 64 /* queue, SP sockets, libcurl, logs */
/* The public accept queue (the kernel caps it at net.core.somaxconn): a burst of connections
 * beyond it has its handshakes dropped and retried, and a client whose request then arrives
 * late may meet the header timeout that runs from accept. */
#define GUARD_BACKLOG 4096

/* tags of the two descriptors that are not connection ends */
static char tag_listen;
static char tag_wake;

void
guard_watch(struct igw_guard *g, struct gend *e, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = e};

    if (e->fd < 0 || (e->in_ep && e->events == events)) {
        return;
    }
    if (epoll_ctl(g->epfd, e->in_ep ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, e->fd, &ev) == 0) {
        e->in_ep = true;
        e->events = events;
    }
}

/* Counts a refusal or a timeout; one log line a second at most, with the last address. */
void
guard_note(struct igw_guard *g, const char *why, const char *peer, bool timeout)
{
    uint64_t now = igw_mono_ms();

    if (timeout) {
        g->timed_out++;
    } else {
        g->refused++;
    }
    g->last_refused = why;
    snprintf(g->last_peer, sizeof(g->last_peer), "%s", peer);
    if (now - g->last_log_ms >= LOG_EVERY_MS) {
        IGW_WARN("%s guard: %llu refused, %llu timed out; last: %s from %s", g->what,
                 (unsigned long long)g->refused, (unsigned long long)g->timed_out, why, peer);
        g->refused = 0;
        g->timed_out = 0;
        g->last_log_ms = now;
    }
}

/* ---- per-address counts ---------------------------------------------------------------------- */

static struct gaddr **
addr_slot(struct igw_guard *g, const struct in6_addr *a)
{
    uint32_t h = 2166136261u;
    struct gaddr **p;

    for (size_t i = 0; i < sizeof(*a); i++) {
        h = (h ^ a->s6_addr[i]) * 16777619u;
    }
    p = &g->addrs[h % GUARD_ADDR_BUCKETS];
    while (*p != NULL && memcmp(&(*p)->a, a, sizeof(*a)) != 0) {
        p = &(*p)->next;
    }
    return p;
}

/* Drops the counts of addresses with no connection left (on the sweep). */
static void
addr_prune(struct igw_guard *g)
{
    for (size_t b = 0; b < GUARD_ADDR_BUCKETS; b++) {
        struct gaddr **p = &g->addrs[b];
        while (*p != NULL) {
            struct gaddr *x = *p;
            if (x->n == 0) {
                *p = x->next;
                igw_free(x);
            } else {
                p = &x->next;
            }
        }
    }
}

/* ---- accepting ------------------------------------------------------------------------------- */

static void
peer_of(const struct sockaddr_storage *ss, struct in6_addr *a, char *peer, size_t len)
{
    memset(a, 0, sizeof(*a));
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        a->s6_addr[10] = 0xff;
        a->s6_addr[11] = 0xff;
        memcpy(&a->s6_addr[12], &s4->sin_addr, 4);
        inet_ntop(AF_INET, &s4->sin_addr, peer, (socklen_t)len);
    } else {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        *a = s6->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            inet_ntop(AF_INET, &a->s6_addr[12], peer, (socklen_t)len);
        } else {
            inet_ntop(AF_INET6, a, peer, (socklen_t)len);
        }
    }
}

/* Refuses fd at once: a short 503 if the socket takes it, then close. */
static void
refuse_fd(struct igw_guard *g, int fd, const char *why, const char *peer)
{
    char buf[512];
    size_t n = guard_canned(503, buf, sizeof(buf));

    if (n > 0) {
        (void)!send(fd, buf, n, MSG_NOSIGNAL);
    }
    close(fd);
    guard_note(g, why, peer, false);
}

static void
accept_pause(struct igw_guard *g)
{
    struct epoll_event ev = {.events = 0, .data.ptr = &tag_listen};

    g->accept_paused = true;
    g->resume_ms = igw_mono_ms() + ACCEPT_PAUSE_MS;
    (void)epoll_ctl(g->epfd, EPOLL_CTL_MOD, g->lfd, &ev);
}

/* Out of descriptors: take the one kept in reserve to accept and refuse the waiting client,
 * so the kernel's queue drains instead of epoll waking us again for it (no spin). */
static void
accept_exhausted(struct igw_guard *g)
{
    int fd;

    if (g->reserve >= 0) {
        close(g->reserve);
        g->reserve = -1;
    }
    fd = accept4(g->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
        refuse_fd(g, fd, "out of file descriptors", "-");
    }
    g->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    accept_pause(g);
}

static void
admit(struct igw_guard *g, int fd, const struct sockaddr_storage *ss)
{
    struct in6_addr a;
    char peer[INET6_ADDRSTRLEN] = "-";
    struct gaddr **slot;
    struct gconn *c;
    struct epoll_event ev;
    int one = 1;

    peer_of(ss, &a, peer, sizeof(peer));
    if (g->nconns >= g->o.max_conns) {
        refuse_fd(g, fd, "connection limit (http.max_connections)", peer);
        return;
    }
    slot = addr_slot(g, &a);
    if (*slot != NULL && g->o.max_per_addr > 0 && (*slot)->n >= g->o.max_per_addr) {
        refuse_fd(g, fd, "per-address limit (http.max_connections_per_addr)", peer);
        return;
    }
    if (*slot == NULL) {
        *slot = IGW_NEW(struct gaddr);
        if (*slot == NULL) {
            close(fd);
            return;
        }
        (*slot)->a = a;
    }
    c = IGW_NEW(struct gconn);
    if (c == NULL) {
        close(fd);
        return;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->cl = (struct gend){.c = c, .fd = fd, .events = EPOLLIN, .in_ep = true};
    c->be = (struct gend){.c = c, .fd = -1};
    c->hop = (struct gend){.c = c, .fd = -1};
    c->addr = *slot;
    memcpy(c->peer, peer, sizeof(peer));
    c->deadline = g->o.header_timeout_ms ? igw_mono_ms() + g->o.header_timeout_ms : 0;
    ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &c->cl};
    if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        igw_free(c);
        return;
    }
    c->addr->n++;
    c->next = g->conns;
    if (g->conns != NULL) {
        g->conns->prev = c;
    }
    g->conns = c;
    g->nconns++;
}

static void
on_accept(struct igw_guard *g)
{
    for (int i = 0; i < ACCEPT_BURST; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(g->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd >= 0) {
            admit(g, fd, &ss);
        } else if (errno == EMFILE || errno == ENFILE) {
            accept_exhausted(g);
            return;
        } else if (errno == ENOBUFS || errno == ENOMEM) {
            accept_pause(g);
            return;
        } else if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO) {
            return; /* EAGAIN: the queue is empty */
        }
    }
}

/* ---- timeouts and the loop --------------------------------------------------------------------
 */

static void
sweep(struct igw_guard *g, uint64_t now)
{
    struct gconn *c = g->conns;

    while (c != NULL) {
        struct gconn *next = c->next;
        if (c->deadline != 0 && now >= c->deadline) {
            guard_note(g, c->in_head || !c->served ? "header timeout" : "idle timeout", c->peer,
                       true);
            gconn_close(g, c);
        } else if (c->hop.fd >= 0 && now >= c->hop_due) {
            gconn_hop_retry(g, c, now);
        }
        c = next;
    }
    addr_prune(g);
    if (g->accept_paused && now >= g->resume_ms) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_listen};
        g->accept_paused = false;
        (void)epoll_ctl(g->epfd, EPOLL_CTL_MOD, g->lfd, &ev);
    }
}

static void
free_dead(struct igw_guard *g)
{
    while (g->dead != NULL) {
        struct gconn *c = g->dead;
        g->dead = c->dead_next;
        gconn_free(c);
    }
}

/* The start of a graceful stop: no new connection is accepted, no more client bytes are read,
 * and nng's side of every connection with a backend gets end-of-file. nng reads that EOF only
 * once it has written the answer of the request it is serving (the mediation engine answers what
 * it still mediates before the intake stops), then closes; backend_in passes that answer on and
 * closes the client. A connection with no backend yet has nothing to wait for. */
static void
drain_begin(struct igw_guard *g)
{
    struct gconn *c = g->conns;

    if (g->lfd >= 0) {
        close(g->lfd); /* also leaves the epoll set */
        g->lfd = -1;
    }
    while (c != NULL) {
        struct gconn *next = c->next;
        if (c->be.fd < 0 || c->connecting) {
            gconn_close(g, c);
        } else {
            c->cl.eof = true; /* stops reading the client (gconn_interest) */
            (void)shutdown(c->be.fd, SHUT_WR);
            gconn_interest(g, c);
        }
        c = next;
    }
    free_dead(g);
}

static void *
guard_main(void *arg)
{
    struct igw_guard *g = arg;
    struct epoll_event evs[64];
    uint64_t next_sweep = igw_mono_ms() + SWEEP_MS;
    uint64_t drain_until = 0; /* != 0: stopping; connections get until then to finish */

    igw_thread_name("igw:guard");

    for (;;) {
        bool timed = g->nconns > 0 || g->accept_paused || drain_until != 0;
        int n;
        uint64_t now;

        if (drain_until == 0 && atomic_load(&g->stop)) {
            drain_begin(g);
            drain_until = igw_mono_ms() + DRAIN_MS;
        }
        if (drain_until != 0 && (g->nconns == 0 || igw_mono_ms() >= drain_until)) {
            break;
        }
        n = epoll_wait(g->epfd, evs, 64, timed ? SWEEP_MS : -1);
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &tag_listen) {
                if (g->lfd >= 0) {
                    on_accept(g);
                }
            } else if (p == &tag_wake) {
                uint64_t v;
                (void)!read(g->wakefd, &v, sizeof(v)); /* level-triggered: consume it */
            } else {
                gconn_event(g, p, evs[i].events);
            }
        }
        gconn_wait_resume(g);
        free_dead(g);
        now = igw_mono_ms();
        if (now >= next_sweep || !timed) {
            sweep(g, now);
            gconn_wait_resume(g);
            free_dead(g);
            next_sweep = now + SWEEP_MS;
        }
    }
    while (g->conns != NULL) {
        gconn_close(g, g->conns);
    }
    free_dead(g);
    if (g->handoff) {
        IGW_INFO(
            "%s guard: %llu hops to nng, %llu waited for a free hop slot, %llu signalled again",
            g->what, (unsigned long long)g->n_hops, (unsigned long long)g->n_waited,
            (unsigned long long)g->n_resignalled);
    }
    return NULL;
}

/* ---- start and stop ---------------------------------------------------------------------- */

/* Each admitted connection may hold three descriptors: the client's, the guard's to nng and
 * nng's accepted end. The guard never admits more than its share of the open-files limit can
 * hold, so nng's own accept never fails (nng 1.5 spins on a failing accept). */
static unsigned
fd_budget(const struct igw_guard_opts *o)
{
    struct rlimit rl;
    uint64_t n;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
        return 1000000;
    }
    /* and two per hop still waiting for nng's accept (guard_handoff.c) */
    n = rl.rlim_cur > 2 * (FD_HEADROOM + 2 * GUARD_HOPS_PENDING_MAX)
            ? rl.rlim_cur - FD_HEADROOM - 2 * GUARD_HOPS_PENDING_MAX
            : rl.rlim_cur / 2;
    n = n * (o->fd_share_pct ? o->fd_share_pct : 100) / 100 / 3;
    return n > 0 ? (unsigned)n : 1;
}

static int
listen_on(struct igw_guard *g, const struct igw_guard_opts *o, char *errbuf, size_t errlen)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    int one = 1;
    int rv = getaddrinfo(o->host[0] != '\0' ? o->host : NULL, o->port, &hints, &res);

    if (rv != 0) {
        igw_errbuf_set(errbuf, errlen, "%s listen %s:%s: %s", o->what, o->host, o->port,
                       gai_strerror(rv));
        return IGW_EIO;
    }
    g->lfd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (g->lfd < 0 || setsockopt(g->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(g->lfd, res->ai_addr, res->ai_addrlen) != 0 || listen(g->lfd, GUARD_BACKLOG) != 0) {
        igw_errbuf_set(errbuf, errlen, "%s listen %s:%s: %s", o->what, o->host, o->port,
                       strerror(errno));
        freeaddrinfo(res);
        return IGW_EIO;
    }
    freeaddrinfo(res);
    return IGW_OK;
}

static int
loop_setup(struct igw_guard *g)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_listen};
    struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &tag_wake};

    g->epfd = epoll_create1(EPOLL_CLOEXEC);
    g->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    g->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (g->epfd < 0 || g->wakefd < 0 || g->reserve < 0 ||
        epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->lfd, &ev) != 0 ||
        epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->wakefd, &wev) != 0) {
        return IGW_EIO;
    }
    return IGW_OK;
}

static void
guard_free(struct igw_guard *g)
{
    int fds[4] = {g->lfd, g->epfd, g->wakefd, g->reserve};

    if (g->handoff) {
        guard_hop_unregister(ntohs(g->be_addr.sin_port));
    }

    for (size_t i = 0; i < IGW_ARRAY_LEN(fds); i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    for (size_t b = 0; b < GUARD_ADDR_BUCKETS; b++) {
        while (g->addrs[b] != NULL) {
            struct gaddr *x = g->addrs[b];
            g->addrs[b] = x->next;
            igw_free(x);
        }
    }
    igw_free(g);
}

/* Whether nng's accept() is igw's (guard_handoff.c): one hop through the handoff table and
 * back, waited for at most PROBE_MS. Else (a build where libnng's accept is not interposed) the
 * guard relays over TCP as before. */
#define PROBE_MS 2000
static bool
handoff_probe(struct igw_guard *g)
{
    struct gconn t = {.cl.fd = -1, .be.fd = -1, .hop.fd = -1};
    uint16_t be = ntohs(g->be_addr.sin_port);
    bool ok = false;

    if (!guard_hop_register(be)) {
        return false;
    }
    if (gconn_hop_connect(g, &t)) {
        struct pollfd p = {.fd = t.hop.fd, .events = POLLIN};
        /* the hop's end closes when nng has accepted, or when nng refused it */
        ok = poll(&p, 1, PROBE_MS) == 1 && !guard_hop_cancel(be, t.hop_port);
        if (!ok) {
            (void)guard_hop_cancel(be, t.hop_port);
        }
        close(t.hop.fd);
        close(t.be.fd);
    }
    if (!ok) {
        guard_hop_unregister(be);
    }
    return ok;
}

int
igw_guard_start(igw_guard **out, const struct igw_guard_opts *o, char *errbuf, size_t errlen)
{
    struct igw_guard *g = IGW_NEW(struct igw_guard);
    unsigned budget = fd_budget(o);
    int rv;

    *out = NULL;
    if (g == NULL) {
        return IGW_ENOMEM;
    }
    g->lfd = g->epfd = g->wakefd = g->reserve = -1;
    g->o = *o;
    g->o.host = g->o.port = NULL;
    snprintf(g->what, sizeof(g->what), "%s", o->what);
    if (g->o.max_conns == 0 || g->o.max_conns > budget) {
        if (g->o.max_conns > budget) {
            IGW_WARN("%s guard: max_connections %u lowered to %u (open-files limit)", g->what,
                     g->o.max_conns, budget);
        }
        g->o.max_conns = budget;
    }
    g->be_addr.sin_family = AF_INET;
    g->be_addr.sin_port = htons(o->backend_port);
    g->be_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    atomic_init(&g->stop, false);
    rv = listen_on(g, o, errbuf, errlen);
    if (rv == IGW_OK && loop_setup(g) != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "%s guard: %s", o->what, strerror(errno));
        rv = IGW_EIO;
    }
    if (rv == IGW_OK) {
        g->handoff = handoff_probe(g);
        g->hops_pending = 0; /* the probe's hop is closed */
        if (!g->handoff) {
            IGW_WARN("%s guard: nng's accept() is not igw's; requests go to nng over loopback TCP",
                     g->what);
        }
    }
    if (rv == IGW_OK && pthread_create(&g->thr, NULL, guard_main, g) != 0) {
        igw_errbuf_set(errbuf, errlen, "%s guard: cannot start its thread", o->what);
        rv = IGW_EIO;
    }
    if (rv != IGW_OK) {
        guard_free(g);
        return rv;
    }
    IGW_INFO("%s guard on %s:%s: at most %u connections, %u per address, header timeout %llu ms, "
             "idle timeout %llu ms",
             g->what, o->host, o->port, g->o.max_conns, g->o.max_per_addr,
             (unsigned long long)g->o.header_timeout_ms, (unsigned long long)g->o.idle_timeout_ms);
    g->started = true;
    *out = g;
    return IGW_OK;
}

void
igw_guard_stop(igw_guard *g)
{
    uint64_t one = 1;

    if (g == NULL) {
        return;
    }
    atomic_store(&g->stop, true);
    (void)!write(g->wakefd, &one, sizeof(one));
    pthread_join(g->thr, NULL);
    guard_free(g);
}
