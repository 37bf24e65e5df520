/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin replay job (admin_int.h), on the worker thread. Replay re-reads the original body
 * and runs the channel's intake pipeline again (igw_ingest_prepare: parse with the channel's
 * input format, dialect checks, every route's map from the CURRENT mapping set), then
 * igw_queue_replay swaps in the new payloads in one commit.
 */
#include <string.h>
#include <strings.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/log.h"
#include "admin/admin_int.h"
#include "payments/recon.h"
#include "core/ingest.h"
#include "delivery/deliver.h"
#include "http/http.h"

struct replay {
    struct igw_queue_message m;
    struct igw_ingest in;
    bool prepared;
    struct igw_xlate mx; /* the metadata's tree */
    struct igw_buf method;
    struct igw_buf target;
    struct igw_path_match pm;
    struct igw_queue_delivery_info *di;
    unsigned ndi;
    struct igw_queue_replay_route *rr;
    unsigned nrr;
    const struct igw_buf *edit; /* an edited body: translated instead of the stored one */
};

static const char *
replay_header(void *arg, const char *name)
{
    const struct igw_queue_message *m = arg;
    return strcasecmp(name, "Content-Type") == 0 ? m->content_type : NULL;
}

/* The stored request's method and target (FHIR channels need them), from the metadata. */
static void
replay_request_line(struct replay *r, const struct igw_channel *ch)
{
    const struct igw_node *root = NULL;
    char err[IGW_ERRBUF_SIZE];

    igw_buf_init(&r->method, 16);
    igw_buf_init(&r->target, IGW_PATH_MAX_LEN);
    r->in.method = ch->method;
    if (r->m.meta.len == 0 || igw_xlate_parse(&r->mx, IGW_FMT_JSON, r->m.meta.ptr, r->m.meta.len,
                                              &root, err, sizeof(err)) != IGW_OK) {
        return;
    }
    if (igw_json_key(root, "method", &r->method) == IGW_OK &&
        igw_buf_putc(&r->method, '\0') == IGW_OK) {
        r->in.method = r->method.ptr;
    }
    if (igw_json_key(root, "target", &r->target) == IGW_OK &&
        igw_buf_putc(&r->target, '\0') == IGW_OK) {
        r->in.target = r->target.ptr;
        if (ch->path != NULL &&
            igw_path_match(ch->path, r->target.ptr, strlen(r->target.ptr), &r->pm)) {
            r->in.pm = &r->pm;
        }
    }
}

/* Parses and translates the stored body again with the current maps; HTTP status or 0. */
static int
replay_prepare(igw_admin *a, struct replay *r, const struct igw_channel *ch, struct igw_buf *b)
{
    char err[IGW_ERRBUF_SIZE] = "invalid body";
    int rv;

    replay_request_line(r, ch);
    r->in.ch = ch;
    r->in.header = replay_header;
    r->in.header_arg = &r->m;
    r->in.content_type = r->m.content_type;
    r->in.body = r->edit != NULL ? r->edit->ptr : r->m.body.ptr;
    r->in.body_len = r->edit != NULL ? r->edit->len : r->m.body.len;
    r->in.maps = a->maps;
    r->prepared = true;
    rv = igw_ingest_prepare(&r->in, err, sizeof(err));
    if (rv != IGW_OK && r->in.errbody.len > 0 && igw_buf_putc(&r->in.errbody, '\0') == IGW_OK &&
        r->in.errbody.ptr[0] == '{') {
        return admin_err_json(b, 422, "validation_failed",
                              "the channel's checks refused the input or its new translation",
                              r->in.errbody.ptr);
    }
    if (rv == IGW_ETRANSLATE || (rv != IGW_OK && rv != IGW_EPARSE && r->in.errbody.len > 0)) {
        rv = IGW_ETRANSLATE; /* a dialect refusal that is not a JSON object */
    }
    if (rv == IGW_EPARSE || rv == IGW_ETRANSLATE) {
        struct igw_http_verdict v;
        igw_http_verdict_of(IGW_HTTP_ADMIN, rv, igw_ingest_parse_code(&r->in), err, &v);
        return admin_err_json(b, v.status, v.code, v.msg, NULL);
    }
    return rv == IGW_OK ? 0 : admin_queue_err(b, rv);
}

static bool
route_named(const struct igw_route *rt, const char *name)
{
    return strcmp(rt->name, name) == 0 || strcmp(rt->short_name, name) == 0;
}

static bool
has_delivery(const struct replay *r, const char *route)
{
    for (unsigned i = 0; i < r->ndi; i++) {
        if (strcmp(r->di[i].route, route) == 0) {
            return true;
        }
    }
    return false;
}

/* The configured routes the message has (or the one asked for); HTTP status or 0. */
static int
replay_routes(igw_admin *a, uint64_t id, const char *route, struct replay *r,
              const struct igw_channel *ch, struct igw_buf *b)
{
    int rv;

    r->di = igw_calloc(r->m.nroutes + 1, sizeof(*r->di));
    r->rr = igw_calloc(ch->nroutes + 1, sizeof(*r->rr));
    if (r->di == NULL || r->rr == NULL) {
        return admin_queue_err(b, IGW_ENOMEM);
    }
    rv = igw_queue_deliveries(a->q, id, r->di, r->m.nroutes + 1, &r->ndi);
    if (rv != IGW_OK) {
        return admin_queue_err(b, rv);
    }
    for (size_t i = 0; i < ch->nroutes; i++) {
        const struct igw_route *rt = &ch->routes[i];
        const struct igw_queue_route_init *ri = &r->in.routes[i];
        if ((route != NULL && !route_named(rt, route)) || !has_delivery(r, rt->name)) {
            continue;
        }
        r->rr[r->nrr].route = rt->name;
        r->rr[r->nrr].payload = ri->payload;
        r->rr[r->nrr].payload_len = ri->payload != NULL ? ri->payload_len : 0;
        r->rr[r->nrr].content_type = ri->content_type;
        if (ri->payload == NULL && r->edit != NULL) {
            /* pass-through: the edited body itself (the stored original is kept) */
            r->rr[r->nrr].payload = r->edit->ptr;
            r->rr[r->nrr].payload_len = r->edit->len;
            r->rr[r->nrr].content_type = r->m.content_type;
        }
        r->nrr++;
    }
    if (r->nrr == 0) {
        return route != NULL
                   ? admin_err_json(b, 404, "unknown_route",
                                    "the message has no configured route of this name", NULL)
                   : admin_err_json(b, 409, "no_routes",
                                    "none of the message's routes is configured any more", NULL);
    }
    return 0;
}

