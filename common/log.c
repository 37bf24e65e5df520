/* SPDX-License-Identifier: Apache-2.0 */
/* One-line log records on stderr (UTC time, level, message) at or above a settable level. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "igw/common.h"
#include "igw/log.h"

static atomic_int min_level = IGW_LOG_INFO;
static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void
igw_log_set_level(enum igw_log_level lvl)
{
    atomic_store(&min_level, (int)lvl);
}

int
igw_log_parse_level(const char *s, enum igw_log_level *out)
{
    static const char *const lower[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < IGW_ARRAY_LEN(lower); i++) {
        if (strcmp(s, lower[i]) == 0) {
            *out = (enum igw_log_level)i;
            return IGW_OK;
        }
    }
    return IGW_EINVAL;
}

void
igw_log(enum igw_log_level lvl, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    size_t n;
    int k;
    va_list ap;

    if ((int)lvl < atomic_load(&min_level)) {
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    k = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s ", ts.tv_nsec / 1000000L, names[lvl]);
    n += (size_t)k;
    va_start(ap, fmt);
    k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (k < 0) {
        k = 0;
    }
    n += (size_t)k;
    if (n > sizeof(line) - 2) {
        n = sizeof(line) - 2;
    }
    /* one line per event: fold any newline a caller passed in */
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '\n' || line[i] == '\r') {
            line[i] = ' ';
        }
    }
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) {
        /* nothing sensible to do when stderr is gone */
    }
}

_Noreturn void
igw_panic(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    igw_log(IGW_LOG_ERROR, "panic: %s", msg);
    abort();
}
