/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR dialect, the answers (answer op; docs/FHIR-CHANNELS.md): an accepted message is answered
 * as a FHIR server would: 201/200 with Location and the resource, a transaction-/batch-response
 * Bundle, or an information OperationOutcome for a notification.
 *
 * Ids and versions: a created resource keeps its own id, else gets the message id (16 hex
 * digits, a valid FHIR id); an update uses the id of the URL. The version id is the message id
 * too (opaque, increasing, the same for an Idempotency-Key repeat), so the Location of a
 * message is <base>/<type>/<id>/_history/<message id>.
 *
 * CPU only, nothing blocks: called on the queue's writer thread after the commit.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/doc.h"
#include "igw/fhir.h"
#include "igw/queue.h"
#include "dialect/fhir/fhir_in_int.h"

#define BASE_MAX 384

/* ---- answers ------------------------------------------------------------------------------ */

/* The service base: fhir.base_url, else the request path without its last `drop` segments. */
static void
service_base(const struct igw_ingest *in, unsigned drop, char *out, size_t outlen)
{
    const char *t = in->target != NULL ? in->target : "";
    size_t n = strcspn(t, "?#");

    if (in->ch->fhir_base_url != NULL) {
        t = in->ch->fhir_base_url;
        n = strlen(t);
        drop = 0;
    }
    while (n > 0 && t[n - 1] == '/') {
        n--;
    }
    for (; drop > 0 && n > 0; drop--) {
        while (n > 0 && t[n - 1] != '/') {
            n--;
        }
        n -= n > 0 ? 1 : 0;
    }
    snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), t);
}

/* An instant (FHIR instant, UTC, milliseconds) of ms (Unix ms). */
static void
instant_of(uint64_t ms, char *out, size_t outlen)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    /* strftime bounds every field, so the compiler needs no worst-case widths */
    if (strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm) == 0 || strlen(out) + 6 > outlen) {
        out[0] = '\0';
        return;
    }
    snprintf(out + strlen(out), outlen - strlen(out), ".%03uZ", (unsigned)(ms % 1000u));
}

static void
instant_now(char *out, size_t outlen)
{
    instant_of(igw_now_ms(), out, outlen);
}

