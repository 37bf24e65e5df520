/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JetStream queue backend: open and close, the streams, the watchers that keep the view
 * current, and the operations table. Design: docs/JETSTREAM.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/log.h"
#include "js_int.h"
#include "js_job.h"

static bool
valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > QJS_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}

static void
fail(char *errbuf, size_t errlen, const char *what, natsStatus st)
{
    if (errbuf != NULL && errlen > 0) {
        const char *last = nats_GetLastError(NULL);
        snprintf(errbuf, errlen, "queue jetstream: %s: %s", what,
                 last != NULL && *last ? last : natsStatus_GetText(st));
    }
}

/* ---- the watchers ------------------------------------------------------------------------- */

static void
on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    qjs *s = closure;
    jsMsgMetaData *meta = NULL;

    IGW_UNUSED(nc);
    IGW_UNUSED(sub);
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        uint64_t id = meta->Sequence.Stream;
        const char *data = natsMsg_GetData(msg);
        size_t len = (size_t)natsMsg_GetDataLength(msg);
        const char *mid = NULL;
        bool own = natsMsgHeader_Get(msg, "Nats-Msg-Id", &mid) == NATS_OK && mid != NULL &&
                   strncmp(mid, s->own_prefix, s->own_prefix_len) == 0;
        struct jsm *m;
        pthread_mutex_lock(&s->mu);
        if (id > s->msg_seen) {
            s->msg_seen = id;
        }
        m = jsv_find(s, id);
        if (m != NULL && m->checked && m->raw != NULL && !jsc_same(m, data, len)) {
            /* the leader's record is kept; the node we read from has another one */
            s->ctr.msg_diverged++;
            IGW_WARN("queue jetstream: message %llu as the NATS node this instance reads from "
                     "stores it is not the stream leader's: that node diverged (the leader's "
                     "record is used)",
                     (unsigned long long)id);
        } else if (m == NULL && !jsv_purged(s, id)) {
            m = jsv_add(s, id, data, len, false);
            if (m == NULL) {
                IGW_WARN("queue jetstream: message %llu not loaded (unreadable or out of memory)",
                         (unsigned long long)id);
            } else {
                m->own = own;
            }
        }
        if (meta->NumPending == 0) {
            s->msgs_caught_up = true;
        }
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        jsMsgMetaData_Destroy(meta);
    } else {
    }
    natsMsg_Destroy(msg);
}

/* The message of a delivery record another instance wrote: it may not have arrived yet. mu
 * held. */
static struct jsm *
wait_msg(qjs *s, uint64_t id)
{
    uint64_t until = igw_now_ms() + 20; /* else dropped: a later compare-and-set refreshes it */
    struct jsm *m;
    while ((m = jsv_find(s, id)) == NULL && id > s->max_id && !jsv_purged(s, id) &&
           !s->watch_stop && igw_now_ms() < until) {
        js_cv_wait(s, 20);
    }
    return m;
}

