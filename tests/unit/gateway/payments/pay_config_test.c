/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for the payments options (gateway/payments/pay_conf.c) and the loader's payment checks
 * (gateway/config/config_partners.c): defaults, ranges, and the refusals igw config check
 * shares with serve. */
#include <string.h>

#include "igwt.h"
#include "igw/config.h"
#include "igw/config_load.h"
#include "igw/err.h"

#define PARTNER "partners:\n  ps: { base_urls: [\"http://127.0.0.1:9/\"], sign: false }\n"
#define PAYROLL                                                                                    \
    "channels:\n  p:\n    listen: POST /p\n    dialect: payroll\n"                                 \
    "    auth: { type: bearer, tokens: [t] }\n    routes:\n      r: { url: \"g2p:ps\" }\n"

static int
parse(const char *text, struct igw_config **cfg, char *err, size_t errlen)
{
    *cfg = NULL;
    return igw_config_parse(cfg, "t.yaml", text, strlen(text), err, errlen);
}

static void
refused(const char *text, const char *want)
{
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg;
    int rv = parse(text, &cfg, err, sizeof(err));
    IGWT_CHECK(rv == IGW_ECONFIG);
    if (strstr(err, want) == NULL) {
        fprintf(stderr, "  got: %s\n  want: %s\n", err, want);
        IGWT_CHECK(false);
    }
    igw_config_free(cfg);
}

static void
test_defaults(void)
{
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg;

    IGWT_OK(parse(PARTNER PAYROLL, &cfg, err, sizeof(err)));
    IGWT_CHECK(cfg->payments.batch_size == 500);
    IGWT_CHECK(cfg->payments.overdue_after_ms == 600000);
    IGWT_CHECK(cfg->payments.poll_interval_ms == 30000);
    IGWT_CHECK(cfg->payments.timeout_ms == 30000);
    IGWT_CHECK(cfg->payments.ledger_map_size == 256u << 20);
    IGWT_CHECK(cfg->payments.ledger_path == NULL && cfg->payments.sender_uri == NULL);
    igw_config_free(cfg);
    IGWT_OK(
        parse("payments: { batch_size: 2, sender_uri: \"http://x/on\", overdue_after: 0 }\n" PARTNER
                  PAYROLL,
              &cfg, err, sizeof(err)));
    IGWT_CHECK(cfg->payments.batch_size == 2 && cfg->payments.overdue_after_ms == 0);
    IGWT_STREQ(cfg->payments.sender_uri, "http://x/on");
    igw_config_free(cfg);
}

static void
test_refusals(void)
{
    refused("payments: { batch_size: 0 }\n" PARTNER PAYROLL, "payments.batch_size");
    refused("payments: { batch_size: 10001 }\n" PARTNER PAYROLL, "payments.batch_size");
    refused("payments: { batch: 5 }\n" PARTNER PAYROLL, "batch");
    refused(PARTNER "channels:\n  p:\n    listen: POST /p\n    dialect: payroll\n",
            "dialect payroll needs auth");
    refused(PARTNER "channels:\n  c:\n    listen: POST /c\n    dialect: g2p\n",
            "dialect g2p needs dci.partner");
    refused(PARTNER
            "channels:\n  p:\n    listen: POST /p\n    auth: { type: bearer, tokens: [t] }\n"
            "    routes:\n      r: { url: \"g2p:nobody\" }\n",
            "names no partner");
    refused("partners:\n  ps: { base_urls: [\"http://127.0.0.1:9/\"] }\n" PAYROLL,
            "sign: true but signing.key_file");
    refused(PARTNER
            "channels:\n  p:\n    listen: POST /p\n    auth: { type: bearer, tokens: [t] }\n"
            "    routes:\n      r: { url: \"g2p:a/b\" }\n",
            "expected g2p:<partner>");
}

IGWT_MAIN({"defaults", test_defaults}, {"refusals", test_refusals})