/* Copies a FHIR id (string node or param) into out; false when empty or too long. */
static bool
id_copy(const char *s, size_t n, char *out, size_t outlen)
{
    if (s == NULL || n == 0 || n >= outlen) {
        return false;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

static int
put_kv(struct igw_buf *b, const char *key, const char *v, bool comma)
{
    int rv = igw_buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
    return rv == IGW_OK ? igw_buf_json_str(b, v, strlen(v)) : rv;
}

/* Writes the members of obj except those named in skip (NULL-terminated), each led by ','. */
static int
put_members(struct igw_buf *b, const struct igw_node *obj, const char *const *skip)
{
    int rv = IGW_OK;

    for (const struct igw_node *m = obj != NULL && obj->type == IGW_NODE_OBJECT ? obj->first : NULL;
         rv == IGW_OK && m != NULL; m = m->next) {
        bool skipped = false;
        for (const char *const *k = skip; *k != NULL; k++) {
            skipped |= m->key_len == strlen(*k) && memcmp(m->key, *k, m->key_len) == 0;
        }
        if (skipped) {
            continue;
        }
        rv = igw_buf_putc(b, ',');
        if (rv == IGW_OK) {
            rv = igw_buf_json_str(b, m->key, m->key_len);
        }
        if (rv == IGW_OK) {
            rv = igw_buf_putc(b, ':');
        }
        if (rv == IGW_OK) {
            rv = igw_json_write(m, b, 0);
        }
    }
    return rv;
}

/* The stored resource as a server returns it: id and meta.versionId/lastUpdated set. */
static int
put_resource(struct igw_buf *b, const struct igw_node *res, const char *type, const char *id,
             const char *vid, const char *now)
{
    static const char *const top[] = {"resourceType", "id", "meta", NULL};
    static const char *const meta[] = {"versionId", "lastUpdated", NULL};
    int rv = igw_buf_putc(b, '{');

    if (rv == IGW_OK) {
        rv = put_kv(b, "resourceType", type, false);
    }
    if (rv == IGW_OK) {
        rv = put_kv(b, "id", id, true);
    }
    if (rv == IGW_OK) {
        rv = igw_buf_puts(b, ",\"meta\":{");
    }
    if (rv == IGW_OK) {
        rv = put_kv(b, "versionId", vid, false);
    }
    if (rv == IGW_OK) {
        rv = put_kv(b, "lastUpdated", now, true);
    }
    if (rv == IGW_OK) {
        rv = put_members(b, member(res, "meta"), meta);
    }
    if (rv == IGW_OK) {
        rv = igw_buf_putc(b, '}');
    }
    if (rv == IGW_OK) {
        rv = put_members(b, res, top);
    }
    return rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
}

/* A notification (or anything without a resource to echo): 200 with an information issue. */
static int
answer_outcome(const struct igw_ingest *in, struct igw_accept_resp *out, const char *vid,
               bool duplicate)
{
    char diag[IGW_QUEUE_ID_STRLEN + 40];

    snprintf(diag, sizeof(diag), "accepted as message %s%s", vid, duplicate ? " (duplicate)" : "");
    out->status = 200;
    out->content_type = FHIR_CT;
    return fhir_in_outcome(in->x.arena, &out->body, IGW_FHIR_SEV_INFO, IGW_FHIR_IT_INFORMATIONAL,
                           NULL, diag);
}

static int
answer_resource(const struct igw_ingest *in, const struct igw_path_match *pm, enum fhir_op op,
                const char *vid, bool duplicate, struct igw_accept_resp *out)
{
    const struct igw_path_param *pid = fhir_in_param(pm, "id");
    const struct igw_node *rid = str_member(in->root, "id");
    char type[FHIR_ID_MAX];
    char id[FHIR_ID_MAX + 1];
    char base[BASE_MAX];
    char now[40];
    uint64_t ms = igw_now_ms();
    enum fhir_return ret = fhir_rest_prefer(in);
    int rv;
    int n;

    (void)fhir_in_target_type(in, pm, type, sizeof(type));
    if (!(op == OP_UPDATE && pid != NULL && id_copy(pid->value, pid->value_len, id, sizeof(id))) &&
        !(rid != NULL && id_copy(rid->str, rid->len, id, sizeof(id)))) {
        snprintf(id, sizeof(id), "%s", vid);
    }
    service_base(in, op == OP_UPDATE ? 2u : 1u, base, sizeof(base));
    n = snprintf(out->location, sizeof(out->location), "%s/%s/%s/_history/%s", base, type, id, vid);
    if (n < 0 || (size_t)n >= sizeof(out->location)) {
        out->location[0] = '\0'; /* a base too long for a Location: leave it out */
    }
    instant_of(ms, now, sizeof(now));
    fhir_rest_validators(out, vid, ms);
    out->status = op == OP_CREATE && !duplicate ? 201 : 200;
    out->content_type = FHIR_CT;
    if (ret == RET_MINIMAL) {
        return IGW_OK; /* Prefer: return=minimal: the headers only */
    }
    rv = ret == RET_OUTCOME ? IGW_ETOOBIG : put_resource(&out->body, in->root, type, id, vid, now);
    if (rv == IGW_ETOOBIG) { /* asked for, or too large to echo: the Location and an outcome */
        igw_buf_reset(&out->body);
        rv = answer_outcome(in, out, vid, duplicate);
        out->status = op == OP_CREATE && !duplicate ? 201 : 200;
    }
    return rv;
}

/* ---- transaction and batch responses ------------------------------------------------------ */

/* The resource type of an entry: its resource's resourceType, else request.url's first segment. */
static void
entry_type(const struct igw_node *e, char *out, size_t outlen)
{
    const struct igw_node *rt = str_member(member(e, "resource"), "resourceType");
    const struct igw_node *url = str_member(member(e, "request"), "url");
    const char *s = rt != NULL ? rt->str : (url != NULL ? url->str : "");
    size_t n = rt != NULL ? rt->len : (url != NULL ? strcspn(url->str, "/?") : 0);

    n = url != NULL && rt == NULL && n > url->len ? url->len : n;
    snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), s);
}

/* The id of an entry's resource: its id, else a urn:uuid fullUrl's uuid, else <vid>-<index>. */
static void
entry_id(const struct igw_node *e, const char *vid, size_t i, char *out, size_t outlen)
{
    static const char urn[] = "urn:uuid:";
    const struct igw_node *id = str_member(member(e, "resource"), "id");
    const struct igw_node *full = str_member(e, "fullUrl");

    if (id != NULL && id_copy(id->str, id->len, out, outlen)) {
        return;
    }
    if (full != NULL && full->len > sizeof(urn) - 1 &&
        memcmp(full->str, urn, sizeof(urn) - 1) == 0 &&
        id_copy(full->str + sizeof(urn) - 1, full->len - (sizeof(urn) - 1), out, outlen)) {
        return;
    }
    snprintf(out, outlen, "%s-%zu", vid, i);
}

