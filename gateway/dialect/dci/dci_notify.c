/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DCI notify body hook (dci_notify.h; docs/DCI.md, "Notify"). Per delivery attempt of a
 * route with dci.notify: the event type (the route's, a notify envelope's own, or the
 * request's: path parameter {event}, last path segment, PUT/PATCH), the record (the route's
 * map output, or the first reg_records item of a notify envelope), one read transaction over
 * the subscription store for the partner's live matching subscriptions, then the notify
 * envelope {header, message} with one notify_event item per subscription (its code in
 * subscription_code and in the item's reference_id), signed like any callback when the route
 * signs. The header's message_id is derived from the queue's message id, so every attempt
 * (also after a restart) carries the same one and the partner's duplicate check drops a
 * repeat. No subscription matches: IGW_BODY_SKIP, nothing is sent.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "igw/json.h"
#include "delivery/output.h"
#include "dialect/dci/dci_int.h"
#include "dialect/dci/dci_notify.h"
#include "dialect/dci/dci_subs.h"
#include "sign/sign.h"

#define NOTIFY_ARENA_MAX (16u * 1024u * 1024u) /* the payload's tree and one record's */
#define NOTIFY_ITEMS_MAX (16u * 1024u * 1024u)
#define CALLBACK_PREFIX_LEN 9 /* "callback:" */

struct scan {
    const struct dci_notify_want *want;
    const struct igw_node *record;  /* what the filters test */
    const struct igw_node *records; /* what reg_records carries (an array, or one object) */
    const char *id;                 /* the queue message id, 16 hex digits */
    const char *now;
    igw_arena *a; /* one stored record at a time */
    int64_t now_s;
    struct igw_buf *items;
    size_t n;
};

/* ---- the event type ----------------------------------------------------------------------- */

/* The last path segment of target (no query), into *w / *n. */
static void
last_segment(const char *t, const char **w, size_t *n)
{
    size_t len = strcspn(t, "?#");
    while (len > 0 && t[len - 1] == '/') {
        len--;
    }
    size_t i = len;
    while (i > 0 && t[i - 1] != '/') {
        i--;
    }
    *w = t + i;
    *n = len - i;
}

/* The event type from the claimed message's metadata: {"method", "target", "params"}. */
static const char *
event_of_meta(igw_arena *a, const struct igw_queue_claim *c)
{
    struct igw_node *meta = NULL;
    const char *ev = NULL, *w, *method;
    size_t n;

    if (c == NULL || c->meta.len == 0 ||
        igw_json_parse(a, c->meta.ptr, c->meta.len, NULL, &meta, NULL) != IGW_OK) {
        return NULL;
    }
    w = dci_str_of(dci_mem(meta, "params"), "event", NULL);
    if (w != NULL) {
        ev = dci_notify_event_word(w, strlen(w));
    }
    if (ev == NULL) {
        last_segment(dci_str_of(meta, "target", ""), &w, &n);
        ev = dci_notify_event_word(w, n);
    }
    method = dci_str_of(meta, "method", "");
    if (ev == NULL && (strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0)) {
        ev = "UPDATE";
    }
    return ev;
}

/* ---- the store scan ----------------------------------------------------------------------- */

static int
put_item(struct scan *s, const char *code, const struct igw_node *sub)
{
    struct igw_buf *b = s->items;
    int rv = igw_buf_puts(b, s->n > 0 ? ",{" : "{");

    rv = rv == IGW_OK ? igw_buf_printf(b, "\"reference_id\":\"%s-%s\"", s->id, code) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "timestamp", s->now, true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "subscription_code", code, true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"data\":{\"version\":\"1.0.0\"") : rv;
    rv = rv == IGW_OK ? dci_kv(b, "reg_type", s->want->reg_type, true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "reg_event_type", s->want->event, true) : rv;
    rv = rv == IGW_OK ? dci_kv(b, "reg_record_type", s->want->record_type, true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"reg_records\":") : rv;
    if (rv == IGW_OK && s->records->type != IGW_NODE_ARRAY) {
        rv = igw_buf_putc(b, '[');
        rv = rv == IGW_OK ? igw_json_write(s->records, b, 0) : rv;
        rv = rv == IGW_OK ? igw_buf_putc(b, ']') : rv;
    } else if (rv == IGW_OK) {
        rv = igw_json_write(s->records, b, 0);
    }
    rv = rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    rv = rv == IGW_OK ? dci_kv(b, "locale", dci_str_of(sub, "locale", "eng"), true) : rv;
    rv = rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    s->n++;
    return rv;
}

