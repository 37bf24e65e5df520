/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fhir-patch and fhir-if-match mediators (docs/FHIR-CHANNELS.md, "PATCH and If-Match"):
 * writes that depend on the resource's current state, which igw reads through the mediation
 * engine from the channel's upstream (the FHIR server the writes go to) and then commits as
 * an ordinary update (IGW_MED_COMMIT: validated, translated, stored durably and delivered by
 * the channel's routes like any PUT):
 *
 *   PATCH [base]/{type}/{id}  (fhir-patch)     read; If-Match, when sent, must name the current
 *                                              version (else 412); apply the JSON Patch (RFC
 *                                              6902); validate; commit as PUT [base]/{type}/{id}
 *   PUT [base]/{type}/{id}    (fhir-if-match)  without If-Match: commit at once; with it, read
 *                                              and commit only when it names the current
 *                                              version (else 412)
 *
 * The current version is the upstream's: its ETag, else the resource's meta.versionId.
 * Refusals are OperationOutcomes: 404 (no such resource to patch), 412 (version mismatch),
 * 415 (not a JSON Patch: the dialect's check_request), 422 (the patch does not apply, a test
 * operation fails, the result changes resourceType or id or is not valid R4), 400 (the body
 * is not a JSON array). Runs on the engine's threads; CPU only.
 */
#include <stdio.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/common.h"
#include "igw/doc.h"
#include "igw/fhir.h"
#include "http/http.h"
#include "mediate/mediator.h"
#include "dialect/fhir/fhir_in_int.h"
#include "dialect/fhir/fhir_patch_int.h"

#define PATH_MAX_LEN 512
#define VERSION_MAX 128

struct pstate {
    bool patch;
    const struct igw_node *ops; /* the parsed JSON Patch (m->arena) */
    char type[FHIR_ID_MAX];
    char id[FHIR_ID_MAX + 1];
    char path[PATH_MAX_LEN];
};

bool
igw_fhir_version_eq(const char *etag, const char *version, size_t vlen)
{
    size_t n;

    if (etag == NULL || version == NULL) {
        return false;
    }
    while (*etag == ' ') {
        etag++;
    }
    if (strncmp(etag, "W/", 2) == 0) {
        etag += 2;
    }
    if (*etag == '"') {
        etag++;
    }
    n = strcspn(etag, "\"");
    return n == vlen && memcmp(etag, version, n) == 0 &&
           (etag[n] == '\0' || (etag[n] == '"' && etag[n + 1 + strspn(etag + n + 1, " ")] == '\0'));
}

/* Answers with an OperationOutcome of one error issue. */
static int
refuse(struct igw_med *m, int status, const char *code, const char *diag)
{
    igw_buf_reset(&m->answer.body);
    m->answer.status = status;
    m->answer.content_type = FHIR_CT;
    if (fhir_in_outcome(m->arena, &m->answer.body, IGW_FHIR_SEV_ERROR, code, NULL, diag) !=
        IGW_OK) {
        return -IGW_ENOMEM;
    }
    return IGW_MED_ANSWER;
}

static const char *
header(const struct igw_med *m, const char *name)
{
    return m->header != NULL ? m->header(m->header_arg, name) : NULL;
}

/* {type} and {id} of the request, matched again from the target into the state. */
static bool
target_ids(struct igw_med *m, struct pstate *s)
{
    struct igw_path_match *pm = igw_arena_alloc(m->arena, sizeof(*pm));
    const struct igw_path_param *t;
    const struct igw_path_param *id;

    if (pm == NULL || !igw_path_match(m->ch->path, m->target, strlen(m->target), pm)) {
        return false;
    }
    t = igw_path_param_get(pm, "type");
    id = igw_path_param_get(pm, "id");
    if (t == NULL || id == NULL || t->value_len == 0 || t->value_len >= sizeof(s->type) ||
        id->value_len == 0 || id->value_len >= sizeof(s->id)) {
        return false;
    }
    snprintf(s->type, sizeof(s->type), "%.*s", (int)t->value_len, t->value);
    snprintf(s->id, sizeof(s->id), "%.*s", (int)id->value_len, id->value);
    return true;
}

/* Asks for GET /{type}/{id} on the channel's upstream. */
static int
call_read(struct igw_med *m, struct pstate *s)
{
    snprintf(s->path, sizeof(s->path), "/%s/%s", s->type, s->id);
    memset(&m->call, 0, sizeof(m->call));
    m->call.method = "GET";
    m->call.path = s->path;
    m->call.accept = FHIR_CT;
    return IGW_MED_CALL;
}

static int
start(struct igw_med *m, bool patch)
{
    struct pstate *s = igw_arena_calloc(m->arena, sizeof(*s));
    struct igw_node *ops = NULL;
    struct igw_parse_error pe;

    if (s == NULL) {
        return -IGW_ENOMEM;
    }
    m->state = s;
    s->patch = patch;
    if (!target_ids(m, s)) {
        return refuse(m, 400, IGW_FHIR_IT_INVALID, "the request needs [base]/{type}/{id}");
    }
    if (!igw_fhir_resource_type_known(s->type, strlen(s->type))) {
        return refuse(m, 404, IGW_FHIR_IT_NOT_FOUND, "not an R4 resource type");
    }
    if (!patch) {
        return header(m, "If-Match") == NULL ? IGW_MED_COMMIT : call_read(m, s);
    }
    if (igw_json_parse(m->arena, m->body, m->body_len, NULL, &ops, &pe) != IGW_OK ||
        ops->type != IGW_NODE_ARRAY) {
        return refuse(m, 400, IGW_FHIR_IT_STRUCTURE,
                      "a JSON Patch body is a JSON array of operations (RFC 6902)");
    }
    s->ops = ops;
    return call_read(m, s);
}

static int
patch_start(struct igw_med *m)
{
    return start(m, true);
}

static int
if_match_start(struct igw_med *m)
{
    return start(m, false);
}

/* The version of the upstream's answer: its ETag, else meta.versionId; NULL when none. */
static const char *
current_version(const struct igw_med_result *res, const struct igw_node *root, size_t *len)
{
    const char *etag = res->header != NULL ? res->header(res, "ETag") : NULL;
    const struct igw_node *v = str_member(member(root, "meta"), "versionId");

    if (etag != NULL) {
        const char *p = strncmp(etag, "W/", 2) == 0 ? etag + 2 : etag;
        p += *p == '"' ? 1 : 0;
        *len = strcspn(p, "\"");
        return p;
    }
    *len = v != NULL ? v->len : 0;
    return v != NULL ? v->str : NULL;
}

/* The patched resource's checks: same type and id, valid R4. 0 or a refusal. */
static int
check_result(struct igw_med *m, const struct pstate *s, const struct igw_node *res)
{
    struct igw_fhir_opts o;
    struct igw_fhir_result r;
    struct igw_node *oo;

    if (!str_is(member(res, "resourceType"), s->type) || !str_is(member(res, "id"), s->id)) {
        return refuse(m, 422, IGW_FHIR_IT_PROCESSING,
                      "the patch must not change the resource's resourceType or id");
    }
    memset(&o, 0, sizeof(o));
    o.expected_type = s->type;
    o.max_issues = 100;
    if (igw_fhir_validate(m->arena, res, &o, &r) != IGW_OK) {
        return -IGW_ENOMEM;
    }
    if (r.errors == 0) {
        return 0;
    }
    oo = igw_fhir_outcome(m->arena, &r);
    igw_buf_reset(&m->answer.body);
    if (oo == NULL || igw_json_write(oo, &m->answer.body, 0) != IGW_OK) {
        return -IGW_ENOMEM;
    }
    m->answer.status = 422;
    m->answer.content_type = FHIR_CT;
    return IGW_MED_ANSWER;
}

static int
apply(struct igw_med *m, const struct pstate *s, struct igw_node *res)
{
    char why[IGW_ERRBUF_SIZE] = "";
    struct igw_buf b;
    int rv = igw_json_patch_apply(m->arena, res, s->ops, why, sizeof(why));

    if (rv == IGW_ENOMEM) {
        return -IGW_ENOMEM;
    }
    if (rv != IGW_OK) {
        return refuse(m, 422, IGW_FHIR_IT_PROCESSING, why);
    }
    rv = check_result(m, s, res);
    if (rv != 0) {
        return rv;
    }
    igw_buf_init(&b, 16u << 20);
    rv = igw_json_write(res, &b, 0);
    m->commit.body = rv == IGW_OK ? igw_arena_strndup(m->arena, b.ptr, b.len) : NULL;
    m->commit.body_len = b.len;
    igw_buf_fini(&b);
    if (m->commit.body == NULL) {
        return -IGW_ENOMEM;
    }
    m->commit.method = "PUT";
    m->commit.content_type = FHIR_CT; /* the patched resource, not the JSON Patch */
    return IGW_MED_COMMIT;
}

static int
step(struct igw_med *m, const struct igw_med_result *res)
{
    const struct pstate *s = m->state;
    const char *want = header(m, "If-Match");
    struct igw_node *root = NULL;
    struct igw_parse_error pe;
    const char *v;
    size_t vlen = 0;

    if (res->err != IGW_OK) {
        return -res->err;
    }
    if (res->status == 404 || res->status == 410) {
        return want != NULL && !s->patch
                   ? refuse(m, 412, "conflict", "If-Match: the resource does not exist")
                   : refuse(m, 404, IGW_FHIR_IT_NOT_FOUND, "no such resource to patch");
    }
    if (res->status != 200 ||
        igw_json_parse(m->arena, res->body, res->body_len, NULL, &root, &pe) != IGW_OK ||
        root->type != IGW_NODE_OBJECT) {
        snprintf(m->err, sizeof(m->err), "reading the current resource: upstream answered %d",
                 res->status);
        return -IGW_EIO;
    }
    v = current_version(res, root, &vlen);
    if (want != NULL && (v == NULL || !igw_fhir_version_eq(want, v, vlen))) {
        return refuse(m, 412, "conflict", "If-Match does not name the resource's current version");
    }
    return s->patch ? apply(m, s, root) : IGW_MED_COMMIT;
}

const struct igw_mediator_ops igw_mediator_fhir_patch = {
    .name = "fhir-patch",
    .description = "PATCH [base]/{type}/{id} with a JSON Patch: read the resource upstream, "
                   "apply, validate, commit as an update (If-Match honoured)",
    .commits = true,
    .start = patch_start,
    .step = step,
};

const struct igw_mediator_ops igw_mediator_fhir_if_match = {
    .name = "fhir-if-match",
    .description = "PUT [base]/{type}/{id}: with If-Match, read the resource upstream and commit "
                   "the update only when the version matches (else 412)",
    .commits = true,
    .start = if_match_start,
    .step = step,
};
