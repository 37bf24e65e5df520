/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The benchmark's reference: a minimal nng 1.5 HTTP server that collects the request body and
 * answers 202 with a short JSON body without storing anything. Same server library, same
 * threading as igw's intake, so "igw durable accepts / bare nng" isolates the cost of igw.
 * Usage: nng_bare PORT   (runs until SIGTERM/SIGINT)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

static void
handle(nng_aio *aio)
{
    static const char body[] = "{\"id\":\"0000000000000000\",\"status\":\"accepted\"}";
    nng_http_res *res = NULL;
    nng_http_req *req = nng_aio_get_input(aio, 0);
    void *data = NULL;
    size_t len = 0;

    nng_http_req_get_data(req, &data, &len);
    if (nng_http_res_alloc(&res) != 0) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    nng_http_res_set_status(res, 202);
    nng_http_res_set_header(res, "Content-Type", "application/json");
    nng_http_res_copy_data(res, body, sizeof(body) - 1);
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

int
main(int argc, char **argv)
{
    char url[64];
    nng_http_server *srv = NULL;
    nng_http_handler *h = NULL;
    nng_url *u = NULL;
    sigset_t set;
    int sig = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: nng_bare PORT\n");
        return 2;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%s", argv[1]);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (nng_url_parse(&u, url) != 0 || nng_http_server_hold(&srv, u) != 0 ||
        nng_http_handler_alloc(&h, "/", handle) != 0) {
        fprintf(stderr, "nng_bare: cannot start\n");
        return 1;
    }
    nng_http_handler_set_method(h, NULL);
    nng_http_handler_set_tree(h);
    nng_http_handler_collect_body(h, true, 1024 * 1024);
    if (nng_http_server_add_handler(srv, h) != 0 || nng_http_server_start(srv) != 0) {
        fprintf(stderr, "nng_bare: cannot listen on %s\n", url);
        return 1;
    }
    sigwait(&set, &sig);
    nng_http_server_stop(srv);
    nng_http_server_release(srv);
    nng_url_free(u);
    return 0;
}
