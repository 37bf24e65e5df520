/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out_file's route configuration (file_conf.c), for its ops table in out_file.c.
 */
#ifndef IGW_GATEWAY_FILE_CONF_H
#define IGW_GATEWAY_FILE_CONF_H

#include <stddef.h>

#include "igw/config.h"

/* The url check of a file:// route: the rest of the url is the path (r->file_path, relative to
 * the working directory). @return IGW_OK, IGW_ENOMEM. */
int igw_file_url_check(struct igw_route *r, const char *rest, char *err, size_t errlen);

#endif /* IGW_GATEWAY_FILE_CONF_H */
