/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin jobs on the worker thread (admin_int.h): queue statistics, one message's record with
 * its deliveries and dead letters, release and purge. Each writes its JSON answer (or an error
 * body) into b and returns the HTTP status.
 */
#include <stdio.h>
#include <string.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/log.h"
#include "igw/utf8.h"
#include "admin/admin_int.h"
#include "core/ingest.h"
#include "delivery/deliver.h"

#define BODY_SHOW_MAX (64u << 10) /* message bodies shown inline up to this */
#define DEAD_SHOW_MAX 4096        /* dead-letter response bytes shown */

static int
counts_json(struct igw_buf *b, uint64_t p, uint64_t i, uint64_t d, uint64_t x)
{
    return igw_buf_printf(
        b, "{\"pending\":%llu,\"inflight\":%llu,\"delivered\":%llu,\"dead\":%llu}",
        (unsigned long long)p, (unsigned long long)i, (unsigned long long)d, (unsigned long long)x);
}

/* Per channel: its message count, and its routes' deliveries summed (the routes of a channel
 * are the configured ones, whose full names are "channel.route"). */
static int
stats_channels(igw_admin *a, const struct igw_queue_route_stats *rs, unsigned nr, struct igw_buf *b)
{
    struct igw_queue_channel_stats *cs = igw_calloc(ADMIN_STATS_ROUTES_MAX, sizeof(*cs));
    unsigned nc = 0;
    int rv =
        cs == NULL ? IGW_ENOMEM : igw_queue_channel_stats(a->q, cs, ADMIN_STATS_ROUTES_MAX, &nc);

    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"channels\":[") : rv;
    for (unsigned i = 0; rv == IGW_OK && i < nc; i++) {
        const struct igw_channel *ch =
            igw_channel_by_name(a->cfg, cs[i].channel, strlen(cs[i].channel));
        uint64_t c[4] = {0, 0, 0, 0};
        for (unsigned k = 0; ch != NULL && k < nr; k++) {
            for (size_t r = 0; r < ch->nroutes; r++) {
                if (strcmp(ch->routes[r].name, rs[k].route) == 0) {
                    c[0] += rs[k].pending;
                    c[1] += rs[k].inflight;
                    c[2] += rs[k].delivered;
                    c[3] += rs[k].dead;
                }
            }
        }
        rv = igw_buf_puts(b, i > 0 ? ",{\"channel\":" : "{\"channel\":");
        rv = rv == IGW_OK ? igw_buf_json_str(b, cs[i].channel, strlen(cs[i].channel)) : rv;
        rv = rv == IGW_OK
                 ? igw_buf_printf(
                       b, ",\"messages\":%llu,\"deliveries\":", (unsigned long long)cs[i].messages)
                 : rv;
        rv = rv == IGW_OK ? counts_json(b, c[0], c[1], c[2], c[3]) : rv;
        rv = rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    }
    igw_free(cs);
    return rv == IGW_OK ? igw_buf_putc(b, ']') : rv;
}

/* Whether route is among the first nr of rs. */
static bool
route_listed(const struct igw_queue_route_stats *rs, unsigned nr, const char *route)
{
    for (unsigned i = 0; i < nr; i++) {
        if (strcmp(rs[i].route, route) == 0) {
            return true;
        }
    }
    return false;
}

unsigned
admin_stats_configured(igw_admin *a, struct igw_queue_route_stats *rs, unsigned nr)
{
    for (size_t c = 0; c < a->cfg->nchannels; c++) {
        const struct igw_channel *ch = &a->cfg->channels[c];
        for (size_t r = 0; r < ch->nroutes && nr < ADMIN_STATS_ROUTES_MAX; r++) {
            const char *name = ch->routes[r].name;
            if (strlen(name) <= IGW_QUEUE_NAME_MAX && !route_listed(rs, nr, name)) {
                memset(&rs[nr], 0, sizeof(rs[nr]));
                memcpy(rs[nr].route, name, strlen(name) + 1);
                nr++;
            }
        }
    }
    return nr;
}

