/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/http/peer.c: the client address from the guard's X-Igw-Peer header. */
#include <string.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "igw/common.h"
#include "http/http.h"
#include "igwt.h"

static void
test_peer(void)
{
    nng_http_req *req = NULL;

    IGWT_STREQ(igw_http_peer(NULL), "-");
    IGWT_ASSERT(nng_http_req_alloc(&req, NULL) == 0);
    IGWT_STREQ(igw_http_peer(req), "-");
    IGWT_ASSERT(nng_http_req_set_header(req, "X-Igw-Peer", "") == 0);
    IGWT_STREQ(igw_http_peer(req), "-");
    IGWT_ASSERT(nng_http_req_set_header(req, "X-Igw-Peer", "192.0.2.7") == 0);
    IGWT_STREQ(igw_http_peer(req), "192.0.2.7");
    IGWT_ASSERT(nng_http_req_set_header(req, "X-Igw-Peer", "[2001:db8::1%eth0]:443") == 0);
    IGWT_STREQ(igw_http_peer(req), "[2001:db8::1%eth0]:443");
    /* not an address: could forge log fields */
    IGWT_ASSERT(nng_http_req_set_header(req, "X-Igw-Peer", "1.2.3.4 channel=admin") == 0);
    IGWT_STREQ(igw_http_peer(req), "-");
    IGWT_ASSERT(nng_http_req_set_header(req, "X-Igw-Peer",
                                        "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:"
                                        "cccc:dddd:eeee") == 0);
    IGWT_STREQ(igw_http_peer(req), "-");
    nng_http_req_free(req);
}

IGWT_MAIN({"peer", test_peer})
