#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Driver of tests/bench/dci_bench.sh (see there): starts the DCI registry simulator, a sink
and igw with the configuration of it.dci_client, measures, prints one line per case."""
import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import test_dci_client as t  # noqa: E402  (its Env starts the simulators and igw)

DUR = float(os.environ.get("DUR", "5"))
CONNS = int(os.environ.get("CONNS", "8"))


def load(port, path, body_fn, headers):
    lat, lock, stop = [], threading.Lock(), time.time() + DUR
    errors = [0]

    def worker(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = 0
        while time.time() < stop:
            i += 1
            t0 = time.perf_counter()
            c.request("POST", path, body=body_fn(k, i), headers=headers)
            r = c.getresponse()
            r.read()
            with lock:
                lat.append(time.perf_counter() - t0)
                if r.status != 200:
                    errors[0] += 1
        c.close()
    ths = [threading.Thread(target=worker, args=(k,)) for k in range(CONNS)]
    t0 = time.time()
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    el = time.time() - t0
    lat.sort()
    return len(lat) / el, lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000, errors[0], len(lat)


def main():
    e = t.Env()
    try:
        signer = t.dci_jws.Signer(os.path.join(e.dir, "igw.pem"), "igw-1")  # verified as igw's
        env = {"header": {"version": "1.0.0", "message_id": "b", "message_ts": "2026-01-01T00:00:00Z",
                                     "action": "search", "sender_id": "bench", "total_count": 1},
                          "message": {"transaction_id": "b", "search_request": [{
                              "reference_id": "r", "timestamp": "2026-01-01T00:00:00Z",
                              "search_criteria": {"query_type": "idtype-value",
                                                  "query": {"type": "UIN", "value": "UIN-3"}}}]}}
        dci = signer.envelope(env["header"], env["message"])
        r = load(e.reg_port, "/registry/sync/search", lambda k, i: dci, {"Content-Type": "application/json"})
        print("direct registry sync search: %.0f req/s, p50 %.2f ms, p99 %.2f ms (%d non-200 of %d)" % r)
        run = str(int(time.time()))
        sync = lambda k, i: json.dumps({"transaction_id": "S%s-%d-%d" % (run, k, i),  # noqa: E731
                                        "identifier": {"type": "UIN", "value": "UIN-3"}})
        r = load(e.igw_port, "/spmis/sync/search", sync, t.TOKEN)
        print("igw dci-client sync search:  %.0f req/s, p50 %.2f ms, p99 %.2f ms (%d non-200 of %d)" % r)
        cb = "http://127.0.0.1:%d/dci/spmis/registry/on-search" % e.igw_port
        before = len(e.sink())
        asy = lambda k, i: json.dumps({"transaction_id": "A%s-%d-%d" % (run, k, i), "sender_uri": cb,  # noqa: E731
                                       "identifier": {"type": "UIN", "value": "UIN-3"}})
        t0 = time.time()
        r = load(e.igw_port, "/spmis/search", asy, t.TOKEN)
        sent = r[4] - r[3]
        deadline = time.time() + 120
        while len(e.sink()) - before < sent and time.time() < deadline:
            time.sleep(0.2)
        got = len(e.sink()) - before
        el = time.time() - t0
        print("igw async search ACK:        %.0f req/s, p50 %.2f ms, p99 %.2f ms (%d non-200 of %d)" % r)
        print("igw async search -> on-search delivered to openIMIS: %d of %d in %.1f s = %.0f/s end to end"
              % (got, sent, el, got / el))
    finally:
        e.close()


if __name__ == "__main__":
    main()
