/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dci-on-subscribe and dci-on-unsubscribe mediators (docs/DCI.md, "Subscriptions"): the
 * answers a `callback:<partner>` route with `answer_from:` sends for a committed subscribe or
 * unsubscribe, computed at delivery time from the committed request (m->internal; a request
 * from outside is refused 404, these are not endpoints).
 *
 * on-subscribe: a SubscribeResponse, one item per subscribe_request item, status succ, its
 * SubscriptionInfo with the code the store gives it (uuid5 of sender, message and item, so the
 * code answered and the code stored agree on every retry). It is answered only once every code
 * is readable in the store (the store route is independent of the callback route): before,
 * the answer is a transient 503 "not yet", so the route retries shortly.
 * on-unsubscribe: an UnSubscribeResponse; each code is looked up in the store (an LMDB read,
 * which never waits for the writer): the sender's own codes are listed `unsubscribe` (the
 * `dci-subscriptions:` route ends them; one already ended is still `unsubscribe`, so a retry
 * answers the same), and when any code is unknown or another partner's the answer's status is
 * rjct with rjct.subscription_code.invalid naming them.
 * Both answers go out with "signature": "" for the route's signing body hook to sign.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/doc.h"
#include "dialect/dci/dci_int.h"
#include "dialect/dci/dci_subs.h"
#include "mediate/mediator.h"

struct subs_ch {
    pthread_mutex_t mu;
    dci_subs *store; /* opened at the first callback answered */
};

static const struct igw_node *
mem(const struct igw_node *obj, const char *key)
{
    return obj != NULL ? igw_node_get(obj, key, strlen(key)) : NULL;
}

static const char *
str_of(const struct igw_node *obj, const char *key, const char *dflt)
{
    const struct igw_node *n = mem(obj, key);
    return n != NULL && n->type == IGW_NODE_STRING ? n->str : dflt;
}

static int
kv(struct igw_buf *b, const char *key, const char *val, bool comma)
{
    int rv = igw_buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
    return rv == IGW_OK ? igw_buf_json_str(b, val, strlen(val)) : rv;
}

static int
plain(struct igw_med *m, int status, const char *msg)
{
    igw_buf_reset(&m->answer.body);
    if (dci_response(&m->answer.body, "ERR", NULL,
                     status == 404 ? "err.request.not_found" : "err.request.bad", msg) != IGW_OK) {
        return -IGW_ENOMEM;
    }
    m->answer.status = status;
    m->answer.content_type = DCI_CT;
    return IGW_MED_ANSWER;
}

static int
subs_init(const struct igw_channel *ch, void **state, char *err, size_t errlen)
{
    struct subs_ch *s;

    *state = NULL;
    if (ch->dialect == NULL || strcmp(ch->dialect, "dci") != 0) {
        igw_errbuf_set(err, errlen,
                       "answer: dci-on-subscribe/dci-on-unsubscribe need dialect: dci");
        return IGW_ECONFIG;
    }
    s = IGW_NEW(struct subs_ch);
    if (s == NULL) {
        return IGW_ENOMEM;
    }
    pthread_mutex_init(&s->mu, NULL);
    *state = s;
    return IGW_OK;
}

static void
subs_fini(void *state)
{
    struct subs_ch *s = state;
    if (s != NULL) {
        dci_subs_close(s->store);
        pthread_mutex_destroy(&s->mu);
        igw_free(s);
    }
}

/* The committed request, parsed; NULL after answering (the return in *rv). */
static struct igw_node *
request(struct igw_med *m, int *rv)
{
    struct igw_node *req = NULL;

    if (!m->internal) {
        *rv = plain(m, 404, "igw answers this only to its own callback routes (answer_from)");
        return NULL;
    }
    if (igw_json_parse(m->arena, m->body, m->body_len, NULL, &req, NULL) != IGW_OK) {
        *rv = plain(m, 400, "the committed request is not JSON");
        return NULL;
    }
    return req;
}

