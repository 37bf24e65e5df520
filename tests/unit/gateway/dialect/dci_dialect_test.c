/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/dialect/dci/ through the seam (igw_ingest_prepare, igw_accept_response,
 * igw_http_error_body) on channels loaded with dialect: dci: the options bound at load (and
 * refused combinations), the endpoint found from the path (dci.action auto), the idempotency
 * key from sender_id and message_id, an ACK with the message id as correlation_id, a repeated
 * message_id answered NACK rjct.message_id.duplicate, header checks refused 400 with a
 * Response ERR and the spec's code, and the body of every intake refusal (HttpErrorResponse for
 * 401/403/5xx, Response ERR otherwise). */
#include <stdio.h>
#include <string.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/config.h"
#include "igw/config_load.h"
#include "igw/dci.h"
#include "igw/doc.h"
#include "igw/queue.h"
#include "core/ingest.h"
#include "igwt.h"

static const char SEARCH[] =
    "{\"signature\":\"unsigned-stub\",\"header\":{\"version\":\"1.0.0\",\"message_id\":\"MID\","
    "\"message_ts\":\"TS\",\"action\":\"search\",\"sender_id\":\"SENDER\","
    "\"sender_uri\":\"https://spmis.example.org/cb\",\"total_count\":1},"
    "\"message\":{\"transaction_id\":\"t-1\",\"search_request\":[{\"reference_id\":\"r-1\","
    "\"timestamp\":\"2026-12-03T10:00:00Z\",\"search_criteria\":{\"query_type\":\"idtype-value\","
    "\"query\":{\"type\":\"UIN\",\"value\":\"1\"}}}]}}";

static char body[8192];

/* SEARCH with MID, TS and SENDER replaced. */
static const char *
search(const char *mid, const char *ts, const char *sender)
{
    const char *src = SEARCH;
    size_t n = 0;

    while (*src != '\0') {
        const char *rep = NULL;
        size_t skip = 0;
        if (strncmp(src, "MID", 3) == 0) {
            rep = mid, skip = 3;
        } else if (strncmp(src, "TS", 2) == 0 && src[2] == '"') {
            rep = ts, skip = 2;
        } else if (strncmp(src, "SENDER", 6) == 0) {
            rep = sender, skip = 6;
        }
        if (rep != NULL) {
            size_t l = strlen(rep);
            IGWT_ASSERT(n + l < sizeof(body));
            memcpy(body + n, rep, l);
            n += l;
            src += skip;
        } else {
            IGWT_ASSERT(n + 1 < sizeof(body));
            body[n++] = *src++;
        }
    }
    body[n] = '\0';
    return body;
}

static struct igw_config *
load_rv(const char *text, int want)
{
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg = NULL;
    int rv = igw_config_parse(&cfg, "t.yaml", text, strlen(text), err, sizeof(err));

    if (rv != want) {
        fprintf(stderr, "  config: %d %s\n", rv, err);
    }
    IGWT_ASSERT(rv == want);
    return cfg;
}

static struct igw_config *
load(const char *text)
{
    return load_rv(text, IGW_OK);
}

/* The string at a dotted path of a JSON body ("message.error.code"), in arena a; "" if none. */
static const char *
jget(igw_arena *a, const char *text, size_t len, const char *path)
{
    struct igw_node *root = NULL;
    const struct igw_node *n;
    char key[64];

    IGWT_OK(igw_json_parse(a, text, len, NULL, &root, NULL));
    n = root;
    while (*path != '\0' && n != NULL) {
        size_t k = strcspn(path, ".");
        snprintf(key, sizeof(key), "%.*s", (int)k, path);
        if (strcmp(key, "0") == 0) {
            n = n->type == IGW_NODE_ARRAY ? n->first : NULL;
        } else {
            n = igw_node_get(n, key, k);
        }
        path += k + (path[k] == '.');
    }
    return n != NULL && n->type == IGW_NODE_STRING ? n->str : "";
}

struct run {
    struct igw_ingest in;
    char err[IGW_ERRBUF_SIZE];
    int rv;
};

static void
prepare(struct run *r, const struct igw_channel *ch, const char *target, const char *text)
{
    memset(r, 0, sizeof(*r));
    r->in.ch = ch;
    r->in.method = "POST";
    r->in.target = target;
    r->in.body = text;
    r->in.body_len = strlen(text);
    r->rv = igw_ingest_prepare(&r->in, r->err, sizeof(r->err));
}

/* ---- options ------------------------------------------------------------------------------ */

