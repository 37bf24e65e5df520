/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the nng 1.5 HTTP server plumbing every HTTP-facing igw service shares (the
 * intake in in_http/, the admin API in admin/): starting a server with one tree handler and
 * optional TLS, reading a request's framing headers, building a response with the headers a
 * refusal needs, and finishing nng's handler aio. docs/internals/HTTP-SERVER.md shows how a new
 * service uses it.
 *
 * Threads: igw_http_server_start/stop/free are called from the thread that starts and stops the
 * service; the request functions are called from the service's handler (an nng task thread) or
 * from whichever thread later finishes the request. None of them blocks except
 * igw_http_server_stop.
 */
#ifndef IGW_GATEWAY_HTTP_SERVER_INT_H
#define IGW_GATEWAY_HTTP_SERVER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>

#include "http/guard.h"
#include "http/status.h"

/* A running HTTP service: nng's server, and the connection guard in front of it when there is
 * one (opaque; server.c). */
typedef struct igw_http_srv igw_http_srv;

/* What a service asks igw_http_server_start for. Every pointer is borrowed for the call only,
 * except data, which the handler receives for as long as the server runs. */
struct igw_http_server_opts {
    const char *listen;        /* "http://host:port" (required) */
    const char *tls_cert;      /* PEM certificate file; NULL serves plain HTTP */
    const char *tls_key;       /* PEM private key file (required with tls_cert) */
    const char *tls_client_ca; /* PEM CA file: client certificates required; NULL = not asked */
    const char *what;          /* names the service in errbuf: "http", "admin" */
    void (*handle)(nng_aio *aio);
    void *data; /* for handle, through nng_http_handler_get_data */
    /* The connection guard's limits (max_conns, fd_share_pct, max_per_addr, the timeouts; its
     * what, host, port and backend_port are filled in here), or NULL: nng listens on listen
     * itself. Ignored for TLS (tls_cert set): the guard does not terminate TLS. */
    const struct igw_guard_opts *guard;
};

/** Holds nng's HTTP server for o->listen, loads TLS when o->tls_cert is set, adds one tree
 *  handler on "/" for every method (igw_http_tree_handler_add) and starts the server. With
 *  o->guard on a plain http:// listener, nng listens on a free port of 127.0.0.1 instead and
 *  the connection guard (http/guard.h) takes o->listen's address. On success *out is the
 *  running service (stop and free it with igw_http_server_stop and igw_http_server_free); on
 *  failure *out is NULL and nothing is left held. out and o must not be NULL.
 *  @return IGW_OK, IGW_ENOMEM, or IGW_EIO (bad URL, cannot listen, unreadable PEM files or TLS
 *  set-up failure; one line of detail in errbuf: "<what> listen <url>: <nng error>",
 *  "cannot read <file>: ..." or "TLS setup failed: ..."). */
int igw_http_server_start(igw_http_srv **out, const struct igw_http_server_opts *o, char *errbuf,
                          size_t errlen);

/** Stops the service: closes the guard (its listener and every client connection) and nng's
 *  listener and connections. Handlers already called still finish their aio (their answers
 *  are dropped). NULL-safe. Blocks until both are closed. */
void igw_http_server_stop(igw_http_srv *srv);

/** True when igw_http_server_start(o) puts the connection guard in front of nng: o->guard set,
 *  no TLS, a plain http:// listen address. o must not be NULL. Pure. */
bool igw_http_server_guarded(const struct igw_http_server_opts *o);

/** Makes the client address of req trustworthy: on a service without the guard (guarded
 *  false, from igw_http_server_guarded before the start), drops any X-Igw-Peer header the
 *  client sent itself, so that igw_http_peer answers "-" instead of an address the client
 *  chose. Call first thing in every handler. req must not be NULL. */
void igw_http_server_admit(bool guarded, nng_http_req *req);

/** Releases the service taken by igw_http_server_start; call once no handler can run any more.
 *  NULL-safe. */
void igw_http_server_free(igw_http_srv *srv);

