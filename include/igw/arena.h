/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-message arena (h2o mem_pool). Allocations are freed together by igw_arena_reset or
 * igw_arena_free; there is no per-object free. An arena has a byte limit: allocations beyond it
 * return NULL, which callers report as IGW_ELIMIT or IGW_ENOMEM. Not thread-safe.
 */
#ifndef IGW_ARENA_H
#define IGW_ARENA_H

#include <stddef.h>

typedef struct igw_arena igw_arena;

/** Creates an arena that may hold up to limit bytes (0 = unlimited). On success *out (out not
 *  NULL) is owned by the caller: free it with igw_arena_free. @return IGW_OK, or IGW_ENOMEM
 *  (out of memory; *out untouched). */
int igw_arena_new(igw_arena **out, size_t limit);
/** Frees the arena and everything allocated from it. NULL-safe. */
void igw_arena_free(igw_arena *a);
/** Frees all allocations (every pointer the arena handed out becomes invalid) but keeps the
 *  first block for reuse. a must not be NULL. Cannot fail. */
void igw_arena_reset(igw_arena *a);
/** Returns n bytes aligned to 16, owned by the arena and valid until reset/free; NULL when out
 *  of memory or over the limit. a must not be NULL. */
void *igw_arena_alloc(igw_arena *a, size_t n);
/** Like igw_arena_alloc but zeroed; same ownership and failures. */
void *igw_arena_calloc(igw_arena *a, size_t n);
/** Copies n bytes of s (borrowed, not NULL) plus a NUL into the arena; the copy
 *  is owned by the arena. NULL when out of memory or over the limit. */
char *igw_arena_strndup(igw_arena *a, const char *s, size_t n);
/** Bytes currently allocated (for limits and metrics). a must not be NULL. */
size_t igw_arena_used(const igw_arena *a);

/* The bump cursor an arena starts with (arena.c keeps it its first member): [cur, end) is free
 * room of the current block within the byte limit. Only igw_arena_bump reads it. */
struct igw_arena_fast {
    char *cur;
    char *end;
};

/** igw_arena_alloc, inline for hot paths: a bump of the cursor when the current block has room,
 *  igw_arena_alloc otherwise (n == 0 always takes that call). Same result and limits. */
static inline void *
igw_arena_bump(igw_arena *a, size_t n)
{
    struct igw_arena_fast *f = (struct igw_arena_fast *)(void *)a;
    size_t sz = (n + 15) & ~(size_t)15;

    if (sz - 1 < (size_t)(f->end - f->cur)) {
        void *p = f->cur;
        f->cur += sz;
        return p;
    }
    return igw_arena_alloc(a, n);
}

#endif /* IGW_ARENA_H */
