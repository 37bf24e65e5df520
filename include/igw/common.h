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

/** malloc(n) (n == 0 allocates 1 byte). The caller owns the result: free it with igw_free.
 *  NULL when out of memory or failing by injection. Thread-safe. */
void *igw_malloc(size_t n);
/** calloc(nmemb, size) (either 0 allocates 1 zeroed byte); otherwise as igw_malloc. */
void *igw_calloc(size_t nmemb, size_t size);
/** realloc(p, n) (n == 0 keeps 1 byte). On success p (owned by the caller, may be NULL) is
 *  replaced by the result; on failure (NULL) p is untouched and still owned by the caller. */
void *igw_realloc(void *p, size_t n);
/** Frees memory from igw_malloc/igw_calloc/igw_realloc/igw_strdup/igw_strndup. NULL-safe. */
void igw_free(void *p);
/** Returns a NUL-terminated copy of s (NULL if s is NULL or on ENOMEM); the caller owns it:
 *  free with igw_free. */
char *igw_strdup(const char *s);
/** Returns a NUL-terminated copy of n bytes of s (borrowed, not NULL; may contain NULs); the
 *  caller owns it: free with igw_free. NULL on ENOMEM. */
char *igw_strndup(const char *s, size_t n);
/** Failure injection for OOM tests: after n more successful allocations every following one
 *  fails (n >= 0; 0 fails the next); -1 disables. Process-wide, thread-safe. */
void igw_alloc_fail_after(long n);

#define IGW_NEW(T) ((T *)igw_calloc(1, sizeof(T)))
#define IGW_FREE(p)                                                                                \
    do {                                                                                           \
        igw_free(p);                                                                               \
        (p) = NULL;                                                                                \
    } while (0)
#define IGW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define IGW_UNUSED(x) ((void)(x))

/** Logs "panic: <message>" at ERROR level and aborts the process: only for corrupted
 *  invariants, never for input. fmt must not be NULL. Never returns. */
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

/* The clocks cannot fail (clock_gettime on CLOCK_REALTIME / CLOCK_MONOTONIC). */
/** Wall-clock milliseconds since the Unix epoch. */
uint64_t igw_now_ms(void);
/** Monotonic milliseconds (for timeouts and rates). */
uint64_t igw_mono_ms(void);

/** Names the calling thread (at most 15 bytes are kept; longer names are cut), so that `top -H`,
 *  /proc/<pid>/task/<tid>/comm and the cost account (tests/bench/cost_bench.sh) tell igw's
 *  threads apart. name must not be NULL. Best effort: failures are ignored. */
void igw_thread_name(const char *name);
/** Monotonic nanoseconds (for latency measurement). */
uint64_t igw_mono_ns(void);

/** Constant-time comparison of two byte strings (borrowed; NULL only with length 0); true when
 *  equal (length leaks, content not). */
bool igw_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/** Fills buf (n bytes, not NULL unless n is 0) with cryptographically random bytes from
 *  getrandom(), retrying on EINTR. @return IGW_OK, or IGW_EIO when getrandom fails (buf may
 *  then be partly filled). */
int igw_random_bytes(void *buf, size_t n);

/** 1-based line and byte column of pos inside the text that starts at start (pos >= start,
 *  both borrowed, not NULL), for parse errors; written to *line and *col (not NULL). Cannot
 *  fail. */
void igw_text_position(const char *start, const char *pos, unsigned *line, unsigned *col);

/** Parses a duration ("250ms", "1s", "10m", "2h", "7d"; a bare number is seconds; spaces
 *  allowed before the unit) into *out (not NULL) in ms. @return IGW_OK, or IGW_EINVAL (s NULL,
 *  not a number, unknown unit or overflow; *out untouched). */
int igw_parse_duration_ms(const char *s, uint64_t *out);
/** Parses a size ("512", "64KiB", "1MiB", "2GiB", "1MB"; B, KB, MB, GB, KiB, MiB, GiB, TiB; a
 *  bare number is bytes) into *out (not NULL). @return IGW_OK, or IGW_EINVAL (as for
 *  igw_parse_duration_ms). */
int igw_parse_size(const char *s, uint64_t *out);

#endif /* IGW_COMMON_H */
