/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to gateway/payments/: what the g2p output's worker threads run (disburse.c,
 * poll.c), the blocking HTTP call they share (pay_http.c) and the envelope helpers
 * (envelope.c). Everything here runs on a payments thread, which may block (bounded by
 * payments.timeout), never on nng's or the delivery thread.
 */
#ifndef IGW_GATEWAY_PAYMENTS_INT_H
#define IGW_GATEWAY_PAYMENTS_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/buf.h"
#include "igw/config.h"
#include "igw/arena.h"
#include "igw/node.h"

#define PAY_RESPONSE_MAX (1u << 20) /* largest answer read from the payment system */
#define PAY_BATCH_MAX 10000u

/* One blocking POST. */
struct pay_http {
    const char *url;
    const char *body;
    size_t len;
    const struct igw_auth *auth; /* outbound bearer, may be NULL */
    uint64_t timeout_ms;
    const atomic_bool *abort; /* set: the transfer stops within ~100 ms; may be NULL */
    /* results */
    long status;         /* HTTP status, 0 = no answer */
    struct igw_buf resp; /* the answer (initialised by pay_http_post, caller fini's) */
    char what[96];       /* on failure: "timeout", "connect: ..." */
};

/** Sends p->body to p->url. @return IGW_OK (an HTTP answer, whatever its status),
 *  IGW_ETIMEDOUT, IGW_EIO (no answer: p->what), IGW_ECLOSED (aborted), IGW_ENOMEM. */
int pay_http_post(struct pay_http *p);

/* The outcome of one delivery, for the delivery thread. */
enum pay_outcome { PAY_OK = 0, PAY_TRANSIENT, PAY_FAIL };
struct pay_result {
    enum pay_outcome outcome;
    int status;     /* HTTP status of the last answer, 0 = none */
    char what[160]; /* for transient and fail */
};

/* What a disburse delivery needs (copied by the output from its route and the current config). */
struct pay_disburse {
    const struct igw_partner *partner;
    const struct igw_route *route;
    const char *payload;
    size_t len;
    unsigned batch_size;
    const char *sender_uri;
    uint64_t timeout_ms;
    const atomic_bool *abort;
    bool first_attempt; /* counts the benefits left out once, not on every retry */
};

struct igw_ledger;

/** The disbursements of list (a DisburseRequest's message.disbursements) that are to be sent
 *  for payroll, in their order, into items (list->count slots): all but those whose
 *  reference_id the ledger l holds for another payroll (counted in *skipped). Batch k
 *  (0-based) is items[k * batch_size ..]: the same list and ledger give the same batches on
 *  every retry. @return the number of items. */
size_t pay_select(struct igw_ledger *l, const struct igw_node *list, const char *payroll,
                  const struct igw_node **items, uint64_t *skipped);

/** The transaction_id of batch k (0-based) of payroll: "<payroll>-<k+1>". */
void pay_batch_txn(const char *payroll, size_t k, char *out, size_t outlen);

/** Sends every batch of a DisburseRequest payload not acknowledged yet (docs/PAYMENTS.md, 2)
 *  and records the acknowledged ones in the ledger. */
void pay_disburse_run(const struct pay_disburse *d, struct pay_result *res);

/** Applies an on-disburse callback (or a txn status answer's DisburseResponse) payload to the
 *  ledger (a g2p-ledger: route delivery). */
void pay_ledger_run(const char *payload, size_t len, struct pay_result *res);

/** Applies a DisburseResponse object (message of on-disburse, or txn_status) to the ledger.
 *  @return IGW_OK, IGW_EPARSE (not a DisburseResponse), IGW_EIO, IGW_ENOSPC, IGW_EAGAIN (no
 *  ledger). */
int pay_apply_response(const struct igw_node *resp, uint64_t now_ms);

/** Annotates one disbursements_status item it (reference_id and a valid status already
 *  checked) with igw {forward, mismatch | benefit_uuid, payroll_uuid, code, amount, currency}:
 *  what the ledger l makes of it, judged as igw_ledger_judge (a read). Nodes from a.
 *  @return IGW_OK, IGW_ENOMEM. */
int pay_annotate(igw_arena *a, struct igw_node *it, const char *txn, struct igw_ledger *l);

/** One overdue scan (poll.c): asks partner's /disburse/sync/txn/status about at most max
 *  transactions without a final status since overdue_ms, and applies the answers. */
void pay_poll_overdue(const struct igw_partner *partner, const struct igw_route *route,
                      unsigned max, const atomic_bool *abort);

/* ---- envelope helpers (envelope.c) -------------------------------------------------------- */

/** The member key of obj as a NUL-terminated string copy in out (outlen), or false when it is
 *  absent, not a string, empty, or too long. */
bool pay_str(const struct igw_node *obj, const char *key, char *out, size_t outlen);

/** Writes the UTC time now as ISO 8601 with milliseconds and Z into out (>= 32 bytes). */
void pay_timestamp(char *out, size_t outlen);

/** Appends {"signature":S,"header":H,"message":M} to body, S the JWS over H and M when sign is
 *  set (igw_sign_envelope), none otherwise. @return IGW_OK, IGW_ENOENT (sign set but igw has
 *  no key), IGW_ENOMEM, IGW_ETOOBIG, IGW_EINTERNAL (err). */
int pay_envelope(struct igw_buf *body, const struct igw_buf *h, const struct igw_buf *m, bool sign,
                 char *err, size_t errlen);

/** The URL base_urls[0] of partner + path (path without a leading '/'), into url.
 *  @return IGW_OK, IGW_ENOENT (no base URL), IGW_ENOMEM. */
int pay_partner_url(const struct igw_partner *p, const char *path, struct igw_buf *url);

#endif /* IGW_GATEWAY_PAYMENTS_INT_H */