/* {"signature":"","header":<callback header>,"message":<mb>} into m->answer. */
static int
envelope(struct igw_med *m, const struct igw_node *req, const char *action, const char *status,
         const struct igw_buf *mb)
{
    const struct igw_node *h = mem(req, "header");
    struct igw_buf *b = &m->answer.body;
    char now[40], mid[160];
    int rv;

    dci_now(now, sizeof(now));
    snprintf(mid, sizeof(mid), "%.90s-%s", str_of(h, "message_id", "request"), action);
    igw_buf_reset(b);
    rv = igw_buf_puts(b, "{\"signature\":\"\",\"header\":{\"version\":\"1.0.0\"");
    rv = rv == IGW_OK ? kv(b, "message_id", mid, true) : rv;
    rv = rv == IGW_OK ? kv(b, "message_ts", now, true) : rv;
    rv = rv == IGW_OK ? kv(b, "action", action, true) : rv;
    rv = rv == IGW_OK ? kv(b, "status", status, true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"total_count\":1,\"completed_count\":1") : rv;
    rv = rv == IGW_OK ? kv(b, "sender_id", str_of(h, "receiver_id", "igw"), true) : rv;
    rv = rv == IGW_OK ? kv(b, "receiver_id", str_of(h, "sender_id", ""), true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"is_msg_encrypted\":false},\"message\":") : rv;
    rv = rv == IGW_OK ? igw_buf_append(b, mb->ptr, mb->len) : rv;
    rv = rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    if (rv != IGW_OK) {
        snprintf(m->err, sizeof(m->err), "the answer could not be written");
        return -IGW_ENOMEM;
    }
    m->answer.status = 200;
    m->answer.content_type = DCI_CT;
    return IGW_MED_ANSWER;
}

/* The message's head: transaction_id and the correlation_id igw's ACK gave (its queue id). */
static int
msg_head(struct igw_med *m, const struct igw_node *req, struct igw_buf *mb)
{
    const char *qid = m->header != NULL ? m->header(m->header_arg, "X-Igw-Message-Id") : NULL;
    int rv = igw_buf_putc(mb, '{');
    rv = rv == IGW_OK
             ? kv(mb, "transaction_id", str_of(mem(req, "message"), "transaction_id", ""), false)
             : rv;
    return rv == IGW_OK ? kv(mb, "correlation_id",
                             qid != NULL ? qid : str_of(mem(req, "header"), "message_id", ""), true)
                        : rv;
}

static dci_subs *
store_of(struct igw_med *m)
{
    struct subs_ch *s = (struct subs_ch *)(uintptr_t)m->chstate;
    const char *dir = dci_subs_dir_of(m->cfg);
    char err[IGW_ERRBUF_SIZE];
    dci_subs *st;

    pthread_mutex_lock(&s->mu);
    if (s->store == NULL && dir != NULL &&
        dci_subs_open(dir, &s->store, err, sizeof(err)) != IGW_OK) {
        snprintf(m->err, sizeof(m->err), "%s", err);
    }
    st = s->store;
    pthread_mutex_unlock(&s->mu);
    return st;
}

/* A transient "not yet" (HTTP 503 err.service.unavailable): the callback route retries the
 * attempt with its backoff (docs/DCI.md, "Subscriptions"). */
static int
not_yet(struct igw_med *m, const char *msg)
{
    igw_buf_reset(&m->answer.body);
    m->answer.status = 503;
    m->answer.content_type = DCI_CT;
    return dci_response(&m->answer.body, "ERR", NULL, "err.service.unavailable", msg) == IGW_OK
               ? IGW_MED_ANSWER
               : -IGW_ENOMEM;
}

/* Every code of the request must be readable in the store first: the store route and this
 * callback route are independent, and a partner must never hold a code the store does not
 * know (an unsubscribe of it would be refused). */
