/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery engine behaviour independent of the destination (driven through HTTP routes to
 * tests/sim/sink.py): per-key ordering, the circuit breaker, and stop releasing in-flight
 * deliveries untried.
 * Environment and sink helpers: dlvtest.h.
 */
#include "dlvtest.h"

static void
test_ordered(void)
{
    struct igw_queue_delivery_info info;
    uint64_t ids[5];
    cJSON *recs;
    int next_ok = 0;

    env_init();
    route_add("ord");
    env_start();
    sink_control("{\"fail\":2,\"status\":503,\"match\":\"\\\"seq\\\":0\"}");
    for (int i = 0; i < 5; i++) {
        char body[64];
        snprintf(body, sizeof(body), "{\"chfId\":\"K1\",\"seq\":%d}", i);
        ids[i] = put_msg("ev.ord", body, strlen(body), "application/json", "K1");
    }
    for (int i = 0; i < 5; i++) {
        IGWT_CHECK(wait_state(ids[i], IGW_DS_DELIVERED, &info));
    }
    recs = sink_received("/in/ord");
    IGWT_CHECK(cJSON_GetArraySize(recs) == 7);
    /* every request is for the oldest undelivered message of the key */
    for (int i = 0; i < cJSON_GetArraySize(recs); i++) {
        const cJSON *rec = cJSON_GetArrayItem(recs, i);
        cJSON *b = cJSON_Parse(rec_str(rec, "body"));
        int seq = cJSON_GetObjectItemCaseSensitive(b, "seq")->valueint;
        IGWT_CHECK(seq == next_ok);
        if (rec_status(rec) == 200) {
            next_ok++;
        }
        cJSON_Delete(b);
    }
    IGWT_CHECK(next_ok == 5);
    cJSON_Delete(recs);
    env_fini();
}

static void
test_breaker(void)
{
    struct igw_deliverer_stats st;
    struct igw_queue_delivery_info info;
    struct igw_route *r;
    uint64_t ids[4];
    uint64_t end;
    int c1;
    int c2;

    env_init();
    r = route_add("cb");
    r->breaker_failures = 3;
    r->breaker_open_ms = 600;
    r->concurrency = 1;
    r->retry.max_attempts = 100;
    env_start();
    sink_control("{\"fail\":1000,\"status\":503,\"path\":\"/in/cb\"}");
    for (int i = 0; i < 4; i++) {
        ids[i] = put_json("ev.cb", "{\"x\":1}");
    }
    end = igw_mono_ms() + WAIT_MS;
    do {
        msleep(5);
        igw_deliverer_stats(E.d, &st);
    } while (st.open_circuits == 0 && igw_mono_ms() < end);
    IGWT_ASSERT(st.open_circuits == 1);
    c1 = sink_count("/in/cb");
    IGWT_CHECK(c1 == 3);
    msleep(400); /* open: nothing is sent */
    c2 = sink_count("/in/cb");
    IGWT_CHECK(c2 == c1);
    msleep(500); /* half-open: exactly one probe, which fails: open again */
    IGWT_CHECK(sink_count("/in/cb") == c1 + 1);
    sink_control("{\"reset\":true,\"keep_records\":true}");
    for (int i = 0; i < 4; i++) {
        IGWT_CHECK(wait_state(ids[i], IGW_DS_DELIVERED, &info));
    }
    igw_deliverer_stats(E.d, &st);
    IGWT_CHECK(st.open_circuits == 0);
    env_fini();
}

static void
test_stop_releases(void)
{
    struct igw_queue_delivery_info info;
    struct igw_deliverer_stats st;
    uint64_t id;
    uint64_t t0;
    uint64_t end;

    env_init();
    route_add("hang")->timeout_ms = 10000;
    env_start();
    sink_control("{\"hang_ms\":5000,\"hang\":1,\"path\":\"/in/hang\"}");
    id = put_json("ev.hang", "{\"x\":1}");
    end = igw_mono_ms() + WAIT_MS;
    do {
        msleep(10);
        igw_deliverer_stats(E.d, &st);
    } while (st.inflight == 0 && igw_mono_ms() < end);
    IGWT_ASSERT(st.inflight == 1);
    msleep(100);
    t0 = igw_mono_ms();
    igw_deliverer_stop(E.d);
    E.d = NULL;
    IGWT_CHECK(igw_mono_ms() - t0 < 3000);
    IGWT_OK(delivery_get(id, &info));
    IGWT_CHECK(info.state == IGW_DS_PENDING);
    IGWT_CHECK(info.attempts == 0);
    env_fini();
}

IGWT_MAIN({"ordered", test_ordered}, {"breaker", test_breaker},
          {"stop_releases", test_stop_releases})
