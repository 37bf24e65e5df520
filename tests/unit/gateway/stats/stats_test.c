/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/stats/stats.c: slots per channel and route, HTTP code slots with "other",
 * histogram buckets, circuit since-time, no-ops before init and for foreign pointers. */
#include <string.h>

#include "igw/common.h"
#include "stats/stats.h"
#include "igwt.h"

static void
test_counts(void)
{
    struct igw_route r1[2];
    struct igw_route r2[1];
    struct igw_channel ch[2];
    struct igw_config cfg;
    struct igw_route foreign;
    struct igw_stats_channel sc;
    struct igw_stats_route sr;

    memset(r1, 0, sizeof(r1));
    memset(r2, 0, sizeof(r2));
    memset(ch, 0, sizeof(ch));
    memset(&cfg, 0, sizeof(cfg));
    ch[0].routes = r1;
    ch[0].nroutes = 2;
    ch[1].routes = r2;
    ch[1].nroutes = 1;
    cfg.channels = ch;
    cfg.nchannels = 2;
    igw_stats_accepted(&ch[0]); /* before init: no-op */
    IGWT_CHECK(igw_stats_nchannels() == 0 && !igw_stats_channel_at(0, &sc));
    IGWT_OK(igw_stats_init(&cfg));
    {
        struct igw_config other;
        memset(&other, 0, sizeof(other));
        IGWT_ERR(igw_stats_init(&other), IGW_EAGAIN); /* the first one's table stays */
        igw_stats_fini(&other);                       /* not its table: nothing */
    }
    IGWT_CHECK(igw_stats_nchannels() == 3 && igw_stats_nroutes() == 3);
    igw_stats_accepted(&ch[1]);
    igw_stats_accepted(&ch[1]);
    igw_stats_map_error(&ch[0]);
    igw_stats_http(&ch[1], 202);
    igw_stats_http(&ch[1], 299); /* other */
    igw_stats_http(NULL, 404);
    igw_stats_delivery(&r2[0], IGW_OUTCOME_DELIVERED, 3000); /* 3 ms: le 0.005 */
    igw_stats_delivery(&r2[0], IGW_OUTCOME_DEAD, 100000000); /* 100 s: +Inf */
    igw_stats_delivery(&foreign, IGW_OUTCOME_DEAD, 1);       /* not of this config */
    igw_stats_circuit(&r1[1], 1, 5000);
    igw_stats_circuit(&r1[1], 2, 6000); /* still not closed: since kept */
    IGWT_CHECK(igw_stats_channel_at(1, &sc) && sc.channel == &ch[1] && sc.accepted == 2);
    IGWT_CHECK(sc.http[2] == 1 && igw_stats_code_at(2) == 202);
    IGWT_CHECK(sc.http[IGW_STATS_NCODES - 1] == 1 && igw_stats_code_at(IGW_STATS_NCODES - 1) == 0);
    IGWT_CHECK(igw_stats_channel_at(0, &sc) && sc.map_errors == 1 && sc.accepted == 0);
    IGWT_CHECK(igw_stats_channel_at(2, &sc) && sc.channel == NULL);
    IGWT_CHECK(!igw_stats_channel_at(3, &sc));
    IGWT_CHECK(igw_stats_route_at(2, &sr) && sr.route == &r2[0]);
    IGWT_CHECK(sr.outcomes[IGW_OUTCOME_DELIVERED] == 1 && sr.outcomes[IGW_OUTCOME_DEAD] == 1);
    IGWT_CHECK(sr.buckets[0] == 1 && sr.buckets[IGW_STATS_NBUCKETS - 1] == 1);
    IGWT_CHECK(sr.dur_count == 2 && sr.dur_sum_us == 100003000);
    IGWT_CHECK(igw_stats_bucket_le(0) == 0.005 && igw_stats_bucket_le(IGW_STATS_NBUCKETS - 1) < 0);
    IGWT_CHECK(igw_stats_route_at(1, &sr) && sr.circuit == 2 && sr.circuit_since_ms == 5000);
    igw_stats_circuit(&r1[1], 0, 7000);
    IGWT_CHECK(igw_stats_route_at(1, &sr) && sr.circuit == 0 && sr.circuit_since_ms == 0);
    IGWT_CHECK(!igw_stats_stopping());
    igw_stats_set_stopping();
    IGWT_CHECK(igw_stats_stopping());
    igw_stats_fini(&cfg);
    IGWT_CHECK(igw_stats_nroutes() == 0);
}

IGWT_MAIN({"counts", test_counts})
