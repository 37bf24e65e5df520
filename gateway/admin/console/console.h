/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the web console (docs/CONSOLE.md), static assets built into the binary and
 * served by the admin listener under /console/. The assets hold no data and no secret, so they
 * are served without credentials (a browser cannot put a bearer token on a navigation); every
 * piece of data the console shows comes from the admin API, which keeps its auth.
 */
#ifndef IGW_GATEWAY_ADMIN_CONSOLE_H
#define IGW_GATEWAY_ADMIN_CONSOLE_H

#include <stdbool.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

/** True when req's path is /console or under /console/ (the query is not looked at). req must
 *  not be NULL. Never blocks. */
bool igw_console_path(nng_http_req *req);

/** Answers a /console request on the calling (nng task) thread and finishes aio: the asset
 *  with its Content-Type, Cache-Control: no-cache, a strict Content-Security-Policy (no inline
 *  script or style, nothing from another origin), nosniff and frame-ancestors 'none'; 404 for
 *  an unknown asset, 405 for a method other than GET or HEAD, 413 for a request body. aio and
 *  req must not be NULL. Copies the asset into the response; never blocks. */
void igw_console_serve(nng_aio *aio, nng_http_req *req);

#endif /* IGW_GATEWAY_ADMIN_CONSOLE_H */