static void
test_options(void)
{
    struct igw_config *cfg;

    cfg = load("partners:\n  spmis: { base_urls: [\"https://spmis.example.org/dci\"] }\n"
               "channels:\n  a:\n    listen: POST /dci/registry/{op}\n    dialect: dci\n"
               "  s:\n    listen: POST /s\n    dialect: dci\n"
               "    dci: { action: search, sync: true, partner: [spmis] }\n");
    IGWT_STREQ(cfg->channels[0].dialect_ops->name, "dci");
    IGWT_STREQ(cfg->channels[0].dci_action, "auto");
    IGWT_CHECK(cfg->channels[1].dci_sync);
    IGWT_CHECK(cfg->channels[1].ndci_partners == 1);
    IGWT_STREQ(cfg->channels[1].dci_partners[0], "spmis");
    igw_config_free(cfg);
    /* no sync variant of subscribe; sync needs an action; DCI is JSON */
    load_rv("channels:\n  a:\n    listen: POST /a\n    dialect: dci\n"
            "    dci: { action: subscribe, sync: true }\n",
            IGW_ECONFIG);
    load_rv("channels:\n  a:\n    listen: POST /a\n    dialect: dci\n    dci: { sync: true }\n",
            IGW_ECONFIG);
    load_rv("channels:\n  a:\n    listen: POST /a\n    dialect: dci\n    input: xml\n",
            IGW_ECONFIG);
    load_rv("channels:\n  a:\n    listen: POST /a\n    dialect: dci\n    dci: { action: pay }\n",
            IGW_ECONFIG);
    /* a partner the partners: section does not have */
    load_rv("channels:\n  a:\n    listen: POST /a\n    dialect: dci\n    dci: { partner: [x] }\n",
            IGW_ECONFIG);
}

/* ---- accepted messages -------------------------------------------------------------------- */

static void
test_ack_and_duplicate(void)
{
    struct igw_config *cfg =
        load("channels:\n  a:\n    listen: POST /dci/registry/{op}\n    dialect: dci\n");
    igw_arena *a = igwt_arena_new(1u << 20);
    struct igw_accept_resp resp;
    char hex[IGW_QUEUE_ID_STRLEN];
    struct run r;

    prepare(&r, &cfg->channels[0], "/dci/registry/search",
            search("m-1", "2026-12-03T10:00:00+01:00", "spmis.example.org"));
    IGWT_OK(r.rv);
    IGWT_CHECK(r.in.errbody.len == 0);
    IGWT_STREQ(r.in.idem_key, "dci:spmis.example.org:m-1");
    IGWT_OK(igw_accept_response(&r.in, 0xabcull, false, &resp));
    igw_queue_id_format(0xabcull, hex);
    IGWT_CHECK(resp.status == 200);
    IGWT_STREQ(resp.content_type, "application/json");
    IGWT_STREQ(jget(a, resp.body.ptr, resp.body.len, "message.ack_status"), "ACK");
    IGWT_STREQ(jget(a, resp.body.ptr, resp.body.len, "message.correlation_id"), hex);
    {
        const char *ts = jget(a, resp.body.ptr, resp.body.len, "message.timestamp");
        IGWT_CHECK(igw_dci_datetime_ok(ts, strlen(ts)));
    }
    IGWT_CHECK(strstr(resp.body.ptr, "\"error\"") == NULL);
    igw_buf_fini(&resp.body);
    /* the repeat: the first message's id, NACK rjct.message_id.duplicate */
    IGWT_OK(igw_accept_response(&r.in, 0xabcull, true, &resp));
    IGWT_CHECK(resp.status == 200);
    IGWT_STREQ(jget(a, resp.body.ptr, resp.body.len, "message.ack_status"), "NACK");
    IGWT_STREQ(jget(a, resp.body.ptr, resp.body.len, "message.error.code"),
               "rjct.message_id.duplicate");
    IGWT_STREQ(jget(a, resp.body.ptr, resp.body.len, "message.correlation_id"), hex);
    igw_buf_fini(&resp.body);
    igw_ingest_fini(&r.in);
    igw_arena_free(a);
    igw_config_free(cfg);
}