static void
on_entry(qjs *s, kvEntry *e, struct igw_buf *tmp)
{
    uint64_t id = 0;
    unsigned ri = 0;
    kvOperation op = kvEntry_Operation(e);
    char kind = jskey_parse(kvEntry_Key(e), &id, &ri, tmp);

    pthread_mutex_lock(&s->mu);
    if (kvEntry_Revision(e) > s->kv_seen) {
        s->kv_seen = kvEntry_Revision(e);
    }
    if (kind == 'd' && op == kvOp_Put) {
        struct jsm *m = wait_msg(s, id);
        if (m == NULL && !jsv_purged(s, id)) {
            s->ctr.watch_drop++;
        }
        if (m != NULL && ri < m->nroutes) {
            jsv_apply_deliv(s, &m->d[ri], kvEntry_Value(e), (size_t)kvEntry_ValueLen(e),
                            kvEntry_Revision(e));
        }
    } else if (kind == 'i') {
        struct jsidem *ie = jsv_idem_find(s, tmp->ptr, tmp->len);
        if (op == kvOp_Put && kvEntry_ValueLen(e) == 16) {
            const unsigned char *v = kvEntry_Value(e);
            uint64_t mid = 0;
            uint64_t cr = 0;
            for (int i = 0; i < 8; i++) {
                mid |= (uint64_t)v[i] << (8 * i);
                cr |= (uint64_t)v[8 + i] << (8 * i);
            }
            jsv_idem_put(s, tmp->ptr, tmp->len, mid, cr, kvEntry_Revision(e));
        } else if (op != kvOp_Put && ie != NULL && ie->rev < kvEntry_Revision(e)) {
            jsv_idem_del(s, ie);
        }
    } else if (kind == 'x' && op == kvOp_Put) {
        if (!s->writer_started) {
            struct jsm *m = jsv_find(s, id);
            jsv_mark_purged(s, id);
            if (m != NULL) {
                jsv_remove(s, m);
            }
        } else if (jsv_find(s, id) != NULL) {
            struct qjs_job *j = IGW_NEW(struct qjs_job);
            if (j != NULL) {
                j->kind = JK_PURGE;
                j->mid = id;
                j->remote = true;
                j->detached = true;
                pthread_mutex_unlock(&s->mu);
                if (jsw_queue(s, j) != IGW_OK) {
                    jsjob_free(j);
                }
                return;
            }
        } else {
            jsv_mark_purged(s, id);
        }
    }
    pthread_mutex_unlock(&s->mu);
}

