/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client address of an HTTP request (http/http.h). nng 1.5.2's HTTP handlers cannot see
 * the peer, so igw's connection guard in front of nng's HTTP server passes it in the request
 * header X-Igw-Peer (and strips any such header a client sends). Without the guard the header
 * is absent and every client is "-"; a value that is no address is "-" too (it goes into log
 * lines).
 */
#include <stdbool.h>
#include <string.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "http/http.h"

#define PEER_MAX 64 /* "[v6 address%zone]:port" fits */

/* An address as the guard writes it: IPv4, IPv6 (brackets, zone), an optional port. Anything
 * else (spaces, quotes, '=') could forge fields of the log lines the address goes into. */
static bool
peer_ok(const char *v)
{
    size_t n = strspn(v, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.:[]%-_");

    return n > 0 && n <= PEER_MAX && v[n] == '\0';
}

const char *
igw_http_peer(nng_http_req *req)
{
    const char *v = req != NULL ? nng_http_req_get_header(req, "X-Igw-Peer") : NULL;

    return v != NULL && peer_ok(v) ? v : "-";
}
