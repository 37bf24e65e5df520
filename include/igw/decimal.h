/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exact decimal amounts as integer minor units (cents), never floating point: parse the text
 * forms openIMIS and G2P Connect use, add with overflow checks, and format back to the G2P
 * Connect Amount pattern ^\d{1,13}\.\d{1,2}$. Also the ISO 4217 currency code table.
 * Pure functions on caller memory; any thread.
 */
#ifndef IGW_DECIMAL_H
#define IGW_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most integer digits an amount may have (G2P Connect Amount: \d{1,13}). */
#define IGW_DEC_INT_DIGITS 13
/* Longest formatted amount: 13 digits, the point, 2 decimals, NUL (sums may be longer: 20
 * digits of int64). */
#define IGW_DEC_STRLEN 32

/** Parses s[0..len) as a non-negative amount with 1..13 integer digits and at most 2 decimal
 *  places ("50", "50.5", "50.00"; not "1.", ".5", "1e3", "-1.00", "+1", " 1", "0x1", "")
 *  into minor units (hundredths): "50.5" -> 5050. s may be NULL only when len is 0; out not
 *  NULL (untouched on error). Leading zeros are allowed ("007.10"), as Decimal text may have.
 *  @return IGW_OK, IGW_EINVAL (not such a decimal), IGW_ETOOBIG (more than 13 integer
 *  digits). */
int igw_dec_parse(const char *s, size_t len, int64_t *out);

/** Writes v (minor units, >= 0) as "<int>.<2 digits>" ("5050" -> "50.50") into out
 *  (IGW_DEC_STRLEN bytes, NUL-terminated). @return IGW_OK, IGW_EINVAL (v negative). */
int igw_dec_format(int64_t v, char out[IGW_DEC_STRLEN]);

/** *acc += v, exactly. acc not NULL. @return IGW_OK, IGW_ETOOBIG (the sum would overflow
 *  int64; *acc unchanged), IGW_EINVAL (v negative). */
int igw_dec_add(int64_t *acc, int64_t v);

/** True when code[0..len) is an active ISO 4217 alphabetic code (three upper-case letters,
 *  "TZS", "XOF", "USD"). When minor is not NULL it gets the currency's minor unit digits
 *  (TZS 2, XOF 0, KWD 3). code may be NULL (false). */
bool igw_currency_known(const char *code, size_t len, int *minor);

#endif /* IGW_DECIMAL_H */
