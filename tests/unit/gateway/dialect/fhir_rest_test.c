/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a FHIR client expects of igw, below the HTTP layer: the CapabilityStatement of
 * fhir_caps.c (built from channels, valid R4 by igw's own validator, interactions and
 * conditionalUpdate right), the fhir-patch and fhir-if-match state machines of fhir_patch.c
 * driven by hand (start asks for the read, step commits the patched resource or answers
 * 404/412/422), If-Match comparison, and the negotiation of fhir_rest.c (406/415).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/common.h"
#include "igw/config.h"
#include "igw/fhir.h"
#include "igw/json.h"
#include "mediate/mediator.h"
#include "dialect/fhir/fhir_caps_int.h"
#include "dialect/fhir/fhir_in_int.h"
#include "dialect/fhir/fhir_patch_int.h"
#include "igwt.h"

static char *
s(const char *v)
{
    return (char *)(uintptr_t)v; /* the test's channels are static and never freed */
}

static const char *const spec[][3] = {
    {"meta", "GET", "/fhir/metadata"},           {"create", "POST", "/fhir/{type}"},
    {"update", "PUT", "/fhir/{type}/{id}"},      {"cond", "PUT", "/fhir/{type}"},
    {"patch", "PATCH", "/fhir/{type}/{id}"},     {"bundle", "POST", "/fhir"},
    {"hook", "POST", "/hooks/openimis/patient"}, {"other", "POST", "/other/{type}"},
    {"read", "GET", "/fhir/{type}/{id}"},        {"search", "GET", "/fhir/{type}"},
};

static struct igw_channel chans[IGW_ARRAY_LEN(spec)];

static struct igw_config cfg = {.channels = chans, .nchannels = IGW_ARRAY_LEN(chans)};

static char maps_dir[1024];

static void
setup(void)
{
    const char *src = getenv("IGW_SRC");

    snprintf(maps_dir, sizeof(maps_dir), "%s/mappings", src != NULL ? src : "../..");
    for (size_t i = 0; i < IGW_ARRAY_LEN(chans); i++) {
        chans[i].name = s(spec[i][0]);
        chans[i].method = s(spec[i][1]);
        chans[i].path = s(spec[i][2]);
        chans[i].dialect = s(i == 6 ? "plain" : "fhir");
        chans[i].mappings_dir = maps_dir;
    }
}

/* The interaction codes of resource type t in the statement. */
static bool
has_interaction(const struct igw_node *cs, const char *t, const char *code)
{
    const struct igw_node *rest = igw_node_at(igw_node_get(cs, "rest", 4), 0);
    const struct igw_node *res = igw_node_get(rest, "resource", 8);

    for (const struct igw_node *r = res != NULL ? res->first : NULL; r != NULL; r = r->next) {
        const struct igw_node *type = igw_node_get(r, "type", 4);
        if (type == NULL || strlen(t) != type->len || memcmp(type->str, t, type->len) != 0) {
            continue;
        }
        for (const struct igw_node *i = igw_node_get(r, "interaction", 11)->first; i != NULL;
             i = i->next) {
            const struct igw_node *c = igw_node_get(i, "code", 4);
            if (c->len == strlen(code) && memcmp(c->str, code, c->len) == 0) {
                return true;
            }
        }
    }
    return false;
}

