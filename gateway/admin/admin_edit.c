/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /admin/messages/{id}/edit (admin_int.h): a JSON body (cJSON) with either
 *   {"route": R, "payload": P[, "content_type": T]}  R's translated payload becomes P, or
 *   {"body": B}                                       B is translated through the current maps
 *                                                     for every route (as replay does with the
 *                                                     stored body)
 * then the deliveries go back to pending (igw_queue_replay). The stored original body is never
 * changed, so a later replay starts from it again.
 */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/log.h"
#include "admin/admin_int.h"
#include "delivery/deliver.h"

/* The full name of the message's delivery that `name` (full or short) denotes, or NULL. */
static const char *
delivery_named(const struct igw_queue_delivery_info *di, unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++) {
        const char *dot = strrchr(di[i].route, '.');
        if (strcmp(di[i].route, name) == 0 || (dot != NULL && strcmp(dot + 1, name) == 0)) {
            return di[i].route;
        }
    }
    return NULL;
}

int
admin_edit_detail(struct igw_buf *d, const char *route, const void *before, size_t blen,
                  const void *after, size_t alen)
{
    size_t bk = blen < ADMIN_AUDIT_SIDE_MAX ? blen : ADMIN_AUDIT_SIDE_MAX;
    size_t ak = alen < ADMIN_AUDIT_SIDE_MAX ? alen : ADMIN_AUDIT_SIDE_MAX;
    int rv;

    igw_buf_reset(d);
    rv = igw_buf_putc(d, '{');
    if (rv == IGW_OK && route != NULL) {
        rv = igw_buf_puts(d, "\"route\":");
        rv = rv == IGW_OK ? igw_buf_json_str(d, route, strlen(route)) : rv;
        rv = rv == IGW_OK ? igw_buf_putc(d, ',') : rv;
    }
    rv = rv == IGW_OK ? igw_buf_puts(d, "\"before\":") : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(d, before, bk) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(d, ",\"before_len\":%zu,\"after\":", blen) : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(d, after, ak) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(d, ",\"after_len\":%zu", alen) : rv;
    if (rv == IGW_OK && (bk < blen || ak < alen)) {
        rv = igw_buf_puts(d, ",\"truncated\":true");
    }
    return rv == IGW_OK ? igw_buf_putc(d, '}') : rv;
}

/* The audit record of a payload edit: the route's payload before (its translated one, or the
 * original body it delivered) and after. */
static void
audit_edit(igw_admin *a, const struct igw_admin_caller *who, uint64_t id, const char *hex,
           const char *route, const struct igw_queue_payload *old, bool had_old,
           const char *payload, size_t len)
{
    struct igw_queue_message m;
    struct igw_buf d;
    const void *before = old->data.ptr;
    size_t blen = old->data.len;
    bool have_m = false;

    memset(&m, 0, sizeof(m));
    if (!had_old && igw_queue_message_get(a->q, id, &m) == IGW_OK) {
        have_m = true; /* it delivered the original body */
        before = m.body.ptr;
        blen = m.body.len;
    }
    igw_buf_init(&d, ADMIN_AUDIT_DETAIL_MAX);
    igw_audit_write(a->audit, who, "edit", hex,
                    admin_edit_detail(&d, route, before, before != NULL ? blen : 0, payload, len) ==
                            IGW_OK
                        ? d.ptr
                        : NULL);
    igw_buf_fini(&d);
    if (have_m) {
        igw_queue_message_fini(&m);
    }
}

