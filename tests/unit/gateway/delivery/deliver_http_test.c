/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery engine, HTTP destinations (out_http) against tests/sim/sink.py: request shape
 * (headers, method, auth), classification of answers (2xx, 4xx, 3xx, 5xx, timeouts),
 * retries with backoff and Retry-After.
 * Environment and sink helpers: dlvtest.h.
 */
#include "dlvtest.h"
#include "delivery/output.h"

static char bearer_token[] = "s3cret-token";

static void
test_ok(void)
{
    struct igw_queue_delivery_info info;
    struct igw_deliverer_stats st;
    struct igw_route *r;
    char id[IGW_QUEUE_ID_STRLEN];
    cJSON *recs;
    uint64_t ids[3];

    env_init();
    r = route_add("ok");
    r->auth.type = IGW_AUTH_BEARER;
    E.secret.value = bearer_token;
    E.secret.len = strlen(bearer_token);
    r->auth.secrets = &E.secret;
    r->auth.nsecrets = 1;
    env_start();
    for (int i = 0; i < 3; i++) {
        char body[64];
        snprintf(body, sizeof(body), "{\"n\":%d}", i);
        ids[i] = put_json("ev.ok", body);
    }
    for (int i = 0; i < 3; i++) {
        IGWT_CHECK(wait_state(ids[i], IGW_DS_DELIVERED, &info));
        IGWT_CHECK(info.attempts == 1);
    }
    recs = sink_received("/in/ok");
    IGWT_CHECK(cJSON_GetArraySize(recs) == 3);
    for (int i = 0; i < cJSON_GetArraySize(recs); i++) {
        const cJSON *rec = cJSON_GetArrayItem(recs, i);
        IGWT_STREQ(rec_str(rec, "method"), "POST");
        IGWT_STREQ(rec_header(rec, "content-type"), "application/json");
        IGWT_STREQ(rec_header(rec, "authorization"), "Bearer s3cret-token");
        IGWT_STREQ(rec_header(rec, "x-igw-attempt"), "1");
        IGWT_CHECK(rec_header(rec, "expect") == NULL);
        IGWT_CHECK(rec_header(rec, "idempotency-key") != NULL);
        IGWT_STREQ(rec_header(rec, "x-igw-message-id"), rec_header(rec, "idempotency-key"));
    }
    /* the three run concurrently: find each message's request by its key */
    for (int i = 0; i < 3; i++) {
        char want[16];
        int found = 0;
        igw_queue_id_format(ids[i], id);
        snprintf(want, sizeof(want), "{\"n\":%d}", i);
        for (int k = 0; k < cJSON_GetArraySize(recs); k++) {
            const cJSON *rec = cJSON_GetArrayItem(recs, k);
            const char *key = rec_header(rec, "idempotency-key");
            if (key != NULL && strcmp(key, id) == 0) {
                IGWT_STREQ(rec_str(rec, "body"), want);
                found++;
            }
        }
        IGWT_CHECK(found == 1);
    }
    cJSON_Delete(recs);
    igw_deliverer_stats(E.d, &st);
    IGWT_CHECK(st.delivered == 3 && st.attempts == 3 && st.dead == 0);
    env_fini();
}

static void
test_retry_then_ok(void)
{
    struct igw_queue_delivery_info info;
    uint64_t id;
    cJSON *recs;

    env_init();
    route_add("rt");
    env_start();
    sink_control("{\"fail\":2,\"status\":503,\"path\":\"/in/rt\"}");
    id = put_json("ev.rt", "{\"x\":1}");
    IGWT_CHECK(wait_state(id, IGW_DS_DELIVERED, &info));
    IGWT_CHECK(info.attempts == 3);
    recs = sink_received("/in/rt");
    IGWT_ASSERT(cJSON_GetArraySize(recs) == 3);
    IGWT_CHECK(rec_status(cJSON_GetArrayItem(recs, 0)) == 503);
    IGWT_STREQ(rec_header(cJSON_GetArrayItem(recs, 1), "x-igw-attempt"), "2");
    IGWT_STREQ(rec_header(cJSON_GetArrayItem(recs, 2), "x-igw-attempt"), "3");
    IGWT_CHECK(rec_status(cJSON_GetArrayItem(recs, 2)) == 200);
    cJSON_Delete(recs);
    env_fini();
}