/** Reads the PEM certificate chain and private key (each at most 1 MiB) and builds nng's TLS
 *  server configuration with them as its own certificate: exactly what an https:// service
 *  starts with, so `igw config check` can run it too. cert_file, key_file and out must not be
 *  NULL. On success *out is the caller's (nng_tls_config_free); on failure *out is NULL and
 *  errbuf says "cannot read <file>: ..." or "TLS setup failed (<cert>, <key>): ...". The key's
 *  bytes are wiped before they are freed.
 *  @return IGW_OK or IGW_EIO (a file unreadable or too large, or nng refused the pair). */
/** Makes tls require a client certificate signed by a CA of the PEM file ca_file (at most
 *  1 MiB). tls and ca_file must not be NULL. @return IGW_OK, or IGW_EIO (unreadable file or a
 *  CA nng refuses; errbuf says which). */
int igw_http_tls_client_ca(nng_tls_config *tls, const char *ca_file, char *errbuf, size_t errlen);

int igw_http_tls_config(const char *cert_file, const char *key_file, nng_tls_config **out,
                        char *errbuf, size_t errlen);

/** Adds one handler for every method and every path under "/" (igw routes requests itself),
 *  with body collection off (igw reads bodies itself, so it can refuse them first) and data
 *  available to cb through nng_http_handler_get_data. srv and cb must not be NULL.
 *  @return 0 or an nng error (NNG_ENOMEM, NNG_EADDRINUSE for a second handler on "/"); on
 *  error the handler is freed. */
int igw_http_tree_handler_add(nng_http_server *srv, void (*cb)(nng_aio *), void *data);

/* The framing headers of a request, as read by igw_http_framing_read. */
struct igw_http_framing {
    uint64_t clen; /* Content-Length, 0 when absent */
    bool has_clen; /* a Content-Length header was sent */
    bool expect;   /* Expect: 100-continue was sent */
};

/* What is wrong with a request's framing (the first fault, in this order). */
enum igw_http_framing_fault {
    IGW_FRAMING_OK = 0,
    IGW_FRAMING_CHUNKED, /* Transfer-Encoding sent: nng 1.5 would hand igw an empty body */
    IGW_FRAMING_LENGTH,  /* Content-Length not a plain decimal number */
    IGW_FRAMING_EXPECT,  /* Expect with anything but 100-continue */
};

/** Reads Transfer-Encoding, Content-Length and Expect of req into *f (f->clen and f->has_clen
 *  are valid from IGW_FRAMING_EXPECT on). req and f must not be NULL. Every fault leaves the
 *  rest of the request unread: answer it with Connection: close. @return the first fault. */
enum igw_http_framing_fault igw_http_framing_read(nng_http_req *req, struct igw_http_framing *f);

/** A response with status, its reason phrase (igw_http_reason), Content-Type content_type and
 *  a copy of body[0..len) (a body always: without one nng 1.5 sends no Content-Length).
 *  content_type must not be NULL. The caller owns the result until it hands it to
 *  igw_http_finish (or frees it with nng_http_res_free). @return NULL when body is NULL or out
 *  of memory. */
nng_http_res *igw_http_res_new(uint16_t status, const char *content_type, const void *body,
                               size_t len);

/** Adds the headers a verdict asks for to res: Connection: close (v->close), WWW-Authenticate
 *  (v->challenge), Allow (v->allow), Retry-After (v->retry_after), each only when set. res and
 *  v must not be NULL. @return 0 or NNG_ENOMEM (some headers may then be set). */
int igw_http_res_hints(nng_http_res *res, const struct igw_http_verdict *v);

/** Finishes nng's handler aio exactly once: with res as the answer (nng owns res from here),
 *  or, when res is NULL, with NNG_ECLOSED, on which nng closes the connection without an
 *  answer. The request nng handed the handler belongs to nng again afterwards. */
void igw_http_finish(nng_aio *aio, nng_http_res *res);

#endif /* IGW_GATEWAY_HTTP_SERVER_INT_H */
