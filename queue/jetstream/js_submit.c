/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Accepting messages on JetStream: a group of submits is published asynchronously to the
 * message stream and the writer waits for every acknowledgement (the PubAck means the stream's
 * replicas have it: durable). The stream sequence is the message id. Idempotency keys are
 * created in the bucket after the publish; when another instance created the same key first,
 * our copy is deleted again and the answer is that instance's id (duplicate).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/log.h"
#include "js_int.h"
#include "js_job.h"

void
jsjob_free(struct qjs_job *j)
{
    if (j == NULL) {
        return;
    }
    igw_buf_fini(&j->rec);
    igw_free(j->idem);
    if (j->prep != NULL) {
        jsv_msg_free(j->prep);
    }
    igw_free(j->prep_idem);
    igw_free(j->quota);
    igw_free(j);
}

static struct qjs_job *
submit_job(const struct igw_queue_msg *m, int *rv)
{
    struct qjs_job *j = IGW_NEW(struct qjs_job);

    *rv = IGW_ENOMEM;
    if (j == NULL) {
        return NULL;
    }
    j->kind = JK_SUBMIT;
    if ((*rv = jsrec_encode_msg(&j->rec, m, igw_now_ms())) != IGW_OK) {
        igw_free(j);
        return NULL;
    }
    *rv = IGW_ENOMEM;
    if (m->idem_key != NULL) {
        size_t cl = strlen(m->channel);
        j->idem_len = cl + 1 + m->idem_key_len;
        j->idem = igw_malloc(j->idem_len);
        j->prep_idem = igw_malloc(sizeof(struct jsidem) + j->idem_len);
        if (j->idem == NULL || j->prep_idem == NULL) {
            jsjob_free(j);
            return NULL;
        }
        memcpy(j->idem, m->channel, cl + 1);
        memcpy(j->idem + cl + 1, m->idem_key, m->idem_key_len);
    }
    j->prep = jsv_prepare(j->rec.ptr, j->rec.len);
    if (j->prep == NULL) {
        jsjob_free(j);
        return NULL;
    }
    *rv = IGW_OK;
    return j;
}

int
jso_submit(void *be, const struct igw_queue_msg *m, igw_queue_done_fn cb, void *arg)
{
    qjs *s = be;
    int rv;
    struct qjs_job *j = submit_job(m, &rv);

    if (j == NULL) {
        return rv;
    }
    j->cb = cb;
    j->arg = arg;
    rv = jsw_queue(s, j);
    if (rv != IGW_OK) {
        jsjob_free(j);
    }
    return rv;
}

int
jso_put(void *be, const struct igw_queue_msg *m, uint64_t *id, bool *duplicate)
{
    qjs *s = be;
    int rv;
    struct qjs_job *j = submit_job(m, &rv);

    if (j == NULL) {
        return rv;
    }
    rv = jsw_call(s, j);
    if (rv == IGW_OK) {
        if (id != NULL) {
            *id = j->id;
        }
        if (duplicate != NULL) {
            *duplicate = j->dup;
        }
    }
    jsjob_free(j);
    return rv;
}

/* ---- the writer's side -------------------------------------------------------------------- */

static struct ackbatch *
cur_batch(qjs *s)
{
    return (struct ackbatch *)s->ackbatch;
}

void
jsw_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    qjs *s = closure;
    const char *slot = NULL;
    unsigned long long gen = 0;
    unsigned i = 0;

    IGW_UNUSED(js);
    if (natsMsgHeader_Get(msg, "Igw-Slot", &slot) != NATS_OK ||
        sscanf(slot, "%llu.%u", &gen, &i) != 2) {
        natsMsg_Destroy(msg);
        return;
    }
    pthread_mutex_lock(&s->mu);
    if (cur_batch(s) != NULL && cur_batch(s)->gen == gen && i < cur_batch(s)->n) {
        struct qjs_job *j = cur_batch(s)->jobs ? cur_batch(s)->jobs[i] : NULL;
        struct jsw_item *it = j == NULL ? &cur_batch(s)->items[i] : NULL;
        if (it != NULL) {
            it->acked = pa != NULL;
            it->seq = pa ? pa->Sequence : 0;
            it->st = pa ? NATS_OK : pae ? pae->Err : NATS_ERR;
            it->jerr = pae ? pae->ErrCode : 0;
        } else if (pa != NULL) {
            j->seq = pa->Sequence;
            j->slot_rv = IGW_OK;
            j->acked = true;
        } else {
            j->pub_st = pae ? pae->Err : NATS_ERR;
            j->pub_jerr = pae ? pae->ErrCode : 0; /* logged once, when the group gives up */
            j->pub_full = pae != NULL && js_full_error(pae->ErrCode, pae->ErrText);
        }
        cur_batch(s)->left--;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    natsMsg_Destroy(msg);
}

