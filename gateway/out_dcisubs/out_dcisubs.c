/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out_dcisubs: the `dci-subscriptions:<dir>` destination (docs/DCI.md, "Subscriptions"). A
 * route of a DCI subscribe or unsubscribe channel whose delivery writes the committed request
 * into the subscription store (dialect/dci/dci_subs.h, an LMDB environment of its own at
 * <dir>): one record per subscribe_request item, or the sender's named codes marked ended.
 * The write is one LMDB commit (an fsync) on the delivery thread, where "delivered means on
 * disk" allows it (as out_file's fsync per batch); a mediator could not (it must not block).
 * A retried delivery writes the same records (codes are uuid5 of sender, message and item).
 * Outcomes: written -> delivered; not a subscribe/unsubscribe envelope -> dead letter at once;
 * an LMDB error (disk full) -> transient, retried with the route's backoff.
 */
#include <string.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/log.h"
#include "delivery/output.h"
#include "dialect/dci/dci_subs.h"

static int
subs_url_check(struct igw_route *r, const char *rest, char *err, size_t errlen)
{
    if (rest[0] == '/' && rest[1] == '/') {
        igw_errbuf_set(err, errlen, "write dci-subscriptions:<directory> (no //)");
        return IGW_EINVAL;
    }
    r->file_path = igw_strdup(rest);
    return r->file_path == NULL ? IGW_ENOMEM : IGW_OK;
}

static int
subs_route_init(const struct igw_output_route *r, void **rctx)
{
    char err[IGW_ERRBUF_SIZE];
    dci_subs *s = NULL;
    int rv = dci_subs_open(r->cfg->file_path, &s, err, sizeof(err));

    if (rv != IGW_OK) {
        IGW_ERROR("route %s: %s", r->cfg->name, err);
        return rv;
    }
    *rctx = s;
    return IGW_OK;
}

static void
subs_route_fini(void *rctx)
{
    dci_subs_close(rctx);
}

static void
subs_start(struct igw_dlv *dl)
{
    const struct igw_queue_claim *c = igw_dlv_claim(dl);
    char err[IGW_ERRBUF_SIZE] = "";
    int rv =
        dci_subs_apply(igw_dlv_route_ctx(dl), c->payload.ptr, c->payload.len, err, sizeof(err));

    if (rv == IGW_OK) {
        igw_dlv_finish_ok(dl);
    } else if (rv == IGW_EINVAL) {
        igw_dlv_finish_fail(dl, 0, err, IGW_DLV_HEALTH_NONE);
    } else {
        igw_dlv_finish_transient_health(dl, 0, rv == IGW_ENOMEM ? "out of memory" : err,
                                        IGW_DLV_HEALTH_NONE);
    }
}

static const struct igw_output_scheme subs_schemes[] = {{"dci-subscriptions:", false}};

const struct igw_output_ops igw_output_dcisubs = {
    .name = "dci-subscriptions",
    .description = "DCI subscribe/unsubscribe requests written to the subscription store (LMDB)",
    .schemes = subs_schemes,
    .nschemes = IGW_ARRAY_LEN(subs_schemes),
    .url_check = subs_url_check,
    .route_init = subs_route_init,
    .route_fini = subs_route_fini,
    .start = subs_start,
};
