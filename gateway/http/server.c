/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The nng 1.5 HTTP server plumbing shared by the HTTP intake and the admin API (http/server.h):
 * server start with TLS and the one tree handler, framing headers, responses and the aio finish.
 */
#include <string.h>
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

static int
setup_tls(nng_http_server *srv, const struct igw_http_server_opts *o, char *errbuf, size_t errlen)
{
    struct igw_buf cert;
    struct igw_buf key;
    nng_tls_config *tls = NULL;
    int rv;

    igw_buf_init(&cert, PEM_MAX);
    igw_buf_init(&key, PEM_MAX);
    rv = read_pem(o->tls_cert, &cert, errbuf, errlen);
    if (rv == IGW_OK) {
        rv = read_pem(o->tls_key, &key, errbuf, errlen);
    }
    if (rv == IGW_OK) {
        int nrv = nng_tls_config_alloc(&tls, NNG_TLS_MODE_SERVER);
        nrv = nrv == 0 ? nng_tls_config_own_cert(tls, cert.ptr, key.ptr, NULL) : nrv;
        nrv = nrv == 0 ? nng_http_server_set_tls(srv, tls) : nrv;
        if (nrv != 0) {
            igw_errbuf_set(errbuf, errlen, "TLS setup failed: %s", nng_strerror(nrv));
            rv = IGW_EIO;
        }
    }
    if (tls != NULL) {
        nng_tls_config_free(tls);
    }
    if (key.ptr != NULL) {
        memset(key.ptr, 0, key.len); /* do not leave the private key in freed memory */
    }
    igw_buf_fini(&cert);
    igw_buf_fini(&key);
    return rv;
}

int
igw_http_server_start(nng_http_server **out, const struct igw_http_server_opts *o, char *errbuf,
                      size_t errlen)
{
    nng_http_server *srv = NULL;
    nng_url *url = NULL;
    int rv = nng_url_parse(&url, o->listen);

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
        igw_errbuf_set(errbuf, errlen, "%s listen %s: %s", o->what, o->listen, nng_strerror(rv));
        if (srv != NULL) {
            nng_http_server_release(srv);
        }
        return IGW_EIO;
    }
    *out = srv;
    return IGW_OK;
}

void
igw_http_server_stop(nng_http_server *srv)
{
    if (srv != NULL) {
        nng_http_server_stop(srv);
    }
}

void
igw_http_server_free(nng_http_server *srv)
{
    if (srv != NULL) {
        nng_http_server_release(srv);
    }
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
        nng_http_res_copy_data(res, body, len) != 0) {
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
