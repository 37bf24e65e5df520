/* SPDX-License-Identifier: Apache-2.0 */
/* Gateway-internal: the g2p output's options and url check (pay_conf.c), for out_g2p.c. */
#ifndef IGW_GATEWAY_PAYMENTS_OUT_G2P_H
#define IGW_GATEWAY_PAYMENTS_OUT_G2P_H

#include <stddef.h>

#include "igw/config.h"
#include "delivery/output.h"

extern const struct igw_output_config_map igw_g2p_config_map;

/** The url after g2p: or g2p-ledger: must be a partner's name ([A-Za-z0-9_.-]); whether that
 *  partner exists is checked by the loader's partner checks. @return IGW_OK, IGW_EINVAL. */
int igw_g2p_url_check(struct igw_route *r, const char *rest, char *err, size_t errlen);

#endif /* IGW_GATEWAY_PAYMENTS_OUT_G2P_H */
