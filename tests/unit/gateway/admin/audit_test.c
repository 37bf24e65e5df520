/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/admin/audit.c and roles.c: records and their JSON, seq across reopen,
 * paging newest first, rotation bounds, details with line breaks; role order and the caller
 * found among several credentials. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "admin/audit.h"
#include "admin/roles.h"
#include "igwt.h"

static char dir[64];

static void
tmp_path(char *out, size_t n, const char *name)
{
    if (dir[0] == '\0') {
        snprintf(dir, sizeof(dir), "/tmp/igw-audit-XXXXXX");
        IGWT_ASSERT(mkdtemp(dir) != NULL);
    }
    snprintf(out, n, "%s/%s", dir, name);
    unlink(out);
}

static const struct igw_admin_caller otto = {"otto", IGW_ROLE_OPERATOR};

static void
test_append_list_reopen(void)
{
    char path[128];
    char err[256];
    igw_audit *a = NULL;
    struct igw_buf b;

    tmp_path(path, sizeof(path), "a.jsonl");
    IGWT_OK(igw_audit_open(&a, path, 1u << 20, err, sizeof(err)));
    IGWT_OK(igw_audit_append(a, &otto, "release", "00000000000000a1", "{\"route\":\"c.r\"}"));
    IGWT_OK(igw_audit_append(a, NULL, "purge", NULL, NULL));
    IGWT_OK(igw_audit_append(a, &otto, "edit", "x", "{\"before\":\"a\nb\"}\n"));
    IGWT_ERR(igw_audit_append(a, &otto, NULL, NULL, NULL), IGW_EINVAL);
    igw_buf_init(&b, 1u << 20);
    IGWT_OK(igw_audit_list(a, 0, 2, &b));
    IGWT_CHECK(strstr(b.ptr, "{\"items\":[{\"seq\":3,") == b.ptr);
    IGWT_CHECK(strstr(b.ptr, "\"detail\":\"{\\\"before\\\":\\\"a\\nb\\\"}\\n\"") != NULL);
    IGWT_CHECK(strstr(b.ptr, "{\"seq\":2,") != NULL && strstr(b.ptr, "\"who\":\"-\"") != NULL);
    IGWT_CHECK(strstr(b.ptr, "\"next\":\"2\"}") != NULL);
    igw_buf_reset(&b);
    IGWT_OK(igw_audit_list(a, 2, 10, &b));
    IGWT_CHECK(strstr(b.ptr,
                      "\"who\":\"otto\",\"role\":\"operator\",\"action\":\"release\","
                      "\"target\":\"00000000000000a1\",\"detail\":{\"route\":\"c.r\"}}") != NULL);
    IGWT_CHECK(strstr(b.ptr, "\"next\":null") != NULL);
    IGWT_ERR(igw_audit_list(a, 0, 0, &b), IGW_EINVAL);
    IGWT_ERR(igw_audit_list(a, 0, IGW_AUDIT_LIST_MAX + 1, &b), IGW_EINVAL);
    igw_audit_close(a);
    a = NULL;
    IGWT_OK(igw_audit_open(&a, path, 1u << 20, err, sizeof(err)));
    IGWT_OK(igw_audit_append(a, &otto, "retry", "y", NULL));
    igw_buf_reset(&b);
    IGWT_OK(igw_audit_list(a, 0, 1, &b));
    IGWT_CHECK(strstr(b.ptr, "{\"items\":[{\"seq\":4,") == b.ptr);
    igw_buf_fini(&b);
    igw_audit_close(a);
    igw_audit_close(NULL);
    igw_audit_write(NULL, &otto, "x", NULL, NULL);
}

static void
test_rotation_bounded(void)
{
    char path[128];
    char old[140];
    char err[256];
    igw_audit *a = NULL;
    struct igw_buf b;
    struct stat st;

    tmp_path(path, sizeof(path), "r.jsonl");
    snprintf(old, sizeof(old), "%s.1", path);
    unlink(old);
    IGWT_OK(igw_audit_open(&a, path, 4096, err, sizeof(err)));
    for (int i = 0; i < 200; i++) {
        IGWT_OK(igw_audit_append(a, &otto, "release", "0000000000000001", NULL));
    }
    IGWT_CHECK(stat(path, &st) == 0 && st.st_size < 4096 + 200);
    IGWT_CHECK(stat(old, &st) == 0 && st.st_size < 4096 + 200);
    igw_buf_init(&b, 1u << 20);
    IGWT_OK(igw_audit_list(a, 0, 500, &b));
    IGWT_CHECK(strstr(b.ptr, "{\"items\":[{\"seq\":200,") == b.ptr);
    IGWT_CHECK(strstr(b.ptr, "\"seq\":1,") == NULL); /* rotated away */
    igw_buf_fini(&b);
    igw_audit_close(a);
    a = NULL;
    IGWT_OK(igw_audit_open(&a, path, 4096, err, sizeof(err)));
    IGWT_OK(igw_audit_append(a, &otto, "purge", NULL, NULL));
    igw_buf_init(&b, 1u << 20);
    IGWT_OK(igw_audit_list(a, 0, 1, &b));
    IGWT_CHECK(strstr(b.ptr, "{\"items\":[{\"seq\":201,") == b.ptr);
    igw_buf_fini(&b);
    igw_audit_close(a);
    IGWT_ERR(igw_audit_open(&a, "/nonexistent-dir/x/audit.jsonl", 4096, err, sizeof(err)), IGW_EIO);
    IGWT_CHECK(strstr(err, "cannot open audit log") != NULL);
}