/* Publishes the records of the jobs (rv IGW_OK, not duplicates) and waits for their
 * acknowledgements; a publish that failed in passing (no stream leader yet, a timeout, a
 * reconnect) is published again with the same Nats-Msg-Id, so JetStream stores it once (its
 * duplicate window) and acknowledges the retry with the first sequence. */
static void
publish_group(qjs *s, struct qjs_job **jobs, unsigned n)
{
    uint64_t batch = ++s->ack_gen;
    uint64_t deadline = igw_now_ms() + (uint64_t)s->timeout_ms;
    int64_t back = 20;

    for (unsigned i = 0; i < n; i++) {
        jobs[i]->slot_rv = IGW_ETIMEDOUT;
        jobs[i]->pub_st = NATS_TIMEOUT;
        jobs[i]->pub_full = false;
        jobs[i]->acked = false;
    }
    for (;;) {
        struct ackbatch ab = {++s->ack_gen, jobs, NULL, n, 0};
        bool again = false;

        pthread_mutex_lock(&s->mu);
        s->ackbatch = &ab;
        pthread_mutex_unlock(&s->mu);
        for (unsigned i = 0; i < n; i++) {
            natsMsg *msg = NULL;
            char slot[48];
            char msgid[QJS_NAME_MAX + 48];
            natsStatus st;
            if (jobs[i]->rv != IGW_OK || jobs[i]->dup || jobs[i]->acked) {
                continue;
            }
            snprintf(slot, sizeof(slot), "%llu.%u", (unsigned long long)ab.gen, i);
            /* unique across restarts: the instance, when it opened, the group, the slot */
            snprintf(msgid, sizeof(msgid), "%s.%llx.%llu.%u", s->instance,
                     (unsigned long long)s->opened_us, (unsigned long long)batch, i);
            st =
                natsMsg_Create(&msg, s->msg_subject, NULL, jobs[i]->rec.ptr, (int)jobs[i]->rec.len);
            if (st == NATS_OK) {
                st = natsMsgHeader_Set(msg, "Igw-Slot", slot);
            }
            if (st == NATS_OK) {
                st = natsMsgHeader_Set(msg, "Nats-Msg-Id", msgid);
            }
            pthread_mutex_lock(&s->mu);
            ab.left++;
            pthread_mutex_unlock(&s->mu);
            if (st == NATS_OK) {
                jsPubOptions po;
                jsPubOptions_Init(&po);
                po.MaxWait = s->timeout_ms; /* a lost acknowledgement frees its slot */
                st = js_PublishMsgAsync(s->js, &msg, &po);
            }
            if (st != NATS_OK) {
                natsMsg_Destroy(msg);
                pthread_mutex_lock(&s->mu);
                ab.left--;
                jobs[i]->pub_st = st;
                pthread_mutex_unlock(&s->mu);
            }
        }
        pthread_mutex_lock(&s->mu);
        while (ab.left > 0 && igw_now_ms() < deadline) {
            js_cv_wait(s, 20);
        }
        s->ackbatch = NULL; /* later acknowledgements of this round are dropped */
        for (unsigned i = 0; i < n; i++) {
            again = again || (jobs[i]->rv == IGW_OK && !jobs[i]->dup && !jobs[i]->acked &&
                              js_transient(jobs[i]->pub_st));
        }
        pthread_mutex_unlock(&s->mu);
        if (!again || igw_now_ms() + (uint64_t)back >= deadline) {
            break;
        }
        nats_Sleep(back);
        back = back < 250 ? back * 2 : 250;
    }
    for (unsigned i = 0; i < n; i++) {
        if (jobs[i]->rv == IGW_OK && !jobs[i]->dup) {
            if (!jobs[i]->acked && jobs[i]->pub_full) {
                jobs[i]->rv = IGW_ENOSPC;
                pthread_mutex_lock(&s->mu);
                if (!s->full) {
                    IGW_WARN("queue jetstream: the message stream is at its limit: accepts "
                             "refused");
                }
                s->full = true;
                pthread_mutex_unlock(&s->mu);
                continue;
            }
            jobs[i]->rv =
                jobs[i]->acked ? IGW_OK : js_err(jobs[i]->pub_st, jobs[i]->pub_jerr, "publish");
            jobs[i]->id = jobs[i]->seq;
            if (jobs[i]->rv != IGW_OK) {
                IGW_WARN("queue jetstream: accept not acknowledged: %s", igw_strerror(jobs[i]->rv));
            }
        }
    }
}

