/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Callback addresses (sign.h): a strict parser for the absolute http(s) URLs of partners'
 * base_urls and of header.sender_uri, and the choice of a callback URL among a partner's
 * configured bases. Pure functions, any thread.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "igw/common.h"
#include "sign/sign_int.h"

#define URL_MAX 2048
#define HOST_MAX 255

struct url_parts {
    bool https;
    char host[HOST_MAX + 1]; /* lower case; "[v6]" kept with its brackets */
    unsigned port;           /* explicit or the scheme's default */
    const char *path;        /* into the parsed text: "" or "/..." (no query, no fragment) */
    size_t path_len;
};

static bool
host_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '-' || ch == '.';
}

/* "%2e", "%2f", "%5c" (any case) at p: an encoded dot, slash or backslash. */
static bool
encoded_danger(const char *p, size_t n)
{
    if (n < 3 || p[0] != '%') {
        return false;
    }
    return (p[1] == '2' &&
            (tolower((unsigned char)p[2]) == 'e' || tolower((unsigned char)p[2]) == 'f')) ||
           (p[1] == '5' && tolower((unsigned char)p[2]) == 'c');
}

/* Path segments are plain: no "." or "..", no encoded dot/slash/backslash, printable ASCII
 * without blanks, backslashes, '?' or '#'. */
static bool
path_ok(const char *p, size_t n)
{
    size_t seg = 0; /* start of the current segment */

    for (size_t i = 0; i <= n; i++) {
        if (i == n || p[i] == '/') {
            size_t len = i - seg;
            if ((len == 1 && p[seg] == '.') || (len == 2 && p[seg] == '.' && p[seg + 1] == '.')) {
                return false;
            }
            seg = i + 1;
            continue;
        }
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f || p[i] == '\\' ||
            p[i] == '?' || p[i] == '#' || encoded_danger(p + i, n - i)) {
            return false;
        }
    }
    return true;
}

static int
fail(char *err, size_t errlen, const char *why)
{
    igw_errbuf_set(err, errlen, "%s", why);
    return IGW_EINVAL;
}

static int
parse_port(const char *p, size_t n, unsigned *port)
{
    unsigned v = 0;
    if (n == 0 || n > 5) {
        return IGW_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i])) {
            return IGW_EINVAL;
        }
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v == 0 || v > 65535) {
        return IGW_EINVAL;
    }
    *port = v;
    return IGW_OK;
}

/* host[:port] of length n into u. */
static int
parse_authority(const char *a, size_t n, struct url_parts *u, char *err, size_t errlen)
{
    size_t hl = n;
    const char *colon;

    if (memchr(a, '@', n) != NULL) {
        return fail(err, errlen, "user info in the address");
    }
    if (n > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (close == NULL) {
            return fail(err, errlen, "bad IPv6 address");
        }
        hl = (size_t)(close - a) + 1;
        colon = hl < n ? a + hl : NULL;
        if (colon != NULL && *colon != ':') {
            return fail(err, errlen, "bad authority");
        }
    } else {
        colon = memchr(a, ':', n);
        hl = colon != NULL ? (size_t)(colon - a) : n;
        for (size_t i = 0; i < hl; i++) {
            if (!host_char(a[i])) {
                return fail(err, errlen, "bad character in the host");
            }
        }
    }
    if (hl == 0 || hl > HOST_MAX) {
        return fail(err, errlen, "no host");
    }
    for (size_t i = 0; i < hl; i++) {
        u->host[i] = (char)tolower((unsigned char)a[i]);
    }
    u->host[hl] = '\0';
    u->port = u->https ? 443 : 80;
    if (colon != NULL && parse_port(colon + 1, (size_t)(a + n - colon - 1), &u->port) != IGW_OK) {
        return fail(err, errlen, "bad port");
    }
    return IGW_OK;
}

static int
url_parse(const char *url, struct url_parts *u, char *err, size_t errlen)
{
    size_t n = strlen(url);
    const char *a;
    size_t alen;

    memset(u, 0, sizeof(*u));
    if (n > URL_MAX) {
        return fail(err, errlen, "address too long");
    }
    if (strncasecmp(url, "https://", 8) == 0) {
        u->https = true;
        a = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        a = url + 7;
    } else {
        return fail(err, errlen, "not an http(s) address");
    }
    alen = strcspn(a, "/?#\\");
    if (a[alen] == '?' || a[alen] == '#' || a[alen] == '\\' || strpbrk(a + alen, "?#") != NULL) {
        return fail(err, errlen, "query, fragment or backslash in the address");
    }
    if (parse_authority(a, alen, u, err, errlen) != IGW_OK) {
        return IGW_EINVAL;
    }
    u->path = a + alen;
    u->path_len = strlen(u->path);
    if (!path_ok(u->path, u->path_len)) {
        return fail(err, errlen, "dot segment, encoded dot or slash, or bad character in path");
    }
    while (u->path_len > 0 && u->path[u->path_len - 1] == '/') {
        u->path_len--;
    }
    return IGW_OK;
}

