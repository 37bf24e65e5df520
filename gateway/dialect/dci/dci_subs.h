/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DCI subscription store (docs/DCI.md, "Subscriptions"): an LMDB environment of its own,
 * not the queue (the queue sweeps delivered messages; a subscription lives until its end_time
 * or an unsubscribe). Written only by the `dci-subscriptions:` output on the delivery thread
 * (a commit fsyncs there); read by the dci-on-subscribe / dci-on-unsubscribe mediators and by
 * `igw dci subscriptions`, whose read transactions never wait for the writer.
 *
 * A record is keyed by its code, a uuid5 of sender_id, message_id and the item's reference_id
 * (so a retried delivery writes the same record); its value is a struct dci_sub_head followed
 * by the SubscriptionInfo JSON igw answered plus "partner" (the sender_id).
 */
#ifndef IGW_GATEWAY_DCI_SUBS_H
#define IGW_GATEWAY_DCI_SUBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/config.h"
#include "igw/node.h"

typedef struct dci_subs dci_subs;

/* The fixed head of a stored value. */
struct dci_sub_head {
    char state;    /* 'L' live, 'E' ended by an unsubscribe */
    char pad[7];   /* zero */
    int64_t end_s; /* end_time, seconds since the epoch (INT64_MAX: none) */
};

enum dci_sub_status { DCI_SUB_LIVE, DCI_SUB_EXPIRED, DCI_SUB_ENDED };

/* Opens (creating the directory, mode 0700) the store at dir, shared by every opener in the
 * process (LMDB allows one environment per file and process): a reference released by
 * dci_subs_close. @return IGW_OK, IGW_EIO (err says why), IGW_ENOMEM. Any thread. */
int dci_subs_open(const char *dir, dci_subs **out, char *err, size_t errlen);
/* Drops a reference; the last one closes the environment. NULL-safe. */
void dci_subs_close(dci_subs *s);

/* The code of one subscription: uuid5 (URL namespace) of "sender\nmessage_id\nreference_id",
 * 36 characters and a NUL into out. @return IGW_OK, IGW_EIO (no SHA-1). */
int dci_subs_code(const char *sender, const char *mid, const char *ref, char out[37]);

/* Seconds since the epoch of an ISO 8601 date-time with a zone (Z or +hh:mm); -1 when it is
 * not one. */
int64_t dci_subs_time(const char *iso);

/* Appends to out the SubscriptionInfo of one subscribe_request item (its code given):
 * version, code, status "subscribe", timestamp and the item's criteria (reg_type,
 * reg_event_type, frequency, filter_type, filter, notify_record_type, locale), plus "partner"
 * when partner is not NULL. @return IGW_OK, IGW_ENOMEM. */
int dci_subs_info(const struct igw_node *item, const char *code, const char *partner,
                  struct igw_buf *out);

/* Writes what a committed subscribe or unsubscribe envelope (body, len) asks: one record per
 * subscribe_request item, or each named code of its sender marked ended. One write transaction
 * (fsync). @return IGW_OK, IGW_EINVAL (not a subscribe/unsubscribe envelope: err says why),
 * IGW_EIO (LMDB; err), IGW_ENOMEM. One writer thread at a time (the delivery thread). */
int dci_subs_apply(dci_subs *s, const char *body, size_t len, char *err, size_t errlen);

/* Looks up code: *head and the JSON into rec (appended). @return IGW_OK, IGW_ENOENT,
 * IGW_EIO, IGW_ENOMEM. Any thread; never waits for the writer. */
int dci_subs_get(dci_subs *s, const char *code, struct dci_sub_head *head, struct igw_buf *rec);

/* Calls fn for each record in code order until it returns non-zero (returned). @return IGW_OK,
 * IGW_EIO, or fn's value. Any thread; never waits for the writer. */
int dci_subs_each(dci_subs *s,
                  int (*fn)(void *arg, const char *code, const struct dci_sub_head *head,
                            const char *json, size_t len),
                  void *arg);

/* The status of a record at now_s. */
enum dci_sub_status dci_subs_status(const struct dci_sub_head *head, int64_t now_s);
/* "live", "expired", "ended". */
const char *dci_subs_status_name(enum dci_sub_status st);

/* The directory of the first `dci-subscriptions:` route of cfg, or NULL. Borrowed. */
const char *dci_subs_dir_of(const struct igw_config *cfg);

#endif /* IGW_GATEWAY_DCI_SUBS_H */
