/* SPDX-License-Identifier: Apache-2.0 */
/* The writer's jobs (queue/jetstream/ only): one request each, run by js_ops.c's thread. */
#ifndef IGW_QUEUE_JS_JOB_H
#define IGW_QUEUE_JS_JOB_H

#include "js_int.h"

enum jsjob_kind {
    JK_SUBMIT = 1,
    JK_ROUND,
    JK_RELEASE,
    JK_PURGE,
    JK_SWEEP,
    JK_REPLAY,
    JK_RETRY_NOW,
    JK_CHECK /* js_check.c: the view's copy of a message is not the leader's */
};

struct jsquota {
    char route[IGW_QUEUE_NAME_MAX + 1];
    unsigned left;
};

struct qjs_job {
    struct qjs_job *next;
    enum jsjob_kind kind;
    bool done;
    int rv;
    /* submit */
    struct igw_buf rec; /* the message record */
    char *idem;         /* channel NUL key, or NULL */
    size_t idem_len;
    igw_queue_done_fn cb; /* NULL: a blocking put (waits on done) */
    void *arg;
    uint64_t id;
    bool dup;
    struct jsm *prep; /* the prepared view entry (linked after the acknowledgement) */
    struct jsidem *prep_idem;
    int slot_rv;       /* the publish result (ack handler) */
    natsStatus pub_st; /* the last publish attempt's result */
    jsErrCode pub_jerr;
    bool pub_full; /* refused: the stream is at a limit */
    bool acked;
    uint64_t seq;
    /* round */
    struct igw_queue_round *rd;
    void (*notify)(void *arg);
    void *notify_arg;
    struct jsquota *quota; /* NULL = no filter */
    unsigned nquota;
    /* repair */
    uint64_t mid;
    const char *route;
    uint64_t now_ms;
    unsigned limit;
    unsigned removed;
    const struct igw_queue_replay_route *routes;
    unsigned nroutes;
    bool detached; /* nobody waits: the writer frees it when done */
    bool remote;   /* purge: a marker another instance wrote (no event, no writes) */
    bool absent;   /* check: the stream leader has no message mid */
    bool fill;     /* check: mid is a hole of the view the leader now has (rec): add it */
};

/* One delivery write of a group (jsw_write_group). */
struct jsw_item {
    struct jsd *d;
    struct igw_buf rec; /* consumed */
    uint64_t last_rev;
    int rv; /* out: IGW_OK (applied to d), IGW_EAGAIN (lost a race: d refreshed), or an error */
    /* acknowledgement (ack handler) */
    bool acked;
    uint64_t seq;
    natsStatus st;
    jsErrCode jerr;
};

/* What the ack handler fills: submit jobs (jobs) or delivery writes (items). */
struct ackbatch {
    uint64_t gen;
    struct qjs_job **jobs;
    struct jsw_item *items;
    unsigned n;
    unsigned left;
};

/* Writes n delivery records at once (asynchronous publishes to the bucket's subjects with the
 * expected last revision, one wait for all acknowledgements), each as jsw_write_deliv would;
 * what fails in passing is written again one by one. Called without mu on the writer thread. */
void jsw_write_group(qjs *s, struct jsw_item *it, unsigned n);

void jsjob_free(struct qjs_job *j);
int jsw_queue(qjs *s, struct qjs_job *j);
int jsw_call(qjs *s, struct qjs_job *j);
void jsw_run_submits(qjs *s, struct qjs_job **jobs, unsigned n);
void jsw_run(qjs *s, struct qjs_job *j);
int jsw_write_deliv(qjs *s, struct jsd *d, struct igw_buf *rec, uint64_t last_rev);
/* js_view.c: links a filled idempotency entry (mu held; an existing key keeps its entry and e
 * is freed). */
void jsv_idem_link(qjs *s, struct jsidem *e);
void jsw_round(qjs *s, struct qjs_job *j);
void jsw_repair(qjs *s, struct qjs_job *j);
/* js_view.c: a message entry for record raw, allocated but not in the view (jsv_link adds it). */
struct jsm *jsv_prepare(const char *raw, size_t len);
/* Adds m (prepared) with id, unless id is already known (then m is freed). mu held. Returns the
 * entry in the view. */
struct jsm *jsv_link(qjs *s, struct jsm *m, uint64_t id);
/* Room for n more messages in the view. mu held. IGW_OK or IGW_ENOMEM. */
int jsv_reserve(qjs *s, size_t n);
void jsv_msg_free(struct jsm *m);
/* The JetStream ack handler of the writer's asynchronous publishes. */
void jsw_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure);

#endif /* IGW_QUEUE_JS_JOB_H */
