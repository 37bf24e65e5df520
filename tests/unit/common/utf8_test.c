/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for common/utf8.c: the one UTF-8 validator (igw_utf8_valid, igw_utf8_seq). */
#include <string.h>

#include "igw/utf8.h"
#include "lib/igwt.h"

static bool
valid(const char *s, size_t *bad)
{
    return igw_utf8_valid(s, strlen(s), bad);
}

static void
test_valid(void)
{
    IGWT_CHECK(igw_utf8_valid(NULL, 0, NULL));
    IGWT_CHECK(valid("", NULL));
    IGWT_CHECK(valid("plain ASCII text longer than one eight-byte word", NULL));
    IGWT_CHECK(valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", NULL)); /* 2, 3, 4 bytes */
    IGWT_CHECK(valid("\xed\x9f\xbf", NULL));                              /* U+D7FF */
    IGWT_CHECK(valid("\xee\x80\x80", NULL));                              /* U+E000 */
    IGWT_CHECK(valid("\xf4\x8f\xbf\xbf", NULL));                          /* U+10FFFF */
    IGWT_CHECK(igw_utf8_valid("a\0b", 3, NULL));                          /* NUL is UTF-8 */
}

static void
test_invalid(void)
{
    size_t bad = 99;

    IGWT_CHECK(!valid("\x80", &bad) && bad == 0);                       /* lone continuation */
    IGWT_CHECK(!valid("ab\xc0\xaf", &bad) && bad == 2);                 /* overlong '/' */
    IGWT_CHECK(!valid("abc\xe0\x80\xaf", &bad) && bad == 3);            /* overlong 3-byte */
    IGWT_CHECK(!valid("\xf0\x80\x80\xaf", &bad) && bad == 0);           /* overlong 4-byte */
    IGWT_CHECK(!valid("x\xed\xa0\x80", &bad) && bad == 1);              /* surrogate U+D800 */
    IGWT_CHECK(!valid("\xf4\x90\x80\x80", &bad) && bad == 0);           /* above U+10FFFF */
    IGWT_CHECK(!valid("\xf5\x80\x80\x80", &bad) && bad == 0);           /* bad lead byte */
    IGWT_CHECK(!valid("12345678\xc3", &bad) && bad == 8);               /* truncated at the end */
    IGWT_CHECK(!valid("\xe2\x82x", &bad) && bad == 0);                  /* bad continuation */
    IGWT_CHECK(!valid("0123456789abcdef\xff tail", &bad) && bad == 16); /* after ASCII words */
    bad = 7;
    IGWT_CHECK(valid("ok", &bad) && bad == 7); /* untouched when valid */
    IGWT_CHECK(!valid("\xff", NULL));          /* bad_offset may be NULL */
}

static void
test_seq(void)
{
    const unsigned char s[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";

    IGWT_CHECK(igw_utf8_seq(s, s + 9) == 2);
    IGWT_CHECK(igw_utf8_seq(s + 2, s + 9) == 3);
    IGWT_CHECK(igw_utf8_seq(s + 5, s + 9) == 4);
    IGWT_CHECK(igw_utf8_seq(s + 5, s + 8) == 0); /* runs past end */
    IGWT_CHECK(igw_utf8_seq(s + 1, s + 9) == 0); /* continuation byte as lead */
}

IGWT_MAIN({"valid", test_valid}, {"invalid", test_invalid}, {"seq", test_seq})
