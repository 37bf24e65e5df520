/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/dialect/fhir/fhir_search.c: the fhir-read and fhir-search mediators driven on the
 * mediator seam as the engine drives them, with recorded GraphQL answers; and
 * igw_fhir_search_params for the CapabilityStatement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/map.h"
#include "dialect/fhir/fhir_search.h"
#include "http/http.h"
#include "mediate/mediator.h"
#include "igwt.h"

static char DIR_[4096];
static char NAME_[] = "fhir";
static char P_PATIENT[] = "/fhir/Patient";
static char P_TYPE[] = "/fhir/{type}";
static igw_map_set *MAPS;

static const char *
hdr(void *arg, const char *name)
{
    const char *const *h = arg;
    for (; h != NULL && h[0] != NULL; h += 2) {
        if (strcasecmp(h[0], name) == 0) {
            return h[1];
        }
    }
    return NULL;
}

struct run {
    struct igw_channel ch;
    void *state;
    struct igw_med m;
    struct igw_path_match pm;
    igw_arena *a;
};

static int
begin(struct run *r, const struct igw_mediator_ops *ops, const char *pattern, const char *method,
      const char *target, const char *const *headers, const char *body)
{
    char err[IGW_ERRBUF_SIZE] = "";
    const char *src = getenv("IGW_SRC");
    snprintf(DIR_, sizeof(DIR_), "%s/mappings", src != NULL ? src : "..");
    if (MAPS == NULL) {
        IGWT_OK(igw_map_set_load(&MAPS, DIR_, err, sizeof(err)));
    }
    memset(r, 0, sizeof(*r));
    r->ch.name = NAME_;
    r->ch.path = (char *)(uintptr_t)pattern;
    r->ch.mappings_dir = DIR_;
    IGWT_OK(ops->channel_init(&r->ch, &r->state, err, sizeof(err)));
    r->a = igwt_file_arena(0);
    size_t plen = strcspn(target, "?");
    IGWT_ASSERT(igw_path_match(pattern, target, plen, &r->pm));
    r->m.ch = &r->ch;
    r->m.chstate = r->state;
    r->m.method = method;
    r->m.target = target;
    r->m.pm = &r->pm;
    r->m.header = hdr;
    r->m.header_arg = (void *)(uintptr_t)headers;
    r->m.body = body;
    r->m.body_len = body != NULL ? strlen(body) : 0;
    r->m.arena = r->a;
    r->m.maps = MAPS;
    igw_buf_init(&r->m.answer.body, 16u << 20);
    return ops->start(&r->m);
}

static void
end(struct run *r, const struct igw_mediator_ops *ops)
{
    ops->fini(&r->m);
    igw_buf_fini(&r->m.answer.body);
    ops->channel_fini(r->state);
}

static const char *
result_header(const struct igw_med_result *res, const char *name)
{
    (void)res;
    (void)name;
    return NULL;
}

static int
feed(struct run *r, const struct igw_mediator_ops *ops, int err, int status, const char *body)
{
    struct igw_med_result res = {
        err,           status, "application/json", body, body != NULL ? strlen(body) : 0,
        result_header, NULL};
    return ops->step(&r->m, &res);
}

static const char *ONE =
    "{\"data\":{\"insurees\":{\"totalCount\":1,\"pageInfo\":{\"hasNextPage\":false},\"edges\":"
    "[{\"node\":{\"id\":\"SW5zdXJlZUdRTFR5cGU6MQ==\",\"uuid\":\"u-1\",\"chfId\":\"070707070\","
    "\"lastName\":\"Doe\",\"otherNames\":\"John\",\"dob\":\"1980-03-18\",\"gender\":{\"code\":"
    "\"M\"},\"validityFrom\":\"2024-03-18T07:27:45.207000\",\"education\":null}}]}}}";

