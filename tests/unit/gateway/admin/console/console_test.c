/* SPDX-License-Identifier: Apache-2.0 */
/* The web console's embedded assets (gateway/admin/console/): the table embed.cmake generates
 * holds every file with its Content-Type and its bytes intact, and the page keeps to its CSP
 * (no inline script, no inline style or handler, nothing from another origin). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "admin/console/console_assets.h"
#include "igwt.h"

static const struct igw_console_asset *
asset(const char *name)
{
    size_t i;

    for (i = 0; i < igw_console_nassets; i++) {
        if (strcmp(igw_console_assets[i].name, name) == 0) {
            return &igw_console_assets[i];
        }
    }
    return NULL;
}

static const char *
content_type(const char *name)
{
    const struct igw_console_asset *a = asset(name);

    return a != NULL ? a->content_type : "(missing)";
}

/* The asset's text, or "" when it is missing (the checks then fail). */
static const char *
text(const char *name)
{
    const struct igw_console_asset *a = asset(name);

    IGWT_CHECK(a != NULL);
    return a != NULL ? (const char *)a->data : "";
}

static void
test_table_matches_the_files(void)
{
    const char *src = getenv("IGW_SRC");
    size_t i;

    IGWT_CHECK(igw_console_nassets >= 3);
    for (i = 0; i < igw_console_nassets; i++) {
        const struct igw_console_asset *a = &igw_console_assets[i];
        char path[1024];
        struct igw_buf b;
        igw_buf_init(&b, 4u << 20);
        IGWT_CHECK(a->len > 0 && a->data[a->len] == '\0');
        IGWT_CHECK(strchr(a->name, '/') == NULL); /* served by exact name only */
        if (src != NULL) {
            snprintf(path, sizeof(path), "%s/gateway/admin/console/assets/%s", src, a->name);
            IGWT_OK(igw_buf_read_file(&b, path));
            IGWT_CHECK(b.len == a->len && memcmp(b.ptr, a->data, a->len) == 0);
        }
        igw_buf_fini(&b);
    }
    IGWT_STREQ(content_type("index.html"), "text/html; charset=utf-8");
    IGWT_STREQ(content_type("console.js"), "text/javascript; charset=utf-8");
    IGWT_STREQ(content_type("console.css"), "text/css; charset=utf-8");
}

static void
test_page_keeps_to_its_csp(void)
{
    const char *html = text("index.html");
    const char *js = text("console.js");
    const char *p;

    for (p = strstr(html, "<script"); p != NULL; p = strstr(p + 1, "<script")) {
        const char *end = strchr(p, '>');
        IGWT_ASSERT(end != NULL);
        IGWT_CHECK(strncmp(p, "<script src=\"/console/", 22) == 0);
        IGWT_CHECK(strncmp(end, "></script>", 10) == 0); /* no inline body */
    }
    IGWT_CHECK(strstr(html, " style=") == NULL && strstr(html, "<style") == NULL);
    IGWT_CHECK(strstr(html, " onclick=") == NULL && strstr(html, " onload=") == NULL);
    IGWT_CHECK(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL);
    /* the script puts server data into the page as text only */
    IGWT_CHECK(strstr(js, "innerHTML") == NULL && strstr(js, "insertAdjacentHTML") == NULL);
    IGWT_CHECK(strstr(js, "eval(") == NULL && strstr(js, "new Function") == NULL);
    IGWT_CHECK(strstr(js, "localStorage") == NULL); /* the token stays in sessionStorage */
}

IGWT_MAIN({"table_matches_the_files", test_table_matches_the_files},
          {"page_keeps_to_its_csp", test_page_keeps_to_its_csp})