static int
stats_routes(igw_admin *a, const struct igw_queue_route_stats *rs, unsigned nr, struct igw_buf *b)
{
    uint64_t now = igw_now_ms();
    int rv = igw_buf_puts(b, ",\"routes\":[");

    for (unsigned i = 0; rv == IGW_OK && i < nr; i++) {
        uint64_t t = rs[i].oldest_pending_ms;
        rv = igw_buf_puts(b, i > 0 ? ",{\"route\":" : "{\"route\":");
        rv = rv == IGW_OK ? igw_buf_json_str(b, rs[i].route, strlen(rs[i].route)) : rv;
        rv = rv == IGW_OK ? igw_buf_puts(b, ",\"deliveries\":") : rv;
        rv = rv == IGW_OK
                 ? counts_json(b, rs[i].pending, rs[i].inflight, rs[i].delivered, rs[i].dead)
                 : rv;
        if (rv == IGW_OK && t != 0) {
            rv = igw_buf_printf(b, ",\"oldest_pending_ms\":%llu,\"oldest_pending_age_ms\":%llu",
                                (unsigned long long)t, (unsigned long long)(now > t ? now - t : 0));
        } else if (rv == IGW_OK) {
            rv = igw_buf_puts(b, ",\"oldest_pending_ms\":null,\"oldest_pending_age_ms\":0");
        }
        rv = rv == IGW_OK ? igw_buf_printf(b, ",\"circuit\":\"%s\"}",
                                           igw_deliverer_circuit(a->d, rs[i].route))
                          : rv;
    }
    return rv == IGW_OK ? igw_buf_putc(b, ']') : rv;
}

int
admin_op_stats(igw_admin *a, struct igw_buf *b)
{
    struct igw_queue_route_stats *rs = igw_calloc(ADMIN_STATS_ROUTES_MAX, sizeof(*rs));
    struct igw_queue_stats s;
    unsigned nr = 0;
    int rv = rs == NULL ? IGW_ENOMEM : igw_queue_stats(a->q, &s);

    rv = rv == IGW_OK ? igw_queue_route_stats(a->q, rs, ADMIN_STATS_ROUTES_MAX, &nr) : rv;
    if (rv != IGW_OK) {
        igw_free(rs);
        return admin_queue_err(b, rv);
    }
    rv = igw_buf_printf(b, "{\"messages\":%llu,\"deliveries\":", (unsigned long long)s.messages);
    rv = rv == IGW_OK ? counts_json(b, s.pending, s.inflight, s.delivered, s.dead) : rv;
    rv =
        rv == IGW_OK
            ? igw_buf_printf(b,
                             ",\"pending\":%llu,\"inflight\":%llu,"
                             "\"delivered\":%llu,\"dead\":%llu,\"map_size\":%llu,\"map_used\":%llu,"
                             "\"full\":%s,\"commits\":%llu",
                             (unsigned long long)s.pending, (unsigned long long)s.inflight,
                             (unsigned long long)s.delivered, (unsigned long long)s.dead,
                             (unsigned long long)s.capacity_bytes, (unsigned long long)s.used_bytes,
                             s.full ? "true" : "false", (unsigned long long)s.commits)
            : rv;
    rv = rv == IGW_OK ? stats_channels(a, rs, nr, b) : rv;
    nr = admin_stats_configured(a, rs, nr);
    rv = rv == IGW_OK ? stats_routes(a, rs, nr, b) : rv;
    rv = rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    igw_free(rs);
    return rv == IGW_OK ? 200 : admin_queue_err(b, rv);
}

/* True when p[0..n) is valid UTF-8 without NUL bytes (then shown as a JSON string). */
static bool
utf8_text(const unsigned char *p, size_t n)
{
    return igw_utf8_valid(p, n, NULL) && memchr(p, 0, n) == NULL;
}

static int
json_kv_str(struct igw_buf *b, const char *key, const char *v, size_t n)
{
    int rv = igw_buf_printf(b, ",\"%s\":", key);

    if (rv != IGW_OK) {
        return rv;
    }
    return v == NULL ? igw_buf_puts(b, "null") : igw_buf_json_str(b, v, n);
}

static int
info_dead(igw_admin *a, uint64_t id, const char *route, struct igw_buf *b)
{
    struct igw_queue_dead_info dl;
    size_t n;
    int rv = igw_queue_dead_get(a->q, id, route, &dl);

    if (rv == IGW_ENOENT) {
        return IGW_OK;
    }
    if (rv != IGW_OK) {
        return rv;
    }
    n = dl.response.len < DEAD_SHOW_MAX ? dl.response.len : DEAD_SHOW_MAX;
    rv = igw_buf_printf(b, ",\"dead_letter\":{\"dead_ms\":%llu,\"status\":%d",
                        (unsigned long long)dl.dead_ms, dl.status);
    rv = rv == IGW_OK ? json_kv_str(b, "error", dl.error, strlen(dl.error)) : rv;
    if (rv == IGW_OK && utf8_text((const unsigned char *)dl.response.ptr, n)) {
        rv = json_kv_str(b, "response", n > 0 ? dl.response.ptr : "", n);
    }
    rv = rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    igw_queue_dead_info_fini(&dl);
    return rv;
}

