/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCI dialect, the checks (message_key, check_input; docs/DCI.md): the idempotency key of a
 * message (its sender and message_id, so a repeated message_id from the same sender is
 * committed once and answered rjct.message_id.duplicate), and the envelope checked against the
 * endpoint's schema from the SPDCI OpenAPI (include/igw/dci.h). A refusal is HTTP 400 with a
 * Response ERR carrying the spec's code; its correlation_id is the message's message_id
 * (no transaction exists for a refused message).
 *
 * CPU only, nothing blocks: called from nng callbacks and the admin API's replay.
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/doc.h"
#include "dialect/dci/dci_int.h"
#include "sign/sign.h"

static const struct igw_node *
str_at(const struct igw_node *obj, const char *key)
{
    const struct igw_node *n = igw_node_get(obj, key, strlen(key));
    return n != NULL && n->type == IGW_NODE_STRING && n->len > 0 ? n : NULL;
}

/* Appends s percent-encoded (bytes outside 0x21..0x7e, '%' and ':') to key[*pos..). */
static bool
put_enc(char *key, size_t keylen, size_t *pos, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = c > 0x20 && c < 0x7f && c != '%' && c != ':';
        if (*pos + (plain ? 1 : 3) >= keylen) {
            return false;
        }
        if (plain) {
            key[(*pos)++] = (char)c;
        } else {
            key[(*pos)++] = '%';
            key[(*pos)++] = hex[c >> 4];
            key[(*pos)++] = hex[c & 15u];
        }
    }
    key[*pos] = '\0';
    return true;
}

static uint64_t
fnv1a(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    }
    return h;
}

int
dci_message_key(const struct igw_ingest *in, char *key, size_t keylen)
{
    const struct igw_node *h = igw_node_get(in->root, "header", 6);
    const struct igw_node *sid = str_at(h, "sender_id");
    const struct igw_node *mid = str_at(h, "message_id");
    size_t pos = 4;
    uint64_t hash;

    if (sid == NULL || mid == NULL || keylen < 24) {
        return IGW_ENOENT;
    }
    memcpy(key, "dci:", 5);
    if (put_enc(key, keylen, &pos, sid->str, sid->len) && pos + 1 < keylen &&
        (key[pos++] = ':', put_enc(key, keylen, &pos, mid->str, mid->len))) {
        return IGW_OK;
    }
    /* too long to spell out: a hash of both, with the lengths so "a:" + "b" != "a" + ":b" */
    hash = fnv1a(14695981039346656037ull, sid->str, sid->len);
    hash = fnv1a(hash, "\0", 1);
    hash = fnv1a(hash, mid->str, mid->len);
    snprintf(key, keylen, "dci#%016llx%04x%04x", (unsigned long long)hash,
             (unsigned)(sid->len & 0xffffu), (unsigned)(mid->len & 0xffffu));
    return IGW_OK;
}

/* Writes a Response ERR refusal into in->errbody. */
static int
refuse(struct igw_ingest *in, int status, const char *code, const char *message, char *err,
       size_t errlen)
{
    const struct igw_node *mid = str_at(igw_node_get(in->root, "header", 6), "message_id");
    char corr[DCI_CORR_MAX + 1];

    snprintf(corr, sizeof(corr), "%.*s", mid != NULL ? (int)mid->len : 0,
             mid != NULL ? mid->str : "");
    igw_buf_reset(&in->errbody);
    if (dci_response(&in->errbody, "ERR", corr, code, message) != IGW_OK) {
        igw_buf_reset(&in->errbody);
        return IGW_ENOMEM;
    }
    in->errstatus = status;
    in->errtype = DCI_CT;
    igw_errbuf_set(err, errlen, "%s: %s", code, message);
    return IGW_EPARSE;
}

/* The partner checks (gateway/sign: credentials, signature, sender_uri under its base URLs)
 * when the channel names partners. A refusal with 401/503 is the spec's HttpErrorResponse, a
 * 400 a Response ERR. */
static int
check_partner(struct igw_ingest *in, char *err, size_t errlen)
{
    const char *auth = in->header != NULL ? in->header(in->header_arg, "Authorization") : NULL;
    struct igw_partner_verdict v;
    int rv;

    if (in->ch->ndci_partners == 0) {
        return IGW_OK;
    }
    rv = igw_partner_intake(NULL, in->ch->dci_partners, in->ch->ndci_partners, auth, in->body,
                            in->body_len, &v);
    if (rv != IGW_OK || v.status == 0) {
        return rv;
    }
    if (v.status == 400) {
        return refuse(in, 400, v.code, v.msg, err, errlen);
    }
    igw_buf_reset(&in->errbody);
    if (dci_http_errors(&in->errbody, v.code, v.msg) != IGW_OK) {
        igw_buf_reset(&in->errbody);
        return IGW_ENOMEM;
    }
    in->errstatus = v.status;
    in->errtype = DCI_CT;
    igw_errbuf_set(err, errlen, "%s: %s", v.code, v.msg);
    return IGW_EPARSE;
}

/* The batch is bounded: dci.max_items items at most (rjct.total_count.limit_exceeded). */
static int
check_items(struct igw_ingest *in, char *err, size_t errlen)
{
    static const char *const lists[] = {"search_request",     "subscribe_request",
                                        "notify_event",       "search_response",
                                        "subscribe_response", "subscription_codes"};
    const struct igw_node *msg = igw_node_get(in->root, "message", 7);
    unsigned max = in->ch->dci_max_items > 0 ? in->ch->dci_max_items : 100;
    char why[128];

    for (size_t i = 0; i < IGW_ARRAY_LEN(lists); i++) {
        const struct igw_node *l = igw_node_get(msg, lists[i], strlen(lists[i]));
        if (l != NULL && l->type == IGW_NODE_ARRAY && l->count > max) {
            snprintf(why, sizeof(why), "message.%s has %u items; this endpoint takes at most %u",
                     lists[i], (unsigned)l->count, max);
            return refuse(in, 400, "rjct.total_count.limit_exceeded", why, err, errlen);
        }
    }
    return IGW_OK;
}

int
dci_check_input(struct igw_ingest *in, char *err, size_t errlen)
{
    const struct igw_dci_endpoint *ep = dci_endpoint_of(in);
    struct igw_dci_error e;
    int rv;

    if (ep == NULL) {
        return refuse(in, 404, "err.request.not_found",
                      "the path names no DCI endpoint (/registry/search, /registry/sync/search, "
                      "/registry/on-search, ...)",
                      err, errlen);
    }
    /* who sent it first: an unauthenticated sender learns nothing about the schema */
    rv = check_partner(in, err, errlen);
    if (rv != IGW_OK) {
        return rv;
    }
    if (!igw_dci_validate(in->root, ep, &e)) {
        return refuse(in, 400, e.code, e.message, err, errlen);
    }
    rv = check_items(in, err, errlen);
    if (rv == IGW_OK && in->idem_key != in->idem_buf) {
        /* an Idempotency-Key header came first (the intake takes it before message_key): on a
         * DCI channel the transaction is sender_id + message_id, so the DCI key replaces it
         * (the header is ignored; docs/DCI.md, Answers). The envelope passed the schema, so
         * both ids are there. */
        if (dci_message_key(in, in->idem_buf, sizeof(in->idem_buf)) == IGW_OK) {
            in->idem_key = in->idem_buf;
        }
    }
    return rv;
}
