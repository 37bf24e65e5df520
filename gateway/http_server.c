/* SPDX-License-Identifier: Apache-2.0 */
/* Set-up shared by the HTTP intake and the admin API on nng 1.5's HTTP server. */
#include "http_server_int.h"

int
igw_http_tree_handler_add(nng_http_server *srv, void (*cb)(nng_aio *), void *data)
{
    nng_http_handler *h = NULL;
    int rv = nng_http_handler_alloc(&h, "/", cb);

    rv = rv == 0 ? nng_http_handler_set_method(h, NULL) : rv;
    rv = rv == 0 ? nng_http_handler_set_tree(h) : rv;
    rv = rv == 0 ? nng_http_handler_collect_body(h, false, 0) : rv;
    rv = rv == 0 ? nng_http_handler_set_data(h, data, NULL) : rv;
    rv = rv == 0 ? nng_http_server_add_handler(srv, h) : rv;
    if (rv != 0 && h != NULL) {
        nng_http_handler_free(h);
    }
    return rv;
}
