/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The queue backends, by name: one line per backend. In a folder of its own because it is the
 * one place that knows every backend (the facade in queue/ finds them through
 * igw_queue_backend_find, declared in include/igw/queue_backend.h). The first is the default (an
 * igw_queue_opts.backend of NULL). Adding one: docs/internals/QUEUE-BACKEND.md.
 */
#include <string.h>

#include "igw/queue_backend.h"
#include "igw/queue_jetstream.h"
#include "igw/queue_lmdb.h"

static const struct igw_queue_backend *const backends[] = {
    &igw_queue_backend_lmdb, /* queue/lmdb/: LMDB in a local directory */
#ifdef IGW_HAVE_JETSTREAM
    &igw_queue_backend_jetstream, /* queue/jetstream/: NATS JetStream, several instances */
#endif
};

#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

const struct igw_queue_backend *
igw_queue_backend_find(const char *name)
{
    if (name == NULL) {
        return backends[0];
    }
    for (size_t i = 0; i < NBACKENDS; i++) {
        if (strcmp(backends[i]->name, name) == 0) {
            return backends[i];
        }
    }
    return NULL;
}

const struct igw_queue_backend *
igw_queue_backend_at(unsigned i)
{
    return i < NBACKENDS ? backends[i] : NULL;
}
