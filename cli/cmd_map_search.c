/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw map test: the golden cases of search maps, DIR/<map>/search-tests/<case>/ beside a
 * mappings/<map>/search file (docs/FHIR-SEARCH.md):
 *   request        one line: "Patient?family=Doe&_count=2" (a search) or "Patient/<id>" (a read)
 *   graphql.txt    optional: the exact GraphQL text of the first upstream call
 *   answer.json    the recorded upstream answer to it (absent: the request needs no call)
 *   expected.json  the Bundle (links under the base http://igw.test/fhir) or the resource
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/doc.h"
#include "igw/search.h"

#include "cmd_map_int.h"

#define GOLDEN_BASE "http://igw.test/fhir"

static bool
read_opt(const char *dir, const char *name, struct igw_buf *b)
{
    char path[4096];
    FILE *f;
    igw_buf_init(b, (size_t)64 << 20);
    (void)cmdmap_path_join(path, sizeof(path), dir, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        return false;
    }
    fclose(f);
    return igw_buf_read_file(b, path) == IGW_OK;
}

static void
trim(struct igw_buf *b)
{
    while (b->len > 0 && (b->ptr[b->len - 1] == '\n' || b->ptr[b->len - 1] == '\r' ||
                          b->ptr[b->len - 1] == ' ')) {
        b->ptr[--b->len] = '\0';
    }
}

static int
start(igw_arena *a, const igw_search_set *s, const char *req, igw_search_op **op, bool *read,
      char *err, size_t errlen)
{
    const char *q = strchr(req, '?');
    const char *slash = strchr(req, '/');
    char type[64];
    size_t tl =
        q != NULL ? (size_t)(q - req) : (slash != NULL ? (size_t)(slash - req) : strlen(req));
    if (tl >= sizeof(type)) {
        snprintf(err, errlen, "request: bad resource type");
        return IGW_EINVAL;
    }
    memcpy(type, req, tl);
    type[tl] = '\0';
    *read = q == NULL && slash != NULL;
    if (*read) {
        return igw_search_begin_read(op, a, s, type, slash + 1, err, errlen);
    }
    struct igw_search_query sq;
    const char *qs = q != NULL ? q + 1 : "";
    int rv = igw_search_query_parse(a, qs, strlen(qs), &sq, err, errlen);
    return rv == IGW_OK ? igw_search_begin(op, a, s, type, &sq, 0, err, errlen) : rv;
}

/* Runs one case; false with the reason in log. */
static bool
run_case(const char *cdir, const igw_search_set *s, const igw_map_set *maps, igw_arena *a,
         struct igw_buf *log)
{
    struct igw_buf req, gql, ans, exp, call, out;
    char err[IGW_ERRBUF_SIZE] = "";
    igw_search_op *op = NULL;
    struct igw_node *want = NULL, *got = NULL, *cq = NULL;
    bool read = false, ok = false;
    const char *etag = NULL, *lm = NULL;

    bool have_req = read_opt(cdir, "request", &req);
    bool have_gql = read_opt(cdir, "graphql.txt", &gql);
    bool have_ans = read_opt(cdir, "answer.json", &ans);
    bool have_exp = read_opt(cdir, "expected.json", &exp);
    igw_buf_init(&call, (size_t)1 << 22);
    igw_buf_init(&out, (size_t)64 << 20);
    if (!have_req || !have_exp) {
        (void)igw_buf_puts(log, "    needs request and expected.json\n");
        goto out;
    }
    trim(&req);
    trim(&gql);
    if (start(a, s, req.ptr, &op, &read, err, sizeof(err)) != IGW_OK) {
        (void)igw_buf_printf(log, "    %s\n", err);
        goto out;
    }
    if (igw_search_next_call(op, &call) == IGW_OK) {
        if (igw_json_parse(a, call.ptr, call.len, NULL, &cq, NULL) != IGW_OK) {
            goto out;
        }
        const struct igw_node *text = igw_node_get(cq, "query", 5);
        if (have_gql && strcmp(text->str, gql.ptr) != 0) {
            (void)igw_buf_printf(log, "    -want +got GraphQL:\n    -%s\n    +%s\n", gql.ptr,
                                 text->str);
            goto out;
        }
        if (!have_ans || igw_search_feed(op, ans.ptr, ans.len, err, sizeof(err)) != IGW_OK) {
            (void)igw_buf_printf(log, "    answer.json: %s\n", have_ans ? err : "missing");
            goto out;
        }
    }
    int rv = read ? igw_search_read(op, maps, &out, &etag, &lm, err, sizeof(err))
                  : igw_search_bundle(op, GOLDEN_BASE, maps, &out, err, sizeof(err));
    if (rv != IGW_OK) {
        (void)igw_buf_printf(log, "    %s\n", err[0] != '\0' ? err : igw_strerror(rv));
        goto out;
    }
    if (cmdmap_parse_doc("expected.json", IGW_FMT_JSON, a, &exp, &want) != IGW_OK ||
        cmdmap_parse_doc("answer", IGW_FMT_JSON, a, &out, &got) != IGW_OK) {
        goto out;
    }
    ok = igw_node_equal(want, got);
    if (!ok) {
        cmdmap_diff_report(log, want, got, false);
    }
out:
    igw_buf_fini(&req);
    igw_buf_fini(&gql);
    igw_buf_fini(&ans);
    igw_buf_fini(&exp);
    igw_buf_fini(&call);
    igw_buf_fini(&out);
    return ok;
}

void
cmdmap_search_tests(const char *dir, const struct names *mapdirs, const igw_map_set *maps,
                    igw_arena *a, unsigned *passed, unsigned *failed, struct igw_buf *log)
{
    igw_search_set *s = NULL;
    char err[IGW_ERRBUF_SIZE] = "";
    bool loaded = false;
    for (size_t i = 0; i < mapdirs->n; i++) {
        char tests[4096], cdir[4096], label[1024];
        struct names cases;
        const char *name = strrchr(mapdirs->v[i], '/');
        name = name != NULL ? name + 1 : mapdirs->v[i];
        (void)cmdmap_path_join(tests, sizeof(tests), mapdirs->v[i], "search-tests");
        if (cmdmap_list_dir(tests, true, &cases) != IGW_OK || cases.n == 0) {
            cmdmap_names_free(&cases);
            continue;
        }
        if (!loaded) {
            loaded = true;
            if (maps == NULL || igw_search_set_load(&s, dir, err, sizeof(err)) != IGW_OK ||
                igw_search_set_check(s, maps, err, sizeof(err)) != IGW_OK) {
                printf("FAIL search maps under %s\n    %s\n", dir,
                       maps == NULL ? "the maps do not load as a set" : err);
            }
        }
        for (size_t j = 0; j < cases.n; j++) {
            bool ok = false;
            igw_arena_reset(a);
            snprintf(label, sizeof(label), "%s/search:%s", name, cases.v[j]);
            (void)cmdmap_path_join(cdir, sizeof(cdir), tests, cases.v[j]);
            ok = s != NULL && run_case(cdir, s, maps, a, log);
            printf("%s %s\n", ok ? "ok  " : "FAIL", label);
            fwrite(log->ptr != NULL ? log->ptr : "", 1, log->len, stdout);
            igw_buf_reset(log);
            *(ok ? passed : failed) += 1;
        }
        cmdmap_names_free(&cases);
    }
    igw_search_set_free(s);
}
