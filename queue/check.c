/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The limits of include/igw/queue.h, checked by the facade before any backend sees a request,
 * so every backend refuses the same messages with the same errors.
 */
#include <string.h>

#include "igw/err.h"
#include "queue_int.h"

bool
qcheck_name(const char *s)
{
    size_t n = s == NULL ? 0 : strnlen(s, IGW_QUEUE_NAME_MAX + 1);
    return n >= 1 && n <= IGW_QUEUE_NAME_MAX;
}

static int
check_ostr(const char *s)
{
    size_t n = s == NULL ? 0 : strnlen(s, QLIM_OSTR_MAX + 1);
    return n <= QLIM_OSTR_MAX ? IGW_OK : IGW_ETOOBIG;
}

static int
check_blob(const void *p, size_t n)
{
    if (p == NULL && n > 0) {
        return IGW_EINVAL;
    }
    return (uint64_t)n <= QLIM_BLOB_MAX ? IGW_OK : IGW_ETOOBIG;
}

static int
check_route(const struct igw_queue_msg *m, unsigned i)
{
    const struct igw_queue_route_init *rt = &m->routes[i];
    int rv = qcheck_name(rt->route) ? IGW_OK : IGW_EINVAL;

    for (unsigned j = 0; rv == IGW_OK && j < i; j++) {
        if (strcmp(m->routes[j].route, rt->route) == 0) {
            rv = IGW_EINVAL; /* duplicate route name */
        }
    }
    if (rv == IGW_OK && rt->order_key != NULL && rt->order_key_len > IGW_QUEUE_ORDER_KEY_MAX) {
        rv = IGW_ETOOBIG;
    }
    if (rv == IGW_OK && rt->payload != NULL) {
        rv = check_blob(rt->payload, rt->payload_len);
    }
    if (rv == IGW_OK) {
        rv = check_ostr(rt->content_type);
    }
    return rv;
}

int
qcheck_msg(const struct igw_queue_msg *m)
{
    int rv = qcheck_name(m->channel) ? IGW_OK : IGW_EINVAL;

    if (rv == IGW_OK && m->idem_key != NULL) {
        rv = m->idem_key_len == 0                       ? IGW_EINVAL
             : m->idem_key_len > IGW_QUEUE_IDEM_KEY_MAX ? IGW_ETOOBIG
                                                        : IGW_OK;
    }
    if (rv == IGW_OK) {
        rv = check_ostr(m->content_type);
    }
    if (rv == IGW_OK) {
        rv = check_blob(m->meta, m->meta_len);
    }
    if (rv == IGW_OK) {
        rv = check_blob(m->body, m->body_len);
    }
    if (rv == IGW_OK && (m->nroutes > IGW_QUEUE_ROUTES_MAX || (m->nroutes > 0 && !m->routes))) {
        rv = IGW_EINVAL;
    }
    for (unsigned i = 0; rv == IGW_OK && i < m->nroutes; i++) {
        rv = check_route(m, i);
    }
    return rv;
}

static int
check_replay_route(const struct igw_queue_replay_route *all, unsigned i)
{
    const struct igw_queue_replay_route *rt = &all[i];

    if (!qcheck_name(rt->route)) {
        return IGW_EINVAL;
    }
    for (unsigned j = 0; j < i; j++) {
        if (strcmp(all[j].route, rt->route) == 0) {
            return IGW_EINVAL; /* repeated route */
        }
    }
    if (check_ostr(rt->content_type) != IGW_OK) {
        return IGW_ETOOBIG;
    }
    if (rt->order_key != NULL && rt->order_key_len > IGW_QUEUE_ORDER_KEY_MAX) {
        return IGW_ETOOBIG;
    }
    if (rt->payload != NULL && (uint64_t)rt->payload_len > QLIM_BLOB_MAX) {
        return IGW_ETOOBIG;
    }
    return IGW_OK;
}

int
qcheck_replay(const struct igw_queue_replay_route *routes, unsigned n)
{
    int rv = IGW_OK;

    for (unsigned i = 0; rv == IGW_OK && i < n; i++) {
        rv = check_replay_route(routes, i);
    }
    return rv;
}
