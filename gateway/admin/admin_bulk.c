/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bulk repairs (admin_int.h, docs/ADMIN-API.md "Bulk"): POST /admin/bulk/{release,replay,purge,
 * retry} with {"filter":{...},"dry_run":bool}. A dry run counts on the worker thread and
 * answers at once; a real run becomes a job on the bulk thread, which walks the selection
 * newest first in pages (igw_queue_list, keyset, so its own changes never make it skip or
 * repeat a message) and applies the action message by message; GET /admin/jobs/{id} shows its
 * progress. Jobs are kept in a fixed table (the oldest finished one is reused).
 */
#include <pthread.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/log.h"
#include "admin/admin_int.h"
#include "delivery/deliver.h"

#define JOBS_KEPT 64   /* jobs remembered */
#define JOBS_ACTIVE 4  /* queued or running at once */
#define PAGE 100       /* messages per igw_queue_list call */
#define COUNT_PAGE 500 /* messages per call while counting */

enum job_state { JS_FREE = 0, JS_QUEUED, JS_RUNNING, JS_DONE, JS_FAILED };

struct bulk_job {
    enum job_state state;
    uint64_t seq;
    char id[IGW_QUEUE_ID_STRLEN];
    enum admin_bulk_action act;
    struct admin_filter af;
    uint64_t total;
    uint64_t done;
    uint64_t changed;
    uint64_t failed;
    uint64_t started_ms;
    uint64_t finished_ms;
    struct igw_admin_caller caller; /* who started it (audit) */
};

struct admin_bulk_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct bulk_job jobs[JOBS_KEPT]; /* under mu */
    uint64_t seq;                    /* under mu */
    bool stop;                       /* under mu */
    pthread_t thread;
    bool started;
};

static const char *const act_names[] = {"", "release", "replay", "purge", "retry"};
static const char *const state_names[] = {"free", "queued", "running", "done", "failed"};

/* The action's own filter: release looks at dead deliveries, retry at pending ones. */
static void
filter_for(enum admin_bulk_action act, struct admin_filter *af)
{
    if (act == BULK_RELEASE) {
        af->f.state = IGW_DS_DEAD;
    } else if (act == BULK_RETRY) {
        af->f.state = IGW_DS_PENDING;
    }
}

/* Messages the filter selects (every page, the partial ones too). */
static int
count_all(igw_admin *a, const struct igw_queue_filter *f, uint64_t *count)
{
    struct igw_queue_list_item *items = igw_calloc(COUNT_PAGE, sizeof(*items));
    struct igw_queue_list_page pg;
    uint64_t before = 0;
    int rv = items == NULL ? IGW_ENOMEM : IGW_OK;

    *count = 0;
    do {
        rv = rv == IGW_OK ? igw_queue_list(a->q, f, before, COUNT_PAGE, items, &pg) : rv;
        *count += rv == IGW_OK ? pg.n : 0;
        before = pg.next;
    } while (rv == IGW_OK && before != 0);
    igw_free(items);
    return rv;
}

/* Applies the action to one message: 1 changed, 0 nothing to do, -1 refused. */
static int
apply_one(igw_admin *a, enum admin_bulk_action act, const char *route, uint64_t id,
          struct igw_buf *tmp)
{
    unsigned n = 0;
    int rv;

    switch (act) {
    case BULK_RELEASE:
        rv = igw_queue_release(a->q, id, route, &n);
        break;
    case BULK_RETRY:
        rv = igw_queue_retry_now(a->q, id, route, &n);
        break;
    case BULK_PURGE:
        rv = igw_queue_purge(a->q, id);
        n = 1;
        break;
    default:
        igw_buf_reset(tmp);
        return admin_replay_id(a, NULL, id, route, NULL, "replayed", tmp) == 200 ? 1 : -1;
    }
    if (rv == IGW_ENOENT) {
        return 0; /* purged meanwhile */
    }
    return rv != IGW_OK ? -1 : n > 0 ? 1 : 0;
}

