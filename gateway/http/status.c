/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one igw error -> HTTP answer table (http/status.h) and the reason phrases. A row with a
 * NULL code or message takes it from the caller (see igw_http_verdict_of).
 */
#include <stddef.h>

#include "igw/common.h"
#include "http/status.h"

#define RETRY_AFTER_FULL "30" /* seconds, queue full */
#define RETRY_AFTER_BUSY "1"  /* seconds, overloaded or shutting down */

struct row {
    int err;
    enum igw_http_service svc;
    uint16_t status;
    const char *code;
    const char *msg;
    const char *retry_after;
    bool close;
};

#define IN IGW_HTTP_INTAKE
#define AD IGW_HTTP_ADMIN
#define MD IGW_HTTP_MEDIATE

static const struct row rows[] = {
    /* storing a received message (queue submit and its commit callback) */
    {IGW_ENOSPC, IN, 503, "queue_full", "the queue is full; retry later", RETRY_AFTER_FULL, false},
    {IGW_ECLOSED, IN, 503, "shutting_down", "igw is shutting down; retry later", RETRY_AFTER_BUSY,
     true},
    {IGW_ENOMEM, IN, 503, "overloaded", "out of memory; retry later", RETRY_AFTER_BUSY, false},
    {IGW_ETOOBIG, IN, 413, "payload_too_large", "message too large for the queue", NULL, false},
    /* a clustered queue (jetstream) that did not answer within its timeout */
    {IGW_ETIMEDOUT, IN, 503, "queue_unavailable", "the queue's cluster did not answer; retry later",
     RETRY_AFTER_BUSY, false},
    /* too many requests in flight (the queue never returns IGW_EAGAIN to a submit) */
    {IGW_EAGAIN, IN, 503, "overloaded", "too many requests in flight; retry later",
     RETRY_AFTER_BUSY, false},
    /* checking a received message (credentials, parse, translation) */
    {IGW_EAUTH, IN, 401, "unauthorized", "missing or invalid credentials", NULL, false},
    {IGW_EPERM, IN, 403, "forbidden", "these credentials are not valid for this channel", NULL,
     false},
    {IGW_EPARSE, IN, 400, NULL, NULL, NULL, false},
    {IGW_ETRANSLATE, IN, 422, "translation_failed", NULL, NULL, false},
    {IGW_OK, IN, 500, "internal", "the message could not be stored", NULL, false}, /* fallback */
    /* admin queue calls */
    {IGW_ENOENT, AD, 404, "not_found", "no such message (or route)", NULL, false},
    {IGW_EAGAIN, AD, 409, "in_flight",
     "a delivery of this message is being attempted; retry in a moment", NULL, false},
    {IGW_ENOSPC, AD, 503, "queue_full", "the queue is full", NULL, false},
    {IGW_ECLOSED, AD, 503, "shutting_down", "igw is shutting down", NULL, false},
    {IGW_ENOMEM, AD, 503, "overloaded", "out of memory", NULL, false},
    {IGW_EAUTH, AD, 401, "unauthorized", "missing or invalid admin credentials", NULL, false},
    /* a replay: the stored body no longer parses or translates with the current maps */
    {IGW_EPARSE, AD, 422, NULL, NULL, NULL, false},
    {IGW_ETRANSLATE, AD, 422, "translation_failed", NULL, NULL, false},
    {IGW_OK, AD, 500, "internal", NULL, NULL, false}, /* fallback: igw_strerror(err) */
    /* a mediating channel: a mediator's error codes (gateway/mediate/mediator.h) */
    {IGW_EPARSE, MD, 400, "invalid_request", NULL, NULL, false},
    {IGW_ENOENT, MD, 404, "not_found", NULL, NULL, false},
    {IGW_ECONFLICT, MD, 412, "precondition_failed", NULL, NULL, false},
    {IGW_ETRANSLATE, MD, 502, "translation_failed", NULL, NULL, false},
    {IGW_ETIMEDOUT, MD, 504, "upstream_timeout", "the upstream did not answer in time", NULL,
     false},
    {IGW_EIO, MD, 502, "bad_gateway", NULL, NULL, false},
    {IGW_ETOOBIG, MD, 502, "bad_gateway", "the upstream's answer is too large", NULL, false},
    {IGW_EAUTH, MD, 502, "upstream_auth", "the upstream refused igw's credentials", NULL, false},
    {IGW_EAGAIN, MD, 503, "busy", "too many requests in flight; retry later", RETRY_AFTER_BUSY,
     false},
    {IGW_ENOMEM, MD, 503, "overloaded", "out of memory; retry later", RETRY_AFTER_BUSY, false},
    {IGW_ECLOSED, MD, 503, "shutting_down", "igw is shutting down; retry later", RETRY_AFTER_BUSY,
     true},
    {IGW_OK, MD, 500, "internal", NULL, NULL, false}, /* fallback: igw_strerror(err) */
};

#undef IN
#undef AD
#undef MD

static const struct row *
find(enum igw_http_service svc, int err)
{
    const struct row *fallback = NULL;

    for (size_t i = 0; i < IGW_ARRAY_LEN(rows); i++) {
        if (rows[i].svc != svc) {
            continue;
        }
        if (rows[i].err == err && err != IGW_OK) {
            return &rows[i];
        }
        if (rows[i].err == IGW_OK) {
            fallback = &rows[i];
        }
    }
    return fallback;
}

void
igw_http_verdict_of(enum igw_http_service svc, int err, const char *code, const char *detail,
                    struct igw_http_verdict *v)
{
    const struct row *r = find(svc, err);

    v->status = r->status;
    v->code = r->code != NULL ? r->code : (code != NULL ? code : "invalid_body");
    v->msg = r->msg != NULL ? r->msg : (detail != NULL ? detail : igw_strerror(err));
    v->retry_after = r->retry_after;
    v->allow = NULL;
    v->challenge = NULL;
    v->close = r->close;
}

const char *
igw_http_reason(uint16_t status)
{
    static const struct {
        uint16_t status;
        const char *text;
    } t[] = {{200, "OK"},
             {201, "Created"},
             {202, "Accepted"},
             {400, "Bad Request"},
             {401, "Unauthorized"},
             {403, "Forbidden"},
             {404, "Not Found"},
             {405, "Method Not Allowed"},
             {409, "Conflict"},
             {411, "Length Required"},
             {412, "Precondition Failed"},
             {413, "Content Too Large"},
             {415, "Unsupported Media Type"},
             {417, "Expectation Failed"},
             {422, "Unprocessable Content"},
             {429, "Too Many Requests"},
             {500, "Internal Server Error"},
             {501, "Not Implemented"},
             {502, "Bad Gateway"},
             {503, "Service Unavailable"},
             {504, "Gateway Timeout"}};
    for (size_t i = 0; i < IGW_ARRAY_LEN(t); i++) {
        if (t[i].status == status) {
            return t[i].text;
        }
    }
    return "Error";
}
