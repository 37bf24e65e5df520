/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The commit step both intake transports share (http/commit.h): submit, then answer from the
 * queue's commit callback. Runs on nng task threads (submit, fail) and on the queue's writer
 * thread (the callback); c is touched by one of them at a time.
 */
#include "igw/common.h"
#include "igw/log.h"
#include "http/commit.h"
#include "stats/stats.h"

void
igw_commit_fail(struct igw_commit *c, int err)
{
    struct igw_http_verdict v;

    igw_http_verdict_of(IGW_HTTP_INTAKE, err, NULL, NULL, &v);
    if (v.status == 500) {
        IGW_ERROR("%s commit failed channel=%s: %s", c->ops->name, c->ch->name, igw_strerror(err));
    }
    c->ops->refuse(c->arg, &v); /* may free c */
}

/* Runs on the queue's writer thread after the group commit (or a failure). */
static void
commit_cb(void *arg, int rv, uint64_t id, bool duplicate)
{
    struct igw_commit *c = arg;
    char hex[IGW_QUEUE_ID_STRLEN];

    if (rv != IGW_OK) {
        igw_commit_fail(c, rv);
        return;
    }
    igw_queue_id_format(id, hex);
    IGW_INFO("accepted id=%s channel=%s bytes=%zu%s%s", hex, c->ch->name, c->bytes, c->ops->via,
             duplicate ? " duplicate=true" : "");
    if (!duplicate) {
        igw_stats_accepted(c->ch);
    }
    if (!duplicate && c->ch->nroutes > 0 && c->d != NULL) {
        igw_deliverer_kick(c->d);
    }
    c->ops->accept(c->arg, id, duplicate); /* may free c */
}

void
igw_commit_submit(struct igw_commit *c, igw_queue *q, const struct igw_queue_msg *m)
{
    int rv = igw_queue_submit(q, m, commit_cb, c);

    if (rv != IGW_OK) {
        igw_commit_fail(c, rv); /* on success commit_cb owns c (it may already have run) */
    }
}