static void
test_capability_statement_valid_r4(void)
{
    igw_arena *a = NULL;
    struct igw_buf b;
    struct igw_node *root = NULL;
    struct igw_fhir_result r;
    struct igw_fhir_opts o;

    setup();
    memset(&o, 0, sizeof(o));
    o.expected_type = "CapabilityStatement";
    IGWT_OK(igw_arena_new(&a, 64u << 20));
    igw_buf_init(&b, 16u << 20);
    IGWT_OK(igw_fhir_capabilities(&cfg, &chans[0], "/fhir/metadata?_format=json", a, &b));
    IGWT_OK(igw_fhir_validate_json(a, b.ptr, b.len, NULL, &o, &root, &r));
    for (size_t i = 0; i < r.count; i++) {
        fprintf(stderr, "  %s %s: %s\n", r.issues[i].severity,
                r.issues[i].expression != NULL ? r.issues[i].expression : "-",
                r.issues[i].diagnostics);
    }
    IGWT_CHECK(r.errors == 0);
    IGWT_ASSERT(root != NULL);
    IGWT_CHECK(igw_node_get(root, "fhirVersion", 11) != NULL &&
               memcmp(igw_node_get(root, "fhirVersion", 11)->str, "4.0.1", 5) == 0);
    IGWT_CHECK(has_interaction(root, "Patient", "create"));
    IGWT_CHECK(has_interaction(root, "Patient", "update"));
    IGWT_CHECK(has_interaction(root, "Claim", "patch"));
    IGWT_CHECK(has_interaction(root, "Patient", "read"));
    IGWT_CHECK(has_interaction(root, "Patient", "search-type"));
    IGWT_CHECK(!has_interaction(root, "Account", "read")); /* no search map for it */
    IGWT_CHECK(has_interaction(root, "Account", "create"));
    IGWT_CHECK(strstr(b.ptr, "{\"name\":\"family\",\"type\":\"string\"") != NULL);
    IGWT_CHECK(strstr(b.ptr, "\"conditionalUpdate\":true") != NULL);
    IGWT_CHECK(strstr(b.ptr, "{\"code\":\"transaction\"},{\"code\":\"batch\"}") != NULL);
    IGWT_CHECK(strstr(b.ptr, "application/json-patch+json") != NULL);
    IGWT_CHECK(strstr(b.ptr, "xml") == NULL || strstr(b.ptr, "406") != NULL);
    igw_buf_fini(&b);
    igw_arena_free(a);
}

/* ---- fhir-patch / fhir-if-match by hand ---------------------------------------------------- */

struct hdrs {
    const char *if_match;
};

static const char *
req_header(void *arg, const char *name)
{
    struct hdrs *h = arg;
    return strcmp(name, "If-Match") == 0 ? h->if_match : NULL;
}

static const char *
res_header(const struct igw_med_result *r, const char *name)
{
    return strcmp(name, "ETag") == 0 ? r->priv : NULL;
}

static const char CURRENT[] = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\""
                              ":\"7\"},\"gender\":\"female\",\"name\":[{\"family\":\"Kamau\"}]}";

struct run {
    igw_arena *a;
    struct igw_med m;
    struct hdrs h;
};

static int
start(struct run *r, const struct igw_mediator_ops *ops, const char *method, const char *body,
      const char *if_match)
{
    setup();
    memset(r, 0, sizeof(*r));
    IGWT_OK(igw_arena_new(&r->a, 16u << 20));
    r->h.if_match = if_match;
    r->m.ch = &chans[strcmp(method, "PATCH") == 0 ? 4 : 2];
    r->m.cfg = &cfg;
    r->m.method = method;
    r->m.target = "/fhir/Patient/p1";
    r->m.header = req_header;
    r->m.header_arg = &r->h;
    r->m.body = body;
    r->m.body_len = strlen(body);
    r->m.arena = r->a;
    igw_buf_init(&r->m.answer.body, 16u << 20);
    return ops->start(&r->m);
}

static int
step(struct run *r, const struct igw_mediator_ops *ops, int status, const char *body,
     const char *etag)
{
    struct igw_med_result res = {.err = IGW_OK,
                                 .status = status,
                                 .content_type = FHIR_CT,
                                 .body = body,
                                 .body_len = strlen(body),
                                 .header = res_header,
                                 .priv = (void *)(uintptr_t)etag};
    return ops->step(&r->m, &res);
}

static void
done(struct run *r)
{
    igw_buf_fini(&r->m.answer.body);
    igw_arena_free(r->a);
}

extern const struct igw_mediator_ops igw_mediator_fhir_patch;
extern const struct igw_mediator_ops igw_mediator_fhir_if_match;

