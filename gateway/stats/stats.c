/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process-wide counter table (stats.h): arrays of relaxed atomics, one slot per channel
 * (plus "no channel") and per route, in the configuration's order.
 */
#include <stdatomic.h>
#include <string.h>

#include "igw/common.h"
#include "stats/stats.h"

struct chan_slot {
    atomic_uint_fast64_t accepted;
    atomic_uint_fast64_t map_errors;
    atomic_uint_fast64_t http[IGW_STATS_NCODES];
};

struct route_slot {
    atomic_uint_fast64_t outcomes[IGW_STATS_NOUTCOMES];
    atomic_uint_fast64_t buckets[IGW_STATS_NBUCKETS];
    atomic_uint_fast64_t dur_sum_us;
    atomic_uint_fast64_t dur_count;
    atomic_uint circuit;
    atomic_uint_fast64_t since_ms;
};

struct table {
    const struct igw_config *cfg;
    unsigned nchan;       /* cfg->nchannels + 1 */
    unsigned nroutes;     /* every route of every channel */
    unsigned *route_base; /* first route slot of channel i */
    struct chan_slot *chans;
    struct route_slot *routes;
};

static struct table *_Atomic tbl;
static atomic_bool stopping;

static const unsigned codes[IGW_STATS_NCODES] = {
#define X(c) c,
    IGW_STATS_CODES
#undef X
    0};

static const double bounds[IGW_STATS_NBUCKETS] = {
#define X(b) b,
    IGW_STATS_BUCKETS
#undef X
    - 1.0};

static void
table_free(struct table *t)
{
    if (t != NULL) {
        igw_free(t->route_base);
        igw_free(t->chans);
        igw_free(t->routes);
        igw_free(t);
    }
}

int
igw_stats_init(const struct igw_config *cfg)
{
    struct table *t = IGW_NEW(struct table);
    unsigned nr = 0;

    if (t == NULL) {
        return IGW_ENOMEM;
    }
    t->cfg = cfg;
    t->nchan = (unsigned)cfg->nchannels + 1;
    t->route_base = igw_calloc(t->nchan, sizeof(unsigned));
    for (size_t i = 0; t->route_base != NULL && i < cfg->nchannels; i++) {
        t->route_base[i] = nr;
        nr += (unsigned)cfg->channels[i].nroutes;
    }
    t->nroutes = nr;
    t->chans = igw_calloc(t->nchan, sizeof(struct chan_slot));
    t->routes = igw_calloc(nr + 1, sizeof(struct route_slot));
    if (t->route_base == NULL || t->chans == NULL || t->routes == NULL) {
        table_free(t);
        return IGW_ENOMEM;
    }
    {
        struct table *none = NULL;
        if (!atomic_compare_exchange_strong(&tbl, &none, t)) {
            table_free(t);
            return IGW_EAGAIN;
        }
    }
    atomic_store(&stopping, false);
    return IGW_OK;
}

void
igw_stats_fini(const struct igw_config *cfg)
{
    struct table *t = atomic_load(&tbl);

    if (t != NULL && t->cfg == cfg && atomic_compare_exchange_strong(&tbl, &t, NULL)) {
        table_free(t);
    }
}

static struct chan_slot *
chan_slot(const struct table *t, const struct igw_channel *ch)
{
    const struct igw_channel *base = t->cfg->channels;

    if (ch == NULL) {
        return &t->chans[t->nchan - 1];
    }
    if (ch < base || ch >= base + t->cfg->nchannels) {
        return NULL;
    }
    return &t->chans[ch - base];
}

static struct route_slot *
route_slot(const struct table *t, const struct igw_route *r)
{
    for (size_t i = 0; r != NULL && i < t->cfg->nchannels; i++) {
        const struct igw_channel *ch = &t->cfg->channels[i];
        if (r >= ch->routes && r < ch->routes + ch->nroutes) {
            return &t->routes[t->route_base[i] + (unsigned)(r - ch->routes)];
        }
    }
    return NULL;
}