static void
test_search(void)
{
    struct run r;
    const char *h[] = {"Host", "igw.example:7400", NULL, NULL};
    int rv = begin(&r, &igw_mediator_fhir_search, "/fhir/{type}", "GET",
                   "/fhir/Patient?family=Do&_total=accurate", h, NULL);
    IGWT_ASSERT(rv == IGW_MED_CALL);
    IGWT_STREQ(r.m.call.method, "POST");
    IGWT_STREQ(r.m.call.path, "/api/graphql");
    IGWT_STREQ(r.m.call.cache_tag, "Patient");
    IGWT_CHECK(strstr(r.m.call.body, "lastName_Istartswith") != NULL);
    rv = feed(&r, &igw_mediator_fhir_search, IGW_OK, 200, ONE);
    IGWT_ASSERT(rv == IGW_MED_ANSWER);
    IGWT_CHECK(r.m.answer.status == 200);
    IGWT_STREQ(r.m.answer.content_type, "application/fhir+json");
    IGWT_CHECK(r.m.answer.cacheable);
    IGWT_CHECK(strstr(r.m.answer.body.ptr, "\"total\":1") != NULL);
    IGWT_CHECK(
        strstr(r.m.answer.body.ptr,
               "\"url\":\"http://igw.example:7400/fhir/Patient?family=Do&_total=accurate\"") !=
        NULL);
    IGWT_CHECK(strstr(r.m.answer.body.ptr,
                      "\"fullUrl\":\"http://igw.example:7400/fhir/Patient/u-1\"") != NULL);
    IGWT_CHECK(strstr(r.m.answer.body.ptr, "education") == NULL); /* GraphQL null = absent */
    end(&r, &igw_mediator_fhir_search);
}

static void
test_post_search_strict(void)
{
    struct run r;
    const char *h[] = {"Prefer", "handling=strict", NULL, NULL};
    int rv = begin(&r, &igw_mediator_fhir_search, "/fhir/Patient/_search", "POST",
                   "/fhir/Patient/_search?_count=1", h, "colour=blue");
    IGWT_ASSERT(rv == IGW_MED_ANSWER);
    IGWT_CHECK(r.m.answer.status == 400);
    IGWT_CHECK(strstr(r.m.answer.body.ptr, "OperationOutcome") != NULL);
    IGWT_CHECK(strstr(r.m.answer.body.ptr, "colour") != NULL);
    end(&r, &igw_mediator_fhir_search);
    rv = begin(&r, &igw_mediator_fhir_search, "/fhir/Patient/_search", "POST",
               "/fhir/Patient/_search", NULL, "birthdate=1990&gender=female");
    IGWT_ASSERT(rv == IGW_MED_CALL);
    IGWT_CHECK(strstr(r.m.call.body, "gender_Code") != NULL);
    IGWT_CHECK(strstr(r.m.call.body, "dob_Gte") != NULL);
    end(&r, &igw_mediator_fhir_search);
}

static void
test_bad_queries(void)
{
    static const char *const BAD[] = {"/fhir/Patient?birthdate=19x0",
                                      "/fhir/Patient?birthdate=zz2000", "/fhir/Patient?family=%G1",
                                      "/fhir/Patient?_count=abc"};
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        struct run r;
        int rv = begin(&r, &igw_mediator_fhir_search, "/fhir/{type}", "GET", BAD[i], NULL, NULL);
        IGWT_CHECK(rv == IGW_MED_ANSWER);
        IGWT_CHECK(r.m.answer.status == 400);
        IGWT_CHECK(r.m.answer.body.ptr != NULL &&
                   strstr(r.m.answer.body.ptr, "\"resourceType\":\"OperationOutcome\"") != NULL);
        end(&r, &igw_mediator_fhir_search);
    }
    struct run r;
    int rv =
        begin(&r, &igw_mediator_fhir_search, "/fhir/{type}", "GET", "/fhir/Basic?x=1", NULL, NULL);
    IGWT_CHECK(rv == IGW_MED_ANSWER && r.m.answer.status == 404);
    end(&r, &igw_mediator_fhir_search);
}