/* The filter as JSON (for the audit): the fields that are set, in the request's names. */
static int
filter_json(const struct admin_filter *af, struct igw_buf *d)
{
    const struct igw_queue_filter *f = &af->f;
    bool first = true;
    int rv = igw_buf_putc(d, '{');

#define SEP() (rv = rv == IGW_OK && !first ? igw_buf_putc(d, ',') : rv, first = false)
    if (f->channel != NULL) {
        SEP();
        rv = rv == IGW_OK ? igw_buf_puts(d, "\"channel\":") : rv;
        rv = rv == IGW_OK ? igw_buf_json_str(d, f->channel, strlen(f->channel)) : rv;
    }
    if (f->route != NULL) {
        SEP();
        rv = rv == IGW_OK ? igw_buf_puts(d, "\"route\":") : rv;
        rv = rv == IGW_OK ? igw_buf_json_str(d, f->route, strlen(f->route)) : rv;
    }
    if (f->state != 0) {
        SEP();
        rv = rv == IGW_OK ? igw_buf_printf(d, "\"state\":\"%s\"", admin_state_name(f->state)) : rv;
    }
    if (f->since_ms != 0) {
        SEP();
        rv = rv == IGW_OK ? igw_buf_printf(d, "\"since\":%llu", (unsigned long long)f->since_ms)
                          : rv;
    }
    if (f->until_ms != 0) {
        SEP();
        rv = rv == IGW_OK ? igw_buf_printf(d, "\"until\":%llu", (unsigned long long)f->until_ms)
                          : rv;
    }
    if (f->order_key != NULL) {
        SEP();
        rv = rv == IGW_OK ? igw_buf_puts(d, "\"order_key\":") : rv;
        rv = rv == IGW_OK ? igw_buf_json_str(d, f->order_key, f->order_key_len) : rv;
    }
    if (f->idem_key != NULL) {
        SEP();
        rv = rv == IGW_OK ? igw_buf_puts(d, "\"idempotency_key\":") : rv;
        rv = rv == IGW_OK ? igw_buf_json_str(d, f->idem_key, f->idem_key_len) : rv;
    }
#undef SEP
    return rv == IGW_OK ? igw_buf_putc(d, '}') : rv;
}

/* The audit record of a bulk job: "bulk_<action>" on the job id with its filter, and when it
 * ended (done true) the counts. */
static void
audit_job(igw_admin *a, const struct bulk_job *jb, bool done)
{
    struct igw_buf d;
    int rv;

    igw_buf_init(&d, 8192);
    rv = igw_buf_puts(&d, "{\"filter\":");
    rv = rv == IGW_OK ? filter_json(&jb->af, &d) : rv;
    if (rv == IGW_OK && done) {
        rv = igw_buf_printf(&d, ",\"state\":\"%s\",\"count\":%llu,\"changed\":%llu,\"failed\":%llu",
                            state_names[jb->state], (unsigned long long)jb->total,
                            (unsigned long long)jb->changed, (unsigned long long)jb->failed);
    }
    rv = rv == IGW_OK ? igw_buf_putc(&d, '}') : rv;
    {
        char action[32];
        snprintf(action, sizeof(action), "bulk_%s%s", act_names[jb->act], done ? "_done" : "");
        igw_audit_write(a->audit, &jb->caller, action, jb->id, rv == IGW_OK ? d.ptr : NULL);
    }
    igw_buf_fini(&d);
}

static void
job_run(igw_admin *a, struct bulk_job *jb)
{
    struct admin_bulk_state *s = a->bulk;
    struct igw_queue_list_item *items = igw_calloc(PAGE, sizeof(*items));
    struct igw_queue_list_page pg;
    struct igw_buf tmp;
    uint64_t total = 0;
    uint64_t before = 0;
    const char *route = jb->af.f.route;
    bool stop = false;
    int rv = items == NULL ? IGW_ENOMEM : count_all(a, &jb->af.f, &total);

    igw_buf_init(&tmp, 1u << 20);
    pthread_mutex_lock(&s->mu);
    jb->total = total;
    pthread_mutex_unlock(&s->mu);
    while (rv == IGW_OK && !stop) {
        rv = igw_queue_list(a->q, &jb->af.f, before, PAGE, items, &pg);
        for (unsigned i = 0; rv == IGW_OK && i < pg.n; i++) {
            int r = apply_one(a, jb->act, route, items[i].id, &tmp);
            pthread_mutex_lock(&s->mu);
            jb->done++;
            jb->changed += r > 0 ? 1 : 0;
            jb->failed += r < 0 ? 1 : 0;
            stop = s->stop;
            pthread_mutex_unlock(&s->mu);
        }
        if (a->d != NULL && pg.n > 0 && jb->act != BULK_PURGE) {
            igw_deliverer_kick(a->d);
        }
        before = pg.next;
        stop = stop || before == 0;
    }
    pthread_mutex_lock(&s->mu);
    jb->state = rv == IGW_OK ? JS_DONE : JS_FAILED;
    jb->finished_ms = igw_now_ms();
    pthread_mutex_unlock(&s->mu);
    audit_job(a, jb, true); /* the job's counts are final: only this thread wrote them */
    IGW_INFO("admin bulk %s job=%s done: total=%llu changed=%llu failed=%llu%s", act_names[jb->act],
             jb->id, (unsigned long long)total, (unsigned long long)jb->changed,
             (unsigned long long)jb->failed, rv == IGW_OK ? "" : " (stopped by a queue error)");
    igw_buf_fini(&tmp);
    igw_free(items);
}