static int
replay_done(igw_admin *a, const struct igw_admin_caller *who, uint64_t id, const char *route,
            const struct replay *r, const char *status, struct igw_buf *b)
{
    char hex[IGW_QUEUE_ID_STRLEN];
    int rv;

    if (a->d != NULL) {
        igw_deliverer_kick(a->d);
    }
    igw_queue_id_format(id, hex);
    IGW_INFO("admin %s id=%s channel=%s routes=%u who=%s", status, hex, r->m.channel, r->nrr,
             who != NULL ? who->name : "-");
    if (who != NULL && r->edit != NULL) { /* the original body is kept: before and after */
        struct igw_buf d;
        igw_buf_init(&d, ADMIN_AUDIT_DETAIL_MAX);
        rv = admin_edit_detail(&d, NULL, r->m.body.ptr, r->m.body.len, r->edit->ptr, r->edit->len);
        igw_audit_write(a->audit, who, "edit", hex, rv == IGW_OK ? d.ptr : NULL);
        igw_buf_fini(&d);
    } else if (who != NULL) {
        char detail[IGW_QUEUE_NAME_MAX + 32]; /* route names are [A-Za-z0-9_.-]: no escaping */
        if (route != NULL) {
            snprintf(detail, sizeof(detail), "{\"route\":\"%s\"}", route);
        }
        igw_audit_write(a->audit, who, "replay", hex, route != NULL ? detail : NULL);
    }
    igw_buf_reset(b);
    rv = igw_buf_printf(b, "{\"id\":\"%s\",\"status\":\"%s\",\"routes\":[", hex, status);
    for (unsigned i = 0; rv == IGW_OK && i < r->nrr; i++) {
        rv = i > 0 ? igw_buf_putc(b, ',') : IGW_OK;
        rv = rv == IGW_OK ? igw_buf_json_str(b, r->rr[i].route, strlen(r->rr[i].route)) : rv;
    }
    rv = rv == IGW_OK ? igw_buf_puts(b, "]}") : rv;
    return rv == IGW_OK ? 200 : admin_queue_err(b, rv);
}

/* A payroll message whose payments are confirmed is not replayed unless forced (?force=true):
 * docs/PAYMENTS.md, "Replays". Returns the refusal's status, or 0 to go on. */
static int
payments_guard(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    struct igw_queue_message m;
    const struct igw_channel *ch;
    char force[8], why[256];
    int st = 0;

    if (admin_query_get(j->query, "force", force, sizeof(force)) && strcmp(force, "true") == 0) {
        return 0;
    }
    if (igw_queue_message_get(a->q, j->id, &m) == IGW_OK) {
        ch = igw_channel_by_name(a->cfg, m.channel, strlen(m.channel));
        if (ch != NULL && ch->dialect != NULL && strcmp(ch->dialect, "payroll") == 0 &&
            igw_pay_replay_confirmed(m.body.ptr, m.body.len, why, sizeof(why))) {
            st = admin_err_json(b, 409, "payments_confirmed", why, NULL);
        }
    }
    igw_queue_message_fini(&m);
    return st;
}

int
admin_op_replay(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    int st = payments_guard(a, j, b);
    if (st != 0) {
        return st;
    }
    return admin_replay_id(a, &j->caller, j->id, j->has_route ? j->route : NULL, NULL, "replayed",
                           b);
}

int
admin_replay_id(igw_admin *a, const struct igw_admin_caller *who, uint64_t id, const char *route,
                const struct igw_buf *edit_body, const char *status, struct igw_buf *b)
{
    struct replay *r = IGW_NEW(struct replay);
    const struct igw_channel *ch = NULL;
    int st = 0;
    int rv = r == NULL ? IGW_ENOMEM : igw_queue_message_get(a->q, id, &r->m);

    if (rv != IGW_OK) {
        st = admin_queue_err(b, rv);
        goto cleanup;
    }
    ch = igw_channel_by_name(a->cfg, r->m.channel, strlen(r->m.channel));
    if (ch == NULL) {
        st = admin_err_json(b, 409, "unknown_channel", "the message's channel is not configured",
                            NULL);
        goto cleanup;
    }
    r->edit = edit_body;
    st = replay_prepare(a, r, ch, b);
    st = st == 0 ? replay_routes(a, id, route, r, ch, b) : st;
    if (st != 0) {
        goto cleanup;
    }
    rv = igw_queue_replay(a->q, id, r->rr, r->nrr);
    st = rv == IGW_OK ? replay_done(a, who, id, route, r, status, b) : admin_queue_err(b, rv);
cleanup:
    if (r != NULL) {
        if (r->prepared) {
            igw_ingest_fini(&r->in);
        }
        igw_xlate_fini(&r->mx);
        igw_buf_fini(&r->method);
        igw_buf_fini(&r->target);
        igw_free(r->di);
        igw_free(r->rr);
        igw_queue_message_fini(&r->m);
        igw_free(r);
    }
    return st;
}
