/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NATS JetStream queue backend ("jetstream", queue/jetstream/): the queue kept in a JetStream
 * cluster, so several igw instances share it and it survives the loss of a node or an instance.
 * Design and layout: docs/JETSTREAM.md.
 *
 *   struct igw_queue_jetstream_opts jo = {.servers = "nats://10.0.0.1:4222,nats://10.0.0.2:4222",
 *                                         .name = "igw", .instance = "igw-a", .replicas = 3};
 *   struct igw_queue_opts o = {.backend = "jetstream", .backend_opts = &jo};
 *   rv = igw_queue_open(&q, &o, errbuf, sizeof(errbuf));
 *
 * Storage: a stream <name>_MSG holds the messages (the message id is the stream sequence, so ids
 * are strictly increasing and in publication order for every instance), and a key-value bucket
 * <name>_STATE holds each delivery's state, the idempotency keys and purge markers. Every change
 * of a delivery is a compare-and-set on its key (the revision), so two instances never hand out
 * the same delivery; an in-flight delivery carries its instance and a lease (ack_wait_ms) after
 * which another instance takes it over. Every instance keeps a view of the whole queue in memory,
 * loaded at open and kept current by watching the stream and the bucket.
 *
 * Caveats on top of those of queue.h: the in-memory view grows with the stored messages (their
 * metadata; bodies only while a delivery is pending); instance names must be distinct among the
 * instances sharing a name; a delivery attempt must end within ack_wait_ms (else another instance
 * may repeat it: at-least-once). The backend exists only in builds with libnats (IGW_JETSTREAM);
 * otherwise igw_queue_open with "jetstream" returns IGW_EINVAL (unknown backend).
 */
#ifndef IGW_QUEUE_JETSTREAM_H
#define IGW_QUEUE_JETSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "igw/queue_backend.h"

/** The options igw_queue_opts.backend_opts points to when backend is "jetstream". Required
 *  (NULL gives IGW_EINVAL). Strings are only read during igw_queue_open. */
struct igw_queue_jetstream_opts {
    const char *servers;    /* comma-separated NATS URLs; NULL = "nats://127.0.0.1:4222" */
    const char *name;       /* stream/bucket prefix: [A-Za-z0-9_-], 1..64 bytes; NULL = "igw".
                               Streams <name>_MSG and <name>_STATE are created when missing */
    const char *instance;   /* this instance's name, distinct per instance sharing the queue:
                               [A-Za-z0-9_-], 1..64 bytes; NULL = "igw". At open, deliveries
                               left in flight by this name return to pending */
    const char *creds_file; /* NATS credentials file (JWT + NKey seed); NULL = none */
    const char *tls_ca;     /* CA file to verify the servers; NULL = no TLS unless the URL
                               says tls:// */
    const char *tls_cert;   /* client certificate and key (both or neither); NULL = none */
    const char *tls_key;
    unsigned replicas;    /* stream replicas when creating them: 1..5; 0 = 1 */
    uint64_t ack_wait_ms; /* lease of an in-flight delivery; 0 = 60000 */
    uint64_t timeout_ms;  /* per request to JetStream; 0 = 5000 */
    unsigned max_batch;   /* most submits published as one group; 0 = 256 */
};

/** The backend's operations (queue/jetstream/), registered as "jetstream" in
 *  queue/registry/registry.c when built with libnats. */
extern const struct igw_queue_backend igw_queue_backend_jetstream;

#endif /* IGW_QUEUE_JETSTREAM_H */
