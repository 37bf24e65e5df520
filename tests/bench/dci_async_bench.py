#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Driver of tests/bench/dci_async_bench.sh (see there): starts the openIMIS simulator, the
SP-MIS receiver and igw with the configuration of it.dci_async, measures, prints one line per
case."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
import test_dci_async as t  # noqa: E402  (its Env starts the simulators and igw)
from dci_bench import load  # noqa: E402

HDRS = {"Content-Type": "application/json", "Authorization": "Bearer demo-token"}


def main():
    e = t.Env()
    try:
        uins = t.chfids(e)
        h, m = t.search_env(e, "bench-sync", uins[0], sender_uri=False)
        body = e.spmis.envelope(h, m)
        r = load(e.igw_port, "/dci/social/registry/sync/search", lambda k, i: body, HDRS)
        print("igw sync search (openIMIS):   %.0f req/s, p50 %.2f ms, p99 %.2f ms (%d non-200 of %d)" % r)

        def async_body(k, i):
            h, m = t.search_env(e, "bench-%d-%d" % (k, i), uins[(k * 7 + i) % len(uins)])
            return e.spmis.envelope(h, m)
        t0 = time.time()
        r = load(e.igw_port, "/dci/social/registry/search", async_body, HDRS)
        print("igw async search ACK:         %.0f req/s, p50 %.2f ms, p99 %.2f ms (%d non-200 of %d)" % r)
        want = r[4] - r[3]
        deadline = time.time() + 300
        n = 0
        while time.time() < deadline:
            n = int(e.rcv("/_count"))
            if n >= want:
                break
            time.sleep(0.1)
        el = time.time() - t0
        print("igw async search -> signed on-search received: %d of %d in %.1f s = %.0f/s end to end"
              % (n, want, el, n / el))
    finally:
        e.close()


if __name__ == "__main__":
    main()
