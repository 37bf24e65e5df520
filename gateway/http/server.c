/* SPDX-License-Identifier: Apache-2.0 */
/* Set-up shared by the HTTP intake and the admin API on nng 1.5's HTTP server. */
#include "igw/common.h"
#include "http/server.h"

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

const char *
igw_http_reason(uint16_t status)
{
    static const struct {
        uint16_t status;
        const char *text;
    } t[] = {{200, "OK"},
             {201, "Created"},
             {202, "Accepted"},
             {400, "Bad Request"},
             {401, "Unauthorized"},
             {403, "Forbidden"},
             {404, "Not Found"},
             {405, "Method Not Allowed"},
             {409, "Conflict"},
             {411, "Length Required"},
             {412, "Precondition Failed"},
             {413, "Content Too Large"},
             {415, "Unsupported Media Type"},
             {417, "Expectation Failed"},
             {422, "Unprocessable Content"},
             {500, "Internal Server Error"},
             {501, "Not Implemented"},
             {503, "Service Unavailable"}};
    for (size_t i = 0; i < IGW_ARRAY_LEN(t); i++) {
        if (t[i].status == status) {
            return t[i].text;
        }
    }
    return "Error";
}
