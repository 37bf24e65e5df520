/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The web console's assets on the admin listener (console.h): looks the path up in the table
 * embed.cmake generated and answers it with the security headers every asset carries.
 */
#include <string.h>

#include "igw/common.h"
#include "admin/console/console.h"
#include "admin/console/console_assets.h"
#include "http/server.h"

#define CONSOLE_PREFIX "/console"

/* Every response, asset or refusal: nothing from another origin, no inline script or style,
 * no framing, no referrer, no MIME sniffing. connect-src 'self' lets the console call the
 * admin API (same origin) and nothing else. */
static const char *const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self'; connect-src 'self'; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'";

bool
igw_console_path(nng_http_req *req)
{
    const char *uri = nng_http_req_get_uri(req);
    size_t n = strlen(CONSOLE_PREFIX);

    return strncmp(uri, CONSOLE_PREFIX, n) == 0 &&
           (uri[n] == '\0' || uri[n] == '/' || uri[n] == '?');
}

/* The asset a path names: /console and /console/ are index.html. NULL when there is none. */
static const struct igw_console_asset *
find_asset(const char *uri)
{
    const char *name = uri + strlen(CONSOLE_PREFIX);
    size_t len = strcspn(name, "?#");
    size_t i;

    if (len > 0 && name[0] == '/') {
        name++;
        len--;
    }
    if (len == 0) {
        name = "index.html";
        len = strlen(name);
    }
    for (i = 0; i < igw_console_nassets; i++) {
        const struct igw_console_asset *as = &igw_console_assets[i];
        if (strlen(as->name) == len && memcmp(as->name, name, len) == 0) {
            return as;
        }
    }
    return NULL;
}

static int
set_headers(nng_http_res *res, const char *cache)
{
    int rv = nng_http_res_set_header(res, "Cache-Control", cache);

    rv = rv == 0 ? nng_http_res_set_header(res, "Content-Security-Policy", CSP) : rv;
    rv = rv == 0 ? nng_http_res_set_header(res, "X-Content-Type-Options", "nosniff") : rv;
    rv = rv == 0 ? nng_http_res_set_header(res, "X-Frame-Options", "DENY") : rv;
    rv = rv == 0 ? nng_http_res_set_header(res, "Referrer-Policy", "no-referrer") : rv;
    rv = rv == 0 ? nng_http_res_set_header(res, "Cross-Origin-Opener-Policy", "same-origin") : rv;
    return rv;
}

static void
finish(nng_aio *aio, nng_http_res *res, const char *cache, const char *allow, bool close)
{
    int rv = res != NULL ? set_headers(res, cache) : NNG_ENOMEM;

    if (rv == 0 && allow != NULL) {
        rv = nng_http_res_set_header(res, "Allow", allow);
    }
    if (rv == 0 && close) {
        rv = nng_http_res_set_header(res, "Connection", "close");
    }
    if (rv != 0 && res != NULL) {
        nng_http_res_free(res);
        res = NULL;
    }
    igw_http_finish(aio, res); /* NULL: nng closes the connection */
}

static void
refuse(nng_aio *aio, uint16_t status, const char *text, const char *allow, bool close)
{
    nng_http_res *res = igw_http_res_new(status, "text/plain; charset=utf-8", text, strlen(text));

    finish(aio, res, "no-store", allow, close);
}

void
igw_console_serve(nng_aio *aio, nng_http_req *req)
{
    const char *method = nng_http_req_get_method(req);
    struct igw_http_framing f;
    enum igw_http_framing_fault fault = igw_http_framing_read(req, &f);
    const struct igw_console_asset *as;

    if (fault == IGW_FRAMING_CHUNKED || fault == IGW_FRAMING_LENGTH || f.clen > 0) {
        refuse(aio, 413, "console requests take no body\n", NULL, true);
        return;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        refuse(aio, 405, "the console takes GET\n", "GET, HEAD", false);
        return;
    }
    as = find_asset(nng_http_req_get_uri(req));
    if (as == NULL) {
        refuse(aio, 404, "no such console file\n", NULL, false);
        return;
    }
    /* no-cache: the browser revalidates, so a new igw's console is never mixed with an old one */
    finish(aio, igw_http_res_new(200, as->content_type, as->data, as->len), "no-cache", NULL,
           false);
}
