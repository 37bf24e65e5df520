/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One channel's response cache (mediate_int.h): a hash table of entries on a least-recently-
 * used list, bounded by entry count and bytes, each entry one allocation holding its key, tag
 * and answer. One mutex: lookups copy the answer into the response while holding it, which
 * is a memcpy of at most a quarter of max_bytes.
 */
#include <pthread.h>
#include <string.h>

#include "igw/common.h"
#include "mediate/mediate_int.h"

struct entry {
    struct entry *hnext;               /* bucket chain */
    struct entry *lru_prev, *lru_next; /* most recent first */
    uint64_t hash;
    uint64_t expires_ms;
    size_t klen;
    size_t size; /* bytes charged */
    const char *key, *tag;
    struct igw_mcache_val v;
};

struct igw_mcache {
    pthread_mutex_t mtx;
    struct entry **buckets;
    size_t nbuckets; /* power of two */
    struct entry *lru_head, *lru_tail;
    unsigned count, max_entries;
    uint64_t bytes, max_bytes, ttl_ms;
};

static uint64_t
hash_of(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    }
    return h;
}

int
igw_mcache_new(igw_mcache **out, unsigned max_entries, uint64_t max_bytes, uint64_t ttl_ms)
{
    struct igw_mcache *c;
    size_t nb = 16;

    if (max_entries == 0 || max_bytes == 0 || ttl_ms == 0) {
        return IGW_EINVAL;
    }
    while (nb < (size_t)max_entries * 2 && nb < (1u << 22)) {
        nb *= 2;
    }
    c = IGW_NEW(struct igw_mcache);
    if (c == NULL) {
        return IGW_ENOMEM;
    }
    c->buckets = igw_calloc(nb, sizeof(*c->buckets));
    if (c->buckets == NULL) {
        igw_free(c);
        return IGW_ENOMEM;
    }
    pthread_mutex_init(&c->mtx, NULL);
    c->nbuckets = nb;
    c->max_entries = max_entries;
    c->max_bytes = max_bytes;
    c->ttl_ms = ttl_ms;
    *out = c;
    return IGW_OK;
}

static void
lru_unlink(struct igw_mcache *c, struct entry *e)
{
    if (e->lru_prev != NULL) {
        e->lru_prev->lru_next = e->lru_next;
    } else {
        c->lru_head = e->lru_next;
    }
    if (e->lru_next != NULL) {
        e->lru_next->lru_prev = e->lru_prev;
    } else {
        c->lru_tail = e->lru_prev;
    }
    e->lru_prev = e->lru_next = NULL;
}

static void
lru_push(struct igw_mcache *c, struct entry *e)
{
    e->lru_next = c->lru_head;
    if (c->lru_head != NULL) {
        c->lru_head->lru_prev = e;
    }
    c->lru_head = e;
    if (c->lru_tail == NULL) {
        c->lru_tail = e;
    }
}

/* Unlinks e from everything and frees it. */
static void
drop(struct igw_mcache *c, struct entry *e)
{
    struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

    while (*pp != NULL && *pp != e) {
        pp = &(*pp)->hnext;
    }
    if (*pp == e) {
        *pp = e->hnext;
    }
    lru_unlink(c, e);
    c->count--;
    c->bytes -= e->size;
    igw_free(e);
}

static struct entry *
find(struct igw_mcache *c, const char *key, size_t klen, uint64_t h)
{
    for (struct entry *e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->hnext) {
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0) {
            return e;
        }
    }
    return NULL;
}

void
igw_mcache_free(igw_mcache *c)
{
    if (c == NULL) {
        return;
    }
    while (c->lru_head != NULL) {
        drop(c, c->lru_head);
    }
    igw_free(c->buckets);
    pthread_mutex_destroy(&c->mtx);
    igw_free(c);
}