/* request.url of a PUT names the resource (Type/id) unless it is conditional (Type?query). */
static bool
put_names_id(const struct igw_node *e, char *id, size_t idlen)
{
    const struct igw_node *url = str_member(member(e, "request"), "url");
    const char *slash;

    if (url == NULL || memchr(url->str, '?', url->len) != NULL) {
        return false;
    }
    slash = memchr(url->str, '/', url->len);
    return slash != NULL &&
           id_copy(slash + 1, url->len - (size_t)(slash + 1 - url->str), id, idlen) &&
           strchr(id, '/') == NULL;
}

static int
entry_response(struct igw_buf *b, const struct igw_node *e, const char *vid, size_t i,
               const char *now)
{
    const struct igw_node *m = str_member(member(e, "request"), "method");
    char type[FHIR_ID_MAX];
    char id[FHIR_ID_MAX + 1];
    char loc[2 * FHIR_ID_MAX + 64];
    const char *status = "200 OK";
    bool has_loc = true;
    int rv;

    entry_type(e, type, sizeof(type));
    if (str_is(m, "POST")) {
        status = "201 Created";
        entry_id(e, vid, i, id, sizeof(id));
    } else if (str_is(m, "DELETE")) {
        status = "204 No Content";
        has_loc = false;
    } else if (!put_names_id(e, id, sizeof(id))) {
        /* conditional PUT or PATCH: the id is the partner's to choose unless the body has one */
        const struct igw_node *rid = str_member(member(e, "resource"), "id");
        has_loc = rid != NULL && id_copy(rid->str, rid->len, id, sizeof(id));
    }
    rv = igw_buf_printf(b, "%s{\"response\":{", i > 0 ? "," : "");
    if (rv == IGW_OK) {
        rv = put_kv(b, "status", status, false);
    }
    if (rv == IGW_OK && has_loc) {
        snprintf(loc, sizeof(loc), "%s/%s/_history/%s", type, id, vid);
        rv = put_kv(b, "location", loc, true);
    }
    if (rv == IGW_OK && has_loc) {
        snprintf(loc, sizeof(loc), "W/\"%s\"", vid);
        rv = put_kv(b, "etag", loc, true);
    }
    if (rv == IGW_OK) {
        rv = put_kv(b, "lastModified", now, true);
    }
    return rv == IGW_OK ? igw_buf_puts(b, "}}") : rv;
}

static int
answer_bundle(const struct igw_ingest *in, const char *vid, struct igw_accept_resp *out)
{
    const struct igw_node *entries = member(in->root, "entry");
    bool batch = str_is(str_member(in->root, "type"), "batch");
    char now[40];
    size_t i = 0;
    int rv;

    instant_now(now, sizeof(now));
    out->status = 200;
    out->content_type = FHIR_CT;
    rv = igw_buf_puts(&out->body, "{\"resourceType\":\"Bundle\"");
    if (rv == IGW_OK) {
        rv = put_kv(&out->body, "id", vid, true);
    }
    if (rv == IGW_OK) {
        rv = put_kv(&out->body, "type", batch ? "batch-response" : "transaction-response", true);
    }
    if (rv == IGW_OK) {
        rv = igw_buf_puts(&out->body, ",\"entry\":[");
    }
    for (const struct igw_node *e =
             entries != NULL && entries->type == IGW_NODE_ARRAY ? entries->first : NULL;
         rv == IGW_OK && e != NULL; e = e->next, i++) {
        rv = entry_response(&out->body, e, vid, i, now);
    }
    return rv == IGW_OK ? igw_buf_puts(&out->body, "]}") : rv;
}

int
fhir_in_answer(const struct igw_ingest *in, uint64_t id, bool duplicate,
               struct igw_accept_resp *out)
{
    struct igw_path_match *pm = IGW_NEW(struct igw_path_match);
    enum fhir_op op;
    char vid[IGW_QUEUE_ID_STRLEN];
    int rv;

    if (pm == NULL) {
        return IGW_ENOMEM;
    }
    fhir_in_match_params(in, pm);
    op = fhir_in_op(in, pm);
    igw_queue_id_format(id, vid);
    if (op == OP_NONE) {
        out->status = 202;
        out->content_type = "application/json";
        rv = igw_http_accept_json(&out->body, id, duplicate);
    } else if (in->root == NULL || op == OP_NOTIFY) {
        rv = answer_outcome(in, out, vid, duplicate);
    } else if (op == OP_BUNDLE) {
        rv = answer_bundle(in, vid, out);
    } else {
        rv = answer_resource(in, pm, op, vid, duplicate, out);
    }
    igw_free(pm);
    return rv == IGW_ETOOBIG ? IGW_ENOMEM : rv;
}
