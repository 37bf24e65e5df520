/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client address of an HTTP request (http/http.h). nng 1.5.2's HTTP handlers cannot see
 * the peer, so igw's connection guard in front of nng's HTTP server passes it in the request
 * header X-Igw-Peer (and strips any such header a client sends). Without the guard the header
 * is absent and every client is "-".
 */
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "http/http.h"

const char *
igw_http_peer(nng_http_req *req)
{
    const char *v = req != NULL ? nng_http_req_get_header(req, "X-Igw-Peer") : NULL;

    return v != NULL && v[0] != '\0' ? v : "-";
}
