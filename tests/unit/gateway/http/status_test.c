/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/http/status.c: the igw error -> HTTP answer table and the reason phrases. */
#include <string.h>

#include "igw/common.h"
#include "http/status.h"
#include "igwt.h"

static struct igw_http_verdict
of(enum igw_http_service svc, int err)
{
    struct igw_http_verdict v;
    igw_http_verdict_of(svc, err, NULL, NULL, &v);
    return v;
}

static void
test_intake_queue(void)
{
    struct igw_http_verdict v = of(IGW_HTTP_INTAKE, IGW_ENOSPC);

    IGWT_CHECK(v.status == 503 && !v.close);
    IGWT_STREQ(v.code, "queue_full");
    IGWT_STREQ(v.msg, "the queue is full; retry later");
    IGWT_STREQ(v.retry_after, "30");
    v = of(IGW_HTTP_INTAKE, IGW_ECLOSED);
    IGWT_CHECK(v.status == 503 && v.close);
    IGWT_STREQ(v.code, "shutting_down");
    IGWT_STREQ(v.msg, "igw is shutting down; retry later");
    IGWT_STREQ(v.retry_after, "1");
    v = of(IGW_HTTP_INTAKE, IGW_ENOMEM);
    IGWT_CHECK(v.status == 503 && !v.close);
    IGWT_STREQ(v.code, "overloaded");
    IGWT_STREQ(v.retry_after, "1");
    v = of(IGW_HTTP_INTAKE, IGW_EAGAIN);
    IGWT_CHECK(v.status == 503);
    IGWT_STREQ(v.code, "overloaded");
    IGWT_STREQ(v.msg, "too many requests in flight; retry later");
    v = of(IGW_HTTP_INTAKE, IGW_ETOOBIG);
    IGWT_CHECK(v.status == 413 && v.retry_after == NULL);
    IGWT_STREQ(v.code, "payload_too_large");
}

static void
test_intake_checks(void)
{
    struct igw_http_verdict v = of(IGW_HTTP_INTAKE, IGW_EAUTH);

    IGWT_CHECK(v.status == 401);
    IGWT_STREQ(v.code, "unauthorized");
    v = of(IGW_HTTP_INTAKE, IGW_EPERM);
    IGWT_CHECK(v.status == 403);
    IGWT_STREQ(v.code, "forbidden");
    /* parse and translation failures take the code and detail from the caller */
    igw_http_verdict_of(IGW_HTTP_INTAKE, IGW_EPARSE, "invalid_xml", "line 1, column 2: x", &v);
    IGWT_CHECK(v.status == 400);
    IGWT_STREQ(v.code, "invalid_xml");
    IGWT_STREQ(v.msg, "line 1, column 2: x");
    igw_http_verdict_of(IGW_HTTP_INTAKE, IGW_EPARSE, NULL, NULL, &v);
    IGWT_STREQ(v.code, "invalid_body");
    IGWT_STREQ(v.msg, igw_strerror(IGW_EPARSE));
    igw_http_verdict_of(IGW_HTTP_INTAKE, IGW_ETRANSLATE, "ignored", "map failed", &v);
    IGWT_CHECK(v.status == 422);
    IGWT_STREQ(v.code, "translation_failed");
    IGWT_STREQ(v.msg, "map failed");
}

static void
test_fallback(void)
{
    struct igw_http_verdict v = of(IGW_HTTP_INTAKE, IGW_EIO);

    IGWT_CHECK(v.status == 500 && !v.close && v.retry_after == NULL);
    IGWT_STREQ(v.code, "internal");
    IGWT_STREQ(v.msg, "the message could not be stored");
    v = of(IGW_HTTP_INTAKE, IGW_OK);
    IGWT_CHECK(v.status == 500);
    v = of(IGW_HTTP_INTAKE, 12345);
    IGWT_CHECK(v.status == 500);
    v = of(IGW_HTTP_ADMIN, IGW_EIO);
    IGWT_CHECK(v.status == 500);
    IGWT_STREQ(v.code, "internal");
    IGWT_STREQ(v.msg, igw_strerror(IGW_EIO));
    /* the intake's queue-specific rows are not the admin API's and the other way round */
    v = of(IGW_HTTP_ADMIN, IGW_ETOOBIG);
    IGWT_CHECK(v.status == 500);
    v = of(IGW_HTTP_INTAKE, IGW_ENOENT);
    IGWT_CHECK(v.status == 500);
}

