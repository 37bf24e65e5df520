/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery engine, tcp:// and ipc:// routes (out_nng): push0 delivery, and req0 with an "ERR"
 * reply retried.
 * Environment and sink helpers: dlvtest.h.
 */
#include "dlvtest.h"

static void
test_nng_push(void)
{
    struct igw_queue_delivery_info info;
    struct igw_route *r;
    nng_socket s;
    uint64_t ids[2];

    env_init();
    r = route_add("push");
    snprintf(E.urls[0], sizeof(E.urls[0]), "ipc://%s/push.ipc", E.dir);
    r->kind = IGW_DEST_NNG;
    r->nng_mode = IGW_NNG_PUSH;
    IGWT_ASSERT(nng_pull0_open(&s) == 0);
    IGWT_ASSERT(nng_listen(s, E.urls[0], NULL, 0) == 0);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
    env_start();
    ids[0] = put_json("ev.push", "{\"p\":0}");
    ids[1] = put_json("ev.push", "{\"p\":1}");
    for (int i = 0; i < 2; i++) {
        char want[16];
        nng_msg *m = NULL;
        IGWT_ASSERT(nng_recvmsg(s, &m, 0) == 0);
        snprintf(want, sizeof(want), "{\"p\":%d}", i);
        IGWT_CHECK(nng_msg_len(m) == strlen(want) && memcmp(nng_msg_body(m), want, 7) == 0);
        nng_msg_free(m);
    }
    for (int i = 0; i < 2; i++) {
        IGWT_CHECK(wait_state(ids[i], IGW_DS_DELIVERED, &info));
    }
    env_fini();
    nng_close(s);
}

static void
test_nng_req(void)
{
    struct igw_queue_delivery_info info;
    struct igw_route *r;
    nng_socket s;
    uint64_t id;

    env_init();
    r = route_add("req");
    snprintf(E.urls[0], sizeof(E.urls[0]), "ipc://%s/req.ipc", E.dir);
    r->kind = IGW_DEST_NNG;
    r->nng_mode = IGW_NNG_REQ;
    IGWT_ASSERT(nng_rep0_open(&s) == 0);
    IGWT_ASSERT(nng_listen(s, E.urls[0], NULL, 0) == 0);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
    env_start();
    id = put_json("ev.req", "{\"q\":1}");
    for (int i = 0; i < 2; i++) {
        nng_msg *m = NULL;
        const char *reply = i == 0 ? "ERR busy" : "OK";
        IGWT_ASSERT(nng_recvmsg(s, &m, 0) == 0);
        nng_msg_clear(m);
        IGWT_ASSERT(nng_msg_append(m, reply, strlen(reply)) == 0);
        IGWT_ASSERT(nng_sendmsg(s, m, 0) == 0);
    }
    IGWT_CHECK(wait_state(id, IGW_DS_DELIVERED, &info));
    IGWT_CHECK(info.attempts == 2);
    env_fini();
    nng_close(s);
}

IGWT_MAIN({"nng_push", test_nng_push}, {"nng_req", test_nng_req})
