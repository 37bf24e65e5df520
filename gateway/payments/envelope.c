/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers for G2P Connect envelopes (pay_int.h): member strings, timestamps, the signed
 * envelope {signature, header, message} and the partner's URL.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "igw/err.h"
#include "payments/pay_int.h"
#include "sign/sign.h"

bool
pay_str(const struct igw_node *obj, const char *key, char *out, size_t outlen)
{
    const struct igw_node *n = igw_node_get(obj, key, strlen(key));

    if (n == NULL || n->type != IGW_NODE_STRING || n->len == 0 || n->len >= outlen) {
        if (outlen > 0) {
            out[0] = '\0';
        }
        return false;
    }
    memcpy(out, n->str, n->len);
    out[n->len] = '\0';
    return true;
}

void
pay_timestamp(char *out, size_t outlen)
{
    uint64_t ms = igw_now_ms();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char b[24];

    gmtime_r(&s, &tm);
    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outlen, "%s.%03uZ", b, (unsigned)(ms % 1000));
}

int
pay_envelope(struct igw_buf *body, const struct igw_buf *h, const struct igw_buf *m, bool sign,
             char *err, size_t errlen)
{
    struct igw_buf sig;
    int rv = igw_buf_putc(body, '{');

    igw_buf_init(&sig, 2 * (h->len + m->len) + 4096); /* base64 of both, and the JWS header */
    if (rv == IGW_OK && sign) {
        rv = igw_sign_envelope(h->ptr, h->len, m->ptr, m->len, &sig, err, errlen);
        if (rv == IGW_OK) {
            rv = igw_buf_puts(body, "\"signature\":");
        }
        if (rv == IGW_OK) {
            rv = igw_buf_json_str(body, sig.ptr, sig.len);
        }
        if (rv == IGW_OK) {
            rv = igw_buf_putc(body, ',');
        }
    }
    igw_buf_fini(&sig);
    if (rv == IGW_OK) {
        rv = igw_buf_puts(body, "\"header\":");
    }
    if (rv == IGW_OK) {
        rv = igw_buf_append(body, h->ptr, h->len);
    }
    if (rv == IGW_OK) {
        rv = igw_buf_puts(body, ",\"message\":");
    }
    if (rv == IGW_OK) {
        rv = igw_buf_append(body, m->ptr, m->len);
    }
    return rv == IGW_OK ? igw_buf_putc(body, '}') : rv;
}

int
pay_partner_url(const struct igw_partner *p, const char *path, struct igw_buf *url)
{
    const char *base;
    size_t n;
    int rv;

    if (p == NULL || p->nbase_urls == 0) {
        return IGW_ENOENT;
    }
    base = p->base_urls[0];
    n = strlen(base);
    rv = igw_buf_append(url, base, n);
    if (rv == IGW_OK && (n == 0 || base[n - 1] != '/')) {
        rv = igw_buf_putc(url, '/');
    }
    return rv == IGW_OK ? igw_buf_puts(url, path) : rv;
}
