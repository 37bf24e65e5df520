/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery engine, https:// routes (out_http with TLS) to a second sink.py with a self-signed
 * certificate made by openssl; skipped (not passed) when openssl is missing.
 * Environment and sink helpers: dlvtest.h.
 */
#include "dlvtest.h"

/* https to a sink with a self-signed certificate: rejected when verifying against the system
 * store (a transient failure: dead here after 1 attempt), delivered with ca_file, delivered
 * with verify off. */
static void
test_tls_verify(void)
{
    struct igw_queue_delivery_info info;
    char cert[256];
    char key[256];
    char cmd[1024];
    struct igw_route *r[3];
    uint64_t ids[3];
    int port = 0;

    env_init();
    snprintf(cert, sizeof(cert), "%s/cert.pem", E.dir);
    snprintf(key, sizeof(key), "%s/key.pem", E.dir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout '%s' -out '%s' -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
             key, cert);
    if (system(cmd) != 0) {
        env_fini();
        IGWT_SKIP("openssl not available to make a test certificate");
    }
    tls_sink_pid = sink_spawn(cert, key, &port);
    IGWT_ASSERT(tls_sink_pid > 0);
    r[0] = route_add("tls_store");
    r[1] = route_add("tls_ca");
    r[2] = route_add("tls_off");
    for (int i = 0; i < 3; i++) {
        snprintf(E.urls[i], sizeof(E.urls[i]), "https://127.0.0.1:%d/in/%s", port, E.shorts[i]);
        r[i]->retry.max_attempts = 1;
    }
    r[1]->ca_file = cert;
    r[2]->tls_verify = false;
    env_start();
    ids[0] = put_json("ev.tls_store", "{\"x\":0}");
    ids[1] = put_json("ev.tls_ca", "{\"x\":1}");
    ids[2] = put_json("ev.tls_off", "{\"x\":2}");
    IGWT_CHECK(wait_state(ids[0], IGW_DS_DEAD, &info));
    IGWT_CHECK(strncmp(info.last_error, "retries exhausted: curl: ", 25) == 0);
    IGWT_CHECK(wait_state(ids[1], IGW_DS_DELIVERED, &info));
    IGWT_CHECK(wait_state(ids[2], IGW_DS_DELIVERED, &info));
    reap(&tls_sink_pid);
    env_fini();
}

IGWT_MAIN({"tls_verify", test_tls_verify})
