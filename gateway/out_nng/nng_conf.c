/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out_nng's route options, declared next to the output (merged into the config loader's
 * table, parsed and documented with the rest: docs/CONFIG.md), and its url check.
 */
#include <stddef.h>

#include "config/config_int.h"
#include "out_nng/nng_conf.h"

#define RT(f) offsetof(struct igw_route, f)

/* clang-format off */
static const struct opt nng_opts[] = {
    {S_ROUTE, "mode", T_ENUM, RT(nng_mode), 0, "push", IGW_NNG_PUSH, 0, "push|req", 0, NULL,
     "choice", 0, "nng pattern for tcp:// and ipc:// routes: push0 (fire and forget) or req0 "
     "(the reply confirms delivery)."},
};
/* clang-format on */

const struct igw_output_config_map igw_nng_config_map = {nng_opts, IGW_ARRAY_LEN(nng_opts)};

int
igw_nng_url_check(struct igw_route *r, const char *rest, char *err, size_t errlen)
{
    IGW_UNUSED(rest);
    if (!cfg_addr_ok(r->url)) {
        igw_errbuf_set(err, errlen,
                       "invalid address (expected e.g. tcp://127.0.0.1:5555 or ipc://var/out.ipc)");
        return IGW_EINVAL;
    }
    return IGW_OK;
}
