/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the payments ledger (docs/PAYMENTS.md, "The ledger"): one durable record per
 * disbursement reference_id in an LMDB environment of its own beside the queue, written with
 * fsync like the queue. It records what igw sent (a batch the payment system acknowledged), the
 * statuses the payment system reported, and the mismatches (callbacks igw refused).
 *
 * Threads: every function may be called from any thread once igw_ledger_open returned (the env
 * is opened with MDB_NOTLS). Reads never wait for a writer; writes (record, apply) take LMDB's
 * writer lock and fsync, so they belong on a thread that may block (the payments threads),
 * never on nng's task threads.
 */
#ifndef IGW_GATEWAY_PAYMENTS_LEDGER_H
#define IGW_GATEWAY_PAYMENTS_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct igw_ledger igw_ledger;

/* A disbursement's status, in the order it may move (succ and rjct are final). */
enum igw_pay_status {
    IGW_PAY_NONE = 0,
    IGW_PAY_SENT, /* sent to the payment system (recorded before the request) */
    IGW_PAY_RCVD,
    IGW_PAY_PDNG,
    IGW_PAY_SUCC,
    IGW_PAY_RJCT,
    IGW_PAY_STATUS_COUNT
};

#define IGW_LEDGER_REF_MAX 100 /* reference_id: at most 99 bytes (DCI's maxLength) */
#define IGW_LEDGER_ID_MAX 64   /* payroll and benefit uuids */
#define IGW_LEDGER_TXN_MAX 112 /* transaction_id: <payroll uuid>-<batch no> */
#define IGW_LEDGER_REASON_MAX 64

struct igw_ledger_entry {
    char ref[IGW_LEDGER_REF_MAX];
    char payroll[IGW_LEDGER_ID_MAX];
    char benefit[IGW_LEDGER_ID_MAX];
    char txn[IGW_LEDGER_TXN_MAX];
    char currency[4];
    char reason[IGW_LEDGER_REASON_MAX]; /* status_reason_code, "" = none */
    int64_t amount;                     /* minor units (hundredths) */
    uint64_t created_ms, updated_ms;    /* wall clock */
    uint8_t status;                     /* enum igw_pay_status */
};

/* A callback item igw refused (reconciliation shows them). */
struct igw_ledger_mismatch {
    uint64_t ts_ms;
    char ref[IGW_LEDGER_REF_MAX];
    char txn[IGW_LEDGER_TXN_MAX];
    char payroll[IGW_LEDGER_ID_MAX]; /* "" when the reference is unknown */
    char why[128];
    char amount[32];  /* as the callback said, "" = absent */
    char currency[4]; /* likewise */
    char status[8];   /* the status the callback reported */
};

/* What a reported status does to an entry. */
enum igw_ledger_verdict {
    IGW_LEDGER_APPLY = 0, /* later than the entry's: applied */
    IGW_LEDGER_SAME,      /* not later (a duplicate, pdng after succ): nothing changes */
    IGW_LEDGER_MISMATCH   /* unknown reference, other transaction, amount, currency, a
                             different final status: recorded as a mismatch, not applied */
};

/** Opens (creating the directory, mode 0700) the ledger at dir with a map of map_size bytes
 *  (0 = 256 MiB); no_sync skips the fsync (tests only). *out is the caller's (igw_ledger_close).
 *  @return IGW_OK, IGW_EIO (reason in err), IGW_ENOMEM, IGW_EINVAL (dir NULL or empty). */
int igw_ledger_open(igw_ledger **out, const char *dir, uint64_t map_size, bool no_sync, char *err,
                    size_t errlen);

/** Closes the ledger. NULL-safe. No other call may run on it at the time. */
void igw_ledger_close(igw_ledger *l);

/** The entry of reference_id ref into *e. l, ref, e not NULL.
 *  @return IGW_OK, IGW_ENOENT, IGW_EIO. */
int igw_ledger_get(igw_ledger *l, const char *ref, struct igw_ledger_entry *e);

/** Whether transaction txn (a batch) was acknowledged by the payment system.
 *  @return IGW_OK (*acked set), IGW_EIO. */
