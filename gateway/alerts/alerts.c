/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alerts (alerts.h): the evaluation thread, incidents (open on the first true evaluation,
 * resolved on the first false one), each transition put into the queue as a message of the
 * alert channel (retried at the next tick when the queue refuses it), and the listing.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "igw/log.h"
#include "alerts/alerts.h"
#include "alerts/alerts_int.h"

struct incident {
    unsigned rule;        /* index into cfg->alert_rules */
    uint64_t seq;         /* 1, 2, ... per process */
    uint64_t started_ms;  /* fired */
    uint64_t resolved_ms; /* 0 while firing */
    uint64_t value;       /* when it fired */
    bool sent_fire;       /* the firing message is in the queue */
    bool sent_resolve;
};

struct igw_alerts {
    const struct igw_config *cfg;
    const struct igw_channel *ch;
    igw_queue *q;
    igw_deliverer *d;
    struct rule_state *rules;
    struct igw_queue_route_stats *rs; /* a tick's per-route counters (alerts thread only) */
    bool want_rs;                     /* a rule reads them */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* the fields below, and the incidents */
    pthread_cond_t cv;
    bool stop;
    struct incident inc[IGW_ALERTS_KEPT]; /* ring, oldest at inc_head */
    unsigned inc_head, ninc;
    uint64_t seq;
};

static struct incident *
inc_at(igw_alerts *a, unsigned i)
{
    return &a->inc[(a->inc_head + i) % IGW_ALERTS_KEPT];
}