static int
stored_all(struct igw_med *m, const struct igw_node *list, const char *sender, const char *mid)
{
    dci_subs *st = store_of(m);
    struct igw_buf rec;
    char code[37];
    int rv = IGW_OK;

    if (st == NULL) {
        return not_yet(m, "no dci-subscriptions: store could be opened");
    }
    igw_buf_init(&rec, 1024u * 1024u);
    for (const struct igw_node *it = list->first; it != NULL && rv == IGW_OK; it = it->next) {
        struct dci_sub_head head;
        igw_buf_reset(&rec);
        rv = dci_subs_code(sender, mid, str_of(it, "reference_id", ""), code);
        rv = rv == IGW_OK ? dci_subs_get(st, code, &head, &rec) : rv;
    }
    igw_buf_fini(&rec);
    if (rv == IGW_ENOENT) {
        return not_yet(m, "the subscription is not in the store yet");
    }
    if (rv != IGW_OK) {
        snprintf(m->err, sizeof(m->err), "the subscription store could not be read");
        return rv == IGW_ENOMEM ? -IGW_ENOMEM : -IGW_EIO;
    }
    return IGW_OK;
}

static int
on_subscribe(struct igw_med *m)
{
    int rv = IGW_OK;
    struct igw_node *req = request(m, &rv);
    const struct igw_node *h = mem(req, "header");
    const struct igw_node *list = mem(mem(req, "message"), "subscribe_request");
    const char *sender = str_of(h, "sender_id", ""), *mid = str_of(h, "message_id", "");
    struct igw_buf mb;
    char now[40], code[37];
    bool first = true;

    if (req == NULL) {
        return rv;
    }
    if (list == NULL || list->type != IGW_NODE_ARRAY) {
        return plain(m, 400, "the committed request has no subscribe_request");
    }
    if ((rv = stored_all(m, list, sender, mid)) != IGW_OK) {
        return rv;
    }
    dci_now(now, sizeof(now));
    igw_buf_init(&mb, 16u * 1024u * 1024u);
    rv = msg_head(m, req, &mb);
    rv = rv == IGW_OK ? igw_buf_puts(&mb, ",\"subscribe_response\":[") : rv;
    for (const struct igw_node *it = list->first; it != NULL && rv == IGW_OK; it = it->next) {
        rv = dci_subs_code(sender, mid, str_of(it, "reference_id", ""), code);
        rv = rv == IGW_OK ? igw_buf_puts(&mb, first ? "{" : ",{") : rv;
        rv = rv == IGW_OK ? kv(&mb, "reference_id", str_of(it, "reference_id", ""), false) : rv;
        rv = rv == IGW_OK ? kv(&mb, "timestamp", now, true) : rv;
        rv = rv == IGW_OK ? kv(&mb, "status", "succ", true) : rv;
        rv = rv == IGW_OK ? igw_buf_puts(&mb, ",\"subscriptions\":[") : rv;
        rv = rv == IGW_OK ? dci_subs_info(it, code, NULL, &mb) : rv;
        rv = rv == IGW_OK ? igw_buf_puts(&mb, "]}") : rv;
        first = false;
    }
    rv = rv == IGW_OK ? igw_buf_puts(&mb, "]}") : rv;
    rv = rv == IGW_OK ? envelope(m, req, "on-subscribe", "succ", &mb) : -IGW_ENOMEM;
    igw_buf_fini(&mb);
    return rv;
}

