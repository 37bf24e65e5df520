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
    struct block *head;
    size_t limit;
    size_t used;
};

#define BLOCK_HDR ((sizeof(struct block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

int
igw_arena_new(igw_arena **out, size_t limit)
{
    igw_arena *a = IGW_NEW(igw_arena);
    if (a == NULL) {
        return IGW_ENOMEM;
    }
    a->limit = limit;
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
}

void *
igw_arena_alloc(igw_arena *a, size_t n)
{
    struct block *b = a->head;
    size_t sz = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    void *p;

    if (sz < n || (a->limit != 0 && (sz > a->limit || a->used > a->limit - sz))) {
        return NULL;
    }
    if (b == NULL || b->cap - b->used < sz) {
        size_t cap = sz > ARENA_BLOCK / 2 ? sz : ARENA_BLOCK;
        struct block *nb = igw_malloc(BLOCK_HDR + cap);
        if (nb == NULL) {
            return NULL;
        }
        nb->cap = cap;
        nb->used = 0;
        if (b != NULL && sz > ARENA_BLOCK / 2) {
            /* big one-off allocation: keep the current block at the head */
            nb->next = b->next;
            b->next = nb;
            nb->used = sz;
            a->used += sz;
            return (char *)nb + BLOCK_HDR;
        }
        nb->next = b;
        a->head = b = nb;
    }
    p = (char *)b + BLOCK_HDR + b->used;
    b->used += sz;
    a->used += sz;
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
    return a->used;
}