static int
scan_one(void *arg, const char *code, const struct dci_sub_head *head, const char *json, size_t len)
{
    struct scan *s = arg;
    struct igw_node *sub = NULL;

    if (dci_subs_status(head, s->now_s) != DCI_SUB_LIVE) {
        return IGW_OK;
    }
    igw_arena_reset(s->a);
    if (igw_json_parse(s->a, json, len, NULL, &sub, NULL) != IGW_OK) {
        return IGW_OK; /* a record igw did not write: never matches */
    }
    if (!dci_notify_match(s->want, sub, s->record, s->now_s)) {
        return IGW_OK;
    }
    return put_item(s, code, sub);
}

/* ---- the envelope ------------------------------------------------------------------------- */

static int
envelope(const struct igw_route *r, const struct scan *s, struct igw_buf *out)
{
    char mid[100];
    int rv;

    snprintf(mid, sizeof(mid), "notify-%s-%s", s->id, r->short_name != NULL ? r->short_name : "");
    rv = igw_buf_puts(out, "{\"header\":{\"version\":\"1.0.0\"");
    rv = rv == IGW_OK ? dci_kv(out, "message_id", mid, true) : rv;
    rv = rv == IGW_OK ? dci_kv(out, "message_ts", s->now, true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(out, ",\"action\":\"notify\",\"status\":\"succ\"") : rv;
    rv = rv == IGW_OK
             ? igw_buf_printf(out, ",\"total_count\":%zu,\"completed_count\":%zu", s->n, s->n)
             : rv;
    rv = rv == IGW_OK
             ? dci_kv(out, "sender_id",
                      r->notify_sender_id != NULL ? r->notify_sender_id : "openimis.igw", true)
             : rv;
    rv = rv == IGW_OK ? dci_kv(out, "receiver_id", s->want->subscriber, true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(out, ",\"is_msg_encrypted\":false},\"message\":{") : rv;
    rv = rv == IGW_OK ? igw_buf_printf(out, "\"transaction_id\":\"notify-%s\"", s->id) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(out, ",\"notify_event\":[") : rv;
    rv = rv == IGW_OK ? igw_buf_append(out, s->items->ptr, s->items->len) : rv;
    return rv == IGW_OK ? igw_buf_puts(out, "]}}") : rv;
}

/* The record and what reg_records carries: a notify envelope's first item's data (its event
 * type and record type too, into *ev and *rt), else the payload itself (a DCI record). */
static int
record_of(const struct igw_node *doc, const char **ev, const char **rt, struct scan *s)
{
    const struct igw_node *items = dci_mem(dci_mem(doc, "message"), "notify_event");
    const struct igw_node *data, *recs;

    if (dci_mem(doc, "header") == NULL || items == NULL) {
        s->record = s->records = doc;
        return doc != NULL && doc->type == IGW_NODE_OBJECT ? IGW_OK : IGW_EINVAL;
    }
    data = dci_mem(items->type == IGW_NODE_ARRAY ? items->first : items, "data");
    recs = dci_mem(data, "reg_records");
    if (recs == NULL || (recs->type != IGW_NODE_ARRAY && recs->type != IGW_NODE_OBJECT)) {
        return IGW_EINVAL;
    }
    *ev = dci_str_of(data, "reg_event_type", *ev);
    *rt = dci_str_of(data, "reg_record_type", *rt);
    s->records = recs;
    s->record = recs->type == IGW_NODE_ARRAY ? recs->first : recs;
    return s->record != NULL && s->record->type == IGW_NODE_OBJECT ? IGW_OK : IGW_EINVAL;
}

/* Scans the store for the route's partner; the items into s->items. */
static int
scan_store(const struct igw_route *r, struct scan *s, char *err, size_t errlen)
{
    dci_subs *st = NULL;
    int rv = dci_subs_open(r->notify_store, &st, err, errlen);

    if (rv != IGW_OK) {
        return rv == IGW_ENOMEM ? rv : IGW_EAGAIN;
    }
    rv = igw_arena_new(&s->a, NOTIFY_ARENA_MAX);
    if (rv == IGW_OK) {
        rv = dci_subs_each(st, scan_one, s);
        if (rv == IGW_EIO) {
            igw_errbuf_set(err, errlen, "notify: the subscription store %s cannot be read",
                           r->notify_store);
            rv = IGW_EAGAIN;
        }
    }
    igw_arena_free(s->a);
    s->a = NULL;
    dci_subs_close(st);
    return rv == IGW_ETOOBIG ? IGW_ENOMEM : rv;
}

static int
finish(const struct igw_route *r, const struct igw_queue_claim *c, const struct scan *s,
       struct igw_buf *out, char *err, size_t errlen)
{
    struct igw_buf env;
    int rv;

    if (!r->notify_sign) {
        return envelope(r, s, out);
    }
    igw_buf_init(&env, out->max);
    rv = envelope(r, s, &env);
    rv = rv == IGW_OK ? igw_dci_sign_body.body(r, c, env.ptr, env.len, out, err, errlen) : rv;
    if (rv == IGW_ENOENT) { /* igw has no key (yet): sent unsigned, as any callback */
        igw_buf_reset(out);
        rv = igw_buf_append(out, env.ptr, env.len);
    }
    igw_buf_fini(&env);
    return rv;
}

static int
notify_body(const struct igw_route *r, const struct igw_queue_claim *c, const char *payload,
            size_t len, struct igw_buf *out, char *err, size_t errlen)
{
    char id[IGW_QUEUE_ID_STRLEN], now[40];
    igw_arena *a = NULL;
    struct igw_node *doc = NULL;
    struct igw_buf items;
    struct dci_notify_want want;
    struct scan s;
    const char *ev = NULL, *rt = r->notify_record_type != NULL ? r->notify_record_type : "Person";
    int rv;

    memset(&s, 0, sizeof(s));
    if (igw_arena_new(&a, NOTIFY_ARENA_MAX) != IGW_OK) {
        return IGW_ENOMEM;
    }
    if (igw_json_parse(a, payload != NULL ? payload : "", len, NULL, &doc, NULL) != IGW_OK ||
        record_of(doc, &ev, &rt, &s) != IGW_OK) {
        igw_arena_free(a);
        igw_errbuf_set(err, errlen,
                       "notify: the payload is neither a DCI record (a JSON object) nor a "
                       "notify envelope with reg_records");
        return IGW_EINVAL;
    }
    if (r->notify_event != NULL && strcmp(r->notify_event, "auto") != 0) {
        ev = r->notify_event;
    } else if (ev == NULL) {
        ev = event_of_meta(a, c);
    }
    if (ev == NULL) {
        igw_arena_free(a);
        igw_errbuf_set(err, errlen,
                       "notify: the event type is not known (no {event} path parameter or "
                       "segment naming created, updated or deleted): set dci.notify.event");
        return IGW_EINVAL;
    }
    want.subscriber =
        r->notify_subscriber != NULL ? r->notify_subscriber : r->url + CALLBACK_PREFIX_LEN;
    want.record_type = rt;
    want.reg_type = r->notify_reg_type != NULL ? r->notify_reg_type : "ns:org:RegistryType:Social";
    want.event = ev;
    igw_queue_id_format(c != NULL ? c->id : 0, id);
    dci_now(now, sizeof(now));
    igw_buf_init(&items, NOTIFY_ITEMS_MAX);
    s.want = &want;
    s.id = id;
    s.now = now;
    s.now_s = (int64_t)time(NULL);
    s.items = &items;
    rv = scan_store(r, &s, err, errlen);
    if (rv == IGW_OK && s.n == 0) {
        igw_errbuf_set(err, errlen, "no subscription");
        rv = IGW_BODY_SKIP;
    } else if (rv == IGW_OK) {
        rv = finish(r, c, &s, out, err, errlen);
    }
    igw_buf_fini(&items);
    igw_arena_free(a);
    return rv;
}

const struct igw_route_body igw_dci_notify_body = {
    .name = "dci.notify",
    .body = notify_body,
};