static void
test_admin(void)
{
    struct igw_http_verdict v = of(IGW_HTTP_ADMIN, IGW_ENOENT);

    IGWT_CHECK(v.status == 404);
    IGWT_STREQ(v.code, "not_found");
    v = of(IGW_HTTP_ADMIN, IGW_EAGAIN);
    IGWT_CHECK(v.status == 409);
    IGWT_STREQ(v.code, "in_flight");
    v = of(IGW_HTTP_ADMIN, IGW_ENOSPC);
    IGWT_CHECK(v.status == 503 && v.retry_after == NULL && !v.close);
    IGWT_STREQ(v.msg, "the queue is full");
    v = of(IGW_HTTP_ADMIN, IGW_ECLOSED);
    IGWT_CHECK(v.status == 503 && !v.close);
    IGWT_STREQ(v.code, "shutting_down");
    v = of(IGW_HTTP_ADMIN, IGW_EAUTH);
    IGWT_CHECK(v.status == 401);
    IGWT_STREQ(v.msg, "missing or invalid admin credentials");
    igw_http_verdict_of(IGW_HTTP_ADMIN, IGW_EPARSE, "invalid_json", "line 1", &v);
    IGWT_CHECK(v.status == 422);
    IGWT_STREQ(v.code, "invalid_json");
}

/* Same status and code for both services wherever both have a row. */
static void
test_consistent(void)
{
    static const int errs[] = {IGW_ENOSPC, IGW_ECLOSED, IGW_ENOMEM, IGW_EAUTH, IGW_ETRANSLATE};

    for (size_t i = 0; i < IGW_ARRAY_LEN(errs); i++) {
        struct igw_http_verdict in = of(IGW_HTTP_INTAKE, errs[i]);
        struct igw_http_verdict ad = of(IGW_HTTP_ADMIN, errs[i]);
        IGWT_CHECK(in.status == ad.status);
        IGWT_STREQ(in.code, ad.code);
        IGWT_CHECK(in.allow == NULL && in.challenge == NULL);
    }
}

static void
test_reason(void)
{
    IGWT_STREQ(igw_http_reason(202), "Accepted");
    IGWT_STREQ(igw_http_reason(413), "Content Too Large");
    IGWT_STREQ(igw_http_reason(503), "Service Unavailable");
    IGWT_STREQ(igw_http_reason(299), "Error");
    /* every status the table answers with has its own phrase */
    for (int e = 0; e <= IGW_ERR_COUNT; e++) {
        IGWT_CHECK(strcmp(igw_http_reason(of(IGW_HTTP_INTAKE, e).status), "Error") != 0);
        IGWT_CHECK(strcmp(igw_http_reason(of(IGW_HTTP_ADMIN, e).status), "Error") != 0);
        IGWT_CHECK(strcmp(igw_http_reason(of(IGW_HTTP_MEDIATE, e).status), "Error") != 0);
    }
}

/* a mediating channel: the codes of gateway/mediate/mediator.h */
static void
test_mediate(void)
{
    struct igw_http_verdict v = of(IGW_HTTP_MEDIATE, IGW_ETIMEDOUT);

    IGWT_CHECK(v.status == 504);
    IGWT_STREQ(v.code, "upstream_timeout");
    IGWT_CHECK(of(IGW_HTTP_MEDIATE, IGW_EIO).status == 502);
    IGWT_CHECK(of(IGW_HTTP_MEDIATE, IGW_EAUTH).status == 502);
    IGWT_CHECK(of(IGW_HTTP_MEDIATE, IGW_ENOENT).status == 404);
    IGWT_CHECK(of(IGW_HTTP_MEDIATE, IGW_ECONFLICT).status == 412);
    IGWT_CHECK(of(IGW_HTTP_MEDIATE, IGW_EPARSE).status == 400);
    v = of(IGW_HTTP_MEDIATE, IGW_EAGAIN);
    IGWT_CHECK(v.status == 503 && v.retry_after != NULL);
    igw_http_verdict_of(IGW_HTTP_MEDIATE, IGW_EIO, NULL, "the upstream answered 500", &v);
    IGWT_STREQ(v.msg, "the upstream answered 500");
    IGWT_STREQ(igw_http_reason(502), "Bad Gateway");
    IGWT_STREQ(igw_http_reason(504), "Gateway Timeout");
}

IGWT_MAIN({"intake_queue", test_intake_queue}, {"intake_checks", test_intake_checks},
          {"fallback", test_fallback}, {"admin", test_admin}, {"consistent", test_consistent},
          {"reason", test_reason}, {"mediate", test_mediate})
