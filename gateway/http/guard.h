/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the connection guard, igw's own layer in front of nng 1.5's HTTP server
 * (docs/internals/HTTP-SERVER.md, "The connection guard"). It owns the public listening socket
 * on one epoll thread, admits connections within a total and a per-address limit, closes a
 * connection whose request headers do not arrive within the header timeout or that stays idle
 * between requests, answers 431 itself to a header block nng would drop, keeps accepting calmly
 * at descriptor exhaustion, and forwards each admitted connection to nng's server on a private
 * loopback port, writing "X-Igw-Peer: <client address>" into every request's header block (and
 * dropping any the client sent). The header-block parser is pure and unit-tested.
 */
#ifndef IGW_GATEWAY_HTTP_GUARD_H
#define IGW_GATEWAY_HTTP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The request header added by the guard; igw_http_peer (http/http.h) reads it. */
#define IGW_GUARD_PEER_HEADER "X-Igw-Peer"
/* Longest request line plus headers the guard forwards (431 above). nng 1.5.2 holds a request's
 * header block in one 8,192-byte buffer; this leaves room for the X-Igw-Peer line. */
#define IGW_GUARD_HEAD_MAX 8064
/* Room for the inserted line: "X-Igw-Peer: " + an IPv6 address + CRLF. */
#define IGW_GUARD_PEER_LINE_MAX 64
#define IGW_GUARD_OUT_MAX (IGW_GUARD_HEAD_MAX + IGW_GUARD_PEER_LINE_MAX)

/* ---- the header block (pure; guard_head.c) ------------------------------------------------ */

enum igw_guard_head {
    IGW_HEAD_MORE = 0, /* no complete header block yet, and still within max */
    IGW_HEAD_DONE,     /* a complete block: rewritten into out, see igw_guard_head_info */
    IGW_HEAD_TOO_BIG,  /* the block is (or will be) longer than max: answer 431 */
};

struct igw_guard_head_info {
    size_t consumed; /* bytes of the input that made up the block (leading blank lines too) */
    size_t outlen;   /* bytes written to out */
    uint64_t clen;   /* Content-Length: body bytes that follow the block */
    bool opaque;     /* Transfer-Encoding, or a missing/bad/repeated framing: igw refuses it and
                      * closes, so nothing after the block is forwarded */
};

/** Looks for one complete request header block (request line, header lines, empty line; lines
 *  end in LF or CRLF) at the start of in[0..len). When complete, writes it to out with CRLF line
 *  ends, "X-Igw-Peer: <peer>" inserted after the request line and every client-sent X-Igw-Peer
 *  line dropped, and fills *info. in, peer, out and info must not be NULL; out must hold
 *  IGW_GUARD_OUT_MAX bytes; peer is at most IGW_GUARD_PEER_LINE_MAX - 16 bytes. Nothing is
 *  allocated. @return IGW_HEAD_MORE, IGW_HEAD_DONE or IGW_HEAD_TOO_BIG (the block, or what
 *  arrived of it, is longer than max, max at most IGW_GUARD_HEAD_MAX). */
enum igw_guard_head igw_guard_head_rewrite(const char *in, size_t len, size_t max, const char *peer,
                                           char *out, struct igw_guard_head_info *info);

/* ---- the guard (guard.c, guard_conn.c) ----------------------------------------------------- */

typedef struct igw_guard igw_guard;

/* What the guard enforces; limits of 0 take the defaults described per field. */
struct igw_guard_opts {
    const char *what;           /* names the service in logs and errbuf: "http", "admin" */
    const char *host;           /* public address to bind (a name or a literal), required */
    const char *port;           /* public port, required */
    uint16_t backend_port;      /* nng's private listener on 127.0.0.1 */
    unsigned max_conns;         /* total client connections; 0 = from the open-files limit */
    unsigned fd_share_pct;      /* percent of the open-files limit (less 64) this guard may use */
    unsigned max_per_addr;      /* connections per client address; 0 = no per-address limit */
    uint64_t header_timeout_ms; /* a request's header block must arrive within it; 0 = off */
    uint64_t idle_timeout_ms;   /* a connection idle between requests is closed; 0 = off */
    /* Optional (NULL: the guard's own plain JSON 431 for every header block over the limit):
     * builds the refusal of a header block over IGW_GUARD_HEAD_MAX in the error shape of the
     * service the request is for (a FHIR base answers an OperationOutcome). line[0..n) is what
     * arrived of the request line, leading blank lines skipped; line_whole is false when the
     * request line alone is over the limit (it is then cut, the query usually). Writes a
     * complete HTTP/1.1 response that ends with the connection (Connection: close) into
     * buf[0..cap) and returns its length, or 0 to leave the guard's own 431. Called on the
     * guard's thread: it must not block; arg is head_refusal_arg. */
    size_t (*head_refusal)(const void *arg, const char *line, size_t n, bool line_whole, char *buf,
                           size_t cap);
    const void *head_refusal_arg;
};

/** Binds o->host:o->port, starts the guard's thread and returns it in *out. Every pointer in o
 *  is borrowed for the call only. out and o must not be NULL. On failure *out is NULL and
 *  nothing is held. @return IGW_OK, IGW_ENOMEM, or IGW_EIO (cannot resolve or bind the address,
 *  no epoll or thread; one line of detail in errbuf: "<what> listen <host>:<port>: ..."). */
int igw_guard_start(igw_guard **out, const struct igw_guard_opts *o, char *errbuf, size_t errlen);

/** Stops the thread, closes the listener and every connection (client and backend sides) and
 *  frees the guard. NULL-safe. Blocks until the thread has ended. */
void igw_guard_stop(igw_guard *g);

#endif /* IGW_GATEWAY_HTTP_GUARD_H */
