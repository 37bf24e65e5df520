/* SPDX-License-Identifier: Apache-2.0 */
/* Retry policy: exponential backoff with full jitter between base and cap. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "delivery/retry.h"

uint64_t
igw_retry_delay_ms(const struct igw_retry_policy *p, uint32_t attempts, uint64_t rnd)
{
    uint64_t base = p->base_ms == 0 ? 1 : p->base_ms;
    uint64_t cap = p->cap_ms < base ? base : p->cap_ms;
    uint64_t hi = base;
    uint32_t n = attempts == 0 ? 0 : attempts - 1;

    /* hi = min(cap, base * 2^n) without overflow */
    while (n > 0 && hi < cap) {
        hi = hi > cap / 2 ? cap : hi * 2;
        n--;
    }
    if (hi > cap) {
        hi = cap;
    }
    return base + (hi > base ? rnd % (hi - base + 1) : 0);
}

bool
igw_retry_exhausted(const struct igw_retry_policy *p, uint32_t attempts, uint64_t created_ms,
                    uint64_t next_ms)
{
    if (p->max_attempts != 0 && attempts >= p->max_attempts) {
        return true;
    }
    if (p->max_age_ms != 0 && next_ms > created_ms && next_ms - created_ms > p->max_age_ms) {
        return true;
    }
    return false;
}

static int
month_index(const char *mon)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++) {
        if (strcmp(mon, months[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static bool
weekday_ok(const char *wday)
{
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    for (int i = 0; i < 7; i++) {
        if (strcmp(wday, days[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int
parse_http_date(const char *v, uint64_t *epoch_ms)
{
    /* IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT" */
    char wday[4];
    char mon[4];
    char zone[4];
    char extra[2];
    int day;
    int year;
    int hh;
    int mm;
    int ss;
    struct tm tm;
    struct tm chk;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(v, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3s %1s", wday, &day, mon, &year, &hh,
               &mm, &ss, zone, extra) != 8) {
        return IGW_EINVAL;
    }
    tm.tm_mon = month_index(mon);
    if (!weekday_ok(wday) || strcmp(zone, "GMT") != 0 || tm.tm_mon < 0 || day < 1 || day > 31 ||
        year < 1970 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60) {
        return IGW_EINVAL;
    }
    tm.tm_mday = day;
    tm.tm_year = year - 1900;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    t = timegm(&tm);
    /* timegm normalises "31 Feb": reject dates that do not exist */
    if (t < 0 || gmtime_r(&t, &chk) == NULL || (chk.tm_mday != day && ss != 60)) {
        return IGW_EINVAL;
    }
    *epoch_ms = (uint64_t)t * 1000u;
    return IGW_OK;
}

int
igw_retry_after_parse(const char *value, uint64_t now_ms, uint64_t *wait_ms)
{
    uint64_t at;

    if (value == NULL) {
        return IGW_EINVAL;
    }
    while (*value == ' ') {
        value++;
    }
    if (*value >= '0' && *value <= '9') {
        uint64_t secs = 0;
        for (const char *c = value; *c != '\0' && *c != ' '; c++) {
            if (*c < '0' || *c > '9' || secs > UINT64_MAX / 10000) {
                return IGW_EINVAL;
            }
            secs = secs * 10 + (uint64_t)(*c - '0');
        }
        *wait_ms = secs * 1000u;
        return IGW_OK;
    }
    if (parse_http_date(value, &at) != IGW_OK) {
        return IGW_EINVAL;
    }
    *wait_ms = at > now_ms ? at - now_ms : 0;
    return IGW_OK;
}
