/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection guard's private hop to nng over a Unix socket pair (http/guard_int.h).
 *
 * nng 1.5.2's HTTP server listens on TCP only and cannot adopt a descriptor, so the guard used
 * to relay every request over a second loopback TCP connection: the kernel's TCP work for it was
 * the largest single cost of an accepted request (docs/PERFORMANCE.md, issue 14). Here the guard
 * still connects to nng's private TCP listener once per client connection, but only as a
 * signal: igw defines accept(), which nng's listener calls (libnng.so's reference to accept
 * binds to the executable's definition, the ordinary ELF interposition rule). For a connection
 * to a guard's private port, accept() looks the caller's source port up in the table of hops
 * the guard registered, closes the TCP connection and returns the nng end of a socketpair
 * instead. Every request and answer then crosses AF_UNIX, and nng treats the descriptor as its
 * TCP stream (its TCP_NODELAY and keepalive settings fail harmlessly). A connection to the
 * private port that the guard did not make (another process on this host) is closed unserved,
 * so nothing bypasses the guard's limits. Every other accept() in the process is untouched.
 *
 * The table is shared by the guard's thread (add, cancel) and nng's poller thread (take): one
 * mutex, held for a few list steps once per connection, never per request.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "igw/common.h"
#include "http/guard_int.h"

#define HANDOFF_PORTS 8

struct hop {
    struct hop *next;
    uint16_t be_port;  /* the guard's private nng port */
    uint16_t src_port; /* the signal connection's local port */
    int fd;            /* nng's end of the pair; -1: nng takes the TCP connection itself */
};

static pthread_mutex_t hop_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct hop *hops;
static uint16_t hop_ports[HANDOFF_PORTS];
static atomic_uint hop_nports; /* registered ports; 0: accept() only passes through */

bool
guard_hop_register(uint16_t be_port)
{
    bool ok = false;

    pthread_mutex_lock(&hop_mtx);
    for (size_t i = 0; i < HANDOFF_PORTS && !ok; i++) {
        if (hop_ports[i] == 0) {
            hop_ports[i] = be_port;
            atomic_fetch_add(&hop_nports, 1);
            ok = true;
        }
    }
    pthread_mutex_unlock(&hop_mtx);
    return ok;
}

void
guard_hop_unregister(uint16_t be_port)
{
    pthread_mutex_lock(&hop_mtx);
    for (size_t i = 0; i < HANDOFF_PORTS; i++) {
        if (be_port != 0 && hop_ports[i] == be_port) {
            hop_ports[i] = 0;
            atomic_fetch_sub(&hop_nports, 1);
        }
    }
    pthread_mutex_unlock(&hop_mtx);
}

bool
guard_hop_add(uint16_t be_port, uint16_t src_port, int fd)
{
    struct hop *h = IGW_NEW(struct hop);

    if (h == NULL) {
        return false;
    }
    h->be_port = be_port;
    h->src_port = src_port;
    h->fd = fd;
    pthread_mutex_lock(&hop_mtx);
    h->next = hops;
    hops = h;
    pthread_mutex_unlock(&hop_mtx);
    return true;
}

bool
guard_hop_take(uint16_t be_port, uint16_t src_port, int *fd)
{
    bool found = false;

    pthread_mutex_lock(&hop_mtx);
    for (struct hop **p = &hops; *p != NULL; p = &(*p)->next) {
        if ((*p)->be_port == be_port && (*p)->src_port == src_port) {
            struct hop *h = *p;
            *p = h->next;
            *fd = h->fd;
            igw_free(h);
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&hop_mtx);
    return found;
}

bool
guard_hop_cancel(uint16_t be_port, uint16_t src_port)
{
    int fd = -1;

    if (!guard_hop_take(be_port, src_port, &fd)) {
        return false;
    }
    if (fd >= 0) {
        close(fd);
    }
    return true;
}

static bool
is_hop_port(uint16_t port)
{
    bool yes = false;

    pthread_mutex_lock(&hop_mtx);
    for (size_t i = 0; i < HANDOFF_PORTS && !yes; i++) {
        yes = port != 0 && hop_ports[i] == port;
    }
    pthread_mutex_unlock(&hop_mtx);
    return yes;
}

/* The accept() every caller in the process gets, nng's listeners among them. */
int
accept(int fd, struct sockaddr *restrict addr, socklen_t *restrict len)
{
    for (;;) {
        struct sockaddr_in loc;
        struct sockaddr_in peer;
        socklen_t ll = sizeof(loc);
        socklen_t pl = sizeof(peer);
        int nfd = (int)syscall(SYS_accept4, fd, addr, len, 0);
        int pair = -1;
        bool found;

        if (nfd < 0 || atomic_load(&hop_nports) == 0) {
            return nfd;
        }
        if (getsockname(nfd, (struct sockaddr *)&loc, &ll) != 0 || loc.sin_family != AF_INET ||
            !is_hop_port(ntohs(loc.sin_port))) {
            return nfd; /* not a guard's private listener */
        }
        found = getpeername(nfd, (struct sockaddr *)&peer, &pl) == 0 &&
                peer.sin_family == AF_INET &&
                guard_hop_take(ntohs(loc.sin_port), ntohs(peer.sin_port), &pair);
        if (found && pair < 0) {
            return nfd; /* a connection the guard relays over TCP */
        }
        close(nfd); /* the signal connection's work is done; the guard sees its end close */
        if (found) {
            return pair;
        }
        /* a connection the guard did not make: closed unserved; take the next one, if any
         * (the listener is non-blocking: EAGAIN ends the loop) */
    }
}