static void
test_4xx_dead(void)
{
    struct igw_queue_delivery_info info;
    struct igw_deliverer_stats st;
    uint64_t id;

    env_init();
    route_add("bad");
    env_start();
    sink_control("{\"status_4xx\":422,\"path\":\"/in/bad\"}");
    id = put_json("ev.bad", "{\"x\":1}");
    IGWT_CHECK(wait_state(id, IGW_DS_DEAD, &info));
    IGWT_CHECK(info.attempts == 1);
    IGWT_CHECK(info.last_status == 422);
    IGWT_STREQ(info.last_error, "HTTP 422");
    msleep(100);
    IGWT_CHECK(sink_count("/in/bad") == 1);
    igw_deliverer_stats(E.d, &st);
    IGWT_CHECK(st.dead == 1 && st.retried == 0);
    env_fini();
}

static void
test_exhausted_dead(void)
{
    struct igw_queue_delivery_info info;
    uint64_t id;

    env_init();
    route_add("ex")->retry.max_attempts = 3;
    env_start();
    sink_control("{\"fail\":100,\"status\":503,\"path\":\"/in/ex\"}");
    id = put_json("ev.ex", "{\"x\":1}");
    IGWT_CHECK(wait_state(id, IGW_DS_DEAD, &info));
    IGWT_CHECK(info.attempts == 3);
    IGWT_CHECK(info.last_status == 503);
    IGWT_STREQ(info.last_error, "retries exhausted: HTTP 503");
    msleep(100);
    IGWT_CHECK(sink_count("/in/ex") == 3);
    env_fini();
}

static void
test_retry_after(void)
{
    struct igw_queue_delivery_info info;
    uint64_t id;
    cJSON *recs;
    double gap;

    env_init();
    route_add("ra"); /* backoff 10..40 ms: the 1 s wait can only come from Retry-After */
    env_start();
    sink_control("{\"fail\":1,\"status\":429,\"retry_after\":\"1\",\"path\":\"/in/ra\"}");
    id = put_json("ev.ra", "{\"x\":1}");
    IGWT_CHECK(wait_state(id, IGW_DS_DELIVERED, &info));
    recs = sink_received("/in/ra");
    IGWT_ASSERT(cJSON_GetArraySize(recs) == 2);
    gap = rec_time(cJSON_GetArrayItem(recs, 1)) - rec_time(cJSON_GetArrayItem(recs, 0));
    IGWT_CHECK(gap >= 0.95 && gap < 3.0);
    cJSON_Delete(recs);
    env_fini();
}

static char method_put[] = "PUT";
static char hdr_name[] = "X-Tenant";
static char hdr_value[] = "openimis";
static char hdr_ct[] = "Content-Type";
static char hdr_ct_value[] = "application/fhir+json";
static char basic_cred[] = "igw:pa:ss";

/* PUT, route headers (one overriding Content-Type), basic auth; a 301 is not followed. */
static void
test_request_options(void)
{
    static struct igw_header hdrs[2];
    struct igw_queue_delivery_info info;
    struct igw_route *r;
    uint64_t id;
    cJSON *recs;
    const cJSON *rec;

    env_init();
    r = route_add("opt");
    r->method = method_put;
    hdrs[0].name = hdr_name;
    hdrs[0].value = hdr_value;
    hdrs[1].name = hdr_ct;
    hdrs[1].value = hdr_ct_value;
    r->headers = hdrs;
    r->nheaders = 2;
    r->auth.type = IGW_AUTH_BASIC;
    E.secret.value = basic_cred;
    E.secret.len = strlen(basic_cred);
    r->auth.secrets = &E.secret;
    r->auth.nsecrets = 1;
    env_start();
    sink_control("{\"rules\":[{\"path\":\"/in/opt\",\"count\":1,\"status\":301}]}");
    id = put_json("ev.opt", "{\"x\":1}");
    IGWT_CHECK(wait_state(id, IGW_DS_DEAD, &info));
    IGWT_STREQ(info.last_error, "HTTP 301 (redirects are not followed)");
    recs = sink_received("/in/opt");
    IGWT_ASSERT(cJSON_GetArraySize(recs) == 1);
    rec = cJSON_GetArrayItem(recs, 0);
    IGWT_STREQ(rec_str(rec, "method"), "PUT");
    IGWT_STREQ(rec_header(rec, "x-tenant"), "openimis");
    IGWT_STREQ(rec_header(rec, "content-type"), "application/fhir+json");
    IGWT_STREQ(rec_header(rec, "authorization"), "Basic aWd3OnBhOnNz"); /* igw:pa:ss */
    cJSON_Delete(recs);
    env_fini();
}

