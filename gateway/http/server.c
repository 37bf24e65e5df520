/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The nng 1.5 HTTP server plumbing shared by the HTTP intake and the admin API (http/server.h):
 * server start with TLS and the one tree handler, framing headers, responses and the aio finish.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "http/http.h"
#include "http/server.h"

#define PEM_MAX (1u << 20)

/* ---- start and stop ----------------------------------------------------------------------- */

int
igw_http_tree_handler_add(nng_http_server *srv, void (*cb)(nng_aio *), void *data)
{
    nng_http_handler *h = NULL;
    int rv = nng_http_handler_alloc(&h, "/", cb);

    rv = rv == 0 ? nng_http_handler_set_method(h, NULL) : rv;
    rv = rv == 0 ? nng_http_handler_set_tree(h) : rv;
    rv = rv == 0 ? nng_http_handler_collect_body(h, false, 0) : rv;
    rv = rv == 0 ? nng_http_handler_set_data(h, data, NULL) : rv;
    rv = rv == 0 ? nng_http_server_add_handler(srv, h) : rv;
    if (rv != 0 && h != NULL) {
        nng_http_handler_free(h);
    }
    return rv;
}

static int
read_pem(const char *path, struct igw_buf *b, char *errbuf, size_t errlen)
{
    int rv = igw_buf_read_file(b, path);

    if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "cannot read %s: %s", path, igw_strerror(rv));
    }
    return rv;
}

int
igw_http_tls_config(const char *cert_file, const char *key_file, nng_tls_config **out, char *errbuf,
                    size_t errlen)
{
    struct igw_buf cert;
    struct igw_buf key;
    nng_tls_config *tls = NULL;
    int rv;

    *out = NULL;
    igw_buf_init(&cert, PEM_MAX);
    igw_buf_init(&key, PEM_MAX);
    rv = read_pem(cert_file, &cert, errbuf, errlen);
    if (rv == IGW_OK) {
        rv = read_pem(key_file, &key, errbuf, errlen);
    }
    if (rv == IGW_OK) {
        int nrv = nng_tls_config_alloc(&tls, NNG_TLS_MODE_SERVER);
        nrv = nrv == 0 ? nng_tls_config_own_cert(tls, cert.ptr, key.ptr, NULL) : nrv;
        if (nrv != 0) {
            igw_errbuf_set(errbuf, errlen, "TLS setup failed (%s, %s): %s", cert_file, key_file,
                           nng_strerror(nrv));
            rv = IGW_EIO;
        }
    }
    if (rv == IGW_OK) {
        *out = tls;
    } else if (tls != NULL) {
        nng_tls_config_free(tls);
    }
    if (key.ptr != NULL) {
        memset(key.ptr, 0, key.len); /* do not leave the private key in freed memory */
    }
    igw_buf_fini(&cert);
    igw_buf_fini(&key);
    return rv == IGW_OK ? IGW_OK : IGW_EIO;
}

int
igw_http_tls_client_ca(nng_tls_config *tls, const char *ca_file, char *errbuf, size_t errlen)
{
    struct igw_buf ca;
    int rv;

    igw_buf_init(&ca, PEM_MAX);
    rv = read_pem(ca_file, &ca, errbuf, errlen);
    if (rv == IGW_OK) {
        int nrv = nng_tls_config_ca_chain(tls, ca.ptr, NULL);
        nrv = nrv == 0 ? nng_tls_config_auth_mode(tls, NNG_TLS_AUTH_MODE_REQUIRED) : nrv;
        if (nrv != 0) {
            igw_errbuf_set(errbuf, errlen, "TLS client CA %s: %s", ca_file, nng_strerror(nrv));
            rv = IGW_EIO;
        }
    }
    igw_buf_fini(&ca);
    return rv == IGW_OK ? IGW_OK : IGW_EIO;
}

