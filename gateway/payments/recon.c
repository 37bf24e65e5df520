/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reconciliation (recon.h): per payroll, what was sent, confirmed, rejected and is still
 * pending, with totals per status and currency summed in integer minor units (an overflow is
 * an error, never a wrap) and written as decimals; the CSV export; the mismatch list.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "igw/decimal.h"
#include "igw/err.h"
#include "igw/arena.h"
#include "igw/json.h"
#include "payments/pay_int.h"
#include "payments/payments.h"
#include "payments/recon.h"

#define CUR_MAX 16

struct tally {
    char cur[CUR_MAX][4];
    unsigned ncur;
    uint64_t count[IGW_PAY_STATUS_COUNT][CUR_MAX];
    int64_t total[IGW_PAY_STATUS_COUNT][CUR_MAX];
    uint64_t n;
    bool overflow;
};

static int
tally_one(void *arg, const struct igw_ledger_entry *e)
{
    struct tally *t = arg;
    unsigned c = 0;

    while (c < t->ncur && strcmp(t->cur[c], e->currency) != 0) {
        c++;
    }
    if (c == t->ncur) {
        if (t->ncur == CUR_MAX) {
            t->overflow = true;
            return 1;
        }
        snprintf(t->cur[t->ncur++], 4, "%s", e->currency);
    }
    if (e->status >= IGW_PAY_STATUS_COUNT) {
        return 0;
    }
    t->n++;
    t->count[e->status][c]++;
    if (igw_dec_add(&t->total[e->status][c], e->amount) != IGW_OK) {
        t->overflow = true;
        return 1;
    }
    return 0;
}

static int
dec(struct igw_buf *b, int64_t v)
{
    char s[IGW_DEC_STRLEN];
    (void)igw_dec_format(v, s);
    return igw_buf_printf(b, "\"%s\"", s);
}

static int
iso_ms(struct igw_buf *b, uint64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char t[32];

    gmtime_r(&s, &tm);
    strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
    return igw_buf_printf(b, "%s.%03uZ", t, (unsigned)(ms % 1000));
}

static int
mismatch_json(void *arg, const struct igw_ledger_mismatch *m)
{
    struct igw_buf *b = arg;
    int rv = b->ptr[b->len - 1] == '[' ? IGW_OK : igw_buf_putc(b, ',');

    rv = rv == IGW_OK ? igw_buf_puts(b, "{\"time\":\"") : rv;
    rv = rv == IGW_OK ? iso_ms(b, m->ts_ms) : rv;
    rv = rv == IGW_OK ? igw_buf_putc(b, '"') : rv;
    const char *const kv[][2] = {{"reference_id", m->ref}, {"transaction_id", m->txn},
                                 {"payroll", m->payroll},  {"status", m->status},
                                 {"amount", m->amount},    {"currency", m->currency},
                                 {"why", m->why}};
    for (size_t i = 0; rv == IGW_OK && i < sizeof kv / sizeof kv[0]; i++) {
        rv = igw_buf_printf(b, ",\"%s\":", kv[i][0]);
        rv = rv == IGW_OK ? igw_buf_json_str(b, kv[i][1], strlen(kv[i][1])) : rv;
    }
    rv = rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    return rv == IGW_OK ? 0 : rv;
}

int
igw_pay_recon_json(const char *payroll, struct igw_buf *b)
{
    igw_ledger *l = igw_payments_ledger();
    struct tally *t;
    int rv;

    if (l == NULL) {
        return 503;
    }
    t = igw_calloc(1, sizeof(*t));
    if (t == NULL) {
        return 500;
    }
    rv = igw_ledger_payroll_each(l, payroll, tally_one, t);
    if (rv != IGW_OK || t->overflow) {
        igw_free(t);
        return 500;
    }
    if (t->n == 0) {
        igw_free(t);
        return 404;
    }
    rv = igw_buf_puts(b, "{\"payroll\":");
    rv = rv == IGW_OK ? igw_buf_json_str(b, payroll, strlen(payroll)) : rv;
    rv = rv == IGW_OK
             ? igw_buf_printf(b, ",\"count\":%llu,\"by_status\":{", (unsigned long long)t->n)
             : rv;
    for (unsigned s = IGW_PAY_SENT, first = 1; rv == IGW_OK && s < IGW_PAY_STATUS_COUNT; s++) {
        uint64_t cnt = 0;
        for (unsigned c = 0; c < t->ncur; c++) {
            cnt += t->count[s][c];
        }
        rv = igw_buf_printf(b, "%s\"%s\":{\"count\":%llu,\"totals\":{", first ? "" : ",",
                            igw_pay_status_name(s), (unsigned long long)cnt);
        first = 0;
        for (unsigned c = 0, f2 = 1; rv == IGW_OK && c < t->ncur; c++) {
            if (t->count[s][c] == 0) {
                continue;
            }
            rv = igw_buf_printf(b, "%s\"%s\":", f2 ? "" : ",", t->cur[c]);
            rv = rv == IGW_OK ? dec(b, t->total[s][c]) : rv;
            f2 = 0;
        }
        rv = rv == IGW_OK ? igw_buf_puts(b, "}}") : rv;
    }
    rv = rv == IGW_OK ? igw_buf_puts(b, "},\"by_currency\":{") : rv;
    for (unsigned c = 0; rv == IGW_OK && c < t->ncur; c++) {
        int64_t all = 0, pend = 0;
        uint64_t n = 0;
        for (unsigned s = IGW_PAY_SENT; s < IGW_PAY_STATUS_COUNT; s++) {
            n += t->count[s][c];
            (void)igw_dec_add(&all, t->total[s][c]); /* each part summed without overflow */
            if (s != IGW_PAY_SUCC && s != IGW_PAY_RJCT) {
                (void)igw_dec_add(&pend, t->total[s][c]);
            }
        }
        rv = igw_buf_printf(b, "%s\"%s\":{\"count\":%llu,\"total\":", c == 0 ? "" : ",", t->cur[c],
                            (unsigned long long)n);
        rv = rv == IGW_OK ? dec(b, all) : rv;
        rv = rv == IGW_OK ? igw_buf_puts(b, ",\"confirmed\":") : rv;
        rv = rv == IGW_OK ? dec(b, t->total[IGW_PAY_SUCC][c]) : rv;
        rv = rv == IGW_OK ? igw_buf_puts(b, ",\"rejected\":") : rv;
        rv = rv == IGW_OK ? dec(b, t->total[IGW_PAY_RJCT][c]) : rv;
        rv = rv == IGW_OK ? igw_buf_puts(b, ",\"pending\":") : rv;
        rv = rv == IGW_OK ? dec(b, pend) : rv;
        rv = rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    }
    rv = rv == IGW_OK ? igw_buf_puts(b, "},\"mismatches\":[") : rv;
    rv = rv == IGW_OK ? igw_ledger_mismatch_each(l, payroll, 1000, mismatch_json, b) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, "]}") : rv;
    igw_free(t);
    return rv == IGW_OK ? 200 : 500;
}