static void
test_roles(void)
{
    struct igw_admin_caller v = {"v", IGW_ROLE_VIEWER};
    struct igw_admin_caller ad = {"a", IGW_ROLE_ADMIN};

    IGWT_CHECK(igw_admin_allowed(&v, IGW_ROLE_VIEWER));
    IGWT_CHECK(!igw_admin_allowed(&v, IGW_ROLE_OPERATOR));
    IGWT_CHECK(igw_admin_allowed(&otto, IGW_ROLE_OPERATOR));
    IGWT_CHECK(!igw_admin_allowed(&otto, IGW_ROLE_ADMIN));
    IGWT_CHECK(igw_admin_allowed(&ad, IGW_ROLE_ADMIN));
    IGWT_CHECK(!igw_admin_allowed(NULL, IGW_ROLE_VIEWER));
    IGWT_CHECK(igw_admin_allowed(NULL, IGW_ROLE_NONE));
    IGWT_STREQ(igw_admin_role_name(IGW_ROLE_OPERATOR), "operator");
    IGWT_STREQ(igw_admin_role_name((enum igw_admin_role)9), "none");
}

static void
test_identify(void)
{
    char s1[] = "tok-v", s2[] = "tok-a", s3[] = "bob:pw", s4[] = "legacy";
    char n1[] = "vera", n2[] = "ada", n3[] = "bob";
    struct igw_secret t1 = {s1, 5};
    struct igw_secret t2 = {s2, 5};
    struct igw_secret bp = {s3, 6};
    struct igw_secret leg = {s4, 6};
    struct igw_admin_cred creds[3] = {
        {n1, IGW_ROLE_VIEWER, {IGW_AUTH_BEARER, &t1, 1}},
        {n2, IGW_ROLE_ADMIN, {IGW_AUTH_BEARER, &t2, 1}},
        {n3, IGW_ROLE_OPERATOR, {IGW_AUTH_BASIC, &bp, 1}},
    };
    struct igw_config cfg;
    struct igw_admin_caller c;

    memset(&cfg, 0, sizeof(cfg));
    cfg.admin_creds = creds;
    cfg.nadmin_creds = 3;
    cfg.admin_auth.type = IGW_AUTH_BEARER;
    cfg.admin_auth.secrets = &leg;
    cfg.admin_auth.nsecrets = 1;
    IGWT_OK(igw_admin_identify(&cfg, "Bearer tok-a", &c));
    IGWT_STREQ(c.name, "ada");
    IGWT_CHECK(c.role == IGW_ROLE_ADMIN);
    IGWT_OK(igw_admin_identify(&cfg, "Bearer tok-v", &c));
    IGWT_CHECK(c.role == IGW_ROLE_VIEWER);
    IGWT_OK(igw_admin_identify(&cfg, "Basic Ym9iOnB3", &c)); /* bob:pw */
    IGWT_STREQ(c.name, "bob");
    IGWT_OK(igw_admin_identify(&cfg, "Bearer legacy", &c));
    IGWT_STREQ(c.name, "admin");
    IGWT_CHECK(c.role == IGW_ROLE_ADMIN);
    IGWT_ERR(igw_admin_identify(&cfg, "Bearer nope", &c), IGW_EAUTH);
    IGWT_CHECK(c.role == IGW_ROLE_NONE && c.name[0] == '\0');
    IGWT_ERR(igw_admin_identify(&cfg, NULL, &c), IGW_EAUTH);
    IGWT_ERR(igw_admin_identify(&cfg, "Basic Ym9iOnh4", &c), IGW_EAUTH); /* bob:xx */
}

static void
test_cleanup(void)
{
    char p[160];
    const char *names[] = {"a.jsonl", "a.jsonl.1", "r.jsonl", "r.jsonl.1"};

    for (size_t i = 0; dir[0] != '\0' && i < IGW_ARRAY_LEN(names); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    IGWT_CHECK(dir[0] == '\0' || rmdir(dir) == 0);
}

IGWT_MAIN({"append_list_reopen", test_append_list_reopen},
          {"rotation_bounded", test_rotation_bounded}, {"roles", test_roles},
          {"identify", test_identify}, {"cleanup", test_cleanup})
