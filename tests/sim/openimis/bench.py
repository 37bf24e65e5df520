# SPDX-License-Identifier: Apache-2.0
"""How fast the openIMIS simulator answers on this machine (so a benchmark through igw knows
when the simulator is the bottleneck). Starts the simulator on FILE, logs in, and for each
query kind sends requests for SECONDS from CLIENTS keep-alive connections; prints req/s, p50, p99.

    python3 tests/sim/openimis/bench.py --data FILE.jsonl [--seconds 3] [--clients 1]
"""
import argparse
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import OpenImisSim  # noqa: E402

NODE = "uuid chfId lastName otherNames dob gender { code } phone email validityFrom family { uuid }"


def queries(kind, rnd):
    if kind == "read (uuid, cached)":
        return "gql", '{ insurees(chfId: "%s") { edges { node { %s } } } }' % (READ_CHF[0], NODE)
    if kind == "search 20 (same query, cached)":
        return "gql", '{ insurees(lastName_Istartswith: "m", first: 20, orderBy: ["chfId"]) { totalCount ' \
                      'edges { node { %s } } } }' % NODE
    if kind == "search 20 (new filter each time)":
        return "gql", ('{ insurees(dob_Gte: "19%02d-%02d-01", lastName_Istartswith: "%s", first: 20, orderBy: ["chfId"]) '
                       '{ totalCount edges { node { %s } } } }' % (rnd.randint(30, 99), rnd.randint(1, 12),
                                                                  rnd.choice("abcdkmnos"), NODE))
    if kind == "page of 100":
        return "gql", '{ insurees(first: 100, offset: %d, orderBy: ["id"]) { edges { node { %s } } } }' % (
            rnd.randint(0, 9000), NODE)
    return "fhir", "Patient/?_count=20&page-offset=%d" % rnd.randint(1, 50)


READ_CHF = [None]
KINDS = ["read (uuid, cached)", "search 20 (same query, cached)", "search 20 (new filter each time)",
         "page of 100", "FHIR Patient page of 20"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--clients", type=int, default=1)
    a = ap.parse_args()
    sim = OpenImisSim(data=a.data, rate_per_minute=0)
    try:
        tok = sim.login()
        st, body = sim.gql("{ insurees(first: 1) { edges { node { chfId } } } }")
        READ_CHF[0] = body["data"]["insurees"]["edges"][0]["node"]["chfId"]
        print("%-34s %9s %8s %8s" % ("query (%d client%s)" % (a.clients, "s" if a.clients > 1 else ""),
                                      "req/s", "p50 ms", "p99 ms"))
        for kind in KINDS:
            lat, lock = [], threading.Lock()
            stop = time.time() + a.seconds

            def worker(seed):
                c = OpenImisSim.__new__(OpenImisSim)
                c.port, c.token, c._conn = sim.port, tok, None
                rnd = random.Random(seed)
                mine = []
                while time.time() < stop:
                    how, q = queries(kind, rnd)
                    t0 = time.perf_counter()
                    status = (c.gql(q) if how == "gql" else c.fhir(q))[0]
                    mine.append(time.perf_counter() - t0)
                    assert status == 200, status
                with lock:
                    lat.extend(mine)
            ts = [threading.Thread(target=worker, args=(i,)) for i in range(a.clients)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            lat.sort()
            print("%-34s %9.0f %8.2f %8.2f" % (kind, len(lat) / a.seconds, lat[len(lat) // 2] * 1e3,
                                              lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3))
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
