/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the backend-neutral queue facade (the .c files of queue/), also available to the
 * backends in queue/<name>/ (never the reverse: the facade reaches a backend only through the
 * registry).
 *
 * Files:
 *   queue.c     the igw_queue_* functions: argument checks, then one call through the ops
 *   check.c     the limits of queue.h, checked once for every backend (messages, replays)
 *   registry.c  the backends by name
 */
#ifndef IGW_QUEUE_FACADE_INT_H
#define IGW_QUEUE_FACADE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/queue.h"

#define QLIM_BLOB_MAX 0xFFFFFFFFull /* body, meta, payloads: < 4 GiB */
#define QLIM_OSTR_MAX 0xFFFEu       /* content types: < 64 KiB */

/* A channel or route name of 1..IGW_QUEUE_NAME_MAX bytes. */
bool qcheck_name(const char *s);
/* The limits of igw_queue_submit: IGW_OK, IGW_EINVAL or IGW_ETOOBIG (first problem found). */
int qcheck_msg(const struct igw_queue_msg *m);
/* The limits of igw_queue_replay on routes[0..n): IGW_OK, IGW_EINVAL or IGW_ETOOBIG. */
int qcheck_replay(const struct igw_queue_replay_route *routes, unsigned n);

#endif /* IGW_QUEUE_FACADE_INT_H */
