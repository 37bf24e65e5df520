/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin jobs on the worker thread (admin_int.h): queue statistics, one message's record with
 * its deliveries and dead letters, release and purge. Each writes its JSON answer (or an error
 * body) into b and returns the HTTP status.
 */
#include <string.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/log.h"
#include "igw/utf8.h"
#include "admin/admin_int.h"
#include "delivery/deliver.h"

#define BODY_SHOW_MAX (64u << 10) /* message bodies shown inline up to this */
#define DEAD_SHOW_MAX 4096        /* dead-letter response bytes shown */

static const char *
state_name(enum igw_delivery_state s)
{
    switch (s) {
    case IGW_DS_PENDING:
        return "pending";
    case IGW_DS_INFLIGHT:
        return "inflight";
    case IGW_DS_DELIVERED:
        return "delivered";
    case IGW_DS_DEAD:
        return "dead";
    }
    return "unknown";
}

int
admin_op_stats(igw_admin *a, struct igw_buf *b)
{
    struct igw_queue_stats s;
    int rv = igw_queue_stats(a->q, &s);

    if (rv != IGW_OK) {
        return admin_queue_err(b, rv);
    }
    rv = igw_buf_printf(b,
                        "{\"messages\":%llu,\"pending\":%llu,\"inflight\":%llu,"
                        "\"delivered\":%llu,\"dead\":%llu,\"map_size\":%llu,\"map_used\":%llu,"
                        "\"full\":%s,\"commits\":%llu}",
                        (unsigned long long)s.messages, (unsigned long long)s.pending,
                        (unsigned long long)s.inflight, (unsigned long long)s.delivered,
                        (unsigned long long)s.dead, (unsigned long long)s.capacity_bytes,
                        (unsigned long long)s.used_bytes, s.full ? "true" : "false",
                        (unsigned long long)s.commits);
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
info_delivery(igw_admin *a, uint64_t id, const struct igw_queue_delivery_info *d, struct igw_buf *b)
{
    int rv = igw_buf_puts(b, "{\"route\":");

    rv = rv == IGW_OK ? igw_buf_json_str(b, d->route, strlen(d->route)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(b,
                                       ",\"state\":\"%s\",\"attempts\":%u,\"next_due_ms\":%llu,"
                                       "\"last_attempt_ms\":%llu,\"last_status\":%d",
                                       state_name(d->state), (unsigned)d->attempts,
                                       (unsigned long long)d->next_due_ms,
                                       (unsigned long long)d->last_attempt_ms, d->last_status)
                      : rv;
    if (rv == IGW_OK) {
        rv = json_kv_str(b, "last_error", d->last_error, strlen(d->last_error));
    }
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
    int rv = igw_queue_release(a->q, j->id, j->has_route ? j->route : NULL);

    if (rv != IGW_OK) {
        return admin_queue_err(b, rv);
    }
    if (a->d != NULL) {
        igw_deliverer_kick(a->d);
    }
    IGW_INFO("admin release id=%016llx who=%s", (unsigned long long)j->id, j->caller.name);
    admin_audit_job(a, j, "release");
    return done_json(b, j->id, "released");
}

int
admin_op_purge(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    int rv = igw_queue_purge(a->q, j->id);

    if (rv != IGW_OK) {
        return admin_queue_err(b, rv);
    }
    IGW_INFO("admin purge id=%016llx who=%s", (unsigned long long)j->id, j->caller.name);
    admin_audit_job(a, j, "purge");
    return done_json(b, j->id, "purged");
}
