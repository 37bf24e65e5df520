/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /admin/dci/subscriptions (role viewer; docs/DCI.md, "Subscriptions"): every record of
 * the DCI subscription store (dialect/dci/dci_subs.h) as {"state": live|expired|ended, ...the
 * stored SubscriptionInfo and partner}, in code order. Runs on the admin worker (opening the
 * store may touch the disk); its reads never wait for the store's writer.
 */
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "admin/admin_int.h"
#include "dialect/dci/dci_subs.h"

#define DCI_SUBS_LIST_MAX 10000 /* records listed at most (the answer says when cut) */

struct list_ctx {
    struct igw_buf *b;
    int64_t now;
    size_t n;
    bool cut;
};

static int
one(void *arg, const char *code, const struct dci_sub_head *head, const char *json, size_t len)
{
    struct list_ctx *c = arg;
    const char *st = dci_subs_status_name(dci_subs_status(head, c->now));
    int rv;

    (void)code;
    if (c->n >= DCI_SUBS_LIST_MAX) {
        c->cut = true;
        return -1; /* stop: not an igw error code */
    }
    if (len < 2 || json[0] != '{') {
        return IGW_OK;
    }
    rv = igw_buf_printf(c->b, "%s{\"state\":\"%s\",", c->n > 0 ? "," : "", st);
    rv = rv == IGW_OK ? igw_buf_append(c->b, json + 1, len - 1) : rv;
    c->n++;
    return rv;
}

int
admin_op_dci_subs(igw_admin *a, struct igw_buf *b)
{
    const char *dir = dci_subs_dir_of(a->cfg);
    char err[IGW_ERRBUF_SIZE];
    struct list_ctx c = {b, (int64_t)time(NULL), 0, false};
    dci_subs *s = NULL;
    int rv;

    if (dir == NULL) {
        return admin_err_json(b, 404, "not_found", "no dci-subscriptions: route in the config",
                              NULL);
    }
    if (dci_subs_open(dir, &s, err, sizeof(err)) != IGW_OK) {
        return admin_err_json(b, 503, "unavailable", err, NULL);
    }
    rv = igw_buf_puts(b, "{\"subscriptions\":[");
    rv = rv == IGW_OK ? dci_subs_each(s, one, &c) : rv;
    dci_subs_close(s);
    if (rv != IGW_OK && rv != -1) {
        igw_buf_reset(b);
        return admin_err_json(b, 500, "internal", "the subscription store could not be read", NULL);
    }
    rv = igw_buf_printf(b, "],\"count\":%zu,\"truncated\":%s}", c.n, c.cut ? "true" : "false");
    return rv == IGW_OK ? 200 : 500;
}
