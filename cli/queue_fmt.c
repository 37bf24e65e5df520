/* SPDX-License-Identifier: Apache-2.0 */
/* `igw queue`'s output helpers (queue_int.h): tables for people, JSON values, times. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "queue_int.h"

void
qtable_row(struct qtable *t, ...)
{
    va_list ap;
    int i;

    if (t->nrows == t->cap) {
        size_t cap = t->cap != 0 ? t->cap * 2 : 32;
        void *p = igw_realloc(t->cells, cap * sizeof(*t->cells));
        if (p == NULL) {
            return; /* out of memory: the row is left out */
        }
        t->cells = p;
        t->cap = cap;
    }
    va_start(ap, t);
    for (i = 0; i < t->ncols; i++) {
        const char *s = va_arg(ap, const char *);
        size_t n;
        snprintf(t->cells[t->nrows][i], QCELL_MAX, "%s", s != NULL ? s : "");
        n = strlen(t->cells[t->nrows][i]);
        t->w[i] = n > t->w[i] ? n : t->w[i];
    }
    va_end(ap);
    t->nrows++;
}

void
qtable_print(struct qtable *t)
{
    size_t r;
    int i;

    for (r = 0; r < t->nrows; r++) {
        for (i = 0; i < t->ncols; i++) {
            printf(i + 1 < t->ncols ? "%-*s  " : "%-*s", (int)(i + 1 < t->ncols ? t->w[i] : 0),
                   t->cells[r][i]);
        }
        putchar('\n');
    }
    igw_free(t->cells);
    t->cells = NULL;
}

/* ---- JSON helpers ---------------------------------------------------------------------- */

const char *
qjstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double
qjnum(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

const char *
qfmt_u(char *buf, size_t n, double v)
{
    snprintf(buf, n, "%.0f", v);
    return buf;
}

/* ISO 8601 UTC with milliseconds; "" for 0. */
const char *
qfmt_time(char *buf, size_t n, double ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    buf[0] = '\0';
    if (ms > 0 && gmtime_r(&s, &tm) != NULL) {
        size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + k, n - k, ".%03dZ", (int)((long long)ms % 1000));
    }
    return buf;
}

const char *
qfmt_age(char *buf, size_t n, double ms)
{
    if (ms < 0) {
        snprintf(buf, n, "-");
    } else if (ms < 120000) {
        snprintf(buf, n, "%.0fs", ms / 1000);
    } else if (ms < 7200000) {
        snprintf(buf, n, "%.0fmin", ms / 60000);
    } else {
        snprintf(buf, n, "%.1fh", ms / 3600000);
    }
    return buf;
}

void
qprint_json(const cJSON *doc)
{
    char *s = cJSON_PrintUnformatted(doc);

    if (s != NULL) {
        printf("%s\n", s);
        cJSON_free(s);
    }
}