static void
test_read(void)
{
    struct run r;
    int rv = begin(&r, &igw_mediator_fhir_read, "/fhir/{type}/{id}", "GET", "/fhir/Patient/u-1",
                   NULL, NULL);
    IGWT_ASSERT(rv == IGW_MED_CALL);
    IGWT_CHECK(strstr(r.m.call.body, "uuid: \\\"u-1\\\"") != NULL);
    rv = feed(&r, &igw_mediator_fhir_read, IGW_OK, 200, ONE);
    IGWT_ASSERT(rv == IGW_MED_ANSWER);
    IGWT_CHECK(r.m.answer.status == 200);
    IGWT_CHECK(strstr(r.m.answer.body.ptr, "\"resourceType\":\"Patient\"") != NULL);
    IGWT_STREQ(r.m.answer.last_modified, "Mon, 18 Mar 2024 07:27:45 GMT");
    IGWT_CHECK(r.m.answer.etag != NULL);
    end(&r, &igw_mediator_fhir_read);

    rv = begin(&r, &igw_mediator_fhir_read, "/fhir/Patient/{id}", "GET", "/fhir/Patient/none", NULL,
               NULL);
    IGWT_ASSERT(rv == IGW_MED_CALL);
    rv = feed(&r, &igw_mediator_fhir_read, IGW_OK, 200,
              "{\"data\":{\"insurees\":{\"pageInfo\":{\"hasNextPage\":false},\"edges\":[]}}}");
    IGWT_CHECK(rv == IGW_MED_ANSWER && r.m.answer.status == 404);
    IGWT_CHECK(strstr(r.m.answer.body.ptr, "not-found") != NULL);
    end(&r, &igw_mediator_fhir_read);
}

static void
test_upstream_failures(void)
{
    struct run r;
    int rv =
        begin(&r, &igw_mediator_fhir_read, "/fhir/{type}/{id}", "GET", "/fhir/Group/g", NULL, NULL);
    IGWT_ASSERT(rv == IGW_MED_CALL);
    IGWT_CHECK(feed(&r, &igw_mediator_fhir_read, IGW_OK, 401, "{\"errors\":[]}") == -IGW_EAUTH);
    IGWT_CHECK(feed(&r, &igw_mediator_fhir_read, IGW_OK, 500, "oops") == -IGW_EIO);
    IGWT_CHECK(feed(&r, &igw_mediator_fhir_read, IGW_OK, 429, "{}") == -IGW_EAGAIN);
    IGWT_CHECK(feed(&r, &igw_mediator_fhir_read, IGW_ETIMEDOUT, 0, NULL) == -IGW_ETIMEDOUT);
    IGWT_CHECK(feed(&r, &igw_mediator_fhir_read, IGW_OK, 200, "not json") == -IGW_EIO);
    IGWT_CHECK(feed(&r, &igw_mediator_fhir_read, IGW_OK, 200,
                    "{\"errors\":[{\"message\":\"unauthorized\"}],\"data\":{\"families\":null}}") ==
               -IGW_EIO);
    IGWT_CHECK(strstr(r.m.err, "unauthorized") != NULL);
    end(&r, &igw_mediator_fhir_read);
}

struct seen {
    int n;
    bool family, birthdate_date, group;
};

static void
param(void *arg, const char *res, const char *p, const char *type, const char *doc)
{
    struct seen *s = arg;
    s->n++;
    IGWT_CHECK(doc != NULL);
    s->family |= strcmp(res, "Patient") == 0 && strcmp(p, "family") == 0;
    s->birthdate_date |= strcmp(p, "birthdate") == 0 && strcmp(type, "date") == 0;
    s->group |= strcmp(res, "Group") == 0;
}

static void
test_params(void)
{
    struct igw_channel ch;
    struct seen s = {0, false, false, false};
    const char *src = getenv("IGW_SRC");
    snprintf(DIR_, sizeof(DIR_), "%s/mappings", src != NULL ? src : "..");
    memset(&ch, 0, sizeof(ch));
    ch.path = P_PATIENT;
    ch.mappings_dir = DIR_;
    igw_fhir_search_params(&ch, param, &s);
    IGWT_CHECK(s.family && s.birthdate_date && !s.group);
    ch.path = P_TYPE;
    s = (struct seen){0, false, false, false};
    igw_fhir_search_params(&ch, param, &s);
    IGWT_CHECK(s.family && s.group);
    igw_fhir_search_params(NULL, param, &s);
    igw_map_set_free(MAPS);
    MAPS = NULL;
}

IGWT_MAIN({"search", test_search}, {"post_search_strict", test_post_search_strict},
          {"bad_queries", test_bad_queries}, {"read", test_read},
          {"upstream_failures", test_upstream_failures}, {"params", test_params})