/* The key is made of both, encoded so no two (sender, message_id) pairs give one key. */
static void
test_message_key(void)
{
    struct igw_config *cfg = load("channels:\n  a:\n    listen: POST /registry/search\n"
                                  "    dialect: dci\n");
    char longid[600];
    struct run r;

    prepare(&r, &cfg->channels[0], "/registry/search",
            search("a:b", "2026-12-03T10:00:00Z", "s%1 \xc3\xa9"));
    IGWT_OK(r.rv);
    IGWT_STREQ(r.in.idem_key, "dci:s%251%20%C3%A9:a%3Ab");
    igw_ingest_fini(&r.in);
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    prepare(&r, &cfg->channels[0], "/registry/search", search(longid, "2026-12-03T10:00:00Z", "s"));
    IGWT_OK(r.rv);
    IGWT_CHECK(strncmp(r.in.idem_key, "dci#", 4) == 0);
    IGWT_CHECK(strlen(r.in.idem_key) == 4 + 16 + 8);
    igw_ingest_fini(&r.in);
    /* no message_id: no key, and the check says why */
    prepare(&r, &cfg->channels[0], "/registry/search",
            "{\"header\":{\"sender_id\":\"s\"},\"message\":{}}");
    IGWT_ERR(r.rv, IGW_EPARSE);
    IGWT_CHECK(r.in.idem_key == NULL);
    IGWT_CHECK(r.in.errstatus == 400);
    igw_ingest_fini(&r.in);
    igw_config_free(cfg);
}

/* ---- refusals by the dialect -------------------------------------------------------------- */

static void
expect_refused(const struct igw_channel *ch, const char *target, const char *text, int status,
               const char *code, const char *corr)
{
    igw_arena *a = igwt_arena_new(1u << 20);
    struct run r;

    prepare(&r, ch, target, text);
    IGWT_ERR(r.rv, IGW_EPARSE);
    IGWT_CHECK(r.in.errstatus == status);
    IGWT_STREQ(r.in.errtype, "application/json");
    IGWT_STREQ(jget(a, r.in.errbody.ptr, r.in.errbody.len, "message.ack_status"), "ERR");
    IGWT_STREQ(jget(a, r.in.errbody.ptr, r.in.errbody.len, "message.error.code"), code);
    IGWT_STREQ(jget(a, r.in.errbody.ptr, r.in.errbody.len, "message.correlation_id"), corr);
    igw_ingest_fini(&r.in);
    igw_arena_free(a);
}

static void
test_check_refusals(void)
{
    struct igw_config *cfg =
        load("channels:\n  a:\n    listen: POST /dci/registry/{op}\n    dialect: dci\n"
             "  b:\n    listen: POST /dci/registry/sync/{op}\n    dialect: dci\n"
             "  c:\n    listen: POST /sub\n    dialect: dci\n    dci: { action: subscribe }\n");
    const struct igw_channel *a = &cfg->channels[0], *b = &cfg->channels[1], *c = &cfg->channels[2];

    expect_refused(a, "/dci/registry/search", search("m-2", "2026-12-03T10:00:00", "s"), 400,
                   "rjct.message_ts.invalid", "m-2");
    expect_refused(a, "/dci/registry/subscribe", search("m-3", "2026-12-03T10:00:00Z", "s"), 400,
                   "rjct.action.not_supported", "m-3");
    expect_refused(a, "/dci/registry/pay", search("m-4", "2026-12-03T10:00:00Z", "s"), 404,
                   "err.request.not_found", "m-4");
    expect_refused(c, "/sub", search("m-5", "2026-12-03T10:00:00Z", "s"), 400,
                   "rjct.action.not_supported", "m-5");
    expect_refused(a, "/dci/registry/search", "{\"header\":{}}", 400, "err.request.bad", "none");
    {
        /* the sync endpoint of the same path needs no sender_uri; the async one does */
        struct run r;
        char *p;
        search("m-6", "2026-12-03T10:00:00Z", "s");
        p = strstr(body, "\"sender_uri\"");
        IGWT_ASSERT(p != NULL);
        memcpy(p, "\"sender_urx\"", 12);
        prepare(&r, b, "/dci/registry/sync/search", body);
        IGWT_OK(r.rv);
        igw_ingest_fini(&r.in);
        expect_refused(a, "/dci/registry/search", body, 400, "err.sender_uri.invalid", "m-6");
    }
    igw_config_free(cfg);
}

