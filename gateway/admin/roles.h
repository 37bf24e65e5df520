/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin API roles (docs/ADMIN-API.md, "Roles"): who a caller is and what it may do. Every
 * admin endpoint names the least role it needs; a caller passes when its role is at least that.
 *   viewer    reads: stats, messages, audit, alerts, metrics, whoami
 *   operator  also retry, replay, release, edit
 *   admin     also purge and bulk purge
 * Callers come from admin.credentials (named, with a role) or the older admin.auth (role
 * admin). Nothing here blocks; every function may run on any thread.
 */
#ifndef IGW_GATEWAY_ADMIN_ROLES_H
#define IGW_GATEWAY_ADMIN_ROLES_H

#include <stdbool.h>

#include "igw/config.h"

/* Ordered: a higher role may do everything a lower one may. 0 is "nobody" (unauthenticated).
 * IGW_ADMIN_ROLES_DEFINED: the queue branch's stand-in header defines the same values without
 * IGW_ROLE_NONE unless this one came first. */
#define IGW_ADMIN_ROLES_DEFINED
enum igw_admin_role {
    IGW_ROLE_NONE = 0,
    IGW_ROLE_VIEWER = 1,
    IGW_ROLE_OPERATOR = 2,
    IGW_ROLE_ADMIN = 3
};

#define IGW_ADMIN_NAME_MAX 64

/* An authenticated admin caller, by value (no pointers: a job may carry it across threads). */
struct igw_admin_caller {
    char name[IGW_ADMIN_NAME_MAX]; /* credential name; never a secret */
    enum igw_admin_role role;
};

/** True when c may call an endpoint that needs role need. c may be NULL (then false unless
 *  need is IGW_ROLE_NONE). Pure. */
bool igw_admin_allowed(const struct igw_admin_caller *c, enum igw_admin_role need);

/** The role's name: "viewer", "operator", "admin" or "none". Static storage. */
const char *igw_admin_role_name(enum igw_admin_role r);

/** Finds the caller an Authorization header value belongs to, checking every credential of
 *  cfg (admin.credentials, then admin.auth) in constant time per secret and without stopping
 *  at the first match, so timing tells nothing about which one matched. cfg and out must not
 *  be NULL; authorization may be NULL (no header).
 *  @return IGW_OK with *out filled, or IGW_EAUTH (no credential matched; *out is zeroed). */
int igw_admin_identify(const struct igw_config *cfg, const char *authorization,
                       struct igw_admin_caller *out);

#endif /* IGW_GATEWAY_ADMIN_ROLES_H */