static int
setup_tls(nng_http_server *srv, const struct igw_http_server_opts *o, char *errbuf, size_t errlen)
{
    nng_tls_config *tls = NULL;
    int rv = igw_http_tls_config(o->tls_cert, o->tls_key, &tls, errbuf, errlen);
    int nrv;

    if (rv == IGW_OK && o->tls_client_ca != NULL) {
        rv = igw_http_tls_client_ca(tls, o->tls_client_ca, errbuf, errlen);
        if (rv != IGW_OK) {
            nng_tls_config_free(tls);
        }
    }
    if (rv != IGW_OK) {
        return rv;
    }
    nrv = nng_http_server_set_tls(srv, tls);
    nng_tls_config_free(tls); /* the server holds its own reference */
    if (nrv != 0) {
        igw_errbuf_set(errbuf, errlen, "TLS setup failed: %s", nng_strerror(nrv));
        return IGW_EIO;
    }
    return IGW_OK;
}

struct igw_http_srv {
    nng_http_server *nng;
    igw_guard *guard; /* NULL when nng listens on the public address itself */
};

static int
nng_start(nng_http_server **out, const char *listen, const struct igw_http_server_opts *o,
          char *errbuf, size_t errlen)
{
    nng_http_server *srv = NULL;
    nng_url *url = NULL;
    int rv = nng_url_parse(&url, listen);

    *out = NULL;
    rv = rv == 0 ? nng_http_server_hold(&srv, url) : rv;
    nng_url_free(url);
    if (rv == 0 && o->tls_cert != NULL && setup_tls(srv, o, errbuf, errlen) != IGW_OK) {
        nng_http_server_release(srv);
        return IGW_EIO;
    }
    rv = rv == 0 ? igw_http_tree_handler_add(srv, o->handle, o->data) : rv;
    rv = rv == 0 ? nng_http_server_start(srv) : rv;
    if (rv != 0) {
        igw_errbuf_set(errbuf, errlen, "%s listen %s: %s", o->what, listen, nng_strerror(rv));
        if (srv != NULL) {
            nng_http_server_release(srv);
        }
        return rv == NNG_EADDRINUSE ? IGW_EAGAIN : IGW_EIO;
    }
    *out = srv;
    return IGW_OK;
}

/* A port of 127.0.0.1 free right now (nng 1.5 shares servers held on the same "host:0", so
 * each service needs a port of its own). @return the port or 0. */
static uint16_t
free_loopback_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    uint16_t port = 0;

    if (fd < 0) {
        return 0;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
        port = ntohs(sa.sin_port);
    }
    close(fd);
    return port;
}

/* nng on a private loopback port, the guard on o->listen. */
static int
guarded_start(struct igw_http_srv *s, const struct igw_http_server_opts *o, char *errbuf,
              size_t errlen)
{
    struct igw_guard_opts go = *o->guard;
    nng_url *url = NULL;
    char priv[64];
    int rv = IGW_EIO;

    if (nng_url_parse(&url, o->listen) != 0) {
        igw_errbuf_set(errbuf, errlen, "%s listen %s: invalid URL", o->what, o->listen);
        return IGW_EIO;
    }
    for (int attempt = 0; attempt < 8; attempt++) {
        go.backend_port = free_loopback_port();
        snprintf(priv, sizeof(priv), "http://127.0.0.1:%u", (unsigned)go.backend_port);
        rv = go.backend_port == 0 ? IGW_EIO : nng_start(&s->nng, priv, o, errbuf, errlen);
        if (rv != IGW_EAGAIN) {
            break; /* IGW_EAGAIN: another process took the port in between */
        }
    }
    if (rv == IGW_OK) {
        go.what = o->what;
        go.host = url->u_hostname;
        go.port = url->u_port;
        rv = igw_guard_start(&s->guard, &go, errbuf, errlen);
    }
    nng_url_free(url);
    return rv == IGW_EAGAIN ? IGW_EIO : rv;
}

