/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The payments options (payments.*) and the g2p output's url check, declared next to the code
 * that reads them and merged into the config loader's table through the output's config_map
 * (parsed, defaulted and documented with the rest: docs/CONFIG.md).
 */
#include <stddef.h>
#include <string.h>

#include "config/config_int.h"
#include "igw/common.h"
#include "igw/err.h"
#include "payments/out_g2p.h"

#define PC(f) offsetof(struct igw_payments_conf, f)

/* clang-format off */
static const struct opt pay_opts[] = {
    {S_ROOT, "payments", T_SECT, offsetof(struct igw_config, payments), 0, NULL, 0, 0, NULL,
     S_PAYMENTS, NULL, "section", 0,
     "The payment flow (docs/PAYMENTS.md): openIMIS payrolls to G2P Connect disbursements "
     "(routes g2p:<partner>), their statuses into the payments ledger (g2p-ledger:<partner>)."},
    {S_PAYMENTS, "ledger_path", T_STR, PC(ledger_path), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "Directory of the payments ledger's LMDB environment (created with mode 0700), relative to "
     "the working directory. Unset: queue.path followed by -ledger, beside the queue."},
    {S_PAYMENTS, "ledger_map_size", T_SIZE, PC(ledger_map_size), 0, "256MiB", 1u << 20,
     1ull << 40, NULL, 0, NULL, "size", 0,
     "Largest size of the ledger (about 500 bytes per disbursement)."},
    {S_PAYMENTS, "batch_size", T_UINT, PC(batch_size), 0, "500", 1, 10000, NULL, 0, NULL,
     "integer", 0,
     "Disbursements per DisburseRequest: a payroll is sent as transactions <payroll uuid>-1, "
     "-2, ... of at most this many."},
    {S_PAYMENTS, "sender_uri", T_STR, PC(sender_uri), 0, NULL, 0, 0, NULL, 0, NULL, "url", 0,
     "The on-disburse URL igw puts in the header of its DisburseRequests (where the payment "
     "system calls back). Unset: none is sent."},
    {S_PAYMENTS, "overdue_after", T_DUR, PC(overdue_after_ms), 0, "10m", 0, 30ull * 86400000,
     NULL, 0, NULL, "duration", 0,
     "A disbursement without a final status this long after its last news makes igw ask the "
     "payment system's /disburse/sync/txn/status; 0 = never."},
    {S_PAYMENTS, "poll_interval", T_DUR, PC(poll_interval_ms), 0, "30s", 100, 86400000, NULL, 0,
     NULL, "duration", 0, "How often the overdue scan runs (at most 64 transactions a scan)."},
    {S_PAYMENTS, "timeout", T_DUR, PC(timeout_ms), 0, "30s", 100, 600000, NULL, 0, NULL,
     "duration", 0, "Time limit of one request to the payment system."},
};
/* clang-format on */

const struct igw_output_config_map igw_g2p_config_map = {pay_opts, IGW_ARRAY_LEN(pay_opts)};

int
igw_g2p_url_check(struct igw_route *r, const char *rest, char *err, size_t errlen)
{
    IGW_UNUSED(r);
    for (const char *p = rest; *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.')) {
            igw_errbuf_set(err, errlen,
                           "expected g2p:<partner> or g2p-ledger:<partner> (a partner's name)");
            return IGW_EINVAL;
        }
    }
    return IGW_OK;
}
