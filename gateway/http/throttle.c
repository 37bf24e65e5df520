/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Failed-authentication throttle (http/throttle.h): token buckets per client address in an
 * open-addressing table of fixed size. Tokens are kept in 1/60000ths, so that any rate per
 * minute adds a whole number of them each millisecond (exact refill). A bucket that has refilled
 * completely is the same as no bucket: its slot is free.
 */
#include <pthread.h>
#include <string.h>

#include "igw/common.h"
#include "http/throttle.h"

#define UNIT 60000u /* one token: per_minute units come back each millisecond, exactly */
#define PROBES 8u   /* slots looked at per address: the table never needs a scan */

struct slot {
    char addr[IGW_THROTTLE_ADDR_MAX];
    bool used;
    uint64_t tokens; /* in UNITs */
    uint64_t last_ms;
};

struct igw_throttle {
    pthread_mutex_t mu;
    unsigned burst;
    unsigned per_minute;
    unsigned mask; /* slots - 1 */
    unsigned tracked;
    struct slot *slots;
};

int
igw_throttle_new(igw_throttle **out, unsigned burst, unsigned per_minute, unsigned slots)
{
    struct igw_throttle *t;
    unsigned n = 16;

    if (out == NULL || (burst > 0 && per_minute == 0)) {
        return IGW_EINVAL;
    }
    while (n < slots && n < (1u << 24)) {
        n <<= 1;
    }
    t = IGW_NEW(struct igw_throttle);
    if (t == NULL) {
        return IGW_ENOMEM;
    }
    t->slots = burst > 0 ? igw_calloc(n, sizeof(struct slot)) : NULL;
    if (burst > 0 && t->slots == NULL) {
        igw_free(t);
        return IGW_ENOMEM;
    }
    pthread_mutex_init(&t->mu, NULL);
    t->burst = burst;
    t->per_minute = per_minute;
    t->mask = n - 1;
    *out = t;
    return IGW_OK;
}

void
igw_throttle_free(igw_throttle *t)
{
    if (t == NULL) {
        return;
    }
    pthread_mutex_destroy(&t->mu);
    igw_free(t->slots);
    igw_free(t);
}

static uint64_t
addr_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; s[i] != '\0' && i < IGW_THROTTLE_ADDR_MAX - 1; i++) {
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    }
    return h;
}

static bool
addr_is(const struct slot *s, const char *addr)
{
    return s->used && strncmp(s->addr, addr, IGW_THROTTLE_ADDR_MAX - 1) == 0;
}

/* Brings s's tokens up to now; a slot back at the full burst is released. */
static void
refill(struct igw_throttle *t, struct slot *s, uint64_t now_ms)
{
    uint64_t full = (uint64_t)t->burst * UNIT;
    uint64_t elapsed = now_ms > s->last_ms ? now_ms - s->last_ms : 0;
    uint64_t cap = full / t->per_minute + 1; /* time to refill from empty, ms */
    uint64_t tokens;

    if (!s->used) {
        return;
    }
    elapsed = elapsed < cap ? elapsed : cap;
    tokens = s->tokens + elapsed * t->per_minute;
    s->tokens = tokens < full ? tokens : full;
    s->last_ms = now_ms;
    if (s->tokens >= full) {
        s->used = false;
        t->tracked--;
    }
}

static struct slot *
find(struct igw_throttle *t, const char *addr, uint64_t now_ms)
{
    uint64_t h = addr_hash(addr);

    for (unsigned i = 0; i < PROBES; i++) {
        struct slot *s = &t->slots[(h + i) & t->mask];
        if (addr_is(s, addr)) {
            refill(t, s, now_ms);
            return s->used ? s : NULL;
        }
    }
    return NULL;
}

/* A slot for a new address: a free one in its probe window, else the one with most tokens. */
static struct slot *
claim(struct igw_throttle *t, const char *addr, uint64_t now_ms)
{
    uint64_t h = addr_hash(addr);
    struct slot *best = NULL;

    for (unsigned i = 0; i < PROBES; i++) {
        struct slot *s = &t->slots[(h + i) & t->mask];
        refill(t, s, now_ms);
        if (!s->used) {
            best = s;
            break;
        }
        if (best == NULL || s->tokens > best->tokens) {
            best = s;
        }
    }
    if (!best->used) {
        t->tracked++;
    }
    memset(best, 0, sizeof(*best));
    memcpy(best->addr, addr, strnlen(addr, sizeof(best->addr) - 1));
    best->used = true;
    best->tokens = (uint64_t)t->burst * UNIT;
    best->last_ms = now_ms;
    return best;
}

unsigned
igw_throttle_wait(igw_throttle *t, const char *addr, uint64_t now_ms)
{
    struct slot *s;
    unsigned secs = 0;

    if (t == NULL || t->burst == 0) {
        return 0;
    }
    addr = addr != NULL ? addr : "-";
    pthread_mutex_lock(&t->mu);
    s = find(t, addr, now_ms);
    if (s != NULL && s->tokens < UNIT) {
        uint64_t ms = (UNIT - s->tokens + t->per_minute - 1) / t->per_minute;
        uint64_t sec = (ms + 999) / 1000;
        secs = sec < 1 ? 1 : (sec > IGW_THROTTLE_WAIT_MAX ? IGW_THROTTLE_WAIT_MAX : (unsigned)sec);
    }
    pthread_mutex_unlock(&t->mu);
    return secs;
}

bool
igw_throttle_fail(igw_throttle *t, const char *addr, uint64_t now_ms)
{
    struct slot *s;
    bool empty;

    if (t == NULL || t->burst == 0) {
        return false;
    }
    addr = addr != NULL ? addr : "-";
    pthread_mutex_lock(&t->mu);
    s = find(t, addr, now_ms);
    if (s == NULL) {
        s = claim(t, addr, now_ms);
    }
    s->tokens = s->tokens >= UNIT ? s->tokens - UNIT : 0;
    empty = s->tokens < UNIT;
    pthread_mutex_unlock(&t->mu);
    return empty;
}

unsigned
igw_throttle_tracked(igw_throttle *t)
{
    unsigned n;

    if (t == NULL) {
        return 0;
    }
    pthread_mutex_lock(&t->mu);
    n = t->tracked;
    pthread_mutex_unlock(&t->mu);
    return n;
}

const char *
igw_throttle_retry_after(unsigned secs)
{
    static const char *const text[IGW_THROTTLE_WAIT_MAX] = {
        "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",  "9",  "10", "11", "12", "13", "14", "15",
        "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30",
        "31", "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45",
        "46", "47", "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60"};

    secs = secs < 1 ? 1 : (secs > IGW_THROTTLE_WAIT_MAX ? IGW_THROTTLE_WAIT_MAX : secs);
    return text[secs - 1];
}