static void
test_patch_reads_applies_commits(void)
{
    const struct igw_mediator_ops *ops = igw_mediator_find("fhir-patch");
    struct run r;
    const char *p = "[{\"op\":\"replace\",\"path\":\"/gender\",\"value\":\"male\"},"
                    "{\"op\":\"add\",\"path\":\"/birthDate\",\"value\":\"1990-04-01\"}]";

    IGWT_ASSERT(ops == &igw_mediator_fhir_patch);
    IGWT_ERR(start(&r, ops, "PATCH", p, NULL), IGW_MED_CALL);
    IGWT_STREQ(r.m.call.method, "GET");
    IGWT_STREQ(r.m.call.path, "/Patient/p1");
    IGWT_ERR(step(&r, ops, 200, CURRENT, NULL), IGW_MED_COMMIT);
    IGWT_STREQ(r.m.commit.method, "PUT");
    IGWT_ASSERT(r.m.commit.body != NULL);
    IGWT_CHECK(strstr(r.m.commit.body, "\"gender\":\"male\"") != NULL);
    IGWT_CHECK(strstr(r.m.commit.body, "\"birthDate\":\"1990-04-01\"") != NULL);
    IGWT_CHECK(strstr(r.m.commit.body, "\"id\":\"p1\"") != NULL);
    done(&r);
    /* If-Match: the ETag of the read, else meta.versionId */
    IGWT_ERR(start(&r, ops, "PATCH", p, "W/\"7\""), IGW_MED_CALL);
    IGWT_ERR(step(&r, ops, 200, CURRENT, NULL), IGW_MED_COMMIT);
    done(&r);
    IGWT_ERR(start(&r, ops, "PATCH", p, "W/\"6\""), IGW_MED_CALL);
    IGWT_ERR(step(&r, ops, 200, CURRENT, "W/\"6\""), IGW_MED_COMMIT);
    done(&r);
    IGWT_ERR(start(&r, ops, "PATCH", p, "W/\"6\""), IGW_MED_CALL);
    IGWT_ERR(step(&r, ops, 200, CURRENT, NULL), IGW_MED_ANSWER);
    IGWT_CHECK(r.m.answer.status == 412);
    done(&r);
}

static void
test_patch_refusals(void)
{
    const struct igw_mediator_ops *ops = &igw_mediator_fhir_patch;
    struct run r;

    IGWT_ERR(start(&r, ops, "PATCH", "{\"op\":\"add\"}", NULL), IGW_MED_ANSWER);
    IGWT_CHECK(r.m.answer.status == 400);
    done(&r);
    IGWT_ERR(start(&r, ops, "PATCH", "[]", NULL), IGW_MED_CALL);
    IGWT_ERR(step(&r, ops, 404, "{}", NULL), IGW_MED_ANSWER);
    IGWT_CHECK(r.m.answer.status == 404);
    IGWT_CHECK(strstr(r.m.answer.body.ptr, "OperationOutcome") != NULL);
    done(&r);
    IGWT_ERR(start(&r, ops, "PATCH", "[{\"op\":\"test\",\"path\":\"/gender\",\"value\":\"male\"}]",
                   NULL),
             IGW_MED_CALL);
    IGWT_ERR(step(&r, ops, 200, CURRENT, NULL), IGW_MED_ANSWER);
    IGWT_CHECK(r.m.answer.status == 422 && strstr(r.m.answer.body.ptr, "test failed") != NULL);
    done(&r);
    IGWT_ERR(start(&r, ops, "PATCH",
                   "[{\"op\":\"replace\",\"path\":\"/gender\",\"value\":\"sometimes\"}]", NULL),
             IGW_MED_CALL);
    IGWT_ERR(step(&r, ops, 200, CURRENT, NULL), IGW_MED_ANSWER);
    IGWT_CHECK(r.m.answer.status == 422 && strstr(r.m.answer.body.ptr, "gender") != NULL);
    done(&r);
    IGWT_ERR(
        start(&r, ops, "PATCH", "[{\"op\":\"replace\",\"path\":\"/id\",\"value\":\"p2\"}]", NULL),
        IGW_MED_CALL);
    IGWT_ERR(step(&r, ops, 200, CURRENT, NULL), IGW_MED_ANSWER);
    IGWT_CHECK(r.m.answer.status == 422);
    done(&r);
    IGWT_ERR(start(&r, ops, "PATCH", "[]", NULL), IGW_MED_CALL);
    IGWT_ERR(step(&r, ops, 500, "oops", NULL), -IGW_EIO);
    done(&r);
}