static int
info_payload(igw_admin *a, uint64_t id, const char *route, struct igw_buf *b)
{
    struct igw_queue_payload p;
    int rv = igw_queue_payload_get(a->q, id, route, &p);

    if (rv == IGW_ENOENT) {
        return IGW_OK; /* delivers the original body */
    }
    if (rv == IGW_OK) {
        bool text =
            p.data.len <= BODY_SHOW_MAX && utf8_text((const unsigned char *)p.data.ptr, p.data.len);
        rv = igw_buf_printf(b, ",\"payload_len\":%zu", p.data.len);
        rv = rv == IGW_OK ? json_kv_str(b, "payload", text ? p.data.ptr : NULL, p.data.len) : rv;
        if (rv == IGW_OK) {
            const char *ct = p.content_type;
            rv = json_kv_str(b, "payload_content_type", ct, ct != NULL ? strlen(ct) : 0);
        }
    }
    igw_queue_payload_fini(&p);
    return rv;
}

static const char *
result_name(enum igw_deliver_result r)
{
    return r == IGW_DELIVER_OK ? "delivered" : r == IGW_DELIVER_RETRY ? "retry" : "dead";
}

static int
info_attempts(igw_admin *a, uint64_t id, const char *route, struct igw_buf *b)
{
    struct igw_queue_attempt at[IGW_QUEUE_ATTEMPTS_KEPT];
    uint32_t total = 0;
    unsigned n = 0;
    int rv = igw_queue_attempts(a->q, id, route, at, IGW_QUEUE_ATTEMPTS_KEPT, &n, &total);

    if (rv != IGW_OK) {
        return rv;
    }
    rv = igw_buf_puts(b, ",\"attempt_log\":[");
    for (unsigned i = 0; rv == IGW_OK && i < n; i++) {
        rv = igw_buf_printf(b,
                            "%s{\"n\":%u,\"time_ms\":%llu,\"duration_ms\":%u,\"status\":%d,"
                            "\"result\":\"%s\"",
                            i > 0 ? "," : "", (unsigned)at[i].n, (unsigned long long)at[i].time_ms,
                            (unsigned)at[i].duration_ms, at[i].status, result_name(at[i].result));
        rv = rv == IGW_OK ? json_kv_str(b, "error", at[i].error, strlen(at[i].error)) : rv;
        rv = rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    }
    return rv == IGW_OK ? igw_buf_printf(b, "],\"attempts_total\":%u,\"attempts_omitted\":%u",
                                         (unsigned)total, (unsigned)(total - n))
                        : rv;
}