int igw_ledger_batch_acked(igw_ledger *l, const char *txn, bool *acked);

/** Records batch txn holding e[0..n) as sent, before it is sent (so that a callback that
 *  overtakes the payment system's ACK is matched): each entry not yet in the ledger is stored
 *  with status sent and transaction txn, created = updated = now_ms (an entry already there is
 *  kept as it is), in one transaction (fsync'd). The batch is not acknowledged by this.
 *  @return IGW_OK, IGW_EIO (LMDB failed; nothing recorded), IGW_ENOSPC (the map is full). */
int igw_ledger_record_sent(igw_ledger *l, const char *txn, const struct igw_ledger_entry *e,
                           size_t n, uint64_t now_ms);

/** Marks batch txn acknowledged by the payment system (never sent again). Errors as
 *  igw_ledger_record_sent. */
int igw_ledger_batch_ack(igw_ledger *l, const char *txn, uint64_t now_ms);

/** igw_ledger_record_sent and igw_ledger_batch_ack in one transaction. */
int igw_ledger_record_batch(igw_ledger *l, const char *txn, const struct igw_ledger_entry *e,
                            size_t n, uint64_t now_ms);

/* One status a callback (or a txn status answer) reports for a reference_id. */
struct igw_ledger_report {
    const char *ref;
    const char *txn;      /* NULL = not checked */
    uint8_t status;       /* IGW_PAY_RCVD .. IGW_PAY_RJCT */
    const char *reason;   /* status_reason_code or NULL */
    bool has_amount;      /* the callback echoed an amount */
    int64_t amount;       /* minor units */
    const char *currency; /* NULL = not echoed */
    const char *amount_text;
};

/** What rp does to entry e (NULL: the reference is unknown); pure. On a mismatch writes why
 *  (a short reason) into why[0..whylen). */
enum igw_ledger_verdict igw_ledger_judge(const struct igw_ledger_entry *e,
                                         const struct igw_ledger_report *rp, char *why,
                                         size_t whylen);

/* Counts of an apply. */
struct igw_ledger_applied {
    unsigned applied, same, mismatches;
    unsigned final_succ, final_rjct; /* entries that became final */
};

/** Applies rp[0..n) in one transaction (fsync'd): each judged against the entry it names;
 *  APPLY updates status, reason and updated time; a MISMATCH is recorded (list below) and
 *  changes no entry; SAME changes nothing. counts may be NULL.
 *  @return IGW_OK, IGW_EIO, IGW_ENOSPC. */
int igw_ledger_apply(igw_ledger *l, const struct igw_ledger_report *rp, size_t n, uint64_t now_ms,
                     struct igw_ledger_applied *counts);

/** Calls fn for every entry of payroll (in reference_id order) until fn returns non-zero.
 *  @return IGW_OK, IGW_EIO, or fn's non-zero value. */
int igw_ledger_payroll_each(igw_ledger *l, const char *payroll,
                            int (*fn)(void *arg, const struct igw_ledger_entry *e), void *arg);

/** Calls fn for every recorded mismatch, newest first (payroll NULL: all; else only that
 *  payroll's), at most max (0 = all). @return IGW_OK, IGW_EIO, or fn's non-zero value. */
int igw_ledger_mismatch_each(igw_ledger *l, const char *payroll, unsigned max,
                             int (*fn)(void *arg, const struct igw_ledger_mismatch *m), void *arg);

/** Calls fn for every entry not final whose last update is older than before_ms, in
 *  reference_id order, until fn returns non-zero. @return IGW_OK, IGW_EIO, or fn's value. */
int igw_ledger_open_each(igw_ledger *l, uint64_t before_ms,
                         int (*fn)(void *arg, const struct igw_ledger_entry *e), void *arg);

/** "sent", "rcvd", "pdng", "succ", "rjct" ("" for NONE or out of range). */
const char *igw_pay_status_name(unsigned status);
/** The status named s[0..len) (rcvd|pdng|succ|rjct|sent), or IGW_PAY_NONE. */
uint8_t igw_pay_status_parse(const char *s, size_t len);

#endif /* IGW_GATEWAY_PAYMENTS_LEDGER_H */