static void *
kv_main(void *arg)
{
    qjs *s = arg;
    struct igw_buf tmp;

    igw_buf_init(&tmp, 4096);
    for (;;) {
        kvEntry *e = NULL;
        natsStatus st;
        bool reset;
        pthread_mutex_lock(&s->mu);
        if (s->watch_stop) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        reset = s->watch_reset_req;
        s->watch_reset_req = false;
        pthread_mutex_unlock(&s->mu);
        if (reset) {
            kvWatcher *w = NULL;
            /* the watchdog (js_mon.c): the bucket is ahead of what we were told; a new watcher
             * delivers every key's latest record again (only newer revisions change the view) */
            if (kvStore_WatchAll(&w, s->kv, NULL) == NATS_OK) {
                kvWatcher *old = s->watch;
                IGW_WARN("queue jetstream: the bucket watcher made no progress: recreated");
                pthread_mutex_lock(&s->mu);
                s->watch = w;
                s->ctr.watch_reset++;
                pthread_mutex_unlock(&s->mu);
                kvWatcher_Stop(old);
                kvWatcher_Destroy(old);
            }
        }
        st = kvWatcher_Next(&e, s->watch, 200);
        if (st == NATS_TIMEOUT) {
            continue;
        }
        if (st != NATS_OK) {
            pthread_mutex_lock(&s->mu);
            s->ctr.watch_err++;
            if (!s->watch_stop) {
                pthread_mutex_unlock(&s->mu);
                nats_Sleep(100);
                continue;
            }
            pthread_mutex_unlock(&s->mu);
            break;
        }
        if (e == NULL) {
            pthread_mutex_lock(&s->mu);
            s->kv_initial_done = true;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        on_entry(s, e, &tmp);
        kvEntry_Destroy(e);
    }
    igw_buf_fini(&tmp);
    return NULL;
}

/* Waits (mu held) until *flag is set, at most ms. */
static bool
wait_flag(qjs *s, bool *flag, uint64_t ms)
{
    uint64_t until = igw_now_ms() + ms;
    while (!*flag && igw_now_ms() < until) {
        js_cv_wait(s, 20);
    }
    return *flag;
}

/* ---- open and close ----------------------------------------------------------------------- */

static void js_close(void *be);

/* The comma-separated URLs of servers (spaces around them allowed) as the server pool. */
static natsStatus
set_servers(natsOptions *no, const char *servers)
{
    const char *urls[32];
    char *copy = igw_strdup(servers);
    int n = 0;
    natsStatus st;

    if (copy == NULL) {
        return NATS_NO_MEMORY;
    }
    for (char *p = copy; *p != '\0' && n < 32;) {
        char *end = strchr(p, ',');
        if (end != NULL) {
            *end = '\0';
        }
        while (*p == ' ') {
            p++;
        }
        for (char *t = p + strlen(p); t > p && t[-1] == ' '; t--) {
            t[-1] = '\0';
        }
        if (*p != '\0') {
            urls[n++] = p;
        }
        if (end == NULL) {
            break;
        }
        p = end + 1;
    }
    st = n > 0 ? natsOptions_SetServers(no, urls, n) : NATS_INVALID_ARG;
    igw_free(copy);
    return st;
}

static natsStatus
connect_nats(qjs *s, const struct igw_queue_jetstream_opts *o)
{
    natsOptions *no = NULL;
    natsStatus st = natsOptions_Create(&no);

    if (st == NATS_OK) {
        st = set_servers(no, o->servers ? o->servers : "nats://127.0.0.1:4222");
    }
    if (st == NATS_OK) {
        st = natsOptions_SetMaxReconnect(no, -1); /* ride out a node's loss */
    }
    if (st == NATS_OK) {
        st = natsOptions_SetReconnectWait(no, 250);
    }
    if (st == NATS_OK) {
        st = natsOptions_SetTimeout(no, s->timeout_ms);
    }
    if (st == NATS_OK) {
        st = natsOptions_SetName(no, s->instance);
    }
    if (st == NATS_OK && o->creds_file != NULL) {
        st = natsOptions_SetUserCredentialsFromFiles(no, o->creds_file, NULL);
    }
    if (st == NATS_OK && (o->tls_ca != NULL || o->tls_cert != NULL)) {
        st = natsOptions_SetSecure(no, true);
    }
    if (st == NATS_OK && o->tls_ca != NULL) {
        st = natsOptions_LoadCATrustedCertificates(no, o->tls_ca);
    }
    if (st == NATS_OK && o->tls_cert != NULL) {
        st = natsOptions_LoadCertificatesChain(no, o->tls_cert, o->tls_key);
    }
    if (st == NATS_OK) {
        st = natsConnection_Connect(&s->nc, no);
    }
    natsOptions_Destroy(no);
    return st;
}

static natsStatus
ensure_storage(qjs *s, unsigned replicas, jsErrCode *jerr)
{
    jsStreamInfo *si = NULL;
    natsStatus st = js_GetStreamInfo(&si, s->js, s->msg_stream, NULL, jerr);

    if (st == NATS_NOT_FOUND) {
        jsStreamConfig sc;
        const char *subj[1] = {s->msg_subject};
        jsStreamConfig_Init(&sc);
        sc.Name = s->msg_stream;
        sc.Subjects = subj;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        sc.Replicas = (int64_t)replicas;
        sc.Discard = js_DiscardNew;
        st = js_AddStream(&si, s->js, &sc, NULL, jerr);
    }
    if (st != NATS_OK) {
        return st;
    }
    if (si->State.Msgs == 0) {
        s->msgs_caught_up = true;
    }
    jsStreamInfo_Destroy(si);
    st = js_KeyValue(&s->kv, s->js, s->bucket);
    if (st == NATS_NOT_FOUND) {
        kvConfig kc;
        kvConfig_Init(&kc);
        kc.Bucket = s->bucket;
        kc.History = 1;
        kc.Replicas = (int)replicas;
        kc.StorageType = js_FileStorage;
        st = js_CreateKeyValue(&s->kv, s->js, &kc);
    }
    return st;
}

static int
js_open(void **be, const struct igw_queue_opts *opts, char *errbuf, size_t errlen)
{
    const struct igw_queue_jetstream_opts *o = opts->backend_opts;
    const char *name = o && o->name ? o->name : "igw";
    const char *inst = o && o->instance ? o->instance : "igw";
    unsigned replicas = o && o->replicas ? o->replicas : 1;
    jsOptions jo;
    jsSubOptions so;
    jsErrCode jerr = 0;
    natsStatus st;
    qjs *s;
    int rv;

    if (o == NULL || !valid_name(name) || !valid_name(inst) || replicas > 5 ||
        (o->tls_cert == NULL) != (o->tls_key == NULL)) {
        if (errbuf != NULL && errlen > 0) {
            snprintf(errbuf, errlen, "queue jetstream: %s",
                     o == NULL ? "no options"
                               : "bad name, instance, replicas (1..5) or TLS certificate/key pair");
        }
        return IGW_EINVAL;
    }
    s = IGW_NEW(qjs);
    if (s == NULL) {
        return IGW_ENOMEM;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->lis_mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    snprintf(s->msg_stream, sizeof(s->msg_stream), "%s_MSG", name);
    snprintf(s->bucket, sizeof(s->bucket), "%s_STATE", name);
    snprintf(s->kv_stream, sizeof(s->kv_stream), "KV_%s", s->bucket);
    snprintf(s->msg_subject, sizeof(s->msg_subject), "igwq.%s.msg", name);
    snprintf(s->instance, sizeof(s->instance), "%s", inst);
    s->ack_wait_ms = o->ack_wait_ms ? o->ack_wait_ms : 60000;
    s->timeout_ms = (int64_t)(o->timeout_ms ? o->timeout_ms : 5000);
    s->max_batch = o->max_batch ? o->max_batch : 256;
    s->retain_delivered_ms = opts->retain_delivered_ms;
    s->retain_idem_ms = opts->retain_idempotency_ms;
    {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s->opened_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
        snprintf(s->own_prefix, sizeof(s->own_prefix), "%s.%llx.", s->instance,
                 (unsigned long long)s->opened_us);
        s->own_prefix_len = strlen(s->own_prefix);
    }

    if ((st = connect_nats(s, o)) != NATS_OK) {
        fail(errbuf, errlen, "connect", st);
        js_close(s);
        return IGW_EIO;
    }
    jsOptions_Init(&jo);
    jo.Wait = s->timeout_ms;
    jo.PublishAsync.AckHandler = jsw_ack;
    jo.PublishAsync.AckHandlerClosure = s;
    jo.PublishAsync.MaxPending = 4096;
    if ((st = natsConnection_JetStream(&s->js, s->nc, &jo)) != NATS_OK ||
        (st = ensure_storage(s, replicas, &jerr)) != NATS_OK) {
        fail(errbuf, errlen, "streams", st);
        js_close(s);
        return IGW_EIO;
    }
    jsSubOptions_Init(&so);
    so.Ordered = true;
    so.Stream = s->msg_stream;
    if ((st = js_Subscribe(&s->msub, s->js, s->msg_subject, on_msg, s, NULL, &so, &jerr)) !=
        NATS_OK) {
        fail(errbuf, errlen, "subscribe", st);
        js_close(s);
        return IGW_EIO;
    }
    pthread_mutex_lock(&s->mu);
    rv = wait_flag(s, &s->msgs_caught_up, 60000) ? IGW_OK : IGW_EIO;
    pthread_mutex_unlock(&s->mu);
    if (rv == IGW_OK && (st = kvStore_WatchAll(&s->watch, s->kv, NULL)) != NATS_OK) {
        rv = IGW_EIO;
    }
    if (rv == IGW_OK && pthread_create(&s->kvthread, NULL, kv_main, s) != 0) {
        rv = IGW_ENOMEM;
    }
    s->kvthread_started = rv == IGW_OK;
    if (rv == IGW_OK) {
        pthread_mutex_lock(&s->mu);
        rv = wait_flag(s, &s->kv_initial_done, 60000) ? IGW_OK : IGW_EIO;
        pthread_mutex_unlock(&s->mu);
    }
    rv = rv ? rv : jsw_recover(s);
    rv = rv ? rv : jsw_start(s);
    rv = rv ? rv : jsc_start(s);
    rv = rv ? rv : jsm_start(s);
    if (rv != IGW_OK) {
        if (errbuf != NULL && errlen > 0) {
            snprintf(errbuf, errlen, "queue jetstream: loading the queue: %s", igw_strerror(rv));
        }
        js_close(s);
        return rv;
    }
    *be = s;
    return IGW_OK;
}

/* IGW_JS_DUMP=1: the active deliveries of the view on stderr at close (for debugging tests). */
static void
dump_view(qjs *s)
{
    uint64_t now = igw_now_ms();
    const char *e = getenv("IGW_JS_DUMP");
    if (e == NULL || *e != '1') {
        return;
    }
    pthread_mutex_lock(&s->mu);
    fprintf(stderr,
            "JSDUMP %s counters: cas_lost=%llu stale_fixed=%llu refresh_failed=%llu "
            "group_timeout=%llu lease_taken=%llu watch_err=%llu watch_drop=%llu watch_reset=%llu "
            "cas_refused=%llu rev_fixed=%llu msg_catchup=%llu msg_checked=%llu "
            "msg_diverged=%llu kv_seen=%llu msg_seen=%llu max_id=%llu\n",
            s->instance, (unsigned long long)s->ctr.cas_lost,
            (unsigned long long)s->ctr.stale_fixed, (unsigned long long)s->ctr.refresh_failed,
            (unsigned long long)s->ctr.group_timeout, (unsigned long long)s->ctr.lease_taken,
            (unsigned long long)s->ctr.watch_err, (unsigned long long)s->ctr.watch_drop,
            (unsigned long long)s->ctr.watch_reset, (unsigned long long)s->ctr.cas_refused,
            (unsigned long long)s->ctr.rev_fixed, (unsigned long long)s->ctr.msg_catchup,
            (unsigned long long)s->ctr.msg_checked, (unsigned long long)s->ctr.msg_diverged,
            (unsigned long long)s->kv_seen, (unsigned long long)s->msg_seen,
            (unsigned long long)s->max_id);
    for (size_t i = 0; i < s->nms; i++) {
        const struct jsm *m = s->ms[i];
        for (unsigned r = 0; m->active > 0 && r < m->nroutes; r++) {
            const struct jsd *d = &m->d[r];
            if (d->state == IGW_DS_PENDING || d->state == IGW_DS_INFLIGHT) {
                fprintf(stderr,
                        "JSDUMP %s id=%llu route=%s state=%u owner=%s lease=%lld due=%lld "
                        "rev=%llu att=%u key=%.*s\n",
                        s->instance, (unsigned long long)m->id, d->route, d->state, d->owner,
                        (long long)(d->lease_ms - now), (long long)(d->due_ms - now),
                        (unsigned long long)d->rev, d->attempts, (int)d->okey_len,
                        d->okey ? d->okey : "");
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
}

static void
js_close(void *be)
{
    qjs *s = be;

    dump_view(s);
    jsw_stop(s);
    if (s->msub != NULL) {
        natsSubscription_Unsubscribe(s->msub);
        natsSubscription_Destroy(s->msub);
    }
    pthread_mutex_lock(&s->mu);
    s->watch_stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    /* the watcher thread sees watch_stop within its 200 ms wait (it may have replaced s->watch) */
    if (s->kvthread_started) {
        pthread_join(s->kvthread, NULL);
    }
    if (s->mon_started) {
        pthread_join(s->mon, NULL);
    }
    if (s->checker_started) {
        pthread_join(s->checker, NULL);
    }
    kvWatcher_Destroy(s->watch);
    kvStore_Destroy(s->kv);
    jsCtx_Destroy(s->js);
    if (s->nc != NULL) {
        natsConnection_Close(s->nc);
        natsConnection_Destroy(s->nc);
    }
    jsv_free(s);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->lis_mu);
    igw_free(s);
}

const struct igw_queue_backend igw_queue_backend_jetstream = {
    .name = "jetstream",
    .description = "NATS JetStream: a stream and a key-value bucket, shared by several instances",
    .open = js_open,
    .close = js_close,
    .submit = jso_submit,
    .put = jso_put,
    .claim = jso_claim,
    .complete = jso_complete,
    .round_start = jso_round_start,
    .round_done = jso_round_done,
    .round_wait = jso_round_wait,
    .next_due = jsv_next_due,
    .stats = jsv_stats,
    .deliveries = jsv_deliveries,
    .dead_get = jsv_dead_get,
    .release = jso_release,
#ifdef QJS_ADMIN
    .retry_now = jso_retry_now,
    .list = jsa_list,
    .route_stats = jsa_route_stats,
    .channel_stats = jsa_channel_stats,
    .attempts = jsa_attempts,
    .payload_get = jsa_payload_get,
#endif
    .purge = jso_purge,
    .sweep = jso_sweep,
    .message_get = jsv_message_get,
    .replay = jso_replay,
    .set_listener = jso_set_listener,
};
