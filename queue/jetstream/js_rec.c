/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Records of the JetStream backend (docs/JETSTREAM.md, "Records"): little-endian integers,
 * blobs as a u32 length and the bytes (length 0xFFFFFFFF = absent), a kind byte and a version
 * byte first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/log.h"
#include "js_int.h"

#define ABSENT 0xFFFFFFFFu
#define REC_MAX (64u << 20)

static int
put_u64(struct igw_buf *b, uint64_t v)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++) {
        x[i] = (unsigned char)(v >> (8 * i));
    }
    return igw_buf_append(b, x, 8);
}

static int
put_u32(struct igw_buf *b, uint32_t v)
{
    unsigned char x[4];
    for (int i = 0; i < 4; i++) {
        x[i] = (unsigned char)(v >> (8 * i));
    }
    return igw_buf_append(b, x, 4);
}

static int
put_blob(struct igw_buf *b, const void *p, size_t n, bool present)
{
    int rv;
    if (!present) {
        return put_u32(b, ABSENT);
    }
    if ((rv = put_u32(b, (uint32_t)n)) != IGW_OK) {
        return rv;
    }
    return n > 0 ? igw_buf_append(b, p, n) : IGW_OK;
}

static int
put_str(struct igw_buf *b, const char *s)
{
    return put_blob(b, s, s ? strlen(s) : 0, s != NULL);
}

struct rd {
    const unsigned char *p;
    size_t left;
    bool bad;
};

static uint64_t
get_u64(struct rd *r)
{
    uint64_t v = 0;
    if (r->left < 8) {
        r->bad = true;
        return 0;
    }
    for (int i = 0; i < 8; i++) {
        v |= (uint64_t)r->p[i] << (8 * i);
    }
    r->p += 8;
    r->left -= 8;
    return v;
}

static uint32_t
get_u32(struct rd *r)
{
    uint32_t v = 0;
    if (r->left < 4) {
        r->bad = true;
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        v |= (uint32_t)r->p[i] << (8 * i);
    }
    r->p += 4;
    r->left -= 4;
    return v;
}

static uint8_t
get_u8(struct rd *r)
{
    if (r->left < 1) {
        r->bad = true;
        return 0;
    }
    r->left--;
    return *r->p++;
}

/* A blob: pointer (NULL when absent) and length. */
static const char *
get_blob(struct rd *r, size_t *n)
{
    uint32_t len = get_u32(r);
    const char *p;
    *n = 0;
    if (r->bad || len == ABSENT) {
        return NULL;
    }
    if (r->left < len) {
        r->bad = true;
        return NULL;
    }
    p = (const char *)r->p;
    r->p += len;
    r->left -= len;
    *n = len;
    return p;
}

int
jsrec_encode_msg(struct igw_buf *b, const struct igw_queue_msg *m, uint64_t created_ms)
{
    int rv = IGW_OK;
    const char hdr[2] = {'M', QJS_REC_VERSION};

    igw_buf_init(b, REC_MAX);
    rv = igw_buf_append(b, hdr, 2);
    rv = rv ? rv : put_u64(b, created_ms);
    rv = rv ? rv : put_str(b, m->channel);
    rv = rv ? rv : put_str(b, m->content_type);
    rv = rv ? rv : put_blob(b, m->meta, m->meta_len, true);
    rv = rv ? rv : put_blob(b, m->body, m->body_len, true);
    rv = rv ? rv : put_blob(b, m->idem_key, m->idem_key_len, m->idem_key != NULL);
    rv = rv ? rv : put_u32(b, m->nroutes);
    for (unsigned i = 0; rv == IGW_OK && i < m->nroutes; i++) {
        const struct igw_queue_route_init *r = &m->routes[i];
        rv = put_str(b, r->route);
        rv = rv ? rv : put_blob(b, r->order_key, r->order_key_len, r->order_key != NULL);
        rv = rv ? rv : put_blob(b, r->payload, r->payload_len, r->payload != NULL);
        rv = rv ? rv : put_str(b, r->content_type);
    }
    if (rv != IGW_OK) {
        igw_buf_fini(b);
    }
    return rv;
}

int
jsrec_decode_msg(const char *raw, size_t len, struct jsrec *r)
{
    struct rd d = {(const unsigned char *)raw, len, false};

    memset(r, 0, sizeof(*r));
    if (get_u8(&d) != 'M' || get_u8(&d) != QJS_REC_VERSION) {
        return IGW_EIO;
    }
    r->created_ms = get_u64(&d);
    r->channel = get_blob(&d, &r->channel_len);
    r->ct = get_blob(&d, &r->ct_len);
    r->meta = get_blob(&d, &r->meta_len);
    r->body = get_blob(&d, &r->body_len);
    r->idem = get_blob(&d, &r->idem_len);
    r->nroutes = get_u32(&d);
    if (d.bad || r->channel == NULL || r->channel_len > IGW_QUEUE_NAME_MAX ||
        r->nroutes > IGW_QUEUE_ROUTES_MAX) {
        return IGW_EIO;
    }
    r->routes = igw_calloc(r->nroutes ? r->nroutes : 1, sizeof(*r->routes));
    if (r->routes == NULL) {
        return IGW_ENOMEM;
    }
    for (unsigned i = 0; i < r->nroutes; i++) {
        struct jsrec_route *rt = &r->routes[i];
        rt->name = get_blob(&d, &rt->name_len);
        rt->okey = get_blob(&d, &rt->okey_len);
        rt->payload = get_blob(&d, &rt->payload_len);
        rt->ct = get_blob(&d, &rt->ct_len);
        if (d.bad || rt->name == NULL || rt->name_len > IGW_QUEUE_NAME_MAX) {
            IGW_FREE(r->routes);
            return IGW_EIO;
        }
    }
    return IGW_OK;
}