static int
edit_payload(igw_admin *a, const struct igw_admin_caller *who, uint64_t id, const char *route,
             const char *payload, size_t len, const char *ct, struct igw_buf *b)
{
    struct igw_queue_payload old;
    bool had_old;
    struct igw_queue_delivery_info *di = igw_calloc(IGW_QUEUE_ROUTES_MAX, sizeof(*di));
    struct igw_queue_replay_route rr;
    char hex[IGW_QUEUE_ID_STRLEN];
    const char *full;
    unsigned n = 0;
    int st;
    int rv = di == NULL ? IGW_ENOMEM : igw_queue_deliveries(a->q, id, di, IGW_QUEUE_ROUTES_MAX, &n);

    if (rv != IGW_OK) {
        igw_free(di);
        return admin_queue_err(b, rv);
    }
    full = delivery_named(di, n, route);
    if (full == NULL) {
        igw_free(di);
        return admin_err_json(b, 404, "unknown_route", "the message has no route of this name",
                              NULL);
    }
    memset(&old, 0, sizeof(old));
    rv = igw_queue_payload_get(a->q, id, full, &old); /* before, for the audit */
    had_old = rv == IGW_OK;
    if (rv != IGW_OK && rv != IGW_ENOENT) {
        igw_queue_payload_fini(&old);
        igw_free(di);
        return admin_queue_err(b, rv);
    }
    memset(&rr, 0, sizeof(rr));
    rr.route = full;
    rr.payload = payload;
    rr.payload_len = len;
    rr.content_type = ct;
    rv = igw_queue_replay(a->q, id, &rr, 1);
    if (rv != IGW_OK) {
        igw_queue_payload_fini(&old);
        igw_free(di);
        return admin_queue_err(b, rv);
    }
    igw_queue_id_format(id, hex);
    audit_edit(a, who, id, hex, full, &old, had_old, payload, len);
    igw_queue_payload_fini(&old);
    IGW_INFO("admin edit id=%s route=%s payload_len=%zu who=%s", hex, full, len, who->name);
    if (a->d != NULL) {
        igw_deliverer_kick(a->d);
    }
    igw_buf_reset(b);
    st = igw_buf_printf(b, "{\"id\":\"%s\",\"status\":\"edited\",\"routes\":[", hex) == IGW_OK &&
                 igw_buf_json_str(b, full, strlen(full)) == IGW_OK &&
                 igw_buf_puts(b, "]}") == IGW_OK
             ? 200
             : admin_queue_err(b, IGW_ENOMEM);
    igw_free(di);
    return st;
}

static const char *
str_item(const cJSON *o, const char *key, bool *bad)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

    if (it == NULL || cJSON_IsNull(it)) {
        return NULL;
    }
    if (!cJSON_IsString(it)) {
        *bad = true;
        return NULL;
    }
    return it->valuestring;
}

int
admin_op_edit(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    struct igw_buf body;
    cJSON *o = NULL;
    const char *route;
    const char *payload;
    const char *ct;
    const char *nb;
    bool bad = false;
    int rv;
    int st;

    igw_buf_init(&body, ADMIN_EDIT_BODY_MAX);
    rv = admin_body_read(j, &body);
    if (rv == IGW_EINVAL) {
        igw_buf_fini(&body);
        return admin_err_json(b, 400, "body_required",
                              "edit takes a JSON body: {\"route\":R,\"payload\":P} or "
                              "{\"body\":B}",
                              NULL);
    }
    if (rv != IGW_OK) {
        igw_buf_fini(&body);
        return admin_err_json(b, 400, "body_unreadable", "the request body could not be read",
                              NULL);
    }
    o = cJSON_ParseWithLength(body.ptr, body.len);
    route = o != NULL ? str_item(o, "route", &bad) : NULL;
    payload = o != NULL ? str_item(o, "payload", &bad) : NULL;
    ct = o != NULL ? str_item(o, "content_type", &bad) : NULL;
    nb = o != NULL ? str_item(o, "body", &bad) : NULL;
    if (o == NULL || !cJSON_IsObject(o) || bad || (payload == NULL) == (nb == NULL) ||
        (payload != NULL && route == NULL) || (nb != NULL && (route != NULL || ct != NULL))) {
        st = admin_err_json(b, 400, "bad_edit",
                            "give exactly one of {\"route\":R,\"payload\":P[,\"content_type\":T]}"
                            " or {\"body\":B} (JSON strings)",
                            NULL);
    } else if (payload != NULL) {
        st = edit_payload(a, &j->caller, j->id, route, payload, strlen(payload), ct, b);
    } else {
        struct igw_buf eb;
        igw_buf_init(&eb, ADMIN_EDIT_BODY_MAX);
        st = igw_buf_append(&eb, nb, strlen(nb)) == IGW_OK && igw_buf_putc(&eb, '\0') == IGW_OK
                 ? 0
                 : admin_queue_err(b, IGW_ENOMEM);
        if (st == 0) {
            eb.len--; /* the NUL is not part of the body */
            st = admin_replay_id(a, &j->caller, j->id, NULL, &eb, "edited", b);
        }
        igw_buf_fini(&eb);
    }
    cJSON_Delete(o);
    igw_buf_fini(&body);
    return st;
}