bool
igw_mcache_get(igw_mcache *c, const char *key, size_t klen, uint64_t now_ms,
               void (*fn)(void *arg, const struct igw_mcache_val *v), void *arg)
{
    uint64_t h = hash_of(key, klen);
    struct entry *e;
    bool hit = false;

    pthread_mutex_lock(&c->mtx);
    e = find(c, key, klen, h);
    if (e != NULL && e->expires_ms <= now_ms) {
        drop(c, e);
        e = NULL;
    }
    if (e != NULL) {
        lru_unlink(c, e);
        lru_push(c, e);
        fn(arg, &e->v);
        hit = true;
    }
    pthread_mutex_unlock(&c->mtx);
    return hit;
}

/* Copies s (may be NULL) to *p, advancing it; returns the copy or NULL. */
static const char *
put_str(char **p, const char *s, size_t n)
{
    char *d = *p;
    if (s == NULL) {
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = '\0';
    *p += n + 1;
    return d;
}

static size_t
slen(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

static struct entry *
entry_new(const char *key, size_t klen, const char *tag, const struct igw_mcache_val *v)
{
    size_t size = sizeof(struct entry) + klen + 1 + slen(tag) + slen(v->content_type) +
                  slen(v->etag) + slen(v->last_modified) + v->body_len + 1;
    struct entry *e = igw_malloc(size);
    char *p;

    if (e == NULL) {
        return NULL;
    }
    memset(e, 0, sizeof(*e));
    p = (char *)(e + 1);
    e->size = size;
    e->klen = klen;
    e->key = put_str(&p, key, klen);
    e->tag = put_str(&p, tag, slen(tag) > 0 ? slen(tag) - 1 : 0);
    e->v.status = v->status;
    e->v.content_type =
        put_str(&p, v->content_type, slen(v->content_type) - (v->content_type != NULL));
    e->v.etag = put_str(&p, v->etag, slen(v->etag) - (v->etag != NULL));
    e->v.last_modified =
        put_str(&p, v->last_modified, slen(v->last_modified) - (v->last_modified != NULL));
    e->v.body = put_str(&p, v->body != NULL ? v->body : "", v->body_len);
    e->v.body_len = v->body_len;
    return e;
}

int
igw_mcache_put(igw_mcache *c, const char *key, size_t klen, const char *tag, uint64_t now_ms,
               const struct igw_mcache_val *v)
{
    uint64_t h = hash_of(key, klen);
    struct entry *e;
    struct entry *old;

    if (v->body_len + klen > c->max_bytes / 4) {
        return IGW_ETOOBIG;
    }
    e = entry_new(key, klen, tag, v);
    if (e == NULL) {
        return IGW_ENOMEM;
    }
    e->hash = h;
    e->expires_ms = now_ms + c->ttl_ms;
    pthread_mutex_lock(&c->mtx);
    old = find(c, key, klen, h);
    if (old != NULL) {
        drop(c, old);
    }
    while (c->lru_tail != NULL &&
           (c->count + 1 > c->max_entries || c->bytes + e->size > c->max_bytes)) {
        drop(c, c->lru_tail);
    }
    e->hnext = c->buckets[h & (c->nbuckets - 1)];
    c->buckets[h & (c->nbuckets - 1)] = e;
    lru_push(c, e);
    c->count++;
    c->bytes += e->size;
    pthread_mutex_unlock(&c->mtx);
    return IGW_OK;
}

unsigned
igw_mcache_invalidate(igw_mcache *c, const char *tag)
{
    unsigned n = 0;

    if (c == NULL || tag == NULL) {
        return 0;
    }
    pthread_mutex_lock(&c->mtx);
    for (struct entry *e = c->lru_head, *next; e != NULL; e = next) {
        next = e->lru_next;
        if (e->tag != NULL && strcmp(e->tag, tag) == 0) {
            drop(c, e);
            n++;
        }
    }
    pthread_mutex_unlock(&c->mtx);
    return n;
}

void
igw_mcache_usage(igw_mcache *c, unsigned *entries, uint64_t *bytes)
{
    pthread_mutex_lock(&c->mtx);
    *entries = c->count;
    *bytes = c->bytes;
    pthread_mutex_unlock(&c->mtx);
}
