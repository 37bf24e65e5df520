/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out_nng's route options and url check (nng_conf.c), for its ops table in out_nng.c.
 */
#ifndef IGW_GATEWAY_NNG_CONF_H
#define IGW_GATEWAY_NNG_CONF_H

#include <stddef.h>

#include "igw/config.h"
#include "delivery/output.h"

/* mode of channels.<name>.routes.<name>. */
extern const struct igw_output_config_map igw_nng_config_map;

/* The url check of a tcp:// or ipc:// route: the strict address syntax nng 1.5.2 needs.
 * @return IGW_OK, IGW_EINVAL (message in err). */
int igw_nng_url_check(struct igw_route *r, const char *rest, char *err, size_t errlen);

#endif /* IGW_GATEWAY_NNG_CONF_H */
