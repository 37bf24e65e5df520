/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for translators/dci/ (validate.c over the generated dci_tables.c): one spec-valid
 * message per endpoint (tests/fixtures/dci/valid/), the official SPDCI examples (those the
 * Social Registry spec covers pass; those that break its own rules are refused with the right
 * code), one broken message per rule with its code, the compliance requirement ids that concern
 * the envelope (named in each case), the formats, the drift that is tolerated, and that the
 * generated table is current (the generator run again gives the committed file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "igw/common.h"
#include "igw/dci.h"
#include "igw/doc.h"
#include "lib/igwt.h"
#include "lib/igwt_fixtures.h"

static struct igw_dci_error derr;

/* Reads tests/fixtures/dci/<sub>; skips the case when the fixtures are not here. */
static char *
fixture(const char *sub, size_t *len)
{
    char dir[4096], path[4200];
    char *text;

    if (igwt_fixture_path(dir, sizeof(dir), "dci") == NULL) {
        IGWT_SKIP("tests/fixtures/dci not found");
    }
    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    text = igwt_read_file(path, len);
    IGWT_ASSERT(text != NULL);
    return text;
}

/* Validates JSON text against the endpoint of action (sync variant when sync). */
static bool
check_text(const char *action, bool sync, const char *text, size_t len)
{
    igw_arena *a = igwt_file_arena(16u << 20);
    struct igw_node *root = NULL;
    const struct igw_dci_endpoint *ep = igw_dci_endpoint_find(action, sync);

    IGWT_ASSERT(ep != NULL);
    IGWT_OK(igw_json_parse(a, text, len, NULL, &root, NULL));
    return igw_dci_validate(root, ep, &derr);
}

/* The fixture valid/<file>.json with the first occurrence of from replaced by to (from NULL:
 * unchanged), validated against action. */
static bool
check_edit(const char *file, const char *action, bool sync, const char *from, const char *to)
{
    char sub[128];
    size_t len;
    char *text, *out, *at;
    bool ok;

    snprintf(sub, sizeof(sub), "valid/%s.json", file);
    text = fixture(sub, &len);
    if (from == NULL) {
        ok = check_text(action, sync, text, len);
        igw_free(text);
        return ok;
    }
    at = strstr(text, from);
    IGWT_ASSERT(at != NULL);
    out = igw_malloc(len + strlen(to) + 1);
    IGWT_ASSERT(out != NULL);
    memcpy(out, text, (size_t)(at - text));
    strcpy(out + (at - text), to);  /* NOLINT: sized above */
    strcat(out, at + strlen(from)); /* NOLINT */
    ok = check_text(action, sync, out, strlen(out));
    igw_free(out);
    igw_free(text);
    return ok;
}

#define EXPECT_OK(call)                                                                            \
    do {                                                                                           \
        if (!(call)) {                                                                             \
            fprintf(stderr, "  refused: %s %s\n", derr.code, derr.message);                        \
        }                                                                                          \
        IGWT_CHECK(derr.code == NULL);                                                             \
    } while (0)

#define EXPECT_CODE(call, want)                                                                    \
    do {                                                                                           \
        IGWT_CHECK(!(call));                                                                       \
        IGWT_STREQ(derr.code != NULL ? derr.code : "(valid)", want);                               \
    } while (0)

static const struct {
    const char *file, *action;
    bool sync;
} endpoints[] = {
    {"search", "search", false},
    {"sync-search", "search", true},
    {"on-search", "on-search", false},
    {"subscribe", "subscribe", false},
    {"on-subscribe", "on-subscribe", false},
    {"unsubscribe", "unsubscribe", false},
    {"on-unsubscribe", "on-unsubscribe", false},
    {"notify", "notify", false},
    {"txn-status", "txn-status", false},
    {"sync-txn-status", "txn-status", true},
    {"txn-on-status", "txn-on-status", false},
};

/* ---- endpoints ---------------------------------------------------------------------------- */

static void
test_endpoints(void)
{
    struct igw_dci_endpoint_info info;
    size_t n = 0;

    for (const struct igw_dci_endpoint *ep = igw_dci_endpoint_at(0); ep != NULL;
         ep = igw_dci_endpoint_at(++n)) {
        igw_dci_endpoint_info(ep, &info);
        IGWT_CHECK(strncmp(info.path, "/registry/", 10) == 0);
        IGWT_CHECK(igw_dci_endpoint_find(info.action, (info.flags & IGW_DCI_EP_SYNC) != 0) == ep);
    }
    IGWT_CHECK(n == IGW_ARRAY_LEN(endpoints));
    igw_dci_endpoint_info(igw_dci_endpoint_find("search", true), &info);
    IGWT_STREQ(info.path, "/registry/sync/search");
    IGWT_CHECK(info.flags == IGW_DCI_EP_SYNC);
    igw_dci_endpoint_info(igw_dci_endpoint_find("search", false), &info);
    IGWT_STREQ(info.path, "/registry/search");
    IGWT_CHECK(info.flags == IGW_DCI_EP_ASYNC);
    igw_dci_endpoint_info(igw_dci_endpoint_find("txn-on-status", false), &info);
    IGWT_CHECK(info.flags == IGW_DCI_EP_CALLBACK);
    IGWT_CHECK(igw_dci_endpoint_find("subscribe", true) == NULL);
    IGWT_CHECK(igw_dci_endpoint_find("disburse", false) == NULL);
    IGWT_CHECK(igw_dci_endpoint_find(NULL, false) == NULL);
    IGWT_CHECK(igw_dci_code_known("rjct.message_id.duplicate"));
    IGWT_CHECK(igw_dci_code_known("err.signature.invalid"));
    IGWT_CHECK(!igw_dci_code_known("rjct.nothing"));
    IGWT_CHECK(!igw_dci_code_known(NULL));
}

/* FR-/SR-/CRVS-CORE-RG-*-01 and SR-CORE-SP-*-01 (happy): a spec-valid message per endpoint. */
static void
test_valid_each_endpoint(void)
{
    for (size_t i = 0; i < IGW_ARRAY_LEN(endpoints); i++) {
        EXPECT_OK(
            check_edit(endpoints[i].file, endpoints[i].action, endpoints[i].sync, NULL, NULL));
    }
}

/* The *-NEG-01 requirements: a schema-invalid message on each endpoint is refused. */
static void
test_invalid_each_endpoint(void)
{
    for (size_t i = 0; i < IGW_ARRAY_LEN(endpoints); i++) {
        const char *f = endpoints[i].file;
        /* the message's transaction_id is required everywhere */
        IGWT_CHECK(!check_edit(f, endpoints[i].action, endpoints[i].sync, "\"transaction_id\"",
                               "\"transaction_idx\""));
        IGWT_STREQ(derr.code, "err.request.bad");
        IGWT_CHECK(strstr(derr.message, "transaction_id") != NULL);
    }
}

/* ---- header rules ------------------------------------------------------------------------- */

static void
test_header_rules(void)
{
    /* rjct.version.invalid */
    EXPECT_CODE(check_edit("search", "search", false, "\"1.0.0\"", "\"2.0.0\""),
                "rjct.version.invalid");
    /* message_ts: required, ISO 8601 with a zone (DCI-VAL-FMT-TS-01..03) */
    EXPECT_CODE(check_edit("search", "search", false, "\"message_ts\"", "\"message_tz\""),
                "rjct.message_ts.invalid");
    EXPECT_CODE(check_edit("search", "search", false, "\"2026-12-03T10:00:00.000+01:00\"",
                           "\"03/12/2026 10:00\""),
                "rjct.message_ts.invalid"); /* DCI-VAL-FMT-TS-01 */
    EXPECT_OK(check_edit("search", "search", false, "\"2026-12-03T10:00:00.000+01:00\"",
                         "\"2026-12-03T09:00:00Z\"")); /* DCI-VAL-FMT-TS-02 */
    EXPECT_CODE(check_edit("subscribe", "subscribe", false, "\"2026-12-03T10:00:00.000+01:00\"",
                           "\"2026-12-03T10:00:00\""),
                "rjct.message_ts.invalid"); /* DCI-VAL-FMT-TS-03 */
    /* action: the endpoint's (rjct.action.not_supported for another DCI action) */
    EXPECT_CODE(check_edit("search", "search", false, "\"action\": \"search\"",
                           "\"action\": \"subscribe\""),
                "rjct.action.not_supported");
    EXPECT_CODE(
        check_edit("search", "search", false, "\"action\": \"search\"", "\"action\": \"verify\""),
        "rjct.action.invalid");
    EXPECT_CODE(check_edit("search", "search", false, "\"action\": \"search\",", ""),
                "rjct.action.invalid");
    /* total_count: required integer (a numeric string is tolerated) */
    EXPECT_CODE(check_edit("search", "search", false, "\"total_count\": 1", "\"total_count\": 1.5"),
                "rjct.total_count.invalid");
    EXPECT_CODE(check_edit("search", "search", false, "\"total_count\": 1,", ""),
                "rjct.total_count.invalid");
    EXPECT_OK(
        check_edit("search", "search", false, "\"total_count\": 1", "\"total_count\": \"1\""));
    /* sender_id required; sender_uri required on async requests, an absolute URI */
    EXPECT_CODE(check_edit("search", "search", false, "\"sender_id\"", "\"sender\""),
                "err.sender_id.invalid");
    EXPECT_CODE(check_edit("search", "search", false,
                           "\"https://spmis.example.org/dci/spmis/registry/on-search\"", "\"\""),
                "err.sender_uri.invalid");
    EXPECT_CODE(check_edit("subscribe", "subscribe", false, "\"sender_uri\"", "\"sender_url\""),
                "err.sender_uri.invalid");
    EXPECT_CODE(check_edit("search", "search", false,
                           "\"https://spmis.example.org/dci/spmis/registry/on-search\"",
                           "\"not a uri\""),
                "err.sender_uri.invalid");
    EXPECT_OK(check_edit("sync-search", "search", true, "\"receiver_id\"", "\"receiver\""));
    /* a callback header needs status */
    EXPECT_CODE(check_edit("on-search", "on-search", false, "\"status\": \"succ\",", ""),
                "err.request.bad");
    EXPECT_CODE(
        check_edit("notify", "notify", false, "\"status\": \"succ\"", "\"status\": \"done\""),
        "err.request.bad");
    /* header and message are required; is_msg_encrypted is a boolean */
    EXPECT_CODE(check_edit("search", "search", false, "\"header\"", "\"headers\""),
                "err.request.bad");
    EXPECT_CODE(check_edit("search", "search", false, "\"is_msg_encrypted\": false",
                           "\"is_msg_encrypted\": \"no\""),
                "err.request.bad");
    /* signature, when present, is a string */
    EXPECT_CODE(check_edit("search", "search", false, "\"unsigned-stub\"", "{}"),
                "err.signature.invalid");
    EXPECT_CODE(check_text("search", false, "[1]", 3), "err.request.bad");
    IGWT_CHECK(!igw_dci_validate(NULL, igw_dci_endpoint_find("search", false), &derr));
}

/* ---- message rules ------------------------------------------------------------------------ */

static void
test_message_rules(void)
{
    char big[128];

    /* DCI-VAL-FMT-LOC-01..03: ISO 639-3 */
    EXPECT_OK(check_edit("search", "search", false, "\"locale\": \"eng\"", "\"locale\": \"fra\""));
    EXPECT_CODE(check_edit("search", "search", false, "\"locale\": \"eng\"", "\"locale\": \"en\""),
                "err.request.bad");
    EXPECT_CODE(check_edit("search", "search", false, "\"locale\": \"eng\"", "\"locale\": \"ENG\""),
                "err.request.bad");
    /* DCI-VAL-BND-TXN-01/02: transaction_id at most 99 characters */
    memset(big, 'T', 99);
    snprintf(big + 99, sizeof(big) - 99, "\"");
    {
        char to[300];
        snprintf(to, sizeof(to), "\"%s", big);
        EXPECT_OK(check_edit("search", "search", false, "\"txn-0001\"", to));
        snprintf(to, sizeof(to), "\"T%s", big);
        EXPECT_CODE(check_edit("search", "search", false, "\"txn-0001\"", to), "err.request.bad");
        /* DCI-VAL-BND-REF-01: a reference_id of reasonable length */
        EXPECT_OK(check_edit("search", "search", false, "\"ref-0001\"", to));
        /* DCI-VAL-BND-SUB-01/02: subscription_code at most 99 */
        snprintf(to, sizeof(to), "\"%s", big);
        EXPECT_OK(check_edit("unsubscribe", "unsubscribe", false, "\"sub-0001\"", to));
        snprintf(to, sizeof(to), "\"S%s", big);
        EXPECT_CODE(check_edit("unsubscribe", "unsubscribe", false, "\"sub-0001\"", to),
                    "rjct.subscription_code.invalid");
    }
    /* DCI-CORE-PAG-01..03 and DCI-VAL-PAG-01..03 */
    EXPECT_OK(check_edit("search", "search", false, "\"page_number\": 1", "\"page_number\": 3"));
    EXPECT_OK(check_edit("sync-search", "search", true, "\"page_size\": 10", "\"page_size\": 500"));
    EXPECT_CODE(check_edit("search", "search", false, "\"page_size\": 10", "\"page_size\": 0"),
                "rjct.pagination.invalid");
    EXPECT_CODE(check_edit("search", "search", false, "\"page_number\": 1", "\"page_number\": 0"),
                "rjct.pagination.invalid");
    EXPECT_CODE(check_edit("search", "search", false, "\"page_size\": 10", "\"page_size\": -5"),
                "rjct.pagination.invalid");
    EXPECT_CODE(check_edit("search", "search", false, "\"page_size\": 10", "\"page_size\": 2.5"),
                "rjct.pagination.invalid");
    /* search items */
    EXPECT_CODE(check_edit("search", "search", false, "\"reference_id\"", "\"ref\""),
                "rjct.reference_id.invalid");
    EXPECT_CODE(check_edit("search", "search", false,
                           "\"timestamp\": \"2026-12-03T10:00:00.000+01:00\"",
                           "\"timestamp\": \"yesterday\""),
                "rjct.timestamp.invalid");
    EXPECT_CODE(check_edit("search", "search", false, "\"idtype-value\"", "\"sql\""),
                "rjct.search_criteria.invalid");
    EXPECT_CODE(
        check_edit("search", "search", false, "\"sort_order\": \"asc\"", "\"sort_order\": \"up\""),
        "rjct.sort.invalid");
    EXPECT_CODE(check_edit("search", "search", false, "\"search_request\": [", "\"search_x\": ["),
                "err.request.bad");
    /* SR-CORE-RG-*-EXPRESSION-01 / -PREDICATE-01: the other query shapes */
    EXPECT_OK(check_edit("search", "search", false,
                         "\"query_type\": \"idtype-value\",\n     \"query\": {\n      \"type\": "
                         "\"UIN\",\n      \"value\": \"123456789\"\n     }",
                         "\"query_type\": \"expression\", \"query\": {\"type\": "
                         "\"ns:org:QueryType:NoSql\", \"value\": {\"expression\": "
                         "{\"poverty_score\": {\"$lt\": 5}}}}"));
    EXPECT_OK(check_edit("search", "search", false,
                         "\"query_type\": \"idtype-value\",\n     \"query\": {\n      \"type\": "
                         "\"UIN\",\n      \"value\": \"123456789\"\n     }",
                         "\"query_type\": \"predicate\", \"query\": [{\"seq_num\": 1, "
                         "\"expression1\": {\"attribute_name\": \"last_name\", \"operator\": "
                         "\"eq\", \"attribute_value\": \"Doe\"}}]"));
    /* subscribe, unsubscribe, txn status */
    EXPECT_CODE(check_edit("subscribe", "subscribe", false, "\"notify_record_type\"", "\"nrt\""),
                "rjct.notify_types.invalid");
    EXPECT_CODE(check_edit("subscribe", "subscribe", false, "\"filter\":", "\"filterx\":"),
                "rjct.filter.invalid");
    EXPECT_CODE(check_edit("unsubscribe", "unsubscribe", false, "[\n   \"sub-0001\"\n  ]", "7"),
                "rjct.subscription_code.invalid");
    EXPECT_CODE(check_edit("txn-status", "txn-status", false, "\"txn_type\": \"search\"",
                           "\"txn_type\": \"lookup\""),
                "err.request.bad");
    EXPECT_CODE(check_edit("sync-txn-status", "txn-status", true, "\"attribute_type\"", "\"at\""),
                "err.request.bad");
    /* an encrypted message is the other form of message */
    EXPECT_OK(
        check_text("search", true,
                   "{\"header\":{\"message_id\":\"1\",\"message_ts\":\"2026-01-01T00:00:00Z\","
                   "\"action\":\"search\",\"sender_id\":\"s\",\"total_count\":1,"
                   "\"is_msg_encrypted\":true},\"message\":{\"header\":{\"alg\":\"RSA-OAEP\","
                   "\"enc\":\"A256GCM\",\"kid\":\"k\"},\"ciphertext\":\"x\","
                   "\"encrypted_key\":\"y\",\"tag\":\"z\",\"iv\":\"w\"}}",
                   strlen("{\"header\":{\"message_id\":\"1\",\"message_ts\":\"2026-01-01T00:"
                          "00:00Z\",\"action\":\"search\",\"sender_id\":\"s\",\"total_"
                          "count\":1,\"is_msg_encrypted\":true},\"message\":{\"header\":{"
                          "\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\",\"kid\":\"k\"},"
                          "\"ciphertext\":\"x\",\"encrypted_key\":\"y\",\"tag\":\"z\","
                          "\"iv\":\"w\"}}")));
}

/* ---- drift -------------------------------------------------------------------------------- */

static void
test_drift(void)
{
    /* one object for search_request's array */
    EXPECT_OK(check_edit("search", "search", false, "\"search_request\": [",
                         "\"search_request\": {\"reference_id\": \"r\", \"timestamp\": "
                         "\"2026-01-01T00:00:00Z\", \"search_criteria\": {\"query_type\": "
                         "\"idtype-value\", \"query\": {\"type\": \"UIN\", \"value\": "
                         "\"1\"}}}, \"old_request\": ["));
    /* "" and null for unused optional members */
    EXPECT_OK(check_edit("search", "search", false, "\"is_msg_encrypted\": false",
                         "\"is_msg_encrypted\": false, \"meta\": \"\""));
    EXPECT_OK(check_edit("on-search", "on-search", false, "\"completed_count\": 1",
                         "\"completed_count\": \"\", \"status_reason_code\": null"));
    /* an answer's request action */
    EXPECT_OK(check_edit("on-search", "on-search", false, "\"action\": \"on-search\"",
                         "\"action\": \"search\""));
    /* enum case */
    EXPECT_OK(check_edit("search", "search", false, "\"sort_order\": \"asc\"",
                         "\"sort_order\": \"ASC\""));
    /* reg_records as an array or an object */
    EXPECT_OK(check_edit("on-search", "on-search", false, "\"reg_records\": [",
                         "\"reg_records\": {\"a\": 1}, \"old_records\": ["));
    /* template placeholders in a sender_uri */
    EXPECT_OK(check_edit("search", "search", false,
                         "\"https://spmis.example.org/dci/spmis/registry/on-search\"",
                         "\"https://spmis.example.org/{namespace}/on-search\""));
}

/* ---- the official examples ---------------------------------------------------------------- */

static void
test_official_examples(void)
{
    static const struct {
        const char *file, *action;
        bool sync;
        const char *code; /* NULL: must pass */
    } ex[] = {
        {"examples/opencrvs-dci-crvs-api/async-search-request.json", "search", false, NULL},
        {"examples/opencrvs-dci-crvs-api/sync-search-request.json", "search", true, NULL},
        {"examples/spdci-standards/crvs/processflow1req.json", "search", true, NULL},
        {"examples/spdci-standards/crvs/processflow2req.json", "search", true, NULL},
        {"examples/spdci-standards/crvs/processflow6req.json", "search", true, NULL},
        {"examples/spdci-standards/ibr/processflow4req.json", "search", true, NULL},
        {"examples/spdci-standards/social/processflow3areq.json", "search", true, NULL},
        {"examples/spdci-standards/crvs/processflow1res.json", "on-search", false, NULL},
        {"examples/spdci-standards/crvs/processflow6res.json", "on-search", false, NULL},
        {"examples/spdci-standards/ibr/processflow2res.json", "on-search", false, NULL},
        {"examples/spdci-standards/ibr/processflow4res.json", "on-search", false, NULL},
        {"examples/spdci-standards/social/processflow3ares.json", "on-search", false, NULL},
        {"examples/openimis-api-dci/fr_sync_search_response.extracted.json", "on-search", false,
         NULL},
        /* what breaks the spec's own rules, refused with the code the compliance suite expects */
        {"examples/spdci-standards/social/processflow1-1req.json", "search", true,
         "err.request.bad"}, /* locale "EN/GB" (DCI-VAL-FMT-LOC-*) */
        {"examples/spdci-standards/social/processflow1-3req.json", "search", true,
         "err.request.bad"}, /* locale "EN/GB" */
        {"examples/spdci-standards/fr/processflow3req.json", "subscribe", false,
         "err.request.bad"}, /* locale "en" */
        {"examples/spdci-standards/social/processflow1-1res.json", "on-search", false,
         "rjct.timestamp.invalid"}, /* required timestamp null */
        {"examples/spdci-standards/ibr/processflow1req.json", "search", true,
         "rjct.action.invalid"}, /* IBR's "register", no Social Registry endpoint */
        {"examples/spdci-standards/dr/processflow2req.json", "search", true,
         "rjct.action.invalid"}, /* DR's "get_disability_info" */
    };

    for (size_t i = 0; i < IGW_ARRAY_LEN(ex); i++) {
        size_t len;
        char *text = fixture(ex[i].file, &len);
        bool ok = check_text(ex[i].action, ex[i].sync, text, len);

        if (ex[i].code == NULL && !ok) {
            fprintf(stderr, "  %s: %s %s\n", ex[i].file, derr.code, derr.message);
        }
        IGWT_CHECK(ok == (ex[i].code == NULL));
        if (ex[i].code != NULL && derr.code != NULL && strcmp(derr.code, ex[i].code) != 0) {
            fprintf(stderr, "  %s: %s, want %s (%s)\n", ex[i].file, derr.code, ex[i].code,
                    derr.message);
            IGWT_CHECK(false);
        }
        igw_free(text);
    }
}

/* ---- formats ------------------------------------------------------------------------------ */

static void
test_formats(void)
{
    static const char *const good[] = {
        "2022-12-04T17:20:07-04:00", "2026-12-03T10:00:00Z",     "2026-12-03T10:00:00.123456+05:30",
        "2026-12-03t10:00z",         "2026-12-03T10:00:00+0100", "2026-12-03T23:59:60Z",
        "2026-12-03T10:00:00+01",
    };
    static const char *const bad[] = {
        "2026-12-03T10:00:00",
        "2026-12-03",
        "2026-13-03T10:00:00Z",
        "2026-12-32T10:00:00Z",
        "2026-12-03T24:00Z",
        "2026-12-03 10:00:00Z",
        "2026-12-03T10:00:00.Z",
        "2026-12-03T10:00:00+1:00",
        "",
        "20261203T100000Z",
        "2026-12-03T10:00:00Z ",
    };
    for (size_t i = 0; i < IGW_ARRAY_LEN(good); i++) {
        IGWT_CHECK(igw_dci_datetime_ok(good[i], strlen(good[i])));
    }
    for (size_t i = 0; i < IGW_ARRAY_LEN(bad); i++) {
        if (igw_dci_datetime_ok(bad[i], strlen(bad[i]))) {
            fprintf(stderr, "  accepted %s\n", bad[i]);
            IGWT_CHECK(false);
        }
    }
    IGWT_CHECK(!igw_dci_datetime_ok(NULL, 0));
    IGWT_CHECK(igw_dci_locale_ok("eng", 3));
    IGWT_CHECK(!igw_dci_locale_ok("en", 2));
    IGWT_CHECK(!igw_dci_locale_ok("Eng", 3));
    IGWT_CHECK(!igw_dci_locale_ok("engl", 4));
    IGWT_CHECK(!igw_dci_locale_ok(NULL, 3));
}

/* The error's message names the place and stays in its buffer however long the value. */
static void
test_error_text(void)
{
    char to[4200];

    memset(to, 'x', sizeof(to));
    to[0] = '"';
    to[sizeof(to) - 2] = '"';
    to[sizeof(to) - 1] = '\0';
    EXPECT_CODE(check_edit("search", "search", false, "\"2026-12-03T10:00:00.000+01:00\"", to),
                "rjct.message_ts.invalid");
    IGWT_STREQ(derr.where, "header.message_ts");
    IGWT_CHECK(strlen(derr.message) < sizeof(derr.message));
    EXPECT_CODE(check_edit("search", "search", false, "\"page_size\": 10", "\"page_size\": 0"),
                "rjct.pagination.invalid");
    IGWT_STREQ(derr.where, "message.search_request[0].search_criteria.pagination.page_size");
}

/* Running the generator again gives the committed dci_tables.c. */
static void
test_tables_current(void)
{
    const char *src = getenv("IGW_SRC");
    char cmd[8192], out[256];
    size_t a_len, b_len;
    char *a, *b;
    int st;

    if (src == NULL || system("python3 -c 'import yaml' 2>/dev/null") != 0) {
        IGWT_SKIP("python3 with PyYAML (python3-yaml) is needed to run the generator");
    }
    snprintf(out, sizeof(out), "/tmp/igw-dci-tables-%ld.c", (long)getpid());
    snprintf(cmd, sizeof(cmd), "python3 '%s/translators/dci/gen/gen-dci-tables.py' '%s' >/dev/null",
             src, out);
    st = system(cmd);
    IGWT_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    snprintf(cmd, sizeof(cmd), "%s/translators/dci/dci_tables.c", src);
    a = igwt_read_file(cmd, &a_len);
    b = igwt_read_file(out, &b_len);
    remove(out);
    IGWT_ASSERT(a != NULL && b != NULL);
    if (a_len != b_len || memcmp(a, b, a_len) != 0) {
        fprintf(stderr, "  translators/dci/dci_tables.c is not what gen-dci-tables.py makes: run "
                        "it again and commit the result\n");
        IGWT_CHECK(false);
    }
    igw_free(a);
    igw_free(b);
}

IGWT_MAIN({"endpoints", test_endpoints}, {"valid_each_endpoint", test_valid_each_endpoint},
          {"invalid_each_endpoint", test_invalid_each_endpoint},
          {"header_rules", test_header_rules}, {"message_rules", test_message_rules},
          {"drift", test_drift}, {"official_examples", test_official_examples},
          {"formats", test_formats}, {"error_text", test_error_text},
          {"tables_current", test_tables_current})
