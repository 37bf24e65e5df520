/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Room for deliveries: the high-water mark that stops intake early (docs/QUEUE-FORMAT.md,
 * "Room for deliveries").
 *
 * LMDB is copy-on-write: deleting a record or changing a delivery writes new copies of the pages
 * on its path and frees the old ones only after the commit (and they are reused only once no
 * snapshot can see them). A map filled to the last page therefore can no longer delete anything:
 * claims, outcomes, sweeps and purges fail with MDB_MAP_FULL and the queue never drains. So a
 * submit is accepted only while the pages in use, measured inside the write transaction from
 * LMDB's own figures (mdb_stat of every tree, the free list's tree included), plus an estimate of
 * what the message needs, stay below capacity minus a reserve kept for everything that is not an
 * accept. Capacity is the map size, or less when the file system holding data.mdb has less room
 * left (a full disk is handled by the same mark). The reserve is also kept allocated on disk
 * (posix_fallocate of data.mdb up to the last page in use plus the reserve), so that when
 * something else fills the file system the pages deliveries need are already the file's.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "igw/common.h"
#include "igw/log.h"
#include "lmdb_int.h"

#define MAIN_DBI 1
#define PREALLOC_STEP_MIN                                                                          \
    256 /* pages the file is extended by at least, when it is extended */ /* LMDB's main tree      \
                                                                             (holds the named      \
                                                                             databases); 0 is the  \
                                                                             free list */

uint64_t
qspace_reserve_pages(uint64_t cap_pages)
{
    uint64_t floor = QSPACE_RESERVE_MIN_PAGES;

    if (floor > cap_pages / 4) {
        floor = cap_pages / 4; /* a tiny map keeps three quarters for messages */
    }
    return cap_pages / QSPACE_RESERVE_DIV > floor ? cap_pages / QSPACE_RESERVE_DIV : floor;
}

/* Pages a record of len value bytes (plus its key) may add: an overflow run when it does not fit
 * in a leaf, else its share of a leaf counted twice (a split leaves two half-full pages). */
static uint64_t
record_pages(size_t len, unsigned psize)
{
    size_t big = psize / 2 - 64;

    if (len + QF_KEY_MAX > big) {
        return (len + 64 + psize - 1) / psize + 1;
    }
    return 0;
}

uint64_t
qspace_estimate_pages(const struct qsubmit *s, unsigned psize)
{
    size_t small = 0;
    uint64_t pages = 2; /* a split of a branch page on the way */
    size_t msg = 32 + s->channel_len + s->meta_len + s->body_len +
                 (s->content_type != NULL ? strlen(s->content_type) : 0);

    pages += record_pages(msg, psize);
    small += record_pages(msg, psize) == 0 ? msg + 24 : 24;
    for (unsigned i = 0; i < s->nroutes; i++) {
        const struct qroute *r = &s->routes[i];
        /* deliv + due + order, keyed by id + route (order by route + key + id) */
        small += 3 * (40 + r->name_len) + 2 * r->order_len + 64;
        if (r->has_payload) {
            size_t pl =
                16 + r->payload_len + (r->content_type != NULL ? strlen(r->content_type) : 0);
            pages += record_pages(pl, psize);
            small += record_pages(pl, psize) == 0 ? pl + 24 + r->name_len : 24;
        }
    }
    if (s->has_idem) {
        small += 40 + s->channel_len + s->idem_len;
    }
    return pages + (2 * small + psize - 1) / psize;
}

/* Pages the trees of the write transaction occupy: every named database, the main tree, the free
 * list's tree and the two meta pages. What is not counted is free, or held by an older snapshot. */
static int
live_pages(qlmdb *q, MDB_txn *txn, uint64_t *out)
{
    MDB_stat st;
    uint64_t n = 2;
    int rc = MDB_SUCCESS;

    for (int i = -2; rc == MDB_SUCCESS && i < QDB_COUNT; i++) {
        MDB_dbi dbi = i == -2 ? 0 : i == -1 ? MAIN_DBI : q->dbi[i];
        rc = mdb_stat(txn, dbi, &st);
        if (rc == MDB_SUCCESS) {
            n += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
        }
    }
    *out = n;
    return qerr_map(rc, "space stat");
}

