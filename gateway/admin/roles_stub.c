/* SPDX-License-Identifier: Apache-2.0 */
/* Stand-ins for the role check and the audit writer (roles_stub.h); deleted at their merge. */
#include <stddef.h>

#include "igw/log.h"
#include "admin/roles_stub.h"

bool
admin_need(nng_http_req *req, enum igw_admin_role need)
{
    (void)req;
    (void)need;
    return true;
}

void
admin_audit(struct igw_admin *a, const char *action, const char *target, const char *detail_json)
{
    (void)a;
    (void)detail_json;
    IGW_INFO("admin audit action=%s target=%s", action, target != NULL ? target : "-");
}