/* A batch over dci.max_items: rjct.total_count.limit_exceeded; at the limit: accepted. */
static void
test_max_items(void)
{
    struct igw_config *cfg = load("channels:\n  a:\n    listen: POST /registry/search\n"
                                  "    dialect: dci\n    dci: { max_items: 2 }\n");
    const char *item = "{\"reference_id\":\"r\",\"timestamp\":\"2026-12-03T10:00:00Z\","
                       "\"search_criteria\":{\"query_type\":\"idtype-value\",\"query\":{"
                       "\"type\":\"UIN\",\"value\":\"1\"}}}";
    char text[4096];
    struct run r;

    IGWT_CHECK(cfg->channels[0].dci_max_items == 2);
    for (int n = 2; n <= 3; n++) {
        int len = snprintf(text, sizeof(text),
                           "{\"header\":{\"version\":\"1.0.0\",\"message_id\":\"m-%d\","
                           "\"message_ts\":\"2026-12-03T10:00:00Z\",\"action\":\"search\","
                           "\"sender_id\":\"s\",\"sender_uri\":\"https://s.example.org/cb\","
                           "\"total_count\":%d},\"message\":{\"transaction_id\":\"t\","
                           "\"search_request\":[%s,%s%s%s]}}",
                           n, n, item, item, n == 3 ? "," : "", n == 3 ? item : "");
        IGWT_ASSERT(len > 0 && (size_t)len < sizeof(text));
        if (n == 2) {
            prepare(&r, &cfg->channels[0], "/registry/search", text);
            IGWT_OK(r.rv);
            igw_ingest_fini(&r.in);
        } else {
            expect_refused(&cfg->channels[0], "/registry/search", text, 400,
                           "rjct.total_count.limit_exceeded", "m-3");
        }
    }
    igw_config_free(cfg);
}

/* ---- refusals by the intake --------------------------------------------------------------- */

static void
expect_intake(const struct igw_channel *ch, int status, const char *code, bool http_errors,
              const char *want)
{
    igw_arena *a = igwt_arena_new(1u << 20);
    struct igw_buf b;
    const char *ct = NULL;

    igw_buf_init(&b, 4096);
    IGWT_OK(igw_http_error_body(ch, &b, status, code, "detail \"quoted\"", &ct));
    IGWT_STREQ(ct, "application/json");
    if (http_errors) {
        struct igw_node *root = NULL;
        IGWT_OK(igw_json_parse(a, b.ptr, b.len, NULL, &root, NULL));
        root = igw_node_get(root, "errors", 6);
        IGWT_ASSERT(root != NULL && root->type == IGW_NODE_ARRAY && root->count == 1);
        IGWT_STREQ(igw_node_get(root->first, "code", 4)->str, want);
        IGWT_CHECK(strstr(igw_node_get(root->first, "message", 7)->str, code) != NULL);
    } else {
        IGWT_STREQ(jget(a, b.ptr, b.len, "message.ack_status"), "ERR");
        IGWT_STREQ(jget(a, b.ptr, b.len, "message.error.code"), want);
        IGWT_STREQ(jget(a, b.ptr, b.len, "message.correlation_id"), "none");
    }
    igw_buf_fini(&b);
    igw_arena_free(a);
}

static void
test_intake_refusals(void)
{
    struct igw_config *cfg = load("channels:\n  a:\n    listen: POST /a\n    dialect: dci\n");
    const struct igw_channel *ch = &cfg->channels[0];
    struct igw_buf b;
    const char *ct;

    expect_intake(ch, 401, "unauthorized", true, "err.request.unauthorized");
    expect_intake(ch, 403, "forbidden", true, "err.request.forbidden");
    expect_intake(ch, 500, "internal", true, "err.service.unavailable");
    expect_intake(ch, 503, "queue_full", true, "err.service.unavailable");
    expect_intake(ch, 400, "invalid_json", false, "err.request.bad");
    expect_intake(ch, 404, "not_found", false, "err.request.not_found");
    expect_intake(ch, 405, "method_not_allowed", false, "err.request.bad");
    expect_intake(ch, 408, "timeout", false, "err.request.timeout");
    expect_intake(ch, 411, "length_required", false, "err.request.bad");
    expect_intake(ch, 413, "payload_too_large", false, "err.request.bad");
    expect_intake(ch, 415, "unsupported_media_type", false, "err.request.bad");
    expect_intake(ch, 422, "translation_failed", false, "err.request.bad");
    expect_intake(ch, 429, "too_many_requests", false, "err.request.too_many_requests");
    expect_intake(ch, 401, "signature_missing", true, "err.request.unauthorized");
    expect_intake(ch, 400, "signature_invalid", false, "err.signature.invalid");
    expect_intake(ch, 400, "signature_missing", false, "err.signature.missing");
    /* a body over the buffer's max fails (the intake then answers without a body) */
    igw_buf_init(&b, 32);
    IGWT_ERR(igw_http_error_body(ch, &b, 400, "invalid_json", "x", &ct), IGW_ETOOBIG);
    igw_buf_fini(&b);
    igw_config_free(cfg);
}

IGWT_MAIN({"options", test_options}, {"ack_and_duplicate", test_ack_and_duplicate},
          {"message_key", test_message_key}, {"check_refusals", test_check_refusals},
          {"max_items", test_max_items}, {"intake_refusals", test_intake_refusals})