/* Creates the idempotency key of j (published as j->id); another instance's key wins. */
static void
claim_key(qjs *s, struct qjs_job *j)
{
    struct igw_buf key;
    unsigned char val[16];
    uint64_t created = igw_now_ms();
    uint64_t rev = 0;
    natsStatus st;

    if (jskey_idem(&key, j->idem, j->idem_len) != IGW_OK) {
        j->rv = IGW_ENOMEM;
        return;
    }
    for (int i = 0; i < 8; i++) {
        val[i] = (unsigned char)(j->id >> (8 * i));
        val[8 + i] = (unsigned char)(created >> (8 * i));
    }
    JS_RETRY(s, st, kvStore_Create(&rev, s->kv, key.ptr, val, sizeof(val)));
    if (st == NATS_OK) {
        struct jsidem *e = j->prep_idem;
        j->prep_idem = NULL;
        e->id = j->id;
        e->created_ms = created;
        e->rev = rev;
        e->klen = j->idem_len;
        memcpy(e->key, j->idem, j->idem_len);
        pthread_mutex_lock(&s->mu);
        jsv_idem_link(s, e);
        pthread_mutex_unlock(&s->mu);
    } else {
        /* read from the stream leader: a lagging replica may not have the key yet */
        char *v = NULL;
        size_t vlen = 0;
        uint64_t krev = 0;
        bool put = false;
        int gr = js_get_last(s, key.ptr, &v, &vlen, &krev, &put);
        if (gr == IGW_OK && put && vlen == 16 && memcmp(v, val, 8) == 0) {
            /* our own create whose answer was lost */
            pthread_mutex_lock(&s->mu);
            jsv_idem_put(s, j->idem, j->idem_len, j->id, created, krev);
            pthread_mutex_unlock(&s->mu);
        } else if (gr == IGW_OK && put && vlen == 16) {
            const unsigned char *u = (const unsigned char *)v;
            uint64_t id = 0;
            uint64_t cr = 0;
            jsErrCode jerr = 0;
            natsStatus gs;
            for (int i = 0; i < 8; i++) {
                id |= (uint64_t)u[i] << (8 * i);
                cr |= (uint64_t)u[8 + i] << (8 * i);
            }
            JS_RETRY(s, gs, js_DeleteMsg(s->js, s->msg_stream, j->id, NULL, &jerr)); /* ours */
            j->id = id;
            j->dup = true;
            pthread_mutex_lock(&s->mu);
            jsv_idem_put(s, j->idem, j->idem_len, id, cr, krev);
            pthread_mutex_unlock(&s->mu);
        } else {
            j->rv = js_err(st, 0, "idempotency key");
        }
        igw_free(v);
    }
    igw_buf_fini(&key);
}

void
jsw_run_submits(qjs *s, struct qjs_job **jobs, unsigned n)
{
    bool any = false;

    pthread_mutex_lock(&s->mu);
    if (s->full || jsv_reserve(s, n) != IGW_OK) {
        for (unsigned i = 0; i < n; i++) {
            jobs[i]->rv = s->full ? IGW_ENOSPC : IGW_ENOMEM;
        }
        pthread_mutex_unlock(&s->mu);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        struct qjs_job *j = jobs[i];
        struct jsidem *e;
        j->rv = IGW_OK;
        if (j->idem == NULL) {
            continue;
        }
        if ((e = jsv_idem_find(s, j->idem, j->idem_len)) != NULL) {
            j->dup = true;
            j->id = e->id;
            continue;
        }
        for (unsigned k = 0; k < i; k++) { /* the same key earlier in this group */
            if (jobs[k]->idem != NULL && !jobs[k]->dup && jobs[k]->idem_len == j->idem_len &&
                memcmp(jobs[k]->idem, j->idem, j->idem_len) == 0) {
                j->dup = true;
                j->id = UINT64_MAX - k; /* resolved below */
                break;
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    publish_group(s, jobs, n);
    for (unsigned i = 0; i < n; i++) {
        if (jobs[i]->rv == IGW_OK && !jobs[i]->dup && jobs[i]->idem != NULL) {
            claim_key(s, jobs[i]);
        }
    }
    pthread_mutex_lock(&s->mu);
    for (unsigned i = 0; i < n; i++) {
        struct qjs_job *j = jobs[i];
        struct jsm *m;
        if (j->rv != IGW_OK) {
            continue;
        }
        if (j->dup && j->id > UINT64_MAX - 1024) {
            struct qjs_job *first = jobs[UINT64_MAX - j->id];
            j->rv = first->rv;
            j->id = first->id;
            continue;
        }
        if (j->dup) {
            continue;
        }
        any = true;
        m = jsv_find(s, j->id);
        if (m != NULL && !m->checked) {
            /* its echo came first, from the node this instance reads from */
            if (jsc_same(m, j->rec.ptr, j->rec.len)) {
                m->checked = true;
            } else {
                s->ctr.msg_diverged++;
                IGW_WARN("queue jetstream: message %llu as the NATS node this instance reads "
                         "from stores it is not the one acknowledged: that node diverged (the "
                         "acknowledged record is used)",
                         (unsigned long long)j->id);
                jsv_remove(s, m); /* on the writer: nothing holds it */
            }
        }
        j->prep->checked = true;
        m = jsv_link(s, j->prep, j->id);
        j->prep = NULL;
        if (m != NULL) {
            jsw_emit(s, IGW_QEV_ACCEPTED, m, NULL, NULL);
        }
    }
    if (any) {
        s->commits++;
    }
    pthread_mutex_unlock(&s->mu);
}
