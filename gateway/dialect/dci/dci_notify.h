/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DCI notify fan-out (docs/DCI.md, "Notify"): a callback:<partner> route with dci.notify
 * turns each payload - a DCI record made by the route's map from an openIMIS event, or a DCI
 * notify envelope (fhir-patient-to-dci-notify) - into one notify for the partner, with one
 * notify_event item per live subscription of the partner that matches the record, read from
 * the subscription store (dci_subs.h) at delivery time. No subscription matches: the body
 * hook answers IGW_BODY_SKIP (delivery/output.h) and nothing is sent.
 *
 *   dci_notify.c        the body hook: event type, store scan, the envelope, signing
 *   dci_notify_match.c  what matches: live state, subscriber, record type, reg_type,
 *                       reg_event_type and the filter (a DCI query) against the record
 *
 * Everything runs on the delivery thread: CPU and LMDB read transactions only (which never
 * wait for the store's writer).
 */
#ifndef IGW_GATEWAY_DCI_NOTIFY_H
#define IGW_GATEWAY_DCI_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/node.h"

/* What a route's notify asks of a subscription. Strings borrowed, none NULL. */
struct dci_notify_want {
    const char *subscriber;  /* the partner's subscriptions: their stored "partner" */
    const char *record_type; /* Person, Member, Group */
    const char *reg_type;    /* the notify's data.reg_type */
    const char *event;       /* REGISTER, UPDATE, DEREGISTER (or an envelope's own) */
};

/* The body hook bound by the config loader to a route with dci.notify (delivery/output.h,
 * struct igw_route_body): payload -> notify envelope (signed when the route's sign resolves to
 * signing), IGW_BODY_SKIP when no subscription matches, IGW_EINVAL (dead letter: not JSON, no
 * event type, a record that is not an object), IGW_EAGAIN (the store cannot be read),
 * IGW_ENOMEM. */
struct igw_route_body;
extern const struct igw_route_body igw_dci_notify_body;

/* The event type a word of the request names (a path parameter or segment, compared without
 * case): "created", "create", "register", "registered", "new", "insuree-created" ...
 * -> "REGISTER"; "updated", "update", "modified", "changed" -> "UPDATE"; "deleted", "delete",
 * "deregister", "removed" -> "DEREGISTER" (the word may be a suffix after '-' or '_'). NULL when
 * it names none. Static strings; any thread. */
const char *dci_notify_event_word(const char *w, size_t n);

/* True when the stored subscription sub (its SubscriptionInfo JSON plus "partner", parsed)
 * matches want and record at now_s: its partner is want->subscriber; notify_record_type
 * (absent: any) is want->record_type; reg_type (absent: any) is want->reg_type; reg_event_type
 * (absent, "ALL" or "*": any; compared after its last ':' without case) is want->event;
 * frequency.start_time (absent: any) has passed; and its filter matches record
 * (dci_notify_filter). Whether the record is live (not ended or expired) is the caller's
 * (dci_subs_status). NULL-safe: a NULL sub or record matches nothing. */
bool dci_notify_match(const struct dci_notify_want *want, const struct igw_node *sub,
                      const struct igw_node *record, int64_t now_s);

/* True when the filter of sub (filter_type + filter: the query shapes of dci_query_walk:
 * idtype-value, predicate with `and`, a NoSql expression) matches record. Absent filter:
 * true. A condition on an attribute the record does not have, or one igw cannot evaluate (or,
 * not, query text), does not match. Attributes: an identifier type (record.identifier,
 * member_identifier or group_identifier items' identifier_type, without case; UIN also
 * matches CHFID), surname / last_name (name.surname), given_name / first_name
 * (name.given_name), else the record's member of that name, else that of its
 * demographic_info or group_head_info. Operators eq (a list value: any item), in, gt ge lt le
 * (text order, dates cut to the shorter value's length). */
bool dci_notify_filter(const struct igw_node *sub, const struct igw_node *record);

#endif /* IGW_GATEWAY_DCI_NOTIFY_H */
