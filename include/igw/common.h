/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation wrappers, assertions and small helpers shared by every module.
 *
 * Allocation: call only igw_malloc/igw_calloc/igw_realloc/igw_free (raw malloc/free are banned
 * by a CI check). They return NULL on failure and never abort; callers propagate IGW_ENOMEM.
 * igw_alloc_fail_after(n) makes the n-th following allocation (and all later ones) fail, for
 * out-of-memory tests; n < 0 disables injection.
 */
#ifndef IGW_COMMON_H
#define IGW_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "igw/err.h"

void *igw_malloc(size_t n);
void *igw_calloc(size_t nmemb, size_t size);
void *igw_realloc(void *p, size_t n);
void igw_free(void *p);
/** Returns a NUL-terminated copy of s (NULL if s is NULL or on ENOMEM); free with igw_free. */
char *igw_strdup(const char *s);
/** Returns a NUL-terminated copy of n bytes of s; NULL on ENOMEM. */
char *igw_strndup(const char *s, size_t n);
/** Failure injection for OOM tests: the n-th next allocation fails (n >= 0); -1 disables. */
void igw_alloc_fail_after(long n);

#define IGW_NEW(T) ((T *)igw_calloc(1, sizeof(T)))
#define IGW_FREE(p)                                                                                \
    do {                                                                                           \
        igw_free(p);                                                                               \
        (p) = NULL;                                                                                \
    } while (0)
#define IGW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define IGW_UNUSED(x) ((void)(x))

/** Aborts the process after logging: only for corrupted invariants, never for input. */
_Noreturn void igw_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef NDEBUG
#define IGW_ASSERT(x) ((void)0)
#else
#define IGW_ASSERT(x)                                                                              \
    ((x) ? (void)0 : igw_panic("assertion failed: %s (%s:%d)", #x, __FILE__, __LINE__))
#endif
/* Defensive branches that should never be taken (SQLite ALWAYS/NEVER). */
#define IGW_ALWAYS(x) (x)
#define IGW_NEVER(x) (x)

/** Wall-clock milliseconds since the Unix epoch. */
uint64_t igw_now_ms(void);
/** Monotonic milliseconds (for timeouts and rates). */
uint64_t igw_mono_ms(void);
/** Monotonic nanoseconds (for latency measurement). */
uint64_t igw_mono_ns(void);

/** Constant-time comparison of two byte strings; true when equal (length leaks, content not). */
bool igw_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/** Fills buf with n cryptographically random bytes from getrandom(); IGW_EIO on failure. */
int igw_random_bytes(void *buf, size_t n);

/** 1-based line and byte column of pos inside the text that starts at start (pos >= start),
 *  for parse errors. */
void igw_text_position(const char *start, const char *pos, unsigned *line, unsigned *col);

/** Parses a duration ("250ms", "1s", "10m", "2h", "7d"; a bare number is seconds) into ms.
 *  @return IGW_OK or IGW_EINVAL. */
int igw_parse_duration_ms(const char *s, uint64_t *out);
/** Parses a size ("512", "64KiB", "1MiB", "2GiB", "1MB") into bytes. IGW_OK or IGW_EINVAL. */
int igw_parse_size(const char *s, uint64_t *out);

#endif /* IGW_COMMON_H */