/* A Retry-After that would go past max_age dead-letters now instead of waiting. */
static void
test_retry_after_max_age(void)
{
    struct igw_queue_delivery_info info;
    uint64_t id;

    env_init();
    route_add("age")->retry.max_age_ms = 5000;
    env_start();
    sink_control("{\"fail\":1,\"status\":503,\"retry_after\":\"60\",\"path\":\"/in/age\"}");
    id = put_json("ev.age", "{\"x\":1}");
    IGWT_CHECK(wait_state(id, IGW_DS_DEAD, &info));
    IGWT_CHECK(info.attempts == 1);
    IGWT_STREQ(info.last_error, "retries exhausted: HTTP 503");
    env_fini();
}

static void
test_timeout_retry(void)
{
    struct igw_queue_delivery_info info;
    uint64_t id;
    uint64_t t0;

    env_init();
    route_add("slow")->timeout_ms = 300;
    env_start();
    sink_control("{\"hang_ms\":1500,\"hang\":1,\"path\":\"/in/slow\"}");
    t0 = igw_mono_ms();
    id = put_json("ev.slow", "{\"x\":1}");
    IGWT_CHECK(wait_state(id, IGW_DS_DELIVERED, &info));
    IGWT_CHECK(info.attempts == 2);
    IGWT_CHECK(igw_mono_ms() - t0 < 1400); /* the second attempt did not wait for the hang */
    env_fini();
}

/* A body hook that skips payloads with "skip" in them (the DCI notify of a record no
 * subscription matches), rewrites the others, and sees the claimed message. */
static int hook_saw_claim;

static int
skip_body(const struct igw_route *r, const struct igw_queue_claim *c, const char *payload,
          size_t len, struct igw_buf *out, char *err, size_t errlen)
{
    IGW_UNUSED(r);
    if (c != NULL && c->id != 0 && c->payload.len == len) {
        hook_saw_claim++;
    }
    bool skip = false;
    for (size_t i = 0; i + 4 <= len && !skip; i++) {
        skip = memcmp(payload + i, "skip", 4) == 0;
    }
    if (skip) {
        snprintf(err, errlen, "no subscription");
        return IGW_BODY_SKIP;
    }
    return igw_buf_puts(out, "{\"rewritten\":true}");
}

static const struct igw_route_body skip_hook = {"test.skip", skip_body};

static void
test_body_hook_skip(void)
{
    struct igw_queue_delivery_info info;
    struct igw_deliverer_stats st;
    struct igw_route *r;
    uint64_t skipped, sent;
    cJSON *recs;

    env_init();
    r = route_add("sk");
    r->body_hook = &skip_hook;
    r->breaker_failures = 1; /* a skip must not count against the destination */
    r->breaker_open_ms = 60000;
    env_start();
    skipped = put_json("ev.sk", "{\"skip\":1}");
    IGWT_CHECK(wait_state(skipped, IGW_DS_DELIVERED, &info));
    IGWT_CHECK(info.attempts == 1);
    IGWT_STREQ(info.last_error, "skipped: no subscription");
    sent = put_json("ev.sk", "{\"send\":1}");
    IGWT_CHECK(wait_state(sent, IGW_DS_DELIVERED, &info));
    IGWT_CHECK(info.last_error[0] == '\0');
    recs = sink_received("/in/sk");
    IGWT_ASSERT(cJSON_GetArraySize(recs) == 1); /* the skipped one never went out */
    IGWT_STREQ(rec_str(cJSON_GetArrayItem(recs, 0), "body"), "{\"rewritten\":true}");
    cJSON_Delete(recs);
    igw_deliverer_stats(E.d, &st);
    IGWT_CHECK(st.delivered == 2 && st.skipped == 1 && st.dead == 0 && st.retried == 0);
    IGWT_CHECK(st.open_circuits == 0);
    IGWT_CHECK(hook_saw_claim >= 2);
    env_fini();
}

IGWT_MAIN({"ok", test_ok}, {"retry_then_ok", test_retry_then_ok}, {"4xx_dead", test_4xx_dead},
          {"exhausted_dead", test_exhausted_dead}, {"retry_after", test_retry_after},
          {"retry_after_max_age", test_retry_after_max_age},
          {"request_options", test_request_options}, {"timeout_retry", test_timeout_retry},
          {"body_hook_skip", test_body_hook_skip})
