/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for gateway/payments/recon.c: totals per status and currency exact to the cent, the
 * CSV export (RFC 4180 quoting, no spreadsheet formulas), unknown payrolls, payments off. */
#include <stdio.h>
#include <string.h>

#include "igwt.h"
#include "igwt_tmp.h"
#include "igw/buf.h"
#include "igw/config.h"
#include "igw/err.h"
#include "payments/payments.h"
#include "payments/recon.h"

static void
put(const char *ref, const char *cur, int64_t amount)
{
    struct igw_ledger_entry e;
    memset(&e, 0, sizeof(e));
    snprintf(e.ref, sizeof(e.ref), "%s", ref);
    snprintf(e.payroll, sizeof(e.payroll), "P1");
    snprintf(e.currency, sizeof(e.currency), "%s", cur);
    e.amount = amount;
    IGWT_OK(igw_ledger_record_batch(igw_payments_ledger(), "P1-1", &e, 1, 1000));
}

static void
test_recon(void)
{
    char dir[256], err[256], dialect[] = "payroll";
    struct igw_channel ch;
    struct igw_config cfg;
    struct igw_buf b;
    struct igw_ledger_report r;

    memset(&cfg, 0, sizeof(cfg));
    memset(&ch, 0, sizeof(ch));
    igw_buf_init(&b, 1 << 20);
    IGWT_CHECK(igw_pay_recon_json("P1", &b) == 503); /* not started */
    IGWT_ASSERT(igwt_tmpdir(dir, sizeof(dir), "igwrecon") != NULL);
    ch.dialect = dialect;
    cfg.channels = &ch;
    cfg.nchannels = 1;
    cfg.payments.ledger_path = dir;
    IGWT_OK(igw_payments_start(&cfg, true, err, sizeof(err)));

    put("B1", "TZS", 10); /* 0.10 */
    put("B2", "TZS", 20); /* 0.20 */
    put("=HYPERLINK(1)", "TZS", 999999999999999);
    put("B,4", "USD", 5);
    memset(&r, 0, sizeof(r));
    r.ref = "B1";
    r.status = IGW_PAY_SUCC;
    IGWT_OK(igw_ledger_apply(igw_payments_ledger(), &r, 1, 2000, NULL));
    r.ref = "B2";
    IGWT_OK(igw_ledger_apply(igw_payments_ledger(), &r, 1, 2000, NULL));

    IGWT_CHECK(igw_pay_recon_json("P1", &b) == 200);
    IGWT_CHECK(strstr(b.ptr, "\"count\":4") != NULL);
    IGWT_CHECK(strstr(b.ptr, "\"succ\":{\"count\":2,\"totals\":{\"TZS\":\"0.30\"}}") != NULL);
    IGWT_CHECK(strstr(b.ptr, "\"TZS\":{\"count\":3,\"total\":\"10000000000000.29\"") != NULL);
    IGWT_CHECK(strstr(b.ptr, "\"USD\":{\"count\":1,\"total\":\"0.05\"") != NULL);
    igw_buf_reset(&b);
    IGWT_CHECK(igw_pay_recon_csv("P1", &b) == 200);
    IGWT_CHECK(strncmp(b.ptr, "code,reference_id,transaction_id,amount,currency,status", 55) == 0);
    IGWT_CHECK(strstr(b.ptr, "\"B,4\",\"B,4\",P1-1,0.05,USD,sent,,") != NULL);
    IGWT_CHECK(strstr(b.ptr, "'=HYPERLINK(1),'=HYPERLINK(1),P1-1,9999999999999.99,TZS") != NULL);
    IGWT_CHECK(strstr(b.ptr, "\r\nB1,B1,P1-1,0.10,TZS,succ,,") != NULL);
    igw_buf_reset(&b);
    IGWT_CHECK(igw_pay_recon_json("P2", &b) == 404);
    IGWT_CHECK(igw_pay_recon_csv("P2", &b) == 404);
    igw_buf_reset(&b);
    IGWT_CHECK(igw_pay_mismatches_json(&b) == 200);
    IGWT_STREQ(b.ptr, "{\"mismatches\":[]}");

    igw_payments_stop();
    IGWT_CHECK(igw_payments_ledger() == NULL);
    igw_buf_fini(&b);
    igwt_rm_tree(dir);
}

IGWT_MAIN({"recon", test_recon})