int
jsrec_encode_deliv(struct igw_buf *b, const struct jsd *d)
{
    int rv;
    const char hdr[2] = {'D', QJS_REC_VERSION};

    igw_buf_init(b, REC_MAX);
    rv = igw_buf_append(b, hdr, 2);
    rv = rv ? rv : igw_buf_putc(b, (char)d->state);
    rv = rv ? rv : put_u32(b, d->attempts);
    rv = rv ? rv : put_u64(b, d->due_ms);
    rv = rv ? rv : put_u64(b, d->last_attempt_ms);
    rv = rv ? rv : put_u64(b, d->lease_ms);
    rv = rv ? rv : put_u64(b, d->dead_ms);
    rv = rv ? rv : put_u32(b, (uint32_t)d->last_status);
    rv = rv ? rv : put_str(b, d->last_error);
    rv = rv ? rv : put_str(b, d->owner);
    rv = rv ? rv : put_blob(b, d->okey, d->okey_len, d->ordered);
    rv = rv ? rv : igw_buf_putc(b, (char)((d->ovr ? 1 : 0) | (d->ovr_payload ? 2 : 0)));
    rv = rv ? rv : put_blob(b, d->ovr_data.ptr, d->ovr_data.len, true);
    rv = rv ? rv : put_str(b, d->ovr_ct);
    rv = rv ? rv : put_blob(b, d->response.ptr, d->response.len, true);
    rv = rv ? rv : put_u32(b, d->att_total);
    rv = rv ? rv : put_u32(b, d->natt);
    for (unsigned i = 0; rv == IGW_OK && i < d->natt; i++) {
        const struct jsatt *a = &d->att[i];
        rv = put_u32(b, a->n);
        rv = rv ? rv : put_u64(b, a->time_ms);
        rv = rv ? rv : put_u32(b, a->duration_ms);
        rv = rv ? rv : put_u32(b, (uint32_t)a->status);
        rv = rv ? rv : igw_buf_putc(b, (char)a->result);
        rv = rv ? rv : put_str(b, a->error);
    }
    if (rv != IGW_OK) {
        igw_buf_fini(b);
    }
    return rv;
}

void
jsatt_free(struct jsatt *a, unsigned n)
{
    for (unsigned i = 0; a != NULL && i < n; i++) {
        igw_free(a[i].error);
    }
    igw_free(a);
}

static int
set_str(char **dst, const char *p, size_t n, bool present)
{
    IGW_FREE(*dst);
    if (!present) {
        return IGW_OK;
    }
    *dst = igw_strndup(p ? p : "", n);
    return *dst ? IGW_OK : IGW_ENOMEM;
}

static int
set_buf(struct igw_buf *b, const char *p, size_t n)
{
    igw_buf_reset(b);
    return n > 0 ? igw_buf_append(b, p, n) : IGW_OK;
}

int
jsrec_decode_deliv(const char *raw, size_t len, struct jsd *d)
{
    struct rd r = {(const unsigned char *)raw, len, false};
    const char *err;
    const char *owner;
    const char *okey;
    const char *data;
    const char *ct;
    const char *resp;
    size_t err_len, owner_len, okey_len, data_len, ct_len, resp_len;
    uint8_t state, flags;
    uint32_t att_total, natt;
    struct jsatt *att = NULL;
    int rv;

    if (get_u8(&r) != 'D' || get_u8(&r) != QJS_REC_VERSION) {
        return IGW_EIO;
    }
    state = get_u8(&r);
    d->attempts = get_u32(&r);
    d->due_ms = get_u64(&r);
    d->last_attempt_ms = get_u64(&r);
    d->lease_ms = get_u64(&r);
    d->dead_ms = get_u64(&r);
    d->last_status = (int)get_u32(&r);
    err = get_blob(&r, &err_len);
    owner = get_blob(&r, &owner_len);
    okey = get_blob(&r, &okey_len);
    flags = get_u8(&r);
    data = get_blob(&r, &data_len);
    ct = get_blob(&r, &ct_len);
    resp = get_blob(&r, &resp_len);
    att_total = get_u32(&r);
    natt = get_u32(&r);
    if (!r.bad && natt > QJS_ATT_KEPT) {
        return IGW_EIO;
    }
    if (!r.bad && natt > 0 && (att = igw_calloc(natt, sizeof(*att))) == NULL) {
        return IGW_ENOMEM;
    }
    for (unsigned i = 0; !r.bad && i < natt; i++) {
        const char *e;
        size_t el;
        att[i].n = get_u32(&r);
        att[i].time_ms = get_u64(&r);
        att[i].duration_ms = get_u32(&r);
        att[i].status = (int)get_u32(&r);
        att[i].result = get_u8(&r);
        e = get_blob(&r, &el);
        if (!r.bad && e != NULL && (att[i].error = igw_strndup(e, el)) == NULL) {
            jsatt_free(att, natt);
            return IGW_ENOMEM;
        }
    }
    if (r.bad || state < IGW_DS_PENDING || state > IGW_DS_DEAD || owner_len > QJS_NAME_MAX) {
        jsatt_free(att, natt);
        return IGW_EIO;
    }
    jsatt_free(d->att, d->natt);
    d->att = att;
    d->natt = natt;
    d->att_total = att_total;
    d->state = state;
    memcpy(d->owner, owner ? owner : "", owner_len);
    d->owner[owner_len] = '\0';
    d->ordered = okey != NULL;
    d->okey_len = okey_len;
    d->ovr = (flags & 1) != 0;
    d->ovr_payload = (flags & 2) != 0;
    rv = set_str(&d->last_error, err, err_len, err != NULL);
    rv = rv ? rv : set_str(&d->okey, okey, okey_len, okey != NULL);
    rv = rv ? rv : set_buf(&d->ovr_data, data, data_len);
    rv = rv ? rv : set_str(&d->ovr_ct, ct, ct_len, ct != NULL);
    rv = rv ? rv : set_buf(&d->response, resp, resp_len);
    return rv;
}

