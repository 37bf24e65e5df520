/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /metrics (docs/METRICS.md): the Prometheus text exposition format 0.0.4 of the counters
 * in stats/stats.h and a snapshot of the queue (igw_queue_stats and igw_queue_route_stats,
 * which never wait for the writer). Names and labels follow Prometheus's conventions: igw_ prefix,
 * base units (seconds, bytes), _total on counters, one HELP and TYPE per family. Built on nng's
 * task thread.
 */
#include <inttypes.h>
#include <string.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "admin/admin_int.h"
#include "stats/stats.h"
#include "payments/payments.h"

static int
family(struct igw_buf *b, const char *name, const char *type, const char *help)
{
    return igw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: names are [A-Za-z0-9_.-] already; escape anyway (\\, \", \n). */
static int
label(struct igw_buf *b, const char *v)
{
    int rv = IGW_OK;
    for (const char *p = v; rv == IGW_OK && *p != '\0'; p++) {
        if (*p == '\\' || *p == '"') {
            rv = igw_buf_putc(b, '\\');
            rv = rv == IGW_OK ? igw_buf_putc(b, *p) : rv;
        } else if (*p == '\n') {
            rv = igw_buf_puts(b, "\\n");
        } else {
            rv = igw_buf_putc(b, *p);
        }
    }
    return rv;
}

static const char *
chan_name(const struct igw_stats_channel *c)
{
    return c->channel != NULL ? c->channel->name : "";
}

static int
write_channels(struct igw_buf *b)
{
    unsigned n = igw_stats_nchannels();
    struct igw_stats_channel c;
    int rv = family(b, "igw_messages_accepted_total", "counter",
                    "Messages committed to the queue, by channel (duplicates excluded).");

    for (unsigned i = 0; rv == IGW_OK && i + 1 < n && igw_stats_channel_at(i, &c); i++) {
        rv = igw_buf_puts(b, "igw_messages_accepted_total{channel=\"");
        rv = rv == IGW_OK ? label(b, chan_name(&c)) : rv;
        rv = rv == IGW_OK ? igw_buf_printf(b, "\"} %" PRIu64 "\n", c.accepted) : rv;
    }
    rv = rv == IGW_OK ? family(b, "igw_mapping_errors_total", "counter",
                               "Messages a mapping refused at intake, by channel.")
                      : rv;
    for (unsigned i = 0; rv == IGW_OK && i + 1 < n && igw_stats_channel_at(i, &c); i++) {
        rv = igw_buf_puts(b, "igw_mapping_errors_total{channel=\"");
        rv = rv == IGW_OK ? label(b, chan_name(&c)) : rv;
        rv = rv == IGW_OK ? igw_buf_printf(b, "\"} %" PRIu64 "\n", c.map_errors) : rv;
    }
    rv = rv == IGW_OK ? family(b, "igw_http_requests_total", "counter",
                               "HTTP intake answers by channel (empty: no channel matched) and "
                               "status code (other: a code not listed).")
                      : rv;
    for (unsigned i = 0; rv == IGW_OK && i < n && igw_stats_channel_at(i, &c); i++) {
        for (unsigned k = 0; rv == IGW_OK && k < IGW_STATS_NCODES; k++) {
            unsigned code = igw_stats_code_at(k);
            if (c.http[k] == 0) {
                continue;
            }
            rv = igw_buf_puts(b, "igw_http_requests_total{channel=\"");
            rv = rv == IGW_OK ? label(b, chan_name(&c)) : rv;
            rv = rv == IGW_OK && code != 0 ? igw_buf_printf(b, "\",code=\"%u", code)
                 : rv == IGW_OK            ? igw_buf_puts(b, "\",code=\"other")
                                           : rv;
            rv = rv == IGW_OK ? igw_buf_printf(b, "\"} %" PRIu64 "\n", c.http[k]) : rv;
        }
    }
    return rv;
}

static int
write_outcomes(struct igw_buf *b, unsigned n)
{
    static const char *const names[IGW_STATS_NOUTCOMES] = {"delivered", "retry", "dead"};
    struct igw_stats_route r;
    int rv = family(b, "igw_deliveries_total", "counter",
                    "Finished delivery attempts by route and outcome (delivered, retry: failed "
                    "and scheduled again, dead: dead-lettered).");

    for (unsigned i = 0; rv == IGW_OK && i < n && igw_stats_route_at(i, &r); i++) {
        for (unsigned k = 0; rv == IGW_OK && k < IGW_STATS_NOUTCOMES; k++) {
            rv = igw_buf_puts(b, "igw_deliveries_total{route=\"");
            rv = rv == IGW_OK ? label(b, r.route->name) : rv;
            rv = rv == IGW_OK ? igw_buf_printf(b, "\",outcome=\"%s\"} %" PRIu64 "\n", names[k],
                                               r.outcomes[k])
                              : rv;
        }
    }
    return rv;
}

static int
write_histogram(struct igw_buf *b, unsigned n)
{
    struct igw_stats_route r;
    int rv = family(b, "igw_delivery_duration_seconds", "histogram",
                    "Duration of delivery attempts by route, from start to outcome.");

    for (unsigned i = 0; rv == IGW_OK && i < n && igw_stats_route_at(i, &r); i++) {
        uint64_t cum = 0;
        for (unsigned k = 0; rv == IGW_OK && k < IGW_STATS_NBUCKETS; k++) {
            double le = igw_stats_bucket_le(k);
            cum += r.buckets[k];
            rv = igw_buf_puts(b, "igw_delivery_duration_seconds_bucket{route=\"");
            rv = rv == IGW_OK ? label(b, r.route->name) : rv;
            rv = rv == IGW_OK && le >= 0 ? igw_buf_printf(b, "\",le=\"%g", le)
                 : rv == IGW_OK          ? igw_buf_puts(b, "\",le=\"+Inf")
                                         : rv;
            rv = rv == IGW_OK ? igw_buf_printf(b, "\"} %" PRIu64 "\n", cum) : rv;
        }
        rv = rv == IGW_OK ? igw_buf_puts(b, "igw_delivery_duration_seconds_sum{route=\"") : rv;
        rv = rv == IGW_OK ? label(b, r.route->name) : rv;
        rv = rv == IGW_OK ? igw_buf_printf(b, "\"} %.6f\n", (double)r.dur_sum_us / 1e6) : rv;
        rv = rv == IGW_OK ? igw_buf_puts(b, "igw_delivery_duration_seconds_count{route=\"") : rv;
        rv = rv == IGW_OK ? label(b, r.route->name) : rv;
        rv = rv == IGW_OK ? igw_buf_printf(b, "\"} %" PRIu64 "\n", r.dur_count) : rv;
    }
    return rv;
}

static int
write_circuits(struct igw_buf *b, unsigned n)
{
    struct igw_stats_route r;
    int rv = family(b, "igw_circuit_state", "gauge",
                    "Circuit breaker state by route: 0 closed, 1 open, 2 half-open.");

    for (unsigned i = 0; rv == IGW_OK && i < n && igw_stats_route_at(i, &r); i++) {
        rv = igw_buf_puts(b, "igw_circuit_state{route=\"");
        rv = rv == IGW_OK ? label(b, r.route->name) : rv;
        rv = rv == IGW_OK ? igw_buf_printf(b, "\"} %u\n", r.circuit) : rv;
    }
    return rv;
}

static int
write_queue(igw_admin *a, struct igw_buf *b)
{
    struct igw_queue_stats s;
    int rv = igw_queue_stats(a->q, &s);

    if (rv != IGW_OK) {
        return IGW_OK; /* the queue families are left out; /readyz says why */
    }
    rv = family(b, "igw_queue_deliveries", "gauge", "Deliveries in the queue by state.");
    rv = rv == IGW_OK ? igw_buf_printf(b,
                                       "igw_queue_deliveries{state=\"pending\"} %" PRIu64 "\n"
                                       "igw_queue_deliveries{state=\"inflight\"} %" PRIu64 "\n"
                                       "igw_queue_deliveries{state=\"delivered\"} %" PRIu64 "\n"
                                       "igw_queue_deliveries{state=\"dead\"} %" PRIu64 "\n",
                                       s.pending, s.inflight, s.delivered, s.dead)
                      : rv;
    rv = rv == IGW_OK ? family(b, "igw_queue_messages", "gauge", "Messages stored in the queue.")
                      : rv;
    rv = rv == IGW_OK ? igw_buf_printf(b, "igw_queue_messages %" PRIu64 "\n", s.messages) : rv;
    rv = rv == IGW_OK ? family(b, "igw_queue_storage_used_bytes", "gauge",
                               "Bytes of the queue's storage in use.")
                      : rv;
    rv = rv == IGW_OK
             ? igw_buf_printf(b, "igw_queue_storage_used_bytes %" PRIu64 "\n", s.used_bytes)
             : rv;
    rv = rv == IGW_OK ? family(b, "igw_queue_storage_limit_bytes", "gauge",
                               "Capacity of the queue's storage (0: unbounded).")
                      : rv;
    rv = rv == IGW_OK
             ? igw_buf_printf(b, "igw_queue_storage_limit_bytes %" PRIu64 "\n", s.capacity_bytes)
             : rv;
    rv = rv == IGW_OK ? family(b, "igw_queue_full", "gauge",
                               "1 while intake refuses new messages because the queue is full.")
                      : rv;
    return rv == IGW_OK ? igw_buf_printf(b, "igw_queue_full %d\n", s.full ? 1 : 0) : rv;
}

/* Per route: deliveries by state and the oldest pending age, from the queue's per-route
 * counters (kept by its writer: no scan, never waits for it); every configured route shows. */
static int
write_route_queue(igw_admin *a, struct igw_buf *b)
{
    static const char *const states[] = {"pending", "inflight", "delivered", "dead"};
    struct igw_queue_route_stats *rs = igw_calloc(ADMIN_STATS_ROUTES_MAX, sizeof(*rs));
    uint64_t now = igw_now_ms();
    unsigned nr = 0;
    int rv;

    if (rs == NULL || igw_queue_route_stats(a->q, rs, ADMIN_STATS_ROUTES_MAX, &nr) != IGW_OK) {
        igw_free(rs);
        return rs == NULL ? IGW_ENOMEM : IGW_OK; /* left out, as the other queue families */
    }
    nr = admin_stats_configured(a, rs, nr);
    rv = family(b, "igw_queue_route_deliveries", "gauge",
                "Deliveries in the queue by route and state.");
    for (unsigned i = 0; rv == IGW_OK && i < nr; i++) {
        const uint64_t v[] = {rs[i].pending, rs[i].inflight, rs[i].delivered, rs[i].dead};
        for (unsigned k = 0; rv == IGW_OK && k < IGW_ARRAY_LEN(states); k++) {
            rv = igw_buf_puts(b, "igw_queue_route_deliveries{route=\"");
            rv = rv == IGW_OK ? label(b, rs[i].route) : rv;
            rv = rv == IGW_OK ? igw_buf_printf(b, "\",state=\"%s\"} %" PRIu64 "\n", states[k], v[k])
                              : rv;
        }
    }
    rv = rv == IGW_OK ? family(b, "igw_queue_oldest_pending_age_seconds", "gauge",
                               "Age of the route's oldest pending delivery (0: none pending).")
                      : rv;
    for (unsigned i = 0; rv == IGW_OK && i < nr; i++) {
        uint64_t t = rs[i].oldest_pending_ms;
        uint64_t age = t != 0 && now > t ? now - t : 0;
        rv = igw_buf_puts(b, "igw_queue_oldest_pending_age_seconds{route=\"");
        rv = rv == IGW_OK ? label(b, rs[i].route) : rv;
        rv = rv == IGW_OK
                 ? igw_buf_printf(b, "\"} %" PRIu64 ".%03u\n", age / 1000, (unsigned)(age % 1000))
                 : rv;
    }
    igw_free(rs);
    return rv;
}

int
admin_metrics_write(igw_admin *a, struct igw_buf *b)
{
    unsigned n = igw_stats_nroutes();
    int rv = write_channels(b);

    rv = rv == IGW_OK ? write_outcomes(b, n) : rv;
    rv = rv == IGW_OK ? write_histogram(b, n) : rv;
    rv = rv == IGW_OK ? write_circuits(b, n) : rv;
    rv = rv == IGW_OK ? write_queue(a, b) : rv;
    rv = rv == IGW_OK ? write_route_queue(a, b) : rv;
    rv = rv == IGW_OK ? igw_payments_metrics(b) : rv; /* docs/PAYMENTS.md */
    return rv;
}
