/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the connection guard (guard.c: thread, accept, limits, timeouts; guard_conn.c: one
 * connection's forwarding in both directions). Everything here runs on the guard's one thread.
 */
#ifndef IGW_GATEWAY_HTTP_GUARD_INT_H
#define IGW_GATEWAY_HTTP_GUARD_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "http/guard.h"

#define GUARD_ADDR_BUCKETS 1024
#define GUARD_SCRATCH (64 * 1024)
#define GUARD_IBUF IGW_GUARD_HEAD_MAX
/* Hops (guard_handoff.c) waiting for nng's accept at a time: each holds two descriptors more
 * until then; beyond it a new connection is relayed over TCP (fd_budget keeps room for them). */
#define GUARD_HOPS_PENDING_MAX 64
/* A hop nng has not accepted this long is signalled again over a fresh TCP connection (the
 * kernel may have dropped the last one's handshake: a full accept queue), every
 * GUARD_HOP_RETRY_MS, not after the kernel's doubling SYN retries; after GUARD_HOP_TRIES
 * signals (half a minute of nng accepting nothing) the connection is answered 503. */
#define GUARD_HOP_RETRY_MS 1000
#define GUARD_HOP_TRIES 30
#define GUARD_REFUSAL_MAX 2048 /* a refusal the guard writes itself, head_refusal's too */

enum gstate { GS_HEAD, GS_BODY, GS_OPAQUE };

struct gconn;

/* One side of a connection: the client's socket or the one to nng's private listener. */
struct gend {
    struct gconn *c;
    int fd;          /* -1 when not open */
    uint32_t events; /* what epoll watches now */
    char *pend;      /* bytes still to write to this side (owned) */
    size_t plen;
    bool eof;   /* this side's peer closed its writing half */
    bool in_ep; /* fd is in the epoll set */
};

/* One client address and how many connections it holds. */
struct gaddr {
    struct gaddr *next;
    struct in6_addr a;
    unsigned n;
};

struct gconn {
    struct gconn *prev, *next; /* every live connection */
    struct gconn *dead_next;   /* closed in this batch, freed at its end */
    struct gend cl, be;
    struct gend hop;    /* the TCP connection that signals nng to accept be (guard_handoff.c) */
    uint16_t hop_port;  /* hop's local port: the key of its entry in the handoff table */
    unsigned hop_tries; /* signals sent for the hop pending now */
    uint64_t hop_due;   /* igw_mono_ms when the pending hop is signalled again */
    struct gconn *wait_next; /* in the guard's queue of connections waiting for a free hop */
    bool waiting;            /* its header block is read; no hop slot was free */
    struct gaddr *addr;
    char peer[INET6_ADDRSTRLEN];
    enum gstate state;
    char *ibuf; /* client bytes not yet forwarded (GUARD_IBUF bytes, only while needed) */
    size_t ilen;
    uint64_t body_left;
    uint64_t deadline; /* igw_mono_ms; 0 = none */
    bool in_head;      /* the first bytes of a header block arrived */
    bool served;       /* a request was forwarded (else the deadline is the header timeout) */
    bool connecting;   /* the backend connect is in progress */
    bool close_after;  /* close once everything pending to the client is written */
    bool dead;
};

struct igw_guard {
    struct igw_guard_opts o; /* host and port are not kept */
    char what[16];
    int lfd, epfd, wakefd, reserve;
    bool accept_paused;
    uint64_t resume_ms;
    pthread_t thr;
    bool started;
    atomic_bool stop;
    struct sockaddr_in be_addr;
    bool handoff; /* nng's accept() is igw's (guard_handoff.c): the hop is a Unix socket pair */
    unsigned hops_pending;                    /* hops nng has not accepted yet */
    struct gconn *wait_head, *wait_tail;      /* waiting for a hop slot, first come first served */
    uint64_t n_hops, n_waited, n_resignalled; /* since the start, for the stop log line */
    struct gconn *conns;
    struct gconn *dead;
    unsigned nconns;
    struct gaddr *addrs[GUARD_ADDR_BUCKETS];
    uint64_t refused, timed_out; /* since the last log line */
    uint64_t last_log_ms;
    const char *last_refused; /* reason of the last refusal, for the log line */
    char last_peer[INET6_ADDRSTRLEN];
    char scratch[GUARD_SCRATCH];
    char out[IGW_GUARD_OUT_MAX];
};

/* guard.c */
void guard_watch(struct igw_guard *g, struct gend *e, uint32_t events);
void guard_note(struct igw_guard *g, const char *why, const char *peer, bool timeout);

/* guard_conn.c */
void gconn_close(struct igw_guard *g, struct gconn *c);
void gconn_refuse(struct igw_guard *g, struct gconn *c, int status);
void gconn_event(struct igw_guard *g, struct gend *e, uint32_t events);
void gconn_interest(struct igw_guard *g, struct gconn *c);
void gconn_free(struct gconn *c);
size_t guard_canned(int status, char *buf, size_t cap);
bool gconn_hop_connect(struct igw_guard *g, struct gconn *c);
/* Gives hop slots freed since the last call to the connections waiting for one (called once
 * per turn of the guard's loop, after the events). */
void gconn_wait_resume(struct igw_guard *g);
/* c's hop is due (c->hop_due passed): signals nng again, or answers 503 after GUARD_HOP_TRIES. */
void gconn_hop_retry(struct igw_guard *g, struct gconn *c, uint64_t now);

/* guard_handoff.c: the table of socket pairs nng's accept() hands out (any thread). */
/* Makes accept() look at connections to nng's private port be_port. @return false when 8 ports
 * are registered already. */
bool guard_hop_register(uint16_t be_port);
/* Undoes guard_hop_register (accept() passes be_port's connections through again). */
void guard_hop_unregister(uint16_t be_port);
/* Registers fd (nng's end of a pair, which the table owns from here; -1: nng is to take the TCP
 * connection itself) for the connection to be_port from 127.0.0.1:src_port. @return false when
 * out of memory (fd is then still the caller's). */
bool guard_hop_add(uint16_t be_port, uint16_t src_port, int fd);
/* Removes the entry (be_port, src_port) and closes its descriptor. @return false when nng's
 * accept() has taken it already (or it never was there). */
bool guard_hop_cancel(uint16_t be_port, uint16_t src_port);
/* Removes the entry (be_port, src_port) and gives its descriptor back in *fd (the caller's from
 * here; -1 for a relayed connection). @return false when nng's accept() has taken it already. */
bool guard_hop_take(uint16_t be_port, uint16_t src_port, int *fd);

#endif /* IGW_GATEWAY_HTTP_GUARD_INT_H */
