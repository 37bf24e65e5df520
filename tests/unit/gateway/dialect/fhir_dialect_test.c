/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/dialect/fhir/fhir_dialect.c through the seam: the refusal shape (an
 * OperationOutcome built with igw_fhir_outcome_simple) is byte for byte what igw printed by
 * hand before, for every status class and awkward strings; an empty rest-hook notification is
 * accepted unparsed and answered with the same information OperationOutcome as before. */
#include <string.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/config.h"
#include "igw/config_load.h"
#include "igw/queue.h"
#include "core/ingest.h"
#include "igwt.h"

static struct igw_config *
load(const char *text)
{
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg = NULL;
    int rv = igw_config_parse(&cfg, "t.yaml", text, strlen(text), err, sizeof(err));

    if (rv != IGW_OK) {
        fprintf(stderr, "  config: %s\n", err);
    }
    IGWT_ASSERT(rv == IGW_OK);
    return cfg;
}

/* The OperationOutcome error body as igw printed it by hand before the dialect seam: the
 * oracle the tree-built body must equal. */
static int
old_outcome(struct igw_buf *b, const char *type, const char *code, const char *message)
{
    int rv = igw_buf_printf(b,
                            "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
                            "\"error\",\"code\":\"%s\",\"details\":{\"text\":",
                            type);
    if (rv == IGW_OK) {
        rv = igw_buf_json_str(b, code, strlen(code));
    }
    if (rv == IGW_OK) {
        rv = igw_buf_puts(b, "},\"diagnostics\":");
    }
    if (rv == IGW_OK) {
        rv = igw_buf_json_str(b, message, strlen(message));
    }
    return rv == IGW_OK ? igw_buf_puts(b, "}]}") : rv;
}

static void
check_refusal(const struct igw_channel *ch, int status, const char *type, const char *code,
              const char *message)
{
    struct igw_buf got;
    struct igw_buf want;
    const char *ct = NULL;

    igw_buf_init(&got, 4096);
    igw_buf_init(&want, 4096);
    IGWT_OK(igw_http_error_body(ch, &got, status, code, message, &ct));
    IGWT_OK(old_outcome(&want, type, code, message));
    IGWT_STREQ(ct, "application/fhir+json");
    IGWT_OK(igw_buf_putc(&got, '\0'));
    IGWT_OK(igw_buf_putc(&want, '\0'));
    IGWT_STREQ(got.ptr, want.ptr);
    igw_buf_fini(&got);
    igw_buf_fini(&want);
}

static void
test_refusal_bytes_unchanged(void)
{
    struct igw_config *cfg = load("channels:\n  f:\n    listen: POST /f\n    dialect: fhir\n");
    const struct igw_channel *ch = &cfg->channels[0];

    check_refusal(ch, 400, "invalid", "invalid_json", "line 1, column 2: unexpected 'x'");
    check_refusal(ch, 401, "login", "unauthorized", "missing or unknown credentials");
    check_refusal(ch, 403, "forbidden", "forbidden", "not allowed");
    check_refusal(ch, 404, "not-found", "unknown_resource_type", "unknown \"Foo\"");
    check_refusal(ch, 405, "not-supported", "method_not_allowed", "use POST");
    check_refusal(ch, 411, "too-long", "length_required", "Content-Length");
    check_refusal(ch, 413, "too-long", "payload_too_large", "body > 1 MiB");
    check_refusal(ch, 415, "not-supported", "unsupported_media_type", "text/plain");
    check_refusal(ch, 422, "processing", "translation_failed", "route a.b: map x:3:7: \\ / \t");
    check_refusal(ch, 500, "exception", "internal", "the message could not be stored");
    check_refusal(ch, 501, "not-supported", "not_implemented", "");
    check_refusal(ch, 503, "transient", "queue_full", "the queue is full; retry later");
    check_refusal(ch, 409, "invalid", "conflict", "ctl \x01 and utf-8 \xc3\xa9 \xe2\x82\xac");
    igw_config_free(cfg);
}

/* A body over the buffer's max fails as before (the intake then answers without a body). */
static void
test_refusal_too_big(void)
{
    struct igw_config *cfg = load("channels:\n  f:\n    listen: POST /f\n    dialect: fhir\n");
    struct igw_buf b;
    const char *ct = NULL;

    igw_buf_init(&b, 64);
    IGWT_ERR(igw_http_error_body(&cfg->channels[0], &b, 400, "invalid_json",
                                 "a message long enough not to fit in sixty-four bytes", &ct),
             IGW_ETOOBIG);
    igw_buf_fini(&b);
    igw_config_free(cfg);
}

static void
notify(const struct igw_channel *ch, const char *body, bool duplicate, const char *want_diag)
{
    char err[IGW_ERRBUF_SIZE] = "";
    char hex[IGW_QUEUE_ID_STRLEN];
    char want[256];
    struct igw_ingest in;
    struct igw_accept_resp resp;

    memset(&in, 0, sizeof(in));
    in.ch = ch;
    in.method = "POST";
    in.target = "/hook";
    in.body = body;
    in.body_len = strlen(body);
    IGWT_OK(igw_ingest_prepare(&in, err, sizeof(err)));
    IGWT_CHECK(in.errbody.len == 0);
    IGWT_OK(igw_accept_response(&in, 0x1234abcdull, duplicate, &resp));
    igw_queue_id_format(0x1234abcdull, hex);
    snprintf(want, sizeof(want),
             "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
             "\"information\",\"code\":\"informational\",\"diagnostics\":"
             "\"accepted as message %s%s\"}]}",
             hex, want_diag);
    IGWT_CHECK(resp.status == 200);
    IGWT_STREQ(resp.content_type, "application/fhir+json");
    IGWT_CHECK(resp.location[0] == '\0');
    IGWT_OK(igw_buf_putc(&resp.body, '\0'));
    IGWT_STREQ(resp.body.ptr, want);
    igw_buf_fini(&resp.body);
    igw_ingest_fini(&in);
}

static void
test_notification_answers_unchanged(void)
{
    struct igw_config *cfg = load("channels:\n  n:\n    listen: POST /hook\n    dialect: fhir\n"
                                  "    fhir: { interaction: notification }\n");
    const struct igw_channel *ch = &cfg->channels[0];

    notify(ch, "", false, ""); /* empty body: accepted unparsed, temporary arena */
    notify(ch, " \r\n\t", true, " (duplicate)"); /* blank counts as empty */
    notify(ch, "{\"resourceType\":\"Basic\",\"code\":{\"text\":\"x\"}}", false,
           ""); /* parsed: the request's arena */
    igw_config_free(cfg);
}

/* Only a notification channel takes an empty body; elsewhere it is a parse error. */
static void
test_empty_body_elsewhere_refused(void)
{
    struct igw_config *cfg = load("channels:\n  c:\n    listen: POST /fhir/{type}\n"
                                  "    dialect: fhir\n");
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_ingest in;

    memset(&in, 0, sizeof(in));
    in.ch = &cfg->channels[0];
    in.method = "POST";
    in.target = "/fhir/Patient";
    in.body = "";
    IGWT_ERR(igw_ingest_prepare(&in, err, sizeof(err)), IGW_EPARSE);
    igw_ingest_fini(&in);
    igw_config_free(cfg);
}

IGWT_MAIN({"refusal_bytes_unchanged", test_refusal_bytes_unchanged},
          {"refusal_too_big", test_refusal_too_big},
          {"notification_answers_unchanged", test_notification_answers_unchanged},
          {"empty_body_elsewhere_refused", test_empty_body_elsewhere_refused})
