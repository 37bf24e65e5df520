/* SPDX-License-Identifier: Apache-2.0 */
/* Per-message bump allocator (h2o mem_pool). */
#include <string.h>

#include "igw/common.h"
#include "igw/arena.h"

#define ARENA_BLOCK 8192
#define ARENA_ALIGN 16

struct block {
    struct block *next;
    size_t cap;
    size_t used;
    /* data follows, aligned */
};

struct igw_arena {
    struct igw_arena_fast f; /* first: igw_arena_bump reads it (arena.h) */
    char *mark;              /* f.cur when used was last settled */
    struct block *head;
    size_t limit;
    size_t used; /* bytes allocated up to mark */
};

#define BLOCK_HDR ((sizeof(struct block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

static char *
block_data(struct block *b)
{
    return (char *)b + BLOCK_HDR;
}

/* Folds the bumps since the last settle into used and the head block's used. */
static void
settle(igw_arena *a)
{
    a->used += (size_t)(a->f.cur - a->mark);
    if (a->head != NULL) {
        a->head->used = (size_t)(a->f.cur - block_data(a->head));
    }
    a->mark = a->f.cur;
}

/* Points the cursor at the head block's free room, cut at the byte limit (a settled arena). */
static void
set_cursor(igw_arena *a)
{
    struct block *b = a->head;
    size_t room;

    if (b == NULL) {
        /* no room: every allocation takes the slow path (no NULL pointer arithmetic) */
        static char none[1];
        a->f.cur = a->f.end = a->mark = none;
        return;
    }
    room = b->cap - b->used;
    if (a->limit != 0 && a->limit - a->used < room) {
        room = a->limit - a->used;
    }
    a->f.cur = block_data(b) + b->used;
    a->f.end = a->f.cur + room;
    a->mark = a->f.cur;
}

int
igw_arena_new(igw_arena **out, size_t limit)
{
    igw_arena *a = IGW_NEW(igw_arena);
    if (a == NULL) {
        return IGW_ENOMEM;
    }
    a->limit = limit;
    set_cursor(a);
    *out = a;
    return IGW_OK;
}

static void
free_blocks(struct block *b)
{
    while (b != NULL) {
        struct block *n = b->next;
        igw_free(b);
        b = n;
    }
}

void
igw_arena_free(igw_arena *a)
{
    if (a == NULL) {
        return;
    }
    free_blocks(a->head);
    igw_free(a);
}

void
igw_arena_reset(igw_arena *a)
{
    struct block *b = a->head;
    struct block *keep = NULL;

    /* free every block but the oldest, which is reused */
    while (b != NULL) {
        struct block *n = b->next;
        if (n == NULL) {
            keep = b;
        } else {
            igw_free(b);
        }
        b = n;
    }
    a->head = keep;
    if (keep != NULL) {
        keep->used = 0;
    }
    a->used = 0;
    set_cursor(a);
}

/* A new block for sz bytes: the new head, or after the head for a big one-off allocation. */
static void *
alloc_block(igw_arena *a, size_t sz)
{
    struct block *b = a->head;
    size_t cap = sz > ARENA_BLOCK / 2 ? sz : ARENA_BLOCK;
    struct block *nb = igw_malloc(BLOCK_HDR + cap);

    if (nb == NULL) {
        return NULL;
    }
    nb->cap = cap;
    nb->used = sz;
    a->used += sz;
    if (b != NULL && sz > ARENA_BLOCK / 2) {
        /* big one-off allocation: keep the current block at the head */
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        a->head = nb;
    }
    set_cursor(a);
    return block_data(nb);
}

void *
igw_arena_alloc(igw_arena *a, size_t n)
{
    struct block *b;
    size_t sz = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    void *p;

    if (sz < n) {
        return NULL;
    }
    if (sz - 1 < (size_t)(a->f.end - a->f.cur)) {
        p = a->f.cur;
        a->f.cur += sz;
        return p;
    }
    settle(a);
    if (a->limit != 0 && (sz > a->limit || a->used > a->limit - sz)) {
        return NULL;
    }
    b = a->head;
    if (b == NULL || b->cap - b->used < sz) {
        return alloc_block(a, sz);
    }
    p = block_data(b) + b->used;
    b->used += sz;
    a->used += sz;
    set_cursor(a);
    return p;
}

void *
igw_arena_calloc(igw_arena *a, size_t n)
{
    void *p = igw_arena_alloc(a, n);
    if (p != NULL) {
        memset(p, 0, n);
    }
    return p;
}

char *
igw_arena_strndup(igw_arena *a, const char *s, size_t n)
{
    char *d = igw_arena_alloc(a, n + 1);
    if (d == NULL) {
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

size_t
igw_arena_used(const igw_arena *a)
{
    return a->used + (size_t)(a->f.cur - a->mark);
}
