/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The delivery engine's observability (deliver_int.h, docs/METRICS.md): attempt durations, the
 * one log line per delivery outcome (delivered, delivered skipped, retry scheduled, dead; route,
 * id, status, duration; never a body or a credential) and the counters /metrics reads
 * (stats/stats.h). Runs on the delivery thread.
 */
#include <inttypes.h>
#include <time.h>

#include "igw/common.h"
#include "igw/log.h"
#include "delivery/deliver_int.h"
#include "stats/stats.h"

uint64_t
dlv_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
dlv_metrics_outcome(const struct igw_dlv *dl)
{
    char id[IGW_QUEUE_ID_STRLEN];
    uint64_t now = dlv_clock_us();
    uint64_t dur = now > dl->started_us ? now - dl->started_us : 0;
    uint64_t ms = dur / 1000u;
    uint32_t attempt = dl->claim.attempts + 1;
    const struct igw_route *r = dl->rs != NULL ? dl->rs->cfg : NULL;

    igw_queue_id_format(dl->claim.id, id);
    switch (dl->result) {
    case IGW_DELIVER_OK:
        if (dl->skipped) {
            IGW_INFO("delivered id=%s route=%s attempt=%" PRIu32 " duration_ms=%" PRIu64
                     " skipped=\"%s\"",
                     id, dl->claim.route, attempt, ms, dl->error + 9 /* after "skipped: " */);
            igw_stats_delivery(r, IGW_OUTCOME_DELIVERED, dur);
            break;
        }
        IGW_INFO("delivered id=%s route=%s attempt=%" PRIu32 " status=%d duration_ms=%" PRIu64, id,
                 dl->claim.route, attempt, dl->status, ms);
        igw_stats_delivery(r, IGW_OUTCOME_DELIVERED, dur);
        break;
    case IGW_DELIVER_RETRY: {
        uint64_t wall = igw_now_ms();
        uint64_t in_ms = dl->next_due_ms > wall ? dl->next_due_ms - wall : 0;
        IGW_INFO("retry id=%s route=%s attempt=%" PRIu32 " status=%d duration_ms=%" PRIu64
                 " in_ms=%" PRIu64 " error=\"%s\"",
                 id, dl->claim.route, attempt, dl->status, ms, in_ms, dl->error);
        igw_stats_delivery(r, IGW_OUTCOME_RETRY, dur);
        break;
    }
    default:
        IGW_WARN("dead-letter id=%s route=%s attempts=%" PRIu32 " status=%d duration_ms=%" PRIu64
                 " error=\"%s\"",
                 id, dl->claim.route, attempt, dl->status, ms, dl->error);
        igw_stats_delivery(r, IGW_OUTCOME_DEAD, dur);
        break;
    }
}

void
dlv_metrics_circuit(const struct route_state *rs)
{
    unsigned st = rs->br.state == BREAKER_OPEN ? 1u : rs->br.state == BREAKER_HALF_OPEN ? 2u : 0u;
    igw_stats_circuit(rs->cfg, st, igw_now_ms());
}

void
igw_dlv_set_status(struct igw_dlv *dl, int status)
{
    dl->status = status;
}
