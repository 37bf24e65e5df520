/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The output registry (gateway/delivery/outputs.c): every built-in output is found by each of
 * its url schemes (case-insensitive), by a route's kind, and every ops table has what the
 * engine needs.
 */
#include <string.h>

#include "igwt.h"
#include "igw/config.h"
#include "delivery/output.h"

static void
check_scheme(const char *url, const char *name, enum igw_dest_kind want_kind, bool needs_host)
{
    const struct igw_output_scheme *sc = NULL;
    unsigned kind = 0;
    const struct igw_output_ops *o = igw_output_by_url(url, &kind, &sc);

    IGWT_ASSERT(o != NULL);
    IGWT_STREQ(o->name, name);
    IGWT_CHECK(kind == (unsigned)want_kind);
    IGWT_CHECK(sc != NULL && sc->needs_host == needs_host);
    IGWT_CHECK(igw_output_at(kind - 1) == o);
}

static void
test_by_scheme(void)
{
    check_scheme("http://127.0.0.1:8080/in", "http", IGW_DEST_HTTP, true);
    check_scheme("HTTPS://fhir.example.org/fhir", "http", IGW_DEST_HTTP, true);
    check_scheme("file://var/out/events.ndjson", "file", IGW_DEST_FILE, false);
    check_scheme("tcp://127.0.0.1:5555", "nng", IGW_DEST_NNG, true);
    check_scheme("ipc://var/out.ipc", "nng", IGW_DEST_NNG, false);
    IGWT_CHECK(igw_output_by_url("ftp://example.org/x", NULL, NULL) == NULL);
    IGWT_CHECK(igw_output_by_url("", NULL, NULL) == NULL);
    IGWT_CHECK(igw_output_by_url("http:/x", NULL, NULL) == NULL);
}

static char url_file[] = "file://x.ndjson";
static char url_odd[] = "gopher://x";

static void
test_of_route(void)
{
    struct igw_route r;

    memset(&r, 0, sizeof(r));
    r.url = url_file;
    IGWT_STREQ(igw_output_of_route(&r)->name, "file"); /* kind 0: from the url */
    r.kind = IGW_DEST_NNG;
    IGWT_STREQ(igw_output_of_route(&r)->name, "nng"); /* kind wins */
    r.kind = (enum igw_dest_kind)(igw_output_count() + 1);
    IGWT_CHECK(igw_output_of_route(&r) == NULL);
    r.kind = 0;
    r.url = url_odd;
    IGWT_STREQ(igw_output_of_route(&r)->name, "http"); /* a hand-built route: the first */
}

static void
test_ops_complete(void)
{
    IGWT_CHECK(igw_output_count() >= 3);
    IGWT_CHECK(igw_output_at(igw_output_count()) == NULL);
    for (size_t i = 0; i < igw_output_count(); i++) {
        const struct igw_output_ops *o = igw_output_at(i);
        IGWT_ASSERT(o != NULL);
        IGWT_CHECK(o->name != NULL && o->description != NULL);
        IGWT_CHECK(o->nschemes > 0 && o->schemes != NULL);
        IGWT_CHECK(o->start != NULL);
        /* an output that links deliveries as active must be able to stop them */
        IGWT_CHECK(o->collect == NULL || o->abort != NULL);
        for (size_t j = 0; j < i; j++) {
            IGWT_CHECK(strcmp(igw_output_at(j)->name, o->name) != 0);
        }
    }
}

IGWT_MAIN({"by_scheme", test_by_scheme}, {"of_route", test_of_route},
          {"ops_complete", test_ops_complete})
