/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out_file's route configuration: a file:// route has no options of its own; its url names the
 * file (docs/DELIVERY.md), kept in igw_route.file_path at load time.
 */
#include "igw/common.h"
#include "out_file/file_conf.h"

int
igw_file_url_check(struct igw_route *r, const char *rest, char *err, size_t errlen)
{
    IGW_UNUSED(err);
    IGW_UNUSED(errlen);
    r->file_path = igw_strdup(rest);
    return r->file_path == NULL ? IGW_ENOMEM : IGW_OK;
}