static int
on_unsubscribe(struct igw_med *m)
{
    int rv = IGW_OK;
    struct igw_node *req = request(m, &rv);
    const struct igw_node *list = mem(mem(req, "message"), "subscription_codes");
    const char *sender = str_of(mem(req, "header"), "sender_id", "");
    struct igw_buf mb, bad, rec;
    char now[40];
    bool first = true;
    dci_subs *st;

    if (req == NULL) {
        return rv;
    }
    if (list == NULL || list->type != IGW_NODE_ARRAY) {
        return plain(m, 400, "the committed request has no subscription_codes");
    }
    if ((st = store_of(m)) == NULL) { /* transient: the store may open on a later attempt */
        return not_yet(m, "no dci-subscriptions: store could be opened");
    }
    dci_now(now, sizeof(now));
    igw_buf_init(&mb, 1024u * 1024u);
    igw_buf_init(&bad, 64u * 1024u);
    igw_buf_init(&rec, 1024u * 1024u);
    rv = msg_head(m, req, &mb);
    rv = rv == IGW_OK ? kv(&mb, "timestamp", now, true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&mb, ",\"subscription_status\":[") : rv;
    for (const struct igw_node *it = list->first; it != NULL && rv == IGW_OK; it = it->next) {
        struct dci_sub_head head;
        struct igw_node *r = NULL;
        const char *code = it->type == IGW_NODE_STRING ? it->str : "";
        int g;

        igw_buf_reset(&rec);
        g = dci_subs_get(st, code, &head, &rec);
        if (g == IGW_OK && (igw_json_parse(m->arena, rec.ptr, rec.len, NULL, &r, NULL) != IGW_OK ||
                            strcmp(str_of(r, "partner", ""), sender) != 0)) {
            g = IGW_ENOENT; /* another partner's code is as unknown to this one */
        }
        if (g == IGW_ENOENT) {
            rv = igw_buf_puts(&bad, bad.len > 0 ? ", " : "");
            rv = rv == IGW_OK ? igw_buf_printf(&bad, "%.99s", code) : rv;
            continue;
        }
        if (g != IGW_OK) {
            rv = g;
            break;
        }
        rv = igw_buf_puts(&mb, first ? "{" : ",{");
        rv = rv == IGW_OK ? kv(&mb, "code", code, false) : rv;
        rv = rv == IGW_OK ? kv(&mb, "status", "unsubscribe", true) : rv;
        rv = rv == IGW_OK ? igw_buf_putc(&mb, '}') : rv;
        first = false;
    }
    rv = rv == IGW_OK ? igw_buf_putc(&mb, ']') : rv;
    rv = rv == IGW_OK ? kv(&mb, "status", bad.len > 0 ? "rjct" : "succ", true) : rv;
    if (rv == IGW_OK && bad.len > 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "unknown subscription code(s) of this sender: %.*s",
                 (int)(bad.len > 400 ? 400 : bad.len), bad.ptr);
        rv = kv(&mb, "status_reason_code", "rjct.subscription_code.invalid", true);
        rv = rv == IGW_OK ? kv(&mb, "status_reason_message", msg, true) : rv;
    }
    rv = rv == IGW_OK ? igw_buf_putc(&mb, '}') : rv;
    if (rv == IGW_OK) {
        rv = envelope(m, req, "on-unsubscribe", bad.len > 0 ? "rjct" : "succ", &mb);
    } else {
        snprintf(m->err, sizeof(m->err), "the subscription store could not be read");
        rv = rv == IGW_ENOMEM ? -IGW_ENOMEM : -IGW_EIO;
    }
    igw_buf_fini(&mb);
    igw_buf_fini(&bad);
    igw_buf_fini(&rec);
    return rv;
}

const struct igw_mediator_ops igw_mediator_dci_on_subscribe = {
    .name = "dci-on-subscribe",
    .description = "the on-subscribe of a committed DCI subscribe (answer_from of its callback "
                   "route): the subscription codes the store gives, status succ",
    .channel_init = subs_init,
    .channel_fini = subs_fini,
    .start = on_subscribe,
};

const struct igw_mediator_ops igw_mediator_dci_on_unsubscribe = {
    .name = "dci-on-unsubscribe",
    .description = "the on-unsubscribe of a committed DCI unsubscribe (answer_from of its "
                   "callback route): the sender's codes unsubscribed, unknown or foreign ones "
                   "rjct.subscription_code.invalid",
    .channel_init = subs_init,
    .channel_fini = subs_fini,
    .start = on_unsubscribe,
};
