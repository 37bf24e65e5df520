/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder delivery engine: compiles and links; the real curl multi loop replaces it. */
#include <string.h>

#include "igw/common.h"
#include "deliver.h"

struct igw_deliverer {
    const struct igw_config *cfg;
    igw_queue *q;
};

int
igw_deliverer_start(igw_deliverer **out, const struct igw_config *cfg, igw_queue *q, char *errbuf,
                    size_t errlen)
{
    igw_deliverer *d = IGW_NEW(igw_deliverer);
    (void)errbuf;
    (void)errlen;
    if (d == NULL) {
        return IGW_ENOMEM;
    }
    d->cfg = cfg;
    d->q = q;
    *out = d;
    return IGW_OK;
}

void
igw_deliverer_kick(igw_deliverer *d)
{
    (void)d;
}

void
igw_deliverer_stats(igw_deliverer *d, struct igw_deliverer_stats *s)
{
    (void)d;
    memset(s, 0, sizeof(*s));
}

void
igw_deliverer_stop(igw_deliverer *d)
{
    igw_free(d);
}