int
igw_http_server_start(igw_http_srv **out, const struct igw_http_server_opts *o, char *errbuf,
                      size_t errlen)
{
    struct igw_http_srv *s = IGW_NEW(struct igw_http_srv);
    int rv;

    *out = NULL;
    if (s == NULL) {
        return IGW_ENOMEM;
    }
    if (igw_http_server_guarded(o)) {
        rv = guarded_start(s, o, errbuf, errlen);
    } else {
        rv = nng_start(&s->nng, o->listen, o, errbuf, errlen);
    }
    if (rv != IGW_OK) {
        igw_http_server_stop(s);
        igw_http_server_free(s);
        return rv == IGW_EAGAIN ? IGW_EIO : rv;
    }
    *out = s;
    return IGW_OK;
}

void
igw_http_server_stop(igw_http_srv *srv)
{
    if (srv == NULL) {
        return;
    }
    igw_guard_stop(srv->guard); /* first: no new bytes reach nng */
    srv->guard = NULL;
    if (srv->nng != NULL) {
        nng_http_server_stop(srv->nng);
    }
}

void
igw_http_server_free(igw_http_srv *srv)
{
    if (srv == NULL) {
        return;
    }
    igw_guard_stop(srv->guard);
    if (srv->nng != NULL) {
        nng_http_server_release(srv->nng);
    }
    igw_free(srv);
}

/* ---- requests and responses --------------------------------------------------------------- */

enum igw_http_framing_fault
igw_http_framing_read(nng_http_req *req, struct igw_http_framing *f)
{
    const char *cl = nng_http_req_get_header(req, "Content-Length");
    const char *expect = nng_http_req_get_header(req, "Expect");

    memset(f, 0, sizeof(*f));
    if (nng_http_req_get_header(req, "Transfer-Encoding") != NULL) {
        return IGW_FRAMING_CHUNKED;
    }
    f->has_clen = cl != NULL;
    if (cl != NULL && igw_content_length_parse(cl, &f->clen) != IGW_OK) {
        return IGW_FRAMING_LENGTH;
    }
    if (expect != NULL && !igw_header_has_token(expect, "100-continue")) {
        return IGW_FRAMING_EXPECT;
    }
    f->expect = expect != NULL;
    return IGW_FRAMING_OK;
}

nng_http_res *
igw_http_res_new(uint16_t status, const char *content_type, const void *body, size_t len)
{
    nng_http_res *res = NULL;

    if (body == NULL || nng_http_res_alloc(&res) != 0) {
        return NULL;
    }
    if (nng_http_res_set_status(res, status) != 0 ||
        nng_http_res_set_reason(res, igw_http_reason(status)) != 0 ||
        nng_http_res_set_header(res, "Content-Type", content_type) != 0 ||
        (len > 0 ? nng_http_res_copy_data(res, body, len)
                 : nng_http_res_set_header(res, "Content-Length", "0")) != 0) {
        nng_http_res_free(res);
        return NULL;
    }
    return res;
}

int
igw_http_res_hints(nng_http_res *res, const struct igw_http_verdict *v)
{
    int rv = 0;

    if (v->close) {
        rv = nng_http_res_set_header(res, "Connection", "close");
    }
    if (rv == 0 && v->challenge != NULL) {
        rv = nng_http_res_set_header(res, "WWW-Authenticate", v->challenge);
    }
    if (rv == 0 && v->allow != NULL) {
        rv = nng_http_res_set_header(res, "Allow", v->allow);
    }
    if (rv == 0 && v->retry_after != NULL) {
        rv = nng_http_res_set_header(res, "Retry-After", v->retry_after);
    }
    return rv;
}

void
igw_http_finish(nng_aio *aio, nng_http_res *res)
{
    if (res == NULL) {
        nng_aio_finish(aio, NNG_ECLOSED);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

bool
igw_http_server_guarded(const struct igw_http_server_opts *o)
{
    return o->guard != NULL && o->tls_cert == NULL && strncmp(o->listen, "http://", 7) == 0;
}

void
igw_http_server_admit(bool guarded, nng_http_req *req)
{
    if (!guarded) {
        (void)nng_http_req_del_header(req, IGW_GUARD_PEER_HEADER);
    }
}
