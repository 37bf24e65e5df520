/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out_http's route options (http_conf.c), for its ops table in out_http.c.
 */
#ifndef IGW_GATEWAY_HTTP_CONF_H
#define IGW_GATEWAY_HTTP_CONF_H

#include "delivery/output.h"

/* method, headers, auth and tls of channels.<name>.routes.<name>. */
extern const struct igw_output_config_map igw_http_config_map;

#endif /* IGW_GATEWAY_HTTP_CONF_H */
