/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection guard's header-block parser (http/guard.h): finds one request header block,
 * rewrites it with X-Igw-Peer inserted and client-sent ones dropped, and reads its framing
 * (Content-Length, Transfer-Encoding) so the guard knows where the next request starts.
 */
#include <string.h>

#include "http/guard.h"

static bool
name_is(const char *line, size_t namelen, const char *want)
{
    size_t n = strlen(want);

    while (namelen > 0 && (line[namelen - 1] == ' ' || line[namelen - 1] == '\t')) {
        namelen--;
    }
    if (namelen != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if (c != want[i]) {
            return false;
        }
    }
    return true;
}

/* A Content-Length value: optional blanks, 1-18 digits, optional blanks. */
static bool
clen_parse(const char *v, size_t n, uint64_t *out)
{
    size_t i = 0;
    size_t digits = 0;
    uint64_t x = 0;

    while (i < n && (v[i] == ' ' || v[i] == '\t')) {
        i++;
    }
    while (i < n && v[i] >= '0' && v[i] <= '9' && digits < 19) {
        x = x * 10 + (uint64_t)(v[i] - '0');
        i++;
        digits++;
    }
    while (i < n && (v[i] == ' ' || v[i] == '\t')) {
        i++;
    }
    *out = x;
    return digits > 0 && digits < 19 && i == n;
}

struct head_state {
    char *out;
    size_t olen;
    const char *peer;
    bool seen_clen;
    struct igw_guard_head_info *info;
};

static void
put(struct head_state *s, const char *p, size_t n)
{
    memcpy(s->out + s->olen, p, n);
    s->olen += n;
}

static void
header_line(struct head_state *s, const char *line, size_t n)
{
    const char *colon = memchr(line, ':', n);
    size_t namelen = colon != NULL ? (size_t)(colon - line) : n;

    if (colon != NULL && name_is(line, namelen, "x-igw-peer")) {
        return; /* only the guard says who the peer is */
    }
    if (colon != NULL && name_is(line, namelen, "transfer-encoding")) {
        s->info->opaque = true;
    }
    if (colon != NULL && name_is(line, namelen, "content-length")) {
        uint64_t v = 0;
        if (s->seen_clen || !clen_parse(colon + 1, n - namelen - 1, &v)) {
            s->info->opaque = true;
        }
        s->seen_clen = true;
        s->info->clen = v;
    }
    put(s, line, n);
    put(s, "\r\n", 2);
}

static void
request_line(struct head_state *s, const char *line, size_t n)
{
    size_t plen = strlen(s->peer);

    put(s, line, n);
    put(s, "\r\n" IGW_GUARD_PEER_HEADER ": ", 2 + sizeof(IGW_GUARD_PEER_HEADER) - 1 + 2);
    put(s, s->peer, plen);
    put(s, "\r\n", 2);
}

enum igw_guard_head
igw_guard_head_rewrite(const char *in, size_t len, size_t max, const char *peer, char *out,
                       struct igw_guard_head_info *info)
{
    struct head_state s = {.out = out, .peer = peer, .info = info};
    size_t pos = 0;
    size_t start;
    size_t end = 0;
    bool first = true;

    memset(info, 0, sizeof(*info));
    if (max > IGW_GUARD_HEAD_MAX) {
        max = IGW_GUARD_HEAD_MAX;
    }
    while (pos < len && (in[pos] == '\r' || in[pos] == '\n') && pos < max) {
        pos++; /* RFC 9112 2.2: blank lines before a request line are ignored */
    }
    start = pos;
    for (;;) {
        const char *nl = memchr(in + pos, '\n', len - pos);
        size_t n;

        if (nl == NULL) {
            return len - start >= max ? IGW_HEAD_TOO_BIG : IGW_HEAD_MORE;
        }
        if ((size_t)(nl - in) + 1 - start > max) {
            return IGW_HEAD_TOO_BIG;
        }
        n = (size_t)(nl - (in + pos));
        end = (size_t)(nl - in) + 1;
        if (n > 0 && in[pos + n - 1] == '\r') {
            n--;
        }
        if (s.olen + n + 4 + (first ? IGW_GUARD_PEER_LINE_MAX : 0) >
            max + IGW_GUARD_PEER_LINE_MAX) {
            return IGW_HEAD_TOO_BIG; /* CRLF line ends may make the copy longer than the input */
        }
        if (n == 0 && !first) {
            put(&s, "\r\n", 2);
            break;
        }
        if (first) {
            request_line(&s, in + pos, n);
            first = false;
        } else {
            header_line(&s, in + pos, n);
        }
        pos = end;
    }
    if (!s.seen_clen) {
        info->clen = 0;
    }
    if (info->opaque) {
        info->clen = 0;
    }
    info->consumed = end;
    info->outlen = s.olen;
    return IGW_HEAD_DONE;
}
