/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin roles (roles.h): the role order, and finding the caller of a request among the admin
 * credentials with the shared constant-time checks of http/auth.c.
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "admin/roles.h"
#include "http/http.h"

bool
igw_admin_allowed(const struct igw_admin_caller *c, enum igw_admin_role need)
{
    if (need == IGW_ROLE_NONE) {
        return true;
    }
    return c != NULL && c->role >= need;
}

const char *
igw_admin_role_name(enum igw_admin_role r)
{
    switch (r) {
    case IGW_ROLE_VIEWER:
        return "viewer";
    case IGW_ROLE_OPERATOR:
        return "operator";
    case IGW_ROLE_ADMIN:
        return "admin";
    default:
        return "none";
    }
}

/* One credential set checked alone (no channels: a channel's token is no admin credential). */
static bool
auth_ok(const struct igw_auth *auth, const char *authorization)
{
    static const struct igw_config none;
    struct igw_channel ch;

    if (auth->type == IGW_AUTH_NONE) {
        return false;
    }
    memset(&ch, 0, sizeof(ch));
    ch.auth = *auth;
    return igw_http_auth_check(&none, &ch, authorization) == IGW_OK;
}

/* The user of a Basic header matched by the older admin.auth, or "admin". */
static void
legacy_name(const struct igw_config *cfg, const char *authorization, char *out, size_t outlen)
{
    char dec[256];
    size_t n = 0;
    const char *p = authorization + 6;

    snprintf(out, outlen, "admin");
    if (cfg->admin_auth.type != IGW_AUTH_BASIC) {
        return;
    }
    while (*p == ' ') {
        p++;
    }
    if (igw_base64_decode(p, strcspn(p, " "), dec, sizeof(dec) - 1, &n) == IGW_OK) {
        dec[n] = '\0';
        n = strcspn(dec, ":");
        if (n > 0 && n < outlen) {
            memcpy(out, dec, n);
            out[n] = '\0';
        }
    }
    memset(dec, 0, sizeof(dec));
}

int
igw_admin_identify(const struct igw_config *cfg, const char *authorization,
                   struct igw_admin_caller *out)
{
    const struct igw_admin_cred *hit = NULL;
    bool legacy;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < cfg->nadmin_creds; i++) {
        bool ok = auth_ok(&cfg->admin_creds[i].auth, authorization);
        if (ok && hit == NULL) {
            hit = &cfg->admin_creds[i];
        }
    }
    legacy = auth_ok(&cfg->admin_auth, authorization);
    if (hit != NULL) {
        snprintf(out->name, sizeof(out->name), "%s", hit->name);
        out->role = (enum igw_admin_role)hit->role;
        return IGW_OK;
    }
    if (legacy) {
        legacy_name(cfg, authorization, out->name, sizeof(out->name));
        out->role = IGW_ROLE_ADMIN;
        return IGW_OK;
    }
    return IGW_EAUTH;
}
