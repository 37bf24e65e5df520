/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/core/ingest.c's use of the dialect seam (core/dialect.h) with a test
 * dialect: each op is called in its place and order, a dialect refusal stops the pipeline with
 * its own body, a derived idempotency key is used only when the request has none, a channel
 * without a dialect (or a dialect without an op) behaves as plain, and the refusal shape of a
 * request that matched no channel is plain JSON. */
#include <string.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/config.h"
#include "igw/config_load.h"
#include "igw/queue.h"
#include "core/dialect.h"
#include "core/ingest.h"
#include "igwt.h"

static char calls[64]; /* one letter per op call, in order */
static int key_rv;     /* what message_key returns */
static int input_rv;   /* what check_input returns */

static void
called(char c)
{
    size_t n = strlen(calls);
    if (n + 1 < sizeof(calls)) {
        calls[n] = c;
        calls[n + 1] = '\0';
    }
}

static bool
t_unparsed(const struct igw_channel *ch, const char *body, size_t len)
{
    IGW_UNUSED(ch);
    called('u');
    return len == 4 && memcmp(body, "skip", 4) == 0;
}

static int
t_key(const struct igw_ingest *in, char *key, size_t keylen)
{
    called('k');
    IGWT_CHECK(keylen == IGW_DIALECT_KEY_MAX);
    snprintf(key, keylen, "key-%s", in->root != NULL ? "parsed" : "raw");
    return key_rv;
}

static int
t_input(struct igw_ingest *in, char *err, size_t errlen)
{
    called('i');
    if (input_rv == IGW_EPARSE) {
        in->errstatus = 400;
        in->errtype = "application/x-test";
        IGWT_OK(igw_buf_puts(&in->errbody, "no"));
        snprintf(err, errlen, "refused by the test dialect");
    }
    return input_rv;
}

static int
t_output(struct igw_ingest *in, char *err, size_t errlen)
{
    IGW_UNUSED(in);
    IGW_UNUSED(err);
    IGW_UNUSED(errlen);
    called('o');
    return IGW_OK;
}

static int
t_answer(const struct igw_ingest *in, uint64_t id, bool duplicate, struct igw_accept_resp *out)
{
    called('a');
    IGWT_CHECK(in->ch != NULL && out->location[0] == '\0' && out->body.len == 0);
    out->status = duplicate ? 208 : 200;
    out->content_type = "application/x-test";
    snprintf(out->location, sizeof(out->location), "/t/%llu", (unsigned long long)id);
    return igw_buf_puts(&out->body, "ACK");
}

static int
t_refusal(const struct igw_channel *ch, struct igw_buf *b, int status, const char *code,
          const char *message, const char **content_type)
{
    IGW_UNUSED(ch);
    called('r');
    *content_type = "application/x-test";
    return igw_buf_printf(b, "NACK %d %s %s", status, code, message);
}

static const struct igw_dialect_ops test_dialect = {
    .name = "test",
    .description = "records its calls",
    .accept_unparsed = t_unparsed,
    .message_key = t_key,
    .check_input = t_input,
    .check_output = t_output,
    .answer = t_answer,
    .refusal = t_refusal,
};

static const struct igw_dialect_ops empty_dialect = {.name = "empty", .description = "no ops"};

static struct igw_config *
load(const struct igw_dialect_ops *d)
{
    static const char text[] = "channels:\n  t:\n    listen: POST /t\n";
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg = NULL;

    IGWT_OK(igw_config_parse(&cfg, "t.yaml", text, strlen(text), err, sizeof(err)));
    cfg->channels[0].dialect_ops = d; /* the plain dialect's state is NULL: nothing to free */
    calls[0] = '\0';
    key_rv = IGW_OK;
    input_rv = IGW_OK;
    return cfg;
}

static void
ingest_init(struct igw_ingest *in, const struct igw_channel *ch, const char *body)
{
    memset(in, 0, sizeof(*in));
    in->ch = ch;
    in->method = "POST";
    in->target = "/t";
    in->body = body;
    in->body_len = strlen(body);
}

static void
test_ops_in_order(void)
{
    struct igw_config *cfg = load(&test_dialect);
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_ingest in;
    struct igw_accept_resp resp;

    ingest_init(&in, &cfg->channels[0], "{\"a\":1}");
    IGWT_OK(igw_ingest_prepare(&in, err, sizeof(err)));
    IGWT_STREQ(calls, "ukio");
    IGWT_CHECK(in.root != NULL);
    IGWT_STREQ(in.idem_key, "key-parsed");
    IGWT_OK(igw_accept_response(&in, 7, true, &resp));
    IGWT_STREQ(calls, "ukioa");
    IGWT_CHECK(resp.status == 208);
    IGWT_STREQ(resp.content_type, "application/x-test");
    IGWT_STREQ(resp.location, "/t/7");
    IGWT_CHECK(resp.body.len == 3 && memcmp(resp.body.ptr, "ACK", 3) == 0);
    igw_buf_fini(&resp.body);
    igw_ingest_fini(&in);
    igw_config_free(cfg);
}

static void
test_accept_unparsed(void)
{
    struct igw_config *cfg = load(&test_dialect);
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_ingest in;

    ingest_init(&in, &cfg->channels[0], "skip"); /* not JSON: parsing it would fail */
    IGWT_OK(igw_ingest_prepare(&in, err, sizeof(err)));
    IGWT_CHECK(in.root == NULL);
    IGWT_STREQ(in.idem_key, "key-raw");
    igw_ingest_fini(&in);
    igw_config_free(cfg);
}

