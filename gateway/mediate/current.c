/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The current mediation engine (mediate/mediate.h, igw_mediate_submit_current): how the
 * delivery thread reaches the engine for a route's answer_from without the deliverer holding
 * an engine handle. The deliverer starts before the engine and stops after it, so the handle
 * is set and cleared under a mutex that a submit holds: a submit never races the engine's
 * stop and free.
 */
#include <pthread.h>

#include "igw/common.h"
#include "mediate/mediate.h"

static pthread_mutex_t cur_mtx = PTHREAD_MUTEX_INITIALIZER;
static igw_mediate *cur;

void
igw_mediate_set_current(igw_mediate *e)
{
    pthread_mutex_lock(&cur_mtx);
    cur = e;
    pthread_mutex_unlock(&cur_mtx);
}

int
igw_mediate_submit_current(const struct igw_mediate_req *rq)
{
    int rv = IGW_ECLOSED;

    pthread_mutex_lock(&cur_mtx);
    if (cur != NULL) {
        igw_mediate_submit(cur, rq);
        rv = IGW_OK;
    }
    pthread_mutex_unlock(&cur_mtx);
    return rv;
}