static int
info_delivery(igw_admin *a, uint64_t id, const struct igw_queue_delivery_info *d, struct igw_buf *b)
{
    int rv = igw_buf_puts(b, "{\"route\":");

    rv = rv == IGW_OK ? igw_buf_json_str(b, d->route, strlen(d->route)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(b,
                                       ",\"state\":\"%s\",\"attempts\":%u,\"next_due_ms\":%llu,"
                                       "\"last_attempt_ms\":%llu,\"last_status\":%d",
                                       admin_state_name(d->state), (unsigned)d->attempts,
                                       (unsigned long long)d->next_due_ms,
                                       (unsigned long long)d->last_attempt_ms, d->last_status)
                      : rv;
    if (rv == IGW_OK) {
        rv = json_kv_str(b, "last_error", d->last_error, strlen(d->last_error));
    }
    rv = rv == IGW_OK ? info_payload(a, id, d->route, b) : rv;
    rv = rv == IGW_OK ? info_attempts(a, id, d->route, b) : rv;
    if (rv == IGW_OK && d->state == IGW_DS_DEAD) {
        rv = info_dead(a, id, d->route, b);
    }
    return rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
}

static int
info_message(const struct igw_queue_message *m, struct igw_buf *b)
{
    char hex[IGW_QUEUE_ID_STRLEN];
    bool text =
        m->body.len <= BODY_SHOW_MAX && utf8_text((const unsigned char *)m->body.ptr, m->body.len);
    int rv;

    igw_queue_id_format(m->id, hex);
    rv = igw_buf_printf(b, "{\"id\":\"%s\"", hex);
    rv = rv == IGW_OK ? json_kv_str(b, "channel", m->channel, strlen(m->channel)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(b, ",\"created_ms\":%llu,\"body_len\":%zu",
                                       (unsigned long long)m->created_ms, m->body.len)
                      : rv;
    if (rv == IGW_OK) {
        const char *ct = m->content_type;
        rv = json_kv_str(b, "content_type", ct, ct != NULL ? strlen(ct) : 0);
    }
    if (rv == IGW_OK) {
        rv = json_kv_str(b, "body", text ? m->body.ptr : NULL, m->body.len);
    }
    if (rv == IGW_OK && m->meta.len > 0 && m->meta.ptr[0] == '{' &&
        igw_utf8_valid(m->meta.ptr, m->meta.len, NULL)) {
        rv = igw_buf_printf(b, ",\"metadata\":%s", m->meta.ptr); /* igw's own JSON text */
    } else if (rv == IGW_OK && m->meta.len > 0) {
        /* stored by an igw that let bytes that are not UTF-8 through: shown as a string */
        rv = json_kv_str(b, "metadata", m->meta.ptr, m->meta.len);
    }
    return rv;
}

int
admin_op_info(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    struct igw_queue_message m;
    struct igw_queue_delivery_info *di = NULL;
    unsigned n = 0;
    int rv = igw_queue_message_get(a->q, j->id, &m);

    if (rv == IGW_OK) {
        di = igw_calloc(m.nroutes + 1, sizeof(*di));
        rv = di == NULL ? IGW_ENOMEM : igw_queue_deliveries(a->q, j->id, di, m.nroutes + 1, &n);
    }
    rv = rv == IGW_OK ? info_message(&m, b) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"deliveries\":[") : rv;
    for (unsigned i = 0; rv == IGW_OK && i < n; i++) {
        rv = i > 0 ? igw_buf_putc(b, ',') : IGW_OK;
        rv = rv == IGW_OK ? info_delivery(a, j->id, &di[i], b) : rv;
    }
    rv = rv == IGW_OK ? igw_buf_puts(b, "]}") : rv;
    igw_free(di);
    igw_queue_message_fini(&m);
    return rv == IGW_OK ? 200 : admin_queue_err(b, rv);
}

static int
done_json(struct igw_buf *b, uint64_t id, const char *status)
{
    char hex[IGW_QUEUE_ID_STRLEN];

    igw_queue_id_format(id, hex);
    igw_buf_reset(b);
    return igw_buf_printf(b, "{\"id\":\"%s\",\"status\":\"%s\"}", hex, status) == IGW_OK
               ? 200
               : admin_queue_err(b, IGW_ENOMEM);
}

int
admin_op_release(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    unsigned n = 0;
    int rv = igw_queue_release(a->q, j->id, j->has_route ? j->route : NULL, &n);

    if (rv != IGW_OK) {
        return admin_queue_err(b, rv);
    }
    if (n == 0) {
        return admin_err_json(b, 409, "nothing_to_do",
                              "no dead delivery to release (nothing was changed)", NULL);
    }
    admin_audit_job(a, j, "release");
    if (a->d != NULL) {
        igw_deliverer_kick(a->d);
    }
    IGW_INFO("admin release id=%016llx deliveries=%u who=%s", (unsigned long long)j->id, n,
             j->caller.name);
    return done_json(b, j->id, "released");
}

int
admin_op_retry(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    unsigned n = 0;
    int rv = igw_queue_retry_now(a->q, j->id, j->has_route ? j->route : NULL, &n);

    if (rv != IGW_OK) {
        return admin_queue_err(b, rv);
    }
    if (n == 0) {
        return admin_err_json(b, 409, "nothing_to_do",
                              "no pending delivery waiting for a retry (nothing was changed)",
                              NULL);
    }
    admin_audit_job(a, j, "retry");
    if (a->d != NULL) {
        igw_deliverer_kick(a->d);
    }
    IGW_INFO("admin retry id=%016llx deliveries=%u who=%s", (unsigned long long)j->id, n,
             j->caller.name);
    return done_json(b, j->id, "retried");
}

int
admin_op_purge(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    int rv = igw_queue_purge(a->q, j->id);

    if (rv != IGW_OK) {
        return admin_queue_err(b, rv);
    }
    admin_audit_job(a, j, "purge");
    IGW_INFO("admin purge id=%016llx who=%s", (unsigned long long)j->id, j->caller.name);
    return done_json(b, j->id, "purged");
}