/* A request's own Idempotency-Key wins; IGW_ENOENT means no key; other codes refuse. */
static void
test_message_key(void)
{
    struct igw_config *cfg = load(&test_dialect);
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_ingest in;

    ingest_init(&in, &cfg->channels[0], "{}");
    in.idem_key = "from-header";
    IGWT_OK(igw_ingest_prepare(&in, err, sizeof(err)));
    IGWT_STREQ(in.idem_key, "from-header");
    IGWT_STREQ(calls, "uio");
    igw_ingest_fini(&in);

    key_rv = IGW_ENOENT;
    ingest_init(&in, &cfg->channels[0], "{}");
    IGWT_OK(igw_ingest_prepare(&in, err, sizeof(err)));
    IGWT_CHECK(in.idem_key == NULL);
    igw_ingest_fini(&in);

    key_rv = IGW_EPARSE;
    ingest_init(&in, &cfg->channels[0], "{}");
    IGWT_ERR(igw_ingest_prepare(&in, err, sizeof(err)), IGW_EPARSE);
    igw_ingest_fini(&in);
    igw_config_free(cfg);
}

static void
test_refused_by_check_input(void)
{
    struct igw_config *cfg = load(&test_dialect);
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_ingest in;

    input_rv = IGW_EPARSE;
    ingest_init(&in, &cfg->channels[0], "{}");
    IGWT_ERR(igw_ingest_prepare(&in, err, sizeof(err)), IGW_EPARSE);
    IGWT_STREQ(calls, "uki"); /* check_output and the rest do not run */
    IGWT_CHECK(in.errstatus == 400 && in.errbody.len == 2);
    IGWT_STREQ(in.errtype, "application/x-test");
    IGWT_STREQ(err, "refused by the test dialect");
    igw_ingest_fini(&in);
    igw_config_free(cfg);
}

static void
test_refusal_shape(void)
{
    struct igw_config *cfg = load(&test_dialect);
    struct igw_buf b;
    const char *ct = NULL;

    igw_buf_init(&b, 256);
    IGWT_OK(igw_http_error_body(&cfg->channels[0], &b, 413, "payload_too_large", "big", &ct));
    IGWT_STREQ(ct, "application/x-test");
    IGWT_OK(igw_buf_putc(&b, '\0'));
    IGWT_STREQ(b.ptr, "NACK 413 payload_too_large big");
    igw_buf_reset(&b);
    IGWT_OK(igw_http_error_body(NULL, &b, 404, "not_found", "no channel", &ct)); /* no channel */
    IGWT_STREQ(ct, "application/json");
    IGWT_OK(igw_buf_putc(&b, '\0'));
    IGWT_STREQ(b.ptr,
               "{\"error\":{\"status\":404,\"code\":\"not_found\",\"message\":\"no channel\"}}");
    igw_buf_fini(&b);
    IGWT_STREQ(calls, "r");
    igw_config_free(cfg);
}

/* No dialect, or a dialect without ops: the plain JSON pipeline and answers. */
static void
check_plain(const struct igw_dialect_ops *d)
{
    struct igw_config *cfg = load(d);
    char err[IGW_ERRBUF_SIZE] = "";
    char want[128];
    char hex[IGW_QUEUE_ID_STRLEN];
    struct igw_ingest in;
    struct igw_accept_resp resp;
    struct igw_buf b;
    const char *ct = NULL;

    ingest_init(&in, &cfg->channels[0], "{\"a\":1}");
    IGWT_OK(igw_ingest_prepare(&in, err, sizeof(err)));
    IGWT_CHECK(in.idem_key == NULL && in.errbody.len == 0);
    IGWT_OK(igw_accept_response(&in, 42, false, &resp));
    igw_queue_id_format(42, hex);
    snprintf(want, sizeof(want), "{\"id\":\"%s\",\"status\":\"accepted\"}", hex);
    IGWT_CHECK(resp.status == 202 && resp.location[0] == '\0');
    IGWT_STREQ(resp.content_type, "application/json");
    IGWT_OK(igw_buf_putc(&resp.body, '\0'));
    IGWT_STREQ(resp.body.ptr, want);
    igw_buf_fini(&resp.body);
    igw_ingest_fini(&in);
    igw_buf_init(&b, 256);
    IGWT_OK(igw_http_error_body(&cfg->channels[0], &b, 401, "unauthorized", "who", &ct));
    IGWT_STREQ(ct, "application/json");
    IGWT_OK(igw_buf_putc(&b, '\0'));
    IGWT_STREQ(b.ptr, "{\"error\":{\"status\":401,\"code\":\"unauthorized\",\"message\":\"who\"}}");
    igw_buf_fini(&b);
    IGWT_STREQ(calls, "");
    igw_config_free(cfg);
}

static void
test_plain_without_ops(void)
{
    check_plain(NULL);
    check_plain(&empty_dialect);
}

/* The plain dialect the loader binds by default answers the same way. */
static void
test_plain_dialect(void)
{
    static const char text[] = "channels:\n  t:\n    listen: POST /t\n";
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg = NULL;
    const struct igw_dialect_ops *plain;

    IGWT_OK(igw_config_parse(&cfg, "t.yaml", text, strlen(text), err, sizeof(err)));
    plain = cfg->channels[0].dialect_ops; /* a static table: outlives the config */
    igw_config_free(cfg);
    IGWT_ASSERT(plain != NULL);
    IGWT_STREQ(plain->name, "plain");
    check_plain(plain);
}

IGWT_MAIN({"ops_in_order", test_ops_in_order}, {"accept_unparsed", test_accept_unparsed},
          {"message_key", test_message_key},
          {"refused_by_check_input", test_refused_by_check_input},
          {"refusal_shape", test_refusal_shape}, {"plain_without_ops", test_plain_without_ops},
          {"plain_dialect", test_plain_dialect})
