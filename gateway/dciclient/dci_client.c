/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw as a DCI client, for openIMIS as the SP-MIS (docs/DCI.md, "igw as openIMIS's DCI
 * client"). Two mediators:
 *
 * dci-client: openIMIS asks (plain JSON or FHIR) for a search of an external DCI registry. The
 * channel's mediate.request_map turns the request into {"header": H, "message": M}; igw signs
 * it (igw_sign_envelope: a compact JWS over {"header":H,"message":M}, unsigned when no
 * signing key is configured) and builds the envelope {"signature", "header", "message"}.
 *   - with an upstream (synchronous: mediate.path, e.g. /registry/sync/search): the envelope is
 *     POSTed there and the registry's SearchResponse answered through mediate.response_map;
 *     when the channel names a partner (dci.partner) the answer's signature is verified first;
 *   - without one (asynchronous): the envelope is committed on this channel (dialect dci with
 *     dci.action search, subscribe, ...: the dialect checks it against the spec, keys it by
 *     sender_id + message_id and answers the DCI ACK after the durable commit) and the
 *     channel's routes deliver it to the registry (/registry/search) with retries.
 *
 * dci-callback: the SP-MIS endpoints (/registry/on-search, notify, on-subscribe,
 * on-unsubscribe, txn/on-status) on a dialect dci channel. A callback that passes the partner
 * and schema checks is correlated with the pending transaction: the request message committed
 * on channel dci.requests whose idempotency key is dci:<dci.sender_id>:<transaction_id> (the
 * request maps set header.message_id to the transaction_id, so the dialect's own key of the
 * request is that). Found: the callback is committed (ACKed after the commit, delivered to
 * openIMIS by the channel's routes and maps, with retries). Not found: HTTP 200 with a
 * Response ERR err.request.not_found, nothing stored. A callback that fails the partner or
 * schema checks is handed to the dialect (IGW_MED_COMMIT), which refuses it in DCI's shape.
 *
 * Threads: start on nng's task thread, step on the engine's curl thread; the queue lookup is
 * a read that never waits for the writer (igw_queue_list).
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/dci.h"
#include "igw/json.h"
#include "dialect/dci/dci_int.h"
#include "mediate/mediator.h"
#include "sign/sign.h"

#define BODY_MAX (16u << 20)

/* ---- helpers ------------------------------------------------------------------------------ */

static const struct igw_node *
member(const struct igw_node *obj, const char *key)
{
    return obj != NULL && obj->type == IGW_NODE_OBJECT ? igw_node_get(obj, key, strlen(key)) : NULL;
}

static int
parse_body(struct igw_med *m, const char *body, size_t len, struct igw_node **out)
{
    struct igw_parse_error perr;

    if (len == 0 || igw_json_parse(m->arena, body, len, NULL, out, &perr) != IGW_OK ||
        (*out)->type != IGW_NODE_OBJECT) {
        igw_errbuf_set(m->err, sizeof(m->err), "the body is not a JSON object");
        return IGW_EPARSE;
    }
    return IGW_OK;
}

static int
run_map(struct igw_med *m, const char *name, const struct igw_node *in, struct igw_node **out)
{
    const igw_map *map = m->maps != NULL ? igw_map_set_get(m->maps, name) : NULL;

    if (map == NULL) {
        igw_errbuf_set(m->err, sizeof(m->err), "map '%s' is not loaded", name);
        return IGW_EIO;
    }
    return igw_map_apply(map, false, m->arena, in, NULL, out, m->err, sizeof(m->err));
}

/* ---- dci-client --------------------------------------------------------------------------- */

static int
client_channel_init(const struct igw_channel *ch, void **state, char *err, size_t errlen)
{
    (void)state;
    if (ch->mediate_request_map == NULL) {
        igw_errbuf_set(err, errlen, "answer: dci-client needs mediate.request_map");
        return IGW_ECONFIG;
    }
    if (ch->upstream != NULL && (ch->mediate_path == NULL || ch->mediate_path[0] != '/')) {
        igw_errbuf_set(err, errlen,
                       "answer: dci-client with an upstream needs mediate.path "
                       "(e.g. /registry/sync/search)");
        return IGW_ECONFIG;
    }
    if (ch->upstream == NULL && (ch->dialect == NULL || strcmp(ch->dialect, "dci") != 0)) {
        igw_errbuf_set(err, errlen,
                       "answer: dci-client without an upstream commits a DCI request: "
                       "the channel needs dialect: dci (and dci.action)");
        return IGW_ECONFIG;
    }
    return IGW_OK;
}

/* The signed envelope of the request map's output {"header":H,"message":M}. */
static int
build_envelope(struct igw_med *m, const struct igw_node *doc, struct igw_buf *env)
{
    const struct igw_node *h = member(doc, "header");
    const struct igw_node *msg = member(doc, "message");
    struct igw_buf hb, mb, sig;
    int rv;

    if (h == NULL || h->type != IGW_NODE_OBJECT || msg == NULL) {
        igw_errbuf_set(m->err, sizeof(m->err),
                       "map '%s' must build {\"header\": {...}, \"message\": {...}}",
                       m->ch->mediate_request_map);
        return IGW_EIO;
    }
    igw_buf_init(&hb, BODY_MAX);
    igw_buf_init(&mb, BODY_MAX);
    igw_buf_init(&sig, 64u << 10);
    rv = igw_json_write(h, &hb, 0);
    rv = rv == IGW_OK ? igw_json_write(msg, &mb, 0) : rv;
    if (rv == IGW_OK) {
        char serr[IGW_ERRBUF_SIZE];
        int srv = igw_sign_envelope(hb.ptr, hb.len, mb.ptr, mb.len, &sig, serr, sizeof(serr));
        if (srv == IGW_ENOENT) {
            sig.len = 0; /* no signing key configured: unsigned, as DCI allows */
        } else if (srv != IGW_OK) {
            igw_errbuf_set(m->err, sizeof(m->err), "signing failed: %s", serr);
            rv = srv == IGW_ENOMEM ? IGW_ENOMEM : IGW_EIO;
        }
    }
    if (rv == IGW_OK) {
        rv = igw_buf_append(env, "{", 1);
        if (rv == IGW_OK && sig.len > 0) {
            rv = igw_buf_append(env, "\"signature\":\"", 13);
            rv = rv == IGW_OK ? igw_buf_append(env, sig.ptr, sig.len) : rv;
            rv = rv == IGW_OK ? igw_buf_append(env, "\",", 2) : rv;
        }
        rv = rv == IGW_OK ? igw_buf_append(env, "\"header\":", 9) : rv;
        rv = rv == IGW_OK ? igw_buf_append(env, hb.ptr, hb.len) : rv;
        rv = rv == IGW_OK ? igw_buf_append(env, ",\"message\":", 11) : rv;
        rv = rv == IGW_OK ? igw_buf_append(env, mb.ptr, mb.len) : rv;
        rv = rv == IGW_OK ? igw_buf_append(env, "}", 1) : rv;
    }
    igw_buf_fini(&hb);
    igw_buf_fini(&mb);
    igw_buf_fini(&sig);
    return rv;
}

static int
client_start(struct igw_med *m)
{
    struct igw_node *in = NULL, *doc = NULL;
    struct igw_buf env;
    char *body;
    int rv;

    if (m->ch->upstream == NULL && m->header != NULL &&
        m->header(m->header_arg, "Idempotency-Key") != NULL) {
        /* the header would replace the dialect's key dci:<sender_id>:<transaction_id>, by
         * which the registry's callbacks find this request: refused, never half-kept */
        igw_errbuf_set(m->err, sizeof(m->err),
                       "Idempotency-Key is not accepted on this channel: igw keys the request "
                       "by header.sender_id and the transaction_id (a repeat is "
                       "rjct.message_id.duplicate), which its callbacks are matched by; send "
                       "the request without the header");
        return -IGW_EPARSE;
    }
    rv = parse_body(m, m->body, m->body_len, &in);
    if (rv != IGW_OK) {
        return -rv;
    }
    rv = run_map(m, m->ch->mediate_request_map, in, &doc);
    if (rv == IGW_ETRANSLATE || rv == IGW_ELIMIT) {
        return -IGW_EPARSE; /* the request cannot be expressed in DCI: the map says why */
    }
    if (rv != IGW_OK) {
        return -rv;
    }
    igw_buf_init(&env, BODY_MAX);
    rv = build_envelope(m, doc, &env);
    body = rv == IGW_OK ? igw_arena_strndup(m->arena, env.ptr, env.len) : NULL;
    rv = rv == IGW_OK && body == NULL ? IGW_ENOMEM : rv;
    size_t len = env.len;
    igw_buf_fini(&env);
    if (rv != IGW_OK) {
        return -rv;
    }
    if (m->ch->upstream == NULL) {
        m->commit.body = body;
        m->commit.body_len = len;
        return IGW_MED_COMMIT;
    }
    m->call.method = "POST";
    m->call.path = m->ch->mediate_path;
    m->call.content_type = "application/json";
    m->call.accept = "application/json";
    m->call.body = body;
    m->call.body_len = len;
    return IGW_MED_CALL;
}

static int
client_step(struct igw_med *m, const struct igw_med_result *res)
{
    struct igw_node *in = NULL, *out = NULL;
    int rv;

    if (res->err != IGW_OK) {
        return -res->err;
    }
    if (res->status == 401 || res->status == 403) {
        igw_errbuf_set(m->err, sizeof(m->err), "the registry refused igw's credentials (%d)",
                       res->status);
        return -IGW_EAUTH;
    }
    if (res->status < 200 || res->status > 299) {
        igw_errbuf_set(m->err, sizeof(m->err), "the registry answered %d", res->status);
        return -IGW_EIO;
    }
    for (size_t i = 0; i < m->ch->ndci_partners; i++) {
        const struct igw_partner *p = igw_partner_find(m->cfg, m->ch->dci_partners[i]);
        const char *code = NULL;
        char verr[128];
        if (p != NULL &&
            igw_sign_verify(p, res->body, res->body_len, &code, verr, sizeof(verr)) != IGW_OK) {
            igw_errbuf_set(m->err, sizeof(m->err), "the registry's answer: %s (%s)",
                           code != NULL ? code : "refused", verr);
            return -IGW_EIO;
        }
    }
    if (parse_body(m, res->body, res->body_len, &in) != IGW_OK) {
        igw_errbuf_set(m->err, sizeof(m->err), "the registry's answer is not a JSON object");
        return -IGW_EIO;
    }
    m->answer.status = 200;
    m->answer.content_type = "application/json";
    if (m->ch->mediate_response_map == NULL) {
        rv = igw_buf_append(&m->answer.body, res->body, res->body_len);
        return rv == IGW_OK ? IGW_MED_ANSWER : -rv;
    }
    rv = run_map(m, m->ch->mediate_response_map, in, &out);
    if (rv == IGW_OK) {
        rv = igw_json_write(out, &m->answer.body, 0);
    }
    return rv == IGW_OK ? IGW_MED_ANSWER : -(rv == IGW_ELIMIT ? IGW_ETRANSLATE : rv);
}

const struct igw_mediator_ops igw_mediator_dci_client = {
    .name = "dci-client",
    .description = "a DCI request built by a map and signed: sent to the registry (upstream) "
                   "or committed for delivery",
    .commits = true,
    .channel_init = client_channel_init,
    .step = client_step,
    .start = client_start,
};

/* ---- dci-callback ------------------------------------------------------------------------- */

static int
callback_channel_init(const struct igw_channel *ch, void **state, char *err, size_t errlen)
{
    (void)state;
    if (ch->dialect == NULL || strcmp(ch->dialect, "dci") != 0 || ch->dci_requests == NULL ||
        ch->dci_sender_id == NULL) {
        igw_errbuf_set(err, errlen,
                       "answer: dci-callback needs dialect: dci, dci.requests (the channel of "
                       "the requests) and dci.sender_id (igw's sender_id in them)");
        return IGW_ECONFIG;
    }
    return IGW_OK;
}

/* Appends s percent-encoded as the DCI dialect's message_key does (bytes outside 0x21..0x7e,
 * '%' and ':'): the key must be byte-equal to the one the request was committed with. */
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

static void
request_key(const char *sid, const char *txn, size_t tlen, char *key, size_t keylen)
{
    size_t pos = 4, slen = strlen(sid);

    memcpy(key, "dci:", 5);
    if (put_enc(key, keylen, &pos, sid, slen) && pos + 1 < keylen &&
        (key[pos++] = ':', put_enc(key, keylen, &pos, txn, tlen))) {
        return;
    }
    uint64_t h = fnv1a(14695981039346656037ull, sid, slen);
    h = fnv1a(h, "\0", 1);
    h = fnv1a(h, txn, tlen);
    snprintf(key, keylen, "dci#%016llx%04x%04x", (unsigned long long)h, (unsigned)(slen & 0xffffu),
             (unsigned)(tlen & 0xffffu));
}

/* The endpoint whose DCI path ends the request path (before any query). */
static const struct igw_dci_endpoint *
endpoint_of(const char *target)
{
    size_t tl = strcspn(target, "?");

    for (size_t i = 0;; i++) {
        const struct igw_dci_endpoint *ep = igw_dci_endpoint_at(i);
        struct igw_dci_endpoint_info info;
        if (ep == NULL) {
            return NULL;
        }
        igw_dci_endpoint_info(ep, &info);
        size_t pl = strlen(info.path);
        if (pl <= tl && memcmp(target + tl - pl, info.path, pl) == 0) {
            return ep;
        }
    }
}

/* 200 Response ERR err.request.not_found: a callback of no pending transaction. */
static int
answer_unknown(struct igw_med *m, const struct igw_node *hdr)
{
    const struct igw_node *mid = member(hdr, "message_id");
    const char *corr = mid != NULL && mid->type == IGW_NODE_STRING
                           ? igw_arena_strndup(m->arena, mid->str, mid->len)
                           : "";
    int rv;

    m->answer.status = 200;
    m->answer.content_type = "application/json";
    rv = dci_response(&m->answer.body, "ERR", corr != NULL ? corr : "", "err.request.not_found",
                      "message.transaction_id: no pending transaction of this SP-MIS");
    return rv == IGW_OK ? IGW_MED_ANSWER : -rv;
}

static int
callback_start(struct igw_med *m)
{
    const struct igw_dci_endpoint *ep = endpoint_of(m->target);
    struct igw_node *env = NULL;
    struct igw_dci_error verr;
    const struct igw_node *txn;
    char key[IGW_QUEUE_IDEM_KEY_MAX + 1];

    m->commit.body = NULL; /* every hand-over below commits the inbound request as it came */
    if (m->ch->ndci_partners > 0) {
        struct igw_partner_verdict v;
        const char *auth = m->header != NULL ? m->header(m->header_arg, "Authorization") : NULL;
        int rv = igw_partner_intake(m->cfg, m->ch->dci_partners, m->ch->ndci_partners, auth,
                                    m->body, m->body_len, &v);
        if (rv != IGW_OK || v.status != 0) {
            return IGW_MED_COMMIT; /* the dialect refuses it the same way, in its shape */
        }
    }
    if (ep == NULL || parse_body(m, m->body, m->body_len, &env) != IGW_OK ||
        !igw_dci_validate(env, ep, &verr)) {
        return IGW_MED_COMMIT; /* the dialect's checks answer the refusal */
    }
    txn = member(member(env, "message"), "transaction_id");
    if (txn == NULL || txn->type != IGW_NODE_STRING || txn->len == 0) {
        return answer_unknown(m, member(env, "header"));
    }
    if (m->queue == NULL) {
        igw_errbuf_set(m->err, sizeof(m->err), "no queue to correlate the callback with");
        return -IGW_EAGAIN;
    }
    request_key(m->ch->dci_sender_id, txn->str, txn->len, key, sizeof(key));
    struct igw_queue_filter f = {
        .channel = m->ch->dci_requests, .idem_key = key, .idem_key_len = strlen(key)};
    struct igw_queue_list_item item;
    struct igw_queue_list_page pg;
    int rv = igw_queue_list(m->queue, &f, 0, 1, &item, &pg);
    if (rv != IGW_OK) {
        igw_errbuf_set(m->err, sizeof(m->err), "the queue could not be read");
        return -IGW_EAGAIN;
    }
    return pg.n == 1 ? IGW_MED_COMMIT : answer_unknown(m, member(env, "header"));
}

static int
callback_step(struct igw_med *m, const struct igw_med_result *res)
{
    (void)res;
    igw_errbuf_set(m->err, sizeof(m->err), "dci-callback makes no upstream call");
    return -IGW_EIO;
}

const struct igw_mediator_ops igw_mediator_dci_callback = {
    .name = "dci-callback",
    .description = "a DCI callback correlated with the pending request it answers, then "
                   "committed; an unknown transaction is a Response ERR",
    .commits = true,
    .channel_init = callback_channel_init,
    .start = callback_start,
    .step = callback_step,
};
