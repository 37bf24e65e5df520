/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stand-ins for the role check and the audit log of issue 11 (gateway/admin/roles.h and the
 * audit writer), used by the admin endpoints until those land; this header and roles_stub.c
 * are deleted at that merge, and each call below becomes the real one:
 *   admin_need(req, role)                -> igw_admin_allowed(caller, role)
 *   admin_audit(a, action, target, json) -> igw_audit_write(audit, caller, action, target, json)
 */
#ifndef IGW_GATEWAY_ADMIN_ROLES_STUB_H
#define IGW_GATEWAY_ADMIN_ROLES_STUB_H

#include <stdbool.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#ifndef IGW_ADMIN_ROLES_DEFINED
#define IGW_ADMIN_ROLES_DEFINED
enum igw_admin_role { IGW_ROLE_VIEWER = 1, IGW_ROLE_OPERATOR, IGW_ROLE_ADMIN };
#endif

struct igw_admin;

/** Whether the (already authenticated) caller of req has at least role need. Stub: the one
 *  admin credential of admin.auth is role admin, so always true. req not NULL. */
bool admin_need(nng_http_req *req, enum igw_admin_role need);

/** Writes one audit record (who, when, action, target, detail_json: JSON text or NULL) before
 *  the action is answered. Stub: one log line without the detail (it may hold a body). */
void admin_audit(struct igw_admin *a, const char *action, const char *target,
                 const char *detail_json);

#endif /* IGW_GATEWAY_ADMIN_ROLES_STUB_H */