static struct bulk_job *
next_queued(struct admin_bulk_state *s)
{
    struct bulk_job *best = NULL;

    for (unsigned i = 0; i < JOBS_KEPT; i++) {
        if (s->jobs[i].state == JS_QUEUED && (best == NULL || s->jobs[i].seq < best->seq)) {
            best = &s->jobs[i];
        }
    }
    return best;
}

static void *
bulk_main(void *arg)
{
    igw_admin *a = arg;
    struct admin_bulk_state *s = a->bulk;

    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct bulk_job *jb = next_queued(s);
        if (jb == NULL) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        jb->state = JS_RUNNING;
        pthread_mutex_unlock(&s->mu);
        job_run(a, jb); /* jb stays in place: slots of running jobs are never reused */
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int
admin_bulk_init(igw_admin *a)
{
    struct admin_bulk_state *s = IGW_NEW(struct admin_bulk_state);

    if (s == NULL) {
        return IGW_ENOMEM;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    a->bulk = s;
    if (pthread_create(&s->thread, NULL, bulk_main, a) != 0) {
        return IGW_ENOMEM;
    }
    s->started = true;
    return IGW_OK;
}

void
admin_bulk_fini(igw_admin *a)
{
    struct admin_bulk_state *s = a->bulk;

    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->started) {
        pthread_join(s->thread, NULL);
    }
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    igw_free(s);
    a->bulk = NULL;
}

/* ---- endpoints (worker thread) ----------------------------------------------------------- */

static int
job_json(const struct bulk_job *jb, struct igw_buf *b)
{
    int rv = igw_buf_printf(b,
                            "{\"id\":\"%s\",\"action\":\"%s\",\"state\":\"%s\",\"total\":%llu,"
                            "\"done\":%llu,\"changed\":%llu,\"failed\":%llu,\"started_ms\":%llu,"
                            "\"finished_ms\":",
                            jb->id, act_names[jb->act],
                            jb->state == JS_QUEUED ? "running" : state_names[jb->state],
                            (unsigned long long)jb->total, (unsigned long long)jb->done,
                            (unsigned long long)jb->changed, (unsigned long long)jb->failed,
                            (unsigned long long)jb->started_ms);
    if (rv == IGW_OK && jb->finished_ms != 0) {
        return igw_buf_printf(b, "%llu}", (unsigned long long)jb->finished_ms);
    }
    return rv == IGW_OK ? igw_buf_puts(b, "null}") : rv;
}

/* A slot for a new job under s->mu: a free one, else the oldest finished; NULL when
 * JOBS_ACTIVE jobs are queued or running. */
static struct bulk_job *
job_slot(struct admin_bulk_state *s)
{
    struct bulk_job *old = NULL;
    unsigned active = 0;

    for (unsigned i = 0; i < JOBS_KEPT; i++) {
        struct bulk_job *jb = &s->jobs[i];
        active += jb->state == JS_QUEUED || jb->state == JS_RUNNING ? 1 : 0;
        if (jb->state == JS_FREE && (old == NULL || old->state != JS_FREE)) {
            old = jb;
        } else if ((jb->state == JS_DONE || jb->state == JS_FAILED) &&
                   (old == NULL || (old->state != JS_FREE && jb->seq < old->seq))) {
            old = jb;
        }
    }
    return active >= JOBS_ACTIVE ? NULL : old;
}

/* The request body into *af and *dry; HTTP status of an error body in b, or 0. */
static int
bulk_request(const struct admin_job *j, struct admin_filter *af, bool *dry, struct igw_buf *b)
{
    struct igw_buf body;
    const char *msg = "the body is {\"filter\":{...},\"dry_run\":bool}";
    cJSON *o = NULL;
    const cJSON *dr;
    int st = 0;

    igw_buf_init(&body, ADMIN_BULK_BODY_MAX);
    if (admin_body_read(j, &body) != IGW_OK) {
        igw_buf_fini(&body);
        return admin_err_json(b, 400, "bad_bulk", msg, NULL);
    }
    o = cJSON_ParseWithLength(body.ptr, body.len);
    dr = o != NULL ? cJSON_GetObjectItemCaseSensitive(o, "dry_run") : NULL;
    if (o == NULL || !cJSON_IsObject(o) || (dr != NULL && !cJSON_IsBool(dr))) {
        st = admin_err_json(b, 400, "bad_bulk", msg, NULL);
    } else if (!admin_filter_json(cJSON_GetObjectItemCaseSensitive(o, "filter"), af, &msg)) {
        st = admin_err_json(b, 400, "bad_filter", msg, NULL);
    }
    *dry = dr != NULL && cJSON_IsTrue(dr);
    cJSON_Delete(o);
    igw_buf_fini(&body);
    return st;
}

int
admin_op_bulk(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    struct admin_bulk_state *s = a->bulk;
    struct admin_filter *af = IGW_NEW(struct admin_filter);
    struct bulk_job *jb;
    uint64_t count = 0;
    bool dry = false;
    int st;
    int rv;

    if (af == NULL) {
        return admin_queue_err(b, IGW_ENOMEM);
    }
    st = bulk_request(j, af, &dry, b);
    if (st != 0) {
        igw_free(af);
        return st;
    }
    filter_for(j->bulk, af);
    if (dry) {
        rv = count_all(a, &af->f, &count);
        igw_free(af);
        if (rv != IGW_OK) {
            return rv == IGW_EINVAL ? admin_err_json(b, 400, "bad_filter", "bad filter", NULL)
                                    : admin_queue_err(b, rv);
        }
        return igw_buf_printf(b, "{\"dry_run\":true,\"action\":\"%s\",\"count\":%llu}",
                              act_names[j->bulk], (unsigned long long)count) == IGW_OK
                   ? 200
                   : admin_queue_err(b, IGW_ENOMEM);
    }
    pthread_mutex_lock(&s->mu);
    jb = job_slot(s);
    if (jb != NULL) {
        memset(jb, 0, sizeof(*jb));
        jb->seq = ++s->seq;
        igw_queue_id_format(jb->seq, jb->id);
        jb->act = j->bulk;
        jb->af = *af; /* the filter's strings point into af: re-point them */
        jb->af.f.channel = af->f.channel != NULL ? jb->af.channel : NULL;
        jb->af.f.route = af->f.route != NULL ? jb->af.route : NULL;
        jb->af.f.order_key = af->f.order_key != NULL ? jb->af.order_key : NULL;
        jb->af.f.idem_key = af->f.idem_key != NULL ? jb->af.idem_key : NULL;
        jb->af.f.text = NULL;
        jb->started_ms = igw_now_ms();
        jb->caller = j->caller;
        audit_job(a, jb, false); /* durable before the job may start and before the answer */
        jb->state = JS_QUEUED;
        pthread_cond_signal(&s->cv);
        st = job_json(jb, b) == IGW_OK ? 202 : admin_queue_err(b, IGW_ENOMEM);
    }
    pthread_mutex_unlock(&s->mu);
    igw_free(af);
    if (jb == NULL) {
        return admin_err_json(b, 503, "busy", "4 bulk jobs are already running; retry later", NULL);
    }
    IGW_INFO("admin bulk %s job=%s started who=%s", act_names[j->bulk], jb->id, j->caller.name);
    return st;
}

int
admin_op_job(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    struct admin_bulk_state *s = a->bulk;
    int st = 0;

    pthread_mutex_lock(&s->mu);
    for (unsigned i = 0; st == 0 && i < JOBS_KEPT; i++) {
        if (s->jobs[i].state != JS_FREE && strcmp(s->jobs[i].id, j->job) == 0) {
            st = job_json(&s->jobs[i], b) == IGW_OK ? 200 : admin_queue_err(b, IGW_ENOMEM);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return st != 0 ? st : admin_err_json(b, 404, "not_found", "no such job", NULL);
}