static void
bump(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

void
igw_stats_accepted(const struct igw_channel *ch)
{
    struct table *t = atomic_load(&tbl);
    struct chan_slot *s = t != NULL && ch != NULL ? chan_slot(t, ch) : NULL;
    if (s != NULL) {
        bump(&s->accepted, 1);
    }
}

void
igw_stats_map_error(const struct igw_channel *ch)
{
    struct table *t = atomic_load(&tbl);
    struct chan_slot *s = t != NULL && ch != NULL ? chan_slot(t, ch) : NULL;
    if (s != NULL) {
        bump(&s->map_errors, 1);
    }
}

void
igw_stats_http(const struct igw_channel *ch, unsigned status)
{
    struct table *t = atomic_load(&tbl);
    struct chan_slot *s = t != NULL ? chan_slot(t, ch) : NULL;
    unsigned i = 0;

    if (s == NULL) {
        return;
    }
    while (i < IGW_STATS_NCODES - 1 && codes[i] != status) {
        i++;
    }
    bump(&s->http[i], 1);
}

void
igw_stats_delivery(const struct igw_route *r, enum igw_stats_outcome o, uint64_t dur_us)
{
    struct table *t = atomic_load(&tbl);
    struct route_slot *s = t != NULL ? route_slot(t, r) : NULL;
    unsigned b = 0;

    if (s == NULL || (unsigned)o >= IGW_STATS_NOUTCOMES) {
        return;
    }
    while (b < IGW_STATS_NBUCKETS - 1 && (double)dur_us > bounds[b] * 1e6) {
        b++;
    }
    bump(&s->outcomes[o], 1);
    bump(&s->buckets[b], 1);
    bump(&s->dur_sum_us, dur_us);
    bump(&s->dur_count, 1);
}

void
igw_stats_circuit(const struct igw_route *r, unsigned state, uint64_t now_ms)
{
    struct table *t = atomic_load(&tbl);
    struct route_slot *s = t != NULL ? route_slot(t, r) : NULL;
    unsigned was;

    if (s == NULL) {
        return;
    }
    was = atomic_exchange(&s->circuit, state);
    if (state == 0) {
        atomic_store(&s->since_ms, 0);
    } else if (was == 0) {
        atomic_store(&s->since_ms, now_ms);
    }
}

void
igw_stats_set_stopping(void)
{
    atomic_store(&stopping, true);
}

bool
igw_stats_stopping(void)
{
    return atomic_load(&stopping);
}

unsigned
igw_stats_code_at(unsigned i)
{
    return i < IGW_STATS_NCODES ? codes[i] : 0;
}

double
igw_stats_bucket_le(unsigned i)
{
    return i < IGW_STATS_NBUCKETS ? bounds[i] : -1.0;
}

unsigned
igw_stats_nchannels(void)
{
    struct table *t = atomic_load(&tbl);
    return t != NULL ? t->nchan : 0;
}

unsigned
igw_stats_nroutes(void)
{
    struct table *t = atomic_load(&tbl);
    return t != NULL ? t->nroutes : 0;
}

bool
igw_stats_channel_at(unsigned i, struct igw_stats_channel *out)
{
    struct table *t = atomic_load(&tbl);
    const struct chan_slot *s;

    memset(out, 0, sizeof(*out));
    if (t == NULL || i >= t->nchan) {
        return false;
    }
    s = &t->chans[i];
    out->channel = i + 1 < t->nchan ? &t->cfg->channels[i] : NULL;
    out->accepted = atomic_load_explicit(&s->accepted, memory_order_relaxed);
    out->map_errors = atomic_load_explicit(&s->map_errors, memory_order_relaxed);
    for (unsigned k = 0; k < IGW_STATS_NCODES; k++) {
        out->http[k] = atomic_load_explicit(&s->http[k], memory_order_relaxed);
    }
    return true;
}

bool
igw_stats_route_at(unsigned i, struct igw_stats_route *out)
{
    struct table *t = atomic_load(&tbl);
    const struct route_slot *s;

    memset(out, 0, sizeof(*out));
    if (t == NULL || i >= t->nroutes) {
        return false;
    }
    s = &t->routes[i];
    for (size_t c = 0; c < t->cfg->nchannels; c++) {
        const struct igw_channel *ch = &t->cfg->channels[c];
        if (i >= t->route_base[c] && i < t->route_base[c] + ch->nroutes) {
            out->route = &ch->routes[i - t->route_base[c]];
        }
    }
    for (unsigned k = 0; k < IGW_STATS_NOUTCOMES; k++) {
        out->outcomes[k] = atomic_load_explicit(&s->outcomes[k], memory_order_relaxed);
    }
    for (unsigned k = 0; k < IGW_STATS_NBUCKETS; k++) {
        out->buckets[k] = atomic_load_explicit(&s->buckets[k], memory_order_relaxed);
    }
    out->dur_sum_us = atomic_load_explicit(&s->dur_sum_us, memory_order_relaxed);
    out->dur_count = atomic_load_explicit(&s->dur_count, memory_order_relaxed);
    out->circuit = atomic_load(&s->circuit);
    out->circuit_since_ms = atomic_load(&s->since_ms);
    return true;
}