/* The incident's message body: one JSON object (docs/ALERTS.md). */
static int
incident_body(igw_alerts *a, const struct incident *in, bool resolved, struct igw_buf *b)
{
    const struct igw_alert_rule *r = &a->cfg->alert_rules[in->rule];
    int rv = igw_buf_printf(b, "{\"incident\":\"%s-%" PRIu64 "\",\"alert\":", r->name, in->seq);

    rv = rv == IGW_OK ? igw_buf_json_str(b, r->name, strlen(r->name)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(b, ",\"kind\":\"%s\",\"status\":\"%s\",\"route\":",
                                       alerts_kind_name(r->kind), resolved ? "resolved" : "firing")
                      : rv;
    if (rv == IGW_OK) {
        rv = r->route != NULL ? igw_buf_json_str(b, r->route, strlen(r->route))
                              : igw_buf_puts(b, "null");
    }
    rv = rv == IGW_OK ? igw_buf_printf(b,
                                       ",\"value\":%" PRIu64 ",\"threshold\":%" PRIu64
                                       ",\"window_ms\":%" PRIu64 ",\"started_ms\":%" PRIu64,
                                       in->value, r->threshold, r->window_ms, in->started_ms)
                      : rv;
    if (rv == IGW_OK && resolved) {
        rv = igw_buf_printf(b, ",\"resolved_ms\":%" PRIu64, in->resolved_ms);
    }
    return rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
}

/* Puts one transition into the queue (blocking: this thread's own). The idempotency key makes a
 * repeated put after an unclear failure harmless. */
static int
send_one(igw_alerts *a, const struct incident *in, bool resolved)
{
    size_t nr = a->ch->nroutes < IGW_QUEUE_ROUTES_MAX ? a->ch->nroutes : IGW_QUEUE_ROUTES_MAX;
    struct igw_queue_route_init *ri = igw_calloc(nr + 1, sizeof(*ri));
    struct igw_queue_msg m;
    char key[128];
    struct igw_buf b;
    int rv = ri == NULL ? IGW_ENOMEM : IGW_OK;

    igw_buf_init(&b, 4096);
    rv = rv == IGW_OK ? incident_body(a, in, resolved, &b) : rv;
    memset(&m, 0, sizeof(m));
    for (size_t i = 0; ri != NULL && i < nr; i++) {
        ri[i].route = a->ch->routes[i].name;
    }
    snprintf(key, sizeof(key), "igw-alert:%s:%" PRIu64 ":%" PRIu64 ":%s",
             a->cfg->alert_rules[in->rule].name, in->started_ms, in->seq,
             resolved ? "resolved" : "firing");
    m.channel = a->ch->name;
    m.idem_key = key;
    m.idem_key_len = strlen(key);
    m.content_type = "application/json";
    m.body = b.ptr;
    m.body_len = b.len;
    m.nroutes = (unsigned)nr;
    m.routes = ri;
    rv = rv == IGW_OK ? igw_queue_put(a->q, &m, NULL, NULL) : rv;
    igw_buf_fini(&b);
    igw_free(ri);
    if (rv == IGW_OK && a->d != NULL) {
        igw_deliverer_kick(a->d);
    }
    return rv;
}

/* Sends every transition not yet in the queue (under a->mu, released around the put). */
static void
send_pending(igw_alerts *a)
{
    for (unsigned i = 0; i < a->ninc; i++) {
        struct incident *in = inc_at(a, i);
        struct incident copy = *in;
        bool resolve = in->sent_fire && !in->sent_resolve && in->resolved_ms != 0;
        int rv;
        if (in->sent_fire && !resolve) {
            continue;
        }
        pthread_mutex_unlock(&a->mu);
        rv = send_one(a, &copy, resolve);
        pthread_mutex_lock(&a->mu);
        if (rv != IGW_OK) {
            IGW_WARN("alert %s: cannot queue the incident (%s): retried at the next evaluation",
                     a->cfg->alert_rules[copy.rule].name, igw_strerror(rv));
            return;
        }
        if (resolve) {
            in->sent_resolve = true;
        } else {
            in->sent_fire = true;
            i--; /* a resolution may be due too */
        }
    }
}

/* A rule's condition became true: a new incident (the oldest kept one may be dropped). */
static void
open_incident(igw_alerts *a, unsigned ri, uint64_t now)
{
    struct rule_state *rs = &a->rules[ri];
    struct incident *in;

    if (a->ninc == IGW_ALERTS_KEPT) {
        a->inc_head = (a->inc_head + 1) % IGW_ALERTS_KEPT;
        a->ninc--;
        for (size_t k = 0; k < a->cfg->nalert_rules; k++) {
            a->rules[k].incident = a->rules[k].incident >= 0 ? a->rules[k].incident - 1 : -1;
        }
    }
    in = inc_at(a, a->ninc);
    memset(in, 0, sizeof(*in));
    in->rule = ri;
    in->seq = ++a->seq;
    in->started_ms = now;
    in->value = rs->value;
    rs->incident = (int)a->ninc;
    a->ninc++;
    rs->firing = true;
    IGW_WARN("alert firing name=%s kind=%s value=%" PRIu64 " threshold=%" PRIu64, rs->rule->name,
             alerts_kind_name(rs->rule->kind), rs->value, rs->rule->threshold);
}

static void
resolve_incident(igw_alerts *a, unsigned ri, uint64_t now)
{
    struct rule_state *rs = &a->rules[ri];

    if (rs->incident >= 0) {
        inc_at(a, (unsigned)rs->incident)->resolved_ms = now;
    }
    rs->incident = -1;
    rs->firing = false;
    IGW_INFO("alert resolved name=%s kind=%s value=%" PRIu64, rs->rule->name,
             alerts_kind_name(rs->rule->kind), rs->value);
}

static void
evaluate(igw_alerts *a)
{
    struct tick t;

    memset(&t, 0, sizeof(t));
    t.now_ms = igw_now_ms();
    t.have_q = igw_queue_stats(a->q, &t.qs) == IGW_OK;
    if (a->want_rs) {
        t.have_rs = igw_queue_route_stats(a->q, a->rs, ALERTS_ROUTES_MAX, &t.nrs) == IGW_OK;
        t.rs = a->rs;
    }
    pthread_mutex_lock(&a->mu);
    for (unsigned i = 0; i < a->cfg->nalert_rules; i++) {
        bool on = alerts_rule_eval(&a->rules[i], &t);
        if (on && !a->rules[i].firing) {
            open_incident(a, i, t.now_ms);
        } else if (!on && a->rules[i].firing) {
            resolve_incident(a, i, t.now_ms);
        }
    }
    send_pending(a);
    pthread_mutex_unlock(&a->mu);
}

static void *
alerts_main(void *arg)
{
    igw_alerts *a = arg;

    for (;;) {
        struct timespec ts;
        uint64_t ns;
        pthread_mutex_lock(&a->mu);
        clock_gettime(CLOCK_REALTIME, &ts);
        ns = (uint64_t)ts.tv_nsec + a->cfg->alerts_interval_ms * 1000000u;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        while (!a->stop && pthread_cond_timedwait(&a->cv, &a->mu, &ts) == 0) {
        }
        if (a->stop) {
            pthread_mutex_unlock(&a->mu);
            return NULL;
        }
        pthread_mutex_unlock(&a->mu);
        evaluate(a);
    }
}

int
igw_alerts_start(igw_alerts **out, const struct igw_config *cfg, igw_queue *q, igw_deliverer *d,
                 char *errbuf, size_t errlen)
{
    igw_alerts *a = IGW_NEW(igw_alerts);

    if (a == NULL) {
        return IGW_ENOMEM;
    }
    a->cfg = cfg;
    a->q = q;
    a->d = d;
    for (size_t i = 0; cfg->alerts_channel != NULL && i < cfg->nchannels; i++) {
        if (strcmp(cfg->channels[i].name, cfg->alerts_channel) == 0) {
            a->ch = &cfg->channels[i];
        }
    }
    a->rules = igw_calloc(cfg->nalert_rules + 1, sizeof(*a->rules));
    for (size_t i = 0; i < cfg->nalert_rules; i++) {
        int k = cfg->alert_rules[i].kind;
        a->want_rs = a->want_rs || k == IGW_ALERT_OLDEST_PENDING ||
                     (k == IGW_ALERT_QUEUE_DEPTH && cfg->alert_rules[i].route != NULL);
    }
    a->rs = a->want_rs ? igw_calloc(ALERTS_ROUTES_MAX, sizeof(*a->rs)) : NULL;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (a->rules == NULL || a->ch == NULL || (a->want_rs && a->rs == NULL)) {
        igw_errbuf_set(errbuf, errlen, "alerts: %s", a->ch == NULL ? "no channel" : "no memory");
        igw_alerts_stop(a);
        return a->ch == NULL ? IGW_EINVAL : IGW_ENOMEM;
    }
    for (size_t i = 0; i < cfg->nalert_rules; i++) {
        a->rules[i].rule = &cfg->alert_rules[i];
        a->rules[i].incident = -1;
    }
    if (pthread_create(&a->thread, NULL, alerts_main, a) != 0) {
        igw_errbuf_set(errbuf, errlen, "alerts: cannot start the thread");
        igw_alerts_stop(a);
        return IGW_EIO;
    }
    a->started = true;
    IGW_INFO("alerts: %zu rules every %" PRIu64 " ms, incidents to channel %s", cfg->nalert_rules,
             cfg->alerts_interval_ms, cfg->alerts_channel);
    *out = a;
    return IGW_OK;
}

void
igw_alerts_stop(igw_alerts *a)
{
    if (a == NULL) {
        return;
    }
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (a->started) {
        pthread_join(a->thread, NULL);
    }
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    igw_free(a->rules);
    igw_free(a->rs);
    igw_free(a);
}

static int
rule_json(igw_alerts *a, unsigned i, struct igw_buf *b)
{
    const struct igw_alert_rule *r = &a->cfg->alert_rules[i];
    int rv = igw_buf_puts(b, i > 0 ? ",{\"name\":" : "{\"name\":");

    rv = rv == IGW_OK ? igw_buf_json_str(b, r->name, strlen(r->name)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(b, ",\"kind\":\"%s\",\"route\":", alerts_kind_name(r->kind))
                      : rv;
    if (rv == IGW_OK) {
        rv = r->route != NULL ? igw_buf_json_str(b, r->route, strlen(r->route))
                              : igw_buf_puts(b, "null");
    }
    return rv == IGW_OK ? igw_buf_printf(b,
                                         ",\"threshold\":%" PRIu64 ",\"window_ms\":%" PRIu64
                                         ",\"state\":\"%s\",\"value\":%" PRIu64 "}",
                                         r->threshold, r->window_ms,
                                         a->rules[i].firing ? "firing" : "ok", a->rules[i].value)
                        : rv;
}

static int
incident_json(igw_alerts *a, const struct incident *in, bool first, struct igw_buf *b)
{
    int rv = first ? IGW_OK : igw_buf_putc(b, ',');
    rv = rv == IGW_OK ? incident_body(a, in, in->resolved_ms != 0, b) : rv;
    if (rv == IGW_OK) {
        b->len--; /* reopen the object: add the delivery state */
        rv = igw_buf_printf(b, ",\"state\":\"%s\",\"queued\":%s}",
                            in->resolved_ms != 0 ? "resolved" : "firing",
                            in->sent_fire ? "true" : "false");
    }
    return rv;
}

int
igw_alerts_json(igw_alerts *a, struct igw_buf *b)
{
    int rv = igw_buf_puts(b, "{\"rules\":[");

    if (a == NULL) {
        return rv == IGW_OK ? igw_buf_puts(b, "],\"items\":[]}") : rv;
    }
    pthread_mutex_lock(&a->mu);
    for (unsigned i = 0; rv == IGW_OK && i < a->cfg->nalert_rules; i++) {
        rv = rule_json(a, i, b);
    }
    rv = rv == IGW_OK ? igw_buf_puts(b, "],\"items\":[") : rv;
    for (unsigned i = a->ninc; rv == IGW_OK && i > 0; i--) {
        rv = incident_json(a, inc_at(a, i - 1), i == a->ninc, b);
    }
    pthread_mutex_unlock(&a->mu);
    return rv == IGW_OK ? igw_buf_puts(b, "]}") : rv;
}
