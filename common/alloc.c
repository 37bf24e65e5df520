/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation wrappers with failure injection (nng nni_alloc, curl memdebug). */
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>

#include "igw/common.h"

static atomic_long fail_after = -1;

static int
should_fail(void)
{
    long n = atomic_load_explicit(&fail_after, memory_order_relaxed);
    if (n < 0) {
        return 0;
    }
    if (n == 0) {
        return 1;
    }
    atomic_fetch_sub_explicit(&fail_after, 1, memory_order_relaxed);
    return 0;
}

void
igw_alloc_fail_after(long n)
{
    atomic_store(&fail_after, n);
}

void *
igw_malloc(size_t n)
{
    if (should_fail()) {
        return NULL;
    }
    return malloc(n == 0 ? 1 : n); /* NOLINT: the one allowed call site */
}

void *
igw_calloc(size_t nmemb, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    if (nmemb == 0 || size == 0) {
        nmemb = 1;
        size = 1;
    }
    return calloc(nmemb, size); /* NOLINT */
}

void *
igw_realloc(void *p, size_t n)
{
    if (should_fail()) {
        return NULL;
    }
    return realloc(p, n == 0 ? 1 : n); /* NOLINT */
}

void
igw_free(void *p)
{
    free(p); /* NOLINT */
}

char *
igw_strndup(const char *s, size_t n)
{
    char *d = igw_malloc(n + 1);
    if (d == NULL) {
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *
igw_strdup(const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    return igw_strndup(s, strlen(s));
}