int
igw_partner_url_check(const char *url, char *err, size_t errlen)
{
    struct url_parts u;
    if (url == NULL) {
        return fail(err, errlen, "no address");
    }
    return url_parse(url, &u, err, errlen);
}

/* How far sender s is under base b: -1 not under, 0 equal, 1 deeper. */
static int
under(const struct url_parts *b, const struct url_parts *s)
{
    if (b->https != s->https || b->port != s->port || strcmp(b->host, s->host) != 0 ||
        s->path_len < b->path_len || memcmp(s->path, b->path, b->path_len) != 0) {
        return -1;
    }
    if (s->path_len == b->path_len) {
        return 0;
    }
    return s->path[b->path_len] == '/' ? 1 : -1;
}

/* The configured base (without trailing slashes) + tail. */
static int
put_url(struct igw_buf *url, const char *base, const char *tail, size_t tlen)
{
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    if (igw_buf_append(url, base, bl) != IGW_OK || igw_buf_append(url, tail, tlen) != IGW_OK ||
        igw_buf_putc(url, '\0') != IGW_OK) {
        return IGW_ENOMEM;
    }
    url->len--;
    return IGW_OK;
}

int
igw_partner_callback_url(const struct igw_partner *p, const char *sender_uri, const char *dci_path,
                         struct igw_buf *url, const char **code, char *err, size_t errlen)
{
    struct url_parts s;
    struct url_parts b;

    *code = IGW_DCI_ERR_SENDER_URI;
    if (p->nbase_urls == 0) {
        igw_errbuf_set(err, errlen, "partner %s has no base_urls", p->name);
        return IGW_ENOENT;
    }
    if (sender_uri == NULL || sender_uri[0] == '\0') {
        return put_url(url, p->base_urls[0], dci_path, strlen(dci_path));
    }
    if (url_parse(sender_uri, &s, err, errlen) != IGW_OK) {
        return IGW_EINVAL;
    }
    for (size_t i = 0; i < p->nbase_urls; i++) {
        int d;
        if (url_parse(p->base_urls[i], &b, NULL, 0) != IGW_OK || (d = under(&b, &s)) < 0) {
            continue;
        }
        if (d == 0) {
            return put_url(url, p->base_urls[i], dci_path, strlen(dci_path));
        }
        /* deeper: the path the sender asked for, after its base, on the configured base */
        return put_url(url, p->base_urls[i], s.path + b.path_len, s.path_len - b.path_len);
    }
    igw_errbuf_set(err, errlen, "sender_uri is under none of partner %s's base_urls", p->name);
    return IGW_EINVAL;
}

const struct igw_partner *
igw_partner_find(const struct igw_config *cfg, const char *name)
{
    if (cfg == NULL || name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < cfg->npartners; i++) {
        if (strcmp(cfg->partners[i].name, name) == 0) {
            return &cfg->partners[i];
        }
    }
    return NULL;
}

const struct igw_partner *
igw_partner_current(const char *name)
{
    igw_sign *s = sign_current();
    return s != NULL ? igw_partner_find(s->cfg, name) : NULL;
}

const char *
igw_dci_action_path(const char *action)
{
    static const char *const map[][2] = {
        {"on-search", "/registry/on-search"},
        {"on-subscribe", "/registry/on-subscribe"},
        {"on-unsubscribe", "/registry/on-unsubscribe"},
        {"notify", "/registry/notify"},
        {"txn-on-status", "/registry/txn/on-status"},
        {"on-txn-status", "/registry/txn/on-status"},
        {"search", "/registry/search"},
        {"subscribe", "/registry/subscribe"},
        {"unsubscribe", "/registry/unsubscribe"},
        {"txn-status", "/registry/txn/status"},
    };
    for (size_t i = 0; action != NULL && i < IGW_ARRAY_LEN(map); i++) {
        if (strcmp(map[i][0], action) == 0) {
            return map[i][1];
        }
    }
    return NULL;
}
