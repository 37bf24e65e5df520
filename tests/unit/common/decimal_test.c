/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for common/decimal.c and common/iso4217.c: exact amounts in minor units. */
#include <string.h>

#include "igwt.h"
#include "igw/decimal.h"
#include "igw/err.h"

static int64_t
dec(const char *s)
{
    int64_t v = -1;
    IGWT_OK(igw_dec_parse(s, strlen(s), &v));
    return v;
}

static int
dec_err(const char *s)
{
    int64_t v = 12345;
    int rv = igw_dec_parse(s, strlen(s), &v);
    IGWT_CHECK(v == 12345); /* untouched on error */
    return rv;
}

static void
test_parse(void)
{
    IGWT_CHECK(dec("50") == 5000);
    IGWT_CHECK(dec("50.5") == 5050);
    IGWT_CHECK(dec("50.05") == 5005);
    IGWT_CHECK(dec("0.01") == 1);
    IGWT_CHECK(dec("0") == 0);
    IGWT_CHECK(dec("007.10") == 710);
    IGWT_CHECK(dec("9999999999999.99") == INT64_C(999999999999999));
    IGWT_CHECK(dec("0000000000000009999999999999.99") == INT64_C(999999999999999));
}

static void
test_refused(void)
{
    static const char *const bad[] = {"",    "1.",    ".5",   "1e3",  "-1.00", "+1",  " 1",   "1 ",
                                      "0x1", "1.234", "1,00", "1..0", "NaN",   "inf", "1.0.", "١٢"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        IGWT_ERR(dec_err(bad[i]), IGW_EINVAL);
    }
    IGWT_ERR(dec_err("10000000000000.00"), IGW_ETOOBIG); /* 14 integer digits */
    IGWT_ERR(dec_err("99999999999999999999999"), IGW_ETOOBIG);
    IGWT_ERR(igw_dec_parse(NULL, 0, NULL), IGW_EINVAL);
}

static void
test_add_format(void)
{
    char out[IGW_DEC_STRLEN];
    int64_t acc = 0;

    /* 0.1 + 0.2 is 0.30 exactly */
    IGWT_OK(igw_dec_add(&acc, dec("0.1")));
    IGWT_OK(igw_dec_add(&acc, dec("0.2")));
    IGWT_CHECK(acc == 30);
    IGWT_OK(igw_dec_format(acc, out));
    IGWT_STREQ(out, "0.30");
    IGWT_OK(igw_dec_format(dec("9999999999999.99"), out));
    IGWT_STREQ(out, "9999999999999.99");
    IGWT_OK(igw_dec_format(0, out));
    IGWT_STREQ(out, "0.00");
    IGWT_OK(igw_dec_format(5, out));
    IGWT_STREQ(out, "0.05");
    IGWT_ERR(igw_dec_format(-1, out), IGW_EINVAL);
    /* 1,000 payments of the largest amount still add up exactly (10,000 overflow: below) */
    acc = 0;
    for (int i = 0; i < 1000; i++) {
        IGWT_OK(igw_dec_add(&acc, dec("9999999999999.99")));
    }
    IGWT_OK(igw_dec_format(acc, out));
    IGWT_STREQ(out, "9999999999999990.00");
    /* overflow is an error and leaves the sum */
    acc = INT64_MAX - 5;
    IGWT_ERR(igw_dec_add(&acc, 6), IGW_ETOOBIG);
    IGWT_CHECK(acc == INT64_MAX - 5);
    IGWT_OK(igw_dec_add(&acc, 5));
    IGWT_ERR(igw_dec_add(&acc, -1), IGW_EINVAL);
}

static void
test_currency(void)
{
    int minor = -1;
    IGWT_CHECK(igw_currency_known("TZS", 3, &minor) && minor == 2);
    IGWT_CHECK(igw_currency_known("XOF", 3, &minor) && minor == 0);
    IGWT_CHECK(igw_currency_known("KWD", 3, &minor) && minor == 3);
    IGWT_CHECK(igw_currency_known("USD", 3, NULL));
    IGWT_CHECK(igw_currency_known("MRU", 3, NULL));
    IGWT_CHECK(!igw_currency_known("tzs", 3, NULL));
    IGWT_CHECK(!igw_currency_known("XXX", 3, NULL));
    IGWT_CHECK(!igw_currency_known("ABC", 3, NULL));
    IGWT_CHECK(!igw_currency_known("TZSX", 4, NULL));
    IGWT_CHECK(!igw_currency_known(NULL, 3, NULL));
}

IGWT_MAIN({"parse", test_parse}, {"refused", test_refused}, {"add_format", test_add_format},
          {"currency", test_currency})