/* A CSV field: quoted when it holds a comma, quote, CR or LF (RFC 4180); a leading = + - @
 * is prefixed with ' so that a spreadsheet does not run it as a formula. */
static int
csv_field(struct igw_buf *b, const char *s, bool last)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    int rv = IGW_OK;

    if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
        rv = igw_buf_putc(b, '\'');
    }
    if (rv == IGW_OK && quote) {
        rv = igw_buf_putc(b, '"');
        for (const char *p = s; rv == IGW_OK && *p != '\0'; p++) {
            rv = *p == '"' ? igw_buf_puts(b, "\"\"") : igw_buf_putc(b, *p);
        }
        rv = rv == IGW_OK ? igw_buf_putc(b, '"') : rv;
    } else if (rv == IGW_OK) {
        rv = igw_buf_puts(b, s);
    }
    return rv == IGW_OK ? igw_buf_puts(b, last ? "\r\n" : ",") : rv;
}

static int
csv_row(void *arg, const struct igw_ledger_entry *e)
{
    struct igw_buf *b = arg;
    struct igw_buf t;
    char amt[IGW_DEC_STRLEN];
    int rv;

    (void)igw_dec_format(e->amount, amt);
    igw_buf_init(&t, 64);
    rv = iso_ms(&t, e->updated_ms);
    rv = rv == IGW_OK ? csv_field(b, e->ref, false) : rv; /* code: the reference_id is it */
    rv = rv == IGW_OK ? csv_field(b, e->ref, false) : rv;
    rv = rv == IGW_OK ? csv_field(b, e->txn, false) : rv;
    rv = rv == IGW_OK ? csv_field(b, amt, false) : rv;
    rv = rv == IGW_OK ? csv_field(b, e->currency, false) : rv;
    rv = rv == IGW_OK ? csv_field(b, igw_pay_status_name(e->status), false) : rv;
    rv = rv == IGW_OK ? csv_field(b, e->reason, false) : rv;
    rv = rv == IGW_OK ? csv_field(b, t.ptr != NULL ? t.ptr : "", true) : rv;
    igw_buf_fini(&t);
    return rv == IGW_OK ? 0 : rv;
}

int
igw_pay_recon_csv(const char *payroll, struct igw_buf *b)
{
    igw_ledger *l = igw_payments_ledger();
    size_t before;
    int rv;

    if (l == NULL) {
        return 503;
    }
    rv = igw_buf_puts(
        b, "code,reference_id,transaction_id,amount,currency,status,reason_code,updated\r\n");
    before = b->len;
    rv = rv == IGW_OK ? igw_ledger_payroll_each(l, payroll, csv_row, b) : rv;
    if (rv != IGW_OK) {
        return 500;
    }
    return b->len == before ? 404 : 200;
}

int
igw_pay_mismatches_json(struct igw_buf *b)
{
    igw_ledger *l = igw_payments_ledger();
    int rv;

    if (l == NULL) {
        return 503;
    }
    rv = igw_buf_puts(b, "{\"mismatches\":[");
    rv = rv == IGW_OK ? igw_ledger_mismatch_each(l, NULL, 1000, mismatch_json, b) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, "]}") : rv;
    return rv == IGW_OK ? 200 : 500;
}

static int
count_succ(void *arg, const struct igw_ledger_entry *e)
{
    if (e->status == IGW_PAY_SUCC) {
        (*(unsigned *)arg)++;
    }
    return 0;
}

bool
igw_pay_replay_confirmed(const char *body, size_t len, char *why, size_t whylen)
{
    igw_ledger *l = igw_payments_ledger();
    igw_arena *a = NULL;
    struct igw_node *root = NULL;
    char payroll[IGW_LEDGER_ID_MAX];
    unsigned n = 0;

    if (l == NULL || igw_arena_new(&a, len * 8 + 65536) != IGW_OK) {
        return false;
    }
    if (igw_json_parse(a, body, len, NULL, &root, NULL) == IGW_OK &&
        pay_str(igw_node_get(root, "payroll", 7), "uuid", payroll, sizeof(payroll))) {
        (void)igw_ledger_payroll_each(l, payroll, count_succ, &n);
    }
    igw_arena_free(a);
    if (n > 0) {
        snprintf(why, whylen,
                 "%u payment(s) of payroll %s are confirmed (succ); replay with ?force=true to "
                 "send the rest again (confirmed batches are never sent twice)",
                 n, payroll);
    }
    return n > 0;
}
