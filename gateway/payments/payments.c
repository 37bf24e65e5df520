/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The payment flow's process-wide state (payments.h): the current ledger and options, set once
 * by gateway.c at start and cleared at stop, and the counters /metrics shows.
 */
#include <stdatomic.h>
#include <string.h>

#include "igw/common.h"
#include "igw/err.h"
#include "payments/payments.h"

static igw_ledger *_Atomic current;
static const struct igw_payments_conf *_Atomic current_conf;
static struct igw_pay_counters counters;
static const struct igw_config *_Atomic current_cfg;
static igw_queue *_Atomic att_q;
static igw_maps *_Atomic att_maps;
static igw_deliverer *_Atomic att_d;

static bool
starts(const char *s, const char *p)
{
    return s != NULL && strncmp(s, p, strlen(p)) == 0;
}

bool
igw_payments_used(const struct igw_config *cfg)
{
    for (size_t i = 0; i < cfg->nchannels; i++) {
        const struct igw_channel *ch = &cfg->channels[i];
        if (ch->dialect != NULL &&
            (strcmp(ch->dialect, "payroll") == 0 || strcmp(ch->dialect, "g2p") == 0)) {
            return true;
        }
        for (size_t j = 0; j < ch->nroutes; j++) {
            if (starts(ch->routes[j].url, "g2p:") || starts(ch->routes[j].url, "g2p-ledger:")) {
                return true;
            }
        }
    }
    return false;
}

int
igw_payments_ledger_path(const struct igw_config *cfg, struct igw_buf *out)
{
    if (cfg->payments.ledger_path != NULL) {
        return igw_buf_puts(out, cfg->payments.ledger_path);
    }
    return igw_buf_printf(out, "%s-ledger", cfg->data_dir != NULL ? cfg->data_dir : "var/queue");
}

int
igw_payments_start(const struct igw_config *cfg, bool no_sync, char *err, size_t errlen)
{
    struct igw_buf path;
    igw_ledger *l = NULL;
    int rv;

    if (atomic_load(&current) != NULL) {
        return IGW_ECONFLICT;
    }
    if (!igw_payments_used(cfg)) {
        return IGW_OK;
    }
    igw_buf_init(&path, 4096);
    rv = igw_payments_ledger_path(cfg, &path);
    if (rv == IGW_OK) {
        rv = igw_ledger_open(&l, path.ptr, cfg->payments.ledger_map_size, no_sync, err, errlen);
    }
    igw_buf_fini(&path);
    if (rv != IGW_OK) {
        return rv;
    }
    atomic_store(&current_conf, &cfg->payments);
    atomic_store(&current_cfg, cfg);
    atomic_store(&current, l);
    return IGW_OK;
}

void
igw_payments_stop(void)
{
    igw_ledger *l = atomic_exchange(&current, NULL);
    atomic_store(&current_conf, NULL);
    atomic_store(&current_cfg, NULL);
    igw_payments_attach(NULL, NULL, NULL);
    igw_ledger_close(l);
}

void
igw_payments_attach(igw_queue *q, igw_maps *maps, igw_deliverer *d)
{
    atomic_store(&att_q, q);
    atomic_store(&att_maps, maps);
    atomic_store(&att_d, d);
}

igw_queue *
igw_payments_queue(void)
{
    return atomic_load(&att_q);
}

igw_maps *
igw_payments_maps(void)
{
    return atomic_load(&att_maps);
}

igw_deliverer *
igw_payments_deliverer(void)
{
    return atomic_load(&att_d);
}

const struct igw_config *
igw_payments_config(void)
{
    return atomic_load(&current_cfg);
}

igw_ledger *
igw_payments_ledger(void)
{
    return atomic_load(&current);
}

const struct igw_payments_conf *
igw_payments_conf(void)
{
    return atomic_load(&current_conf);
}

struct igw_pay_counters *
igw_payments_counters(void)
{
    return &counters;
}

static int
count_open(void *arg, const struct igw_ledger_entry *e)
{
    IGW_UNUSED(e);
    (*(uint64_t *)arg)++;
    return 0;
}

static int
counter(struct igw_buf *b, const char *name, const char *help, _Atomic uint64_t *v)
{
    return igw_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
                          (unsigned long long)atomic_load_explicit(v, memory_order_relaxed));
}

int
igw_payments_metrics(struct igw_buf *b)
{
    struct igw_pay_counters *c = &counters;
    int rv;

    if (igw_payments_ledger() == NULL) {
        return IGW_OK;
    }
    rv = counter(b, "igw_payments_sent_total",
                 "Disbursements the payment system acknowledged (recorded as sent).", &c->sent);
    rv = rv == IGW_OK ? counter(b, "igw_payments_batches_total",
                                "Disburse batches (transactions) acknowledged.", &c->batches)
                      : rv;
    rv = rv == IGW_OK ? counter(b, "igw_payments_confirmed_total",
                                "Disbursements that reached succ.", &c->confirmed)
                      : rv;
    rv = rv == IGW_OK ? counter(b, "igw_payments_rejected_total",
                                "Disbursements that reached rjct.", &c->rejected)
                      : rv;
    rv = rv == IGW_OK ? counter(b, "igw_payments_mismatches_total",
                                "Callback items refused: unknown reference, other amount, "
                                "currency or transaction, a conflicting final status.",
                                &c->mismatches)
                      : rv;
    rv = rv == IGW_OK ? counter(b, "igw_payments_skipped_total",
                                "Benefits left out of a disbursement: already in the ledger for "
                                "another payroll.",
                                &c->skipped)
                      : rv;
    rv = rv == IGW_OK
             ? counter(b, "igw_payments_polls_total",
                       "Transaction status requests igw sent for overdue transactions.", &c->polls)
             : rv;
    if (rv == IGW_OK) {
        uint64_t open = 0;
        (void)igw_ledger_open_each(igw_payments_ledger(), UINT64_MAX, count_open, &open);
        rv = igw_buf_printf(b,
                            "# HELP igw_payments_pending Disbursements in the ledger without a "
                            "final status (sent, rcvd, pdng).\n# TYPE igw_payments_pending "
                            "gauge\nigw_payments_pending %llu\n",
                            (unsigned long long)open);
    }
    return rv;
}