/* Capacity in pages: the map, or what data.mdb plus the file system's free room can hold. */
static uint64_t
cap_pages(qlmdb *q)
{
    MDB_envinfo info;
    mdb_filehandle_t fd;
    struct statvfs vfs;
    struct stat st;
    uint64_t cap;
    uint64_t disk;

    if (mdb_env_info(q->env, &info) != MDB_SUCCESS) {
        return 0;
    }
    cap = info.me_mapsize / q->psize;
    if (mdb_env_get_fd(q->env, &fd) == MDB_SUCCESS && fstat(fd, &st) == 0 &&
        fstatvfs(fd, &vfs) == 0) {
        disk = ((uint64_t)st.st_size + (uint64_t)vfs.f_bavail * vfs.f_frsize) / q->psize;
        cap = disk < cap ? disk : cap;
    }
    return cap;
}

/* The mark (capacity - reserve), measured once per transaction. */
static uint64_t
mark_pages(struct qbatch *b)
{
    if (!b->mark_known) {
        b->cap = cap_pages(b->q);
        b->mark = b->cap - qspace_reserve_pages(b->cap);
        b->mark_known = true;
    }
    return b->mark;
}

int
qspace_admit(struct qbatch *b, const struct qsubmit *s, bool *ok)
{
    uint64_t live = 0;
    int rv = live_pages(b->q, b->txn, &live);

    /* once refusing, refuse until usage is clearly back below: no 202/503 flapping at the mark */
    uint64_t margin = b->was_full || b->refused ? QSPACE_HYSTERESIS_PAGES : 0;

    *ok = rv == IGW_OK && live + qspace_estimate_pages(s, b->q->psize) + margin <= mark_pages(b);
    return rv;
}

int
qspace_below_mark(struct qbatch *b, bool *below)
{
    uint64_t live = 0;
    int rv = live_pages(b->q, b->txn, &live);

    /* room for a few small messages, so a freed page or two does not flip the flag back */
    *below = rv == IGW_OK && live + QSPACE_HYSTERESIS_PAGES <= mark_pages(b);
    return rv;
}

void
qspace_preallocate(qlmdb *q, uint64_t cap)
{
    MDB_envinfo info;
    mdb_filehandle_t fd;
    uint64_t want;
    uint64_t reserve;
    int rc;

    if (cap == 0) {
        cap = cap_pages(q);
    }
    if (mdb_env_info(q->env, &info) != MDB_SUCCESS || mdb_env_get_fd(q->env, &fd) != 0) {
        return;
    }
    reserve = qspace_reserve_pages(cap);
    want = (uint64_t)info.me_last_pgno + 1 + reserve;
    if ((want < cap ? want : cap) * q->psize <= q->prealloc_bytes) {
        return;
    }
    /* Allocate ahead by one more reserve (at least PREALLOC_STEP_MIN pages), so the file is
     * extended once per reserve's worth of growth, not at every commit that uses a new page
     * (the cost account found one posix_fallocate per group commit, each dearer than its
     * fdatasync). */
    want += reserve > PREALLOC_STEP_MIN ? reserve : PREALLOC_STEP_MIN;
    want = (want < cap ? want : cap) * q->psize;
    rc = posix_fallocate(fd, 0, (off_t)want);
    if (rc == 0) {
        q->prealloc_bytes = want;
        q->prealloc_warned = false;
    } else if (!q->prealloc_warned) {
        IGW_WARN("queue: cannot keep the reserve allocated in %s/data.mdb (%llu bytes): %s",
                 q->path, (unsigned long long)want, strerror(rc));
        q->prealloc_warned = true;
    }
}

int
qspace_full_at_open(qlmdb *q, bool *full)
{
    MDB_txn *txn = NULL;
    uint64_t live = 0;
    uint64_t cap = cap_pages(q);
    int rv = qerr_map(mdb_txn_begin(q->env, NULL, MDB_RDONLY, &txn), "space txn begin");

    if (rv == IGW_OK) {
        rv = live_pages(q, txn, &live);
        mdb_txn_abort(txn);
    }
    /* the same test as qspace_below_mark: a restart does not reset the hysteresis */
    *full = rv == IGW_OK && live + QSPACE_HYSTERESIS_PAGES > cap - qspace_reserve_pages(cap);
    return rv;
}
