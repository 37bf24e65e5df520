/* SPDX-License-Identifier: Apache-2.0 */
/* Gateway-internal: what the HTTP intake and the admin API set up the same way on nng 1.5. */
#ifndef IGW_GATEWAY_HTTP_SERVER_INT_H
#define IGW_GATEWAY_HTTP_SERVER_INT_H

#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

/** Adds one handler for every method and every path under "/" (igw routes requests itself),
 *  with body collection off (igw reads bodies itself, so it can refuse them first) and data
 *  available to cb through nng_http_handler_get_data. @return 0 or an nng error; on error the
 *  handler is freed. */
int igw_http_tree_handler_add(nng_http_server *srv, void (*cb)(nng_aio *), void *data);

/** The reason phrase for an HTTP status igw answers with ("Error" for any other). */
const char *igw_http_reason(uint16_t status);

#endif /* IGW_GATEWAY_HTTP_SERVER_INT_H */