static void
test_if_match(void)
{
    const struct igw_mediator_ops *ops = igw_mediator_find("fhir-if-match");
    struct run r;

    IGWT_ASSERT(ops == &igw_mediator_fhir_if_match);
    IGWT_ERR(start(&r, ops, "PUT", CURRENT, NULL), IGW_MED_COMMIT);
    IGWT_CHECK(r.m.commit.body == NULL); /* the inbound request as it is */
    done(&r);
    IGWT_ERR(start(&r, ops, "PUT", CURRENT, "W/\"7\""), IGW_MED_CALL);
    IGWT_ERR(step(&r, ops, 200, CURRENT, NULL), IGW_MED_COMMIT);
    done(&r);
    IGWT_ERR(start(&r, ops, "PUT", CURRENT, "W/\"8\""), IGW_MED_CALL);
    IGWT_ERR(step(&r, ops, 200, CURRENT, NULL), IGW_MED_ANSWER);
    IGWT_CHECK(r.m.answer.status == 412);
    done(&r);
    IGWT_ERR(start(&r, ops, "PUT", CURRENT, "W/\"8\""), IGW_MED_CALL);
    IGWT_ERR(step(&r, ops, 404, "", NULL), IGW_MED_ANSWER);
    IGWT_CHECK(r.m.answer.status == 412);
    done(&r);
    IGWT_CHECK(igw_fhir_version_eq("W/\"7\"", "7", 1));
    IGWT_CHECK(igw_fhir_version_eq("\"7\"", "7", 1));
    IGWT_CHECK(!igw_fhir_version_eq("W/\"77\"", "7", 1));
    IGWT_CHECK(!igw_fhir_version_eq(NULL, "7", 1));
}

/* ---- negotiation -------------------------------------------------------------------------- */

struct neg {
    const char *accept, *ctype;
};

static const char *
neg_header(void *arg, const char *name)
{
    struct neg *n = arg;
    return strcmp(name, "Accept") == 0 ? n->accept
                                       : (strcmp(name, "Content-Type") == 0 ? n->ctype : NULL);
}

static int
negotiate(const char *method, const char *target, const char *accept, const char *ctype)
{
    struct neg n = {accept, ctype};
    const char *code = NULL;
    const char *msg = NULL;

    return fhir_in_check_request(&chans[1], method, target, neg_header, &n, &code, &msg);
}

static void
test_negotiation(void)
{
    IGWT_CHECK(negotiate("POST", "/fhir/Patient", NULL, FHIR_CT) == 0);
    IGWT_CHECK(negotiate("POST", "/fhir/Patient", "application/fhir+json", FHIR_CT) == 0);
    IGWT_CHECK(negotiate("POST", "/fhir/Patient", "application/json+fhir", "application/json") ==
               0);
    IGWT_CHECK(negotiate("GET", "/fhir/Patient", "text/html, */*;q=0.8", NULL) == 0);
    IGWT_CHECK(negotiate("GET", "/fhir/Patient", "application/fhir+xml", NULL) == 406);
    IGWT_CHECK(negotiate("GET", "/fhir/Patient", "application/fhir+json;q=0", NULL) == 406);
    IGWT_CHECK(negotiate("GET", "/fhir/Patient?_format=xml", NULL, NULL) == 406);
    IGWT_CHECK(negotiate("GET", "/fhir/Patient?a=1&_format=application/fhir+json", NULL, NULL) ==
               0);
    IGWT_CHECK(negotiate("GET", "/fhir/Patient?_format=application%2Ffhir%2Bjson", NULL, NULL) ==
               0);
    IGWT_CHECK(negotiate("POST", "/fhir/Patient", NULL, "application/fhir+xml") == 415);
    IGWT_CHECK(negotiate("POST", "/fhir/Patient", NULL, "text/plain; charset=utf-8") == 415);
    IGWT_CHECK(negotiate("PATCH", "/fhir/Patient/1", NULL, "application/json-patch+json") == 0);
    IGWT_CHECK(negotiate("PATCH", "/fhir/Patient/1", NULL, FHIR_CT) == 415);
}

IGWT_MAIN({"capability_statement_valid_r4", test_capability_statement_valid_r4},
          {"patch_reads_applies_commits", test_patch_reads_applies_commits},
          {"patch_refusals", test_patch_refusals}, {"if_match", test_if_match},
          {"negotiation", test_negotiation})
