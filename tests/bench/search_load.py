# SPDX-License-Identifier: Apache-2.0
"""Load client for search_bench.sh: N requests over C persistent connections (threads), prints
one JSON line {"mode","requests","secs","per_s","p50_ms","p99_ms","errors"}. Bounded in count
and time (every request has a 10 s timeout); loopback only. Python standard library only.
  search_load.py MODE PORT METHOD PATH N C [BODY_FILE] [HEADER:VALUE ...]"""
import http.client
import json
import sys
import threading
import time


def main():
    mode, port, method, path, n, c = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    body = open(sys.argv[7], "rb").read() if len(sys.argv) > 7 and sys.argv[7] != "-" else None
    headers = dict(h.split(":", 1) for h in sys.argv[8:])
    lat, errors, lock = [], [0], threading.Lock()
    todo = [n]

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                if todo[0] <= 0:
                    break
                todo[0] -= 1
            t = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
            except Exception:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            d = time.perf_counter() - t
            with lock:
                lat.append(d)
                errors[0] += not ok
        conn.close()

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(c)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    secs = time.perf_counter() - t0
    lat.sort()
    print(json.dumps({"mode": mode, "requests": n, "secs": round(secs, 3), "per_s": round(n / secs, 1),
                      "p50_ms": round(lat[len(lat) // 2] * 1e3, 3), "p99_ms": round(lat[len(lat) * 99 // 100] * 1e3, 3),
                      "errors": errors[0]}))


if __name__ == "__main__":
    main()
