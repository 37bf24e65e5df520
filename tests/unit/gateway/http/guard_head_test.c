/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/http/guard_head.c: the connection guard's header-block parser and rewriter
 * (X-Igw-Peer inserted, client-sent ones dropped, framing read, 431 above the limit). */
#include <string.h>

#include "igw/common.h"
#include "http/guard.h"
#include "igwt.h"

static char out[IGW_GUARD_OUT_MAX];

static enum igw_guard_head
rw(const char *in, struct igw_guard_head_info *info)
{
    return igw_guard_head_rewrite(in, strlen(in), IGW_GUARD_HEAD_MAX, "192.0.2.7", out, info);
}

static bool
out_is(const struct igw_guard_head_info *info, const char *want)
{
    return info->outlen == strlen(want) && memcmp(out, want, info->outlen) == 0;
}

static void
test_insert(void)
{
    struct igw_guard_head_info info;
    const char *in = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}";

    IGWT_CHECK(rw(in, &info) == IGW_HEAD_DONE);
    IGWT_CHECK(info.consumed == strlen(in) - 2 && info.clen == 2 && !info.opaque);
    IGWT_CHECK(out_is(&info, "POST /x HTTP/1.1\r\nX-Igw-Peer: 192.0.2.7\r\nHost: a\r\n"
                             "Content-Length: 2\r\n\r\n"));
}

static void
test_strip(void)
{
    struct igw_guard_head_info info;
    const char *in = "GET / HTTP/1.1\r\nx-igw-peer: 10.0.0.1\r\nHost: a\r\nX-IGW-PEER : evil\r\n"
                     "X-Igw-Peers: kept\r\n\r\n";

    IGWT_CHECK(rw(in, &info) == IGW_HEAD_DONE);
    IGWT_CHECK(info.clen == 0 && info.consumed == strlen(in));
    IGWT_CHECK(out_is(&info, "GET / HTTP/1.1\r\nX-Igw-Peer: 192.0.2.7\r\nHost: a\r\n"
                             "X-Igw-Peers: kept\r\n\r\n"));
}

static void
test_more_and_lf(void)
{
    struct igw_guard_head_info info;

    IGWT_CHECK(rw("", &info) == IGW_HEAD_MORE);
    IGWT_CHECK(rw("POST /x HTTP/1.1\r\nHost: a\r\n", &info) == IGW_HEAD_MORE);
    IGWT_CHECK(rw("POST /x HTTP/1.1\r\nHo", &info) == IGW_HEAD_MORE);
    /* bare LF line ends and leading blank lines; the copy has CRLF */
    IGWT_CHECK(rw("\r\n\nGET / HTTP/1.1\nHost: a\n\nGET", &info) == IGW_HEAD_DONE);
    IGWT_CHECK(info.consumed == strlen("\r\n\nGET / HTTP/1.1\nHost: a\n\n"));
    IGWT_CHECK(out_is(&info, "GET / HTTP/1.1\r\nX-Igw-Peer: 192.0.2.7\r\nHost: a\r\n\r\n"));
}

static void
test_framing(void)
{
    struct igw_guard_head_info info;

    IGWT_CHECK(rw("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                  &info) == IGW_HEAD_DONE);
    IGWT_CHECK(info.opaque && info.clen == 0);
    IGWT_CHECK(rw("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &info) ==
               IGW_HEAD_DONE);
    IGWT_CHECK(info.opaque);
    IGWT_CHECK(rw("POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n", &info) == IGW_HEAD_DONE);
    IGWT_CHECK(info.opaque);
    IGWT_CHECK(rw("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &info) == IGW_HEAD_DONE);
    IGWT_CHECK(info.opaque);
    IGWT_CHECK(rw("POST / HTTP/1.1\r\ncontent-length:  1048576 \r\n\r\n", &info) == IGW_HEAD_DONE);
    IGWT_CHECK(!info.opaque && info.clen == 1048576);
}

static void
test_too_big(void)
{
    static char in[3 * IGW_GUARD_HEAD_MAX];
    struct igw_guard_head_info info;
    size_t n;

    /* one long header, incomplete or complete: 431 either way */
    n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nX-Pad: ");
    memset(in + n, 'p', 20000);
    in[n + 20000] = '\0';
    IGWT_CHECK(rw(in, &info) == IGW_HEAD_TOO_BIG);
    memcpy(in + n + 20000, "\r\n\r\n", 5);
    IGWT_CHECK(rw(in, &info) == IGW_HEAD_TOO_BIG);
    /* many short LF-only lines: the CRLF copy would outgrow the buffer */
    n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\n");
    while (n + 3 < IGW_GUARD_HEAD_MAX - 8) {
        memcpy(in + n, "a:\n", 3);
        n += 3;
    }
    memcpy(in + n, "\n", 2);
    IGWT_CHECK(rw(in, &info) == IGW_HEAD_TOO_BIG);
    /* just under the limit is forwarded, and fits the output buffer */
    n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nX-Pad: ");
    memset(in + n, 'p', IGW_GUARD_HEAD_MAX - n - 6);
    memcpy(in + IGW_GUARD_HEAD_MAX - 6, "\r\n\r\n", 5);
    IGWT_CHECK(rw(in, &info) == IGW_HEAD_DONE);
    IGWT_CHECK(info.outlen <= IGW_GUARD_OUT_MAX);
}

IGWT_MAIN({"insert", test_insert}, {"strip", test_strip}, {"more_and_lf", test_more_and_lf},
          {"framing", test_framing}, {"too_big", test_too_big})
