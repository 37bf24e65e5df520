/* SPDX-License-Identifier: Apache-2.0 */
/* Search values: FHIR dates and dateTimes as half-open ranges of UTC seconds, numbers. */
#include <stdio.h>
#include <string.h>

#include "igw/err.h"
#include "search_int.h"

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool
digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

static unsigned
month_days(unsigned y, unsigned m)
{
    static const unsigned D[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : D[m - 1];
}

/* hh:mm[:ss[.f+]] then Z, +hh:mm or -hh:mm (none: UTC). */
static int
parse_time(const char *s, int64_t *secs, int64_t *width)
{
    unsigned hh, mi, ss = 0, oh, om;
    size_t i = 5;
    *width = 60;
    if (strlen(s) < 5 || s[2] != ':' || !digits(s, 2, &hh) || !digits(s + 3, 2, &mi)) {
        return IGW_EPARSE;
    }
    if (s[5] == ':') {
        if (!digits(s + 6, 2, &ss)) {
            return IGW_EPARSE;
        }
        i = 8;
        *width = 1;
        if (s[i] == '.') {
            i++;
            while (s[i] >= '0' && s[i] <= '9') {
                i++;
            }
        }
    }
    if (hh > 23 || mi > 59 || ss > 60) {
        return IGW_EPARSE;
    }
    int64_t off = 0;
    if (s[i] == '\0') {
        off = 0; /* FHIR wants a zone with a time; without one, UTC (openIMIS's own clock) */
    } else if (s[i] == 'Z' && s[i + 1] == '\0') {
        off = 0;
    } else if ((s[i] == '+' || s[i] == '-') && strlen(s + i) == 6 && s[i + 3] == ':' &&
               digits(s + i + 1, 2, &oh) && digits(s + i + 4, 2, &om) && oh < 24 && om < 60) {
        off = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
    } else {
        return IGW_EPARSE;
    }
    *secs = (int64_t)hh * 3600 + mi * 60 + ss - off;
    return IGW_OK;
}

int
igw_sr_date_range(const char *s, int64_t *lo, int64_t *hi)
{
    size_t n = strlen(s);
    unsigned y, m = 1, d = 1;
    if (n < 4 || !digits(s, 4, &y) || y < 1) {
        return IGW_EPARSE;
    }
    if (n == 4) {
        *lo = days_from_civil(y, 1, 1) * 86400;
        *hi = days_from_civil(y + 1, 1, 1) * 86400;
        return IGW_OK;
    }
    if (n < 7 || s[4] != '-' || !digits(s + 5, 2, &m) || m < 1 || m > 12) {
        return IGW_EPARSE;
    }
    if (n == 7) {
        *lo = days_from_civil(y, m, 1) * 86400;
        *hi = *lo + (int64_t)month_days(y, m) * 86400;
        return IGW_OK;
    }
    if (n < 10 || s[7] != '-' || !digits(s + 8, 2, &d) || d < 1 || d > month_days(y, m)) {
        return IGW_EPARSE;
    }
    int64_t day = days_from_civil(y, m, d) * 86400;
    if (n == 10) {
        *lo = day;
        *hi = day + 86400;
        return IGW_OK;
    }
    int64_t secs = 0, width = 0;
    if (s[10] != 'T' || parse_time(s + 11, &secs, &width) != IGW_OK) {
        return IGW_EPARSE;
    }
    *lo = day + secs;
    *hi = *lo + width;
    return IGW_OK;
}

void
igw_sr_fmt_date(int64_t t, bool datetime, char out[32])
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t sec = t - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (datetime) {
        snprintf(out, 32, "%04d-%02u-%02uT%02u:%02u:%02u", y, m, d, (unsigned)(sec / 3600),
                 (unsigned)(sec / 60 % 60), (unsigned)(sec % 60));
    } else {
        snprintf(out, 32, "%04d-%02u-%02u", y, m, d);
    }
}

void
igw_sr_http_date(int64_t t, char out[40])
{
    static const char *const WD[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const MO[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t sec = t - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, 40, "%s, %02u %s %04d %02u:%02u:%02u GMT", WD[((days % 7) + 7) % 7], d, MO[m - 1],
             y, (unsigned)(sec / 3600), (unsigned)(sec / 60 % 60), (unsigned)(sec % 60));
}

bool
igw_sr_number_ok(const char *s)
{
    size_t i = 0;
    bool dig = false;
    if (s[i] == '-' || s[i] == '+') {
        i++;
    }
    while (s[i] >= '0' && s[i] <= '9') {
        i++;
        dig = true;
    }
    if (s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9') {
            i++;
            dig = true;
        }
    }
    if (dig && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (s[i] == '-' || s[i] == '+') {
            i++;
        }
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        while (s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }
    return dig && s[i] == '\0' && i < 40;
}

/* A uuid in its text form (8-4-4-4-12 hex digits, either case), as a UUID argument takes it. */
bool
igw_sr_is_uuid(const char *s)
{
    size_t i = 0;
    for (; s[i] != '\0' && i < 36; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (dash ? c != '-' : !hex) {
            return false;
        }
    }
    return i == 36 && s[i] == '\0';
}
