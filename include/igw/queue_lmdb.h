/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LMDB queue backend ("lmdb", queue/lmdb/): one LMDB environment in a directory, one writer
 * thread that groups concurrent requests into one write transaction and one fsync. Its on-disk
 * layout is docs/QUEUE-FORMAT.md.
 *
 *   struct igw_queue_lmdb_opts lo = {.path = "var/queue", .map_size = 1ull << 30};
 *   struct igw_queue_opts o = {.backend = "lmdb", .backend_opts = &lo};
 *   rv = igw_queue_open(&q, &o, errbuf, sizeof(errbuf));
 *
 * LMDB caveats on top of those of queue.h: the directory holds an LMDB lock file, so one
 * process opens it at a time; the environment is opened with MDB_NOTLS (reads run on the
 * caller's thread, whichever it is); a transaction never crosses an nng callback.
 */
#ifndef IGW_QUEUE_LMDB_H
#define IGW_QUEUE_LMDB_H

#include <stdbool.h>
#include <stdint.h>

#include "igw/queue_backend.h"

/** The options igw_queue_opts.backend_opts points to when backend is "lmdb" (or NULL). */
struct igw_queue_lmdb_opts {
    const char *path;   /* directory; created if missing (mode 0700). Required (else
                           igw_queue_open returns IGW_EINVAL, "queue: no path") */
    uint64_t map_size;  /* LMDB map size in bytes, rounded up to a page; 0 = 1 GiB. A full map
                           gives IGW_ENOSPC on accept (stats: capacity_bytes, full) */
    unsigned max_batch; /* most requests per group commit; 0 = 256 */
    bool no_sync;       /* MDB_NOSYNC: benchmarks only, never in production (a system crash
                           may lose or corrupt committed data) */
};

/** The backend's operations (queue/lmdb/lmdb.c), registered as "lmdb" in queue/registry/registry.c.
 */
extern const struct igw_queue_backend igw_queue_backend_lmdb;

#endif /* IGW_QUEUE_LMDB_H */