void
jskey_deliv(char *out, size_t len, uint64_t id, unsigned ri)
{
    snprintf(out, len, "d.%016llx.%u", (unsigned long long)id, ri);
}

void
jskey_purge(char *out, size_t len, uint64_t id)
{
    snprintf(out, len, "x.%016llx", (unsigned long long)id);
}

int
jskey_idem(struct igw_buf *b, const char *key, size_t klen)
{
    static const char hex[] = "0123456789abcdef";
    bool sep = false;
    int rv;

    igw_buf_init(b, 4096);
    rv = igw_buf_puts(b, "i.");
    for (size_t i = 0; rv == IGW_OK && i < klen; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c == '\0' && !sep) {
            sep = true; /* the first NUL ends the channel */
            rv = igw_buf_putc(b, '.');
            continue;
        }
        rv = igw_buf_putc(b, hex[c >> 4]);
        rv = rv ? rv : igw_buf_putc(b, hex[c & 15]);
    }
    if (rv != IGW_OK) {
        igw_buf_fini(b);
    }
    return rv;
}

static int
unhex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

char
jskey_parse(const char *k, uint64_t *id, unsigned *ri, struct igw_buf *b)
{
    char *end;
    if (k[0] == 'd' && k[1] == '.') {
        *id = strtoull(k + 2, &end, 16);
        if (*end != '.') {
            return 0;
        }
        *ri = (unsigned)strtoul(end + 1, &end, 10);
        return *end == '\0' ? 'd' : 0;
    }
    if (k[0] == 'x' && k[1] == '.') {
        *id = strtoull(k + 2, &end, 16);
        return *end == '\0' ? 'x' : 0;
    }
    if (k[0] == 'i' && k[1] == '.' && b != NULL) {
        igw_buf_reset(b);
        for (const char *p = k + 2; *p != '\0';) {
            int hi, lo;
            if (*p == '.') {
                if (igw_buf_putc(b, '\0') != IGW_OK) {
                    return 0;
                }
                p++;
                continue;
            }
            hi = unhex(p[0]);
            lo = hi < 0 ? -1 : unhex(p[1]);
            if (lo < 0 || igw_buf_putc(b, (char)(hi * 16 + lo)) != IGW_OK) {
                return 0;
            }
            p += 2;
        }
        return 'i';
    }
    return 0;
}

bool
js_transient(natsStatus st)
{
    return st == NATS_NO_RESPONDERS || st == NATS_TIMEOUT || st == NATS_NO_SERVER ||
           st == NATS_CONNECTION_DISCONNECTED || st == NATS_STALE_CONNECTION;
}

int
js_err(natsStatus s, jsErrCode jerr, const char *what)
{
    if (s == NATS_OK) {
        return IGW_OK;
    }
    IGW_WARN("queue jetstream: %s: %s (jetstream error %d)", what, natsStatus_GetText(s),
             (int)jerr);
    if (js_transient(s)) {
        return IGW_ETIMEDOUT; /* the cluster did not answer in time: retry later */
    }
    switch (s) {
    case NATS_NO_MEMORY:
        return IGW_ENOMEM;
    case NATS_MAX_PAYLOAD:
        return IGW_ETOOBIG;
    case NATS_NOT_FOUND:
        return IGW_ENOENT;
    default:
        break;
    }
    /* 10047: maximum bytes / messages exceeded (discard new); 10077 account storage exhausted */
    if (jerr == 10047 || jerr == 10077 || jerr == 10028) {
        return IGW_ENOSPC;
    }
    return IGW_EIO;
}
