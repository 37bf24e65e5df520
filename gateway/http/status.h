/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the one table from igw error codes to the answers HTTP-facing services give
 * (HTTP status, error code string, message, Retry-After and Connection: close hints), and the
 * reason phrase of every HTTP status igw answers with. Used by the HTTP intake, the SP intake
 * (its JSON replies carry HTTP-style statuses) and the admin API. Pure lookups over static
 * tables: no nng, no allocation, thread-safe. Unit-tested by tests/unit/gateway/http/status_test.c.
 */
#ifndef IGW_GATEWAY_HTTP_STATUS_H
#define IGW_GATEWAY_HTTP_STATUS_H

#include <stdbool.h>
#include <stdint.h>

/* Who answers: statuses and codes are the same for both, the wording is not ("the queue is full;
 * retry later" to a sender, "the queue is full" to an operator). */
enum igw_http_service {
    IGW_HTTP_INTAKE,  /* HTTP and SP intake: storing a received message */
    IGW_HTTP_ADMIN,   /* the admin API: queue calls on an operator's behalf */
    IGW_HTTP_MEDIATE, /* a mediating channel: answering from upstream calls (gateway/mediate/) */
};

/* One refusal as a service sends it. Every string is static or borrowed from the caller. */
struct igw_http_verdict {
    uint16_t status;         /* HTTP status (SP replies carry it in their JSON body) */
    const char *code;        /* error code string of the reply body ("queue_full") */
    const char *msg;         /* human message of the reply body */
    const char *retry_after; /* Retry-After value in seconds, or NULL for none */
    const char *allow;       /* Allow value (405), or NULL */
    const char *challenge;   /* WWW-Authenticate value (401), or NULL */
    bool close;              /* answer with Connection: close */
};

/** Fills *v with the answer service svc gives for igw error err (allow and challenge NULL).
 *  Errors without a row of their own get the service's fallback: 500 "internal", message "the
 *  message could not be stored" (intake) or igw_strerror(err) (admin). Two rows take part of the
 *  answer from the caller: IGW_EPARSE uses code (the input format's code, "invalid_json"), and
 *  IGW_EPARSE and IGW_ETRANSLATE use detail as the message (mediation: every row but the limits
 *  and IGW_ECLOSED) (the parser's or mapping's error
 *  text); code and detail may be NULL ("invalid_body" and igw_strerror(err) then). Other rows
 *  ignore both. err may be IGW_OK (answered as the fallback; a caller bug). svc must be one
 *  of the enum's values and v must not be NULL; nothing is returned. Cheap: one scan of a
 *  static array of 31 rows. */
void igw_http_verdict_of(enum igw_http_service svc, int err, const char *code, const char *detail,
                         struct igw_http_verdict *v);

/** The reason phrase for an HTTP status igw answers with ("Error" for any other). Never NULL;
 *  the string is static. */
const char *igw_http_reason(uint16_t status);

#endif /* IGW_GATEWAY_HTTP_STATUS_H */
