# SPDX-License-Identifier: Apache-2.0
"""GET /metrics (docs/METRICS.md) and the delivery outcome log lines through the real
`igw serve`: accepted messages per channel, HTTP answers per channel and code, mapping errors,
deliveries per route and outcome, the duration histogram, circuit state and the queue gauges,
checked by value and by `promtool check metrics` (Debian's prometheus package; SKIP without it);
one log line per outcome with id, route, status and duration and never a body. Python 3
standard library; deliveries go to the HTTP sink tests/sim/sink.py."""
import http.client
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import SIM_DIR, Gateway, SinkAdminEnv, eventually, free_port, run, skip  # noqa: E402

sys.path.insert(0, SIM_DIR)
from sink import Sink  # noqa: E402

TOKEN = "m-t0ken"
CH_AUTH = {"Authorization": "Bearer t0k", "Content-Type": "application/json"}
CONFIG = """
http: { listen: "http://127.0.0.1:{port}" }
admin:
  listen: "http://127.0.0.1:ADMINPORT"
  credentials: [{ name: prom, role: viewer, token_file: prom.tokens }]
queue: { path: "{dir}/queue" }
mappings: { dir: "{dir}/mappings" }
channels:
  ev:
    listen: POST /ev
    auth: { type: bearer, tokens: [t0k] }
    routes:
      ok:
        url: SINK/in/ok
        map: small
      bad:
        url: SINK/in/bad
        retry: { base: 50ms, cap: 100ms, max_attempts: 2 }
        circuit: { failures: 2, open_for: 60s }
"""
MAP = """map small from json to json
id = required(chfId, "chfId is required")
"""


class Env(SinkAdminEnv):
    def __init__(self):
        self.sink = Sink()
        self.admin_port = free_port()
        cfg = CONFIG.replace("SINK", self.sink.url).replace("ADMINPORT", str(self.admin_port))
        self.gw = Gateway(cfg, extra_files={"prom.tokens": TOKEN + "\n",
                                            "mappings/small/map": MAP})

    def scrape(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            conn.request("GET", "/metrics", headers={"Authorization": "Bearer " + TOKEN})
            r = conn.getresponse()
            text = r.read().decode()
            assert r.status == 200, (r.status, text)
            assert r.getheader("Content-Type").startswith("text/plain; version=0.0.4"), \
                r.getheader("Content-Type")
            return text
        finally:
            conn.close()


def samples(text):
    """{'name{labels}': value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, val = line.rsplit(" ", 1)
            out[key] = float(val)
    return out


def test_metrics_values_and_logs():
    with Env() as e:
        e.sink.control(path="/in/bad", status_4xx=400)  # every delivery to bad is dead
        for i in range(5):
            st, _, body = e.gw.request("POST", "/ev", {"chfId": "c%d" % i, "secret": "BODYMARK"},
                                       CH_AUTH)
            assert st == 202, (st, body)
        st, _, _ = e.gw.request("POST", "/ev", {"nochf": 1}, CH_AUTH)  # the map refuses it
        assert st == 422, st
        st, _, _ = e.gw.request("POST", "/ev", {"chfId": "x"}, {"Authorization": "Bearer no"})
        assert st == 401, st
        st, _, _ = e.gw.request("POST", "/nowhere", {"chfId": "x"}, CH_AUTH)
        assert st == 404, st

        def settled():
            m = samples(e.scrape())
            return (m.get('igw_deliveries_total{route="ev.ok",outcome="delivered"}') == 5 and
                    m.get('igw_deliveries_total{route="ev.bad",outcome="dead"}', 0) >= 1 and
                    m.get('igw_queue_deliveries{state="pending"}') == 0 and
                    m.get('igw_queue_deliveries{state="inflight"}') == 0)
        eventually(settled, what="deliveries settled")
        text = e.scrape()
        m = samples(text)
        assert m['igw_messages_accepted_total{channel="ev"}'] == 5, m
        assert m['igw_mapping_errors_total{channel="ev"}'] == 1, m
        assert m['igw_http_requests_total{channel="ev",code="202"}'] == 5, m
        assert m['igw_http_requests_total{channel="ev",code="422"}'] == 1, m
        assert m['igw_http_requests_total{channel="ev",code="401"}'] == 1, m
        assert m['igw_http_requests_total{channel="",code="404"}'] == 1, m
        assert m['igw_delivery_duration_seconds_count{route="ev.ok"}'] == 5, m
        assert m['igw_delivery_duration_seconds_bucket{route="ev.ok",le="+Inf"}'] == 5, m
        assert m['igw_delivery_duration_seconds_sum{route="ev.ok"}'] > 0, m
        # buckets are cumulative
        bk = [v for k, v in m.items() if k.startswith('igw_delivery_duration_seconds_bucket'
                                                       '{route="ev.ok"')]
        assert bk == sorted(bk) and len(bk) == 13, bk
        dead = m['igw_deliveries_total{route="ev.bad",outcome="dead"}']
        assert dead + m['igw_queue_deliveries{state="pending"}'] >= 1, m
        assert m['igw_circuit_state{route="ev.ok"}'] == 0, m
        assert m['igw_queue_messages'] == 5, m
        assert 0 < m['igw_queue_storage_used_bytes'] <= m['igw_queue_storage_limit_bytes'], m
        assert m['igw_queue_full'] == 0, m
        # per route: depth by state and the oldest pending age (0: nothing pending)
        assert m['igw_queue_route_deliveries{route="ev.ok",state="delivered"}'] == 5, m
        assert m['igw_queue_route_deliveries{route="ev.ok",state="pending"}'] == 0, m
        assert m['igw_queue_route_deliveries{route="ev.bad",state="dead"}'] == dead, m
        assert m['igw_queue_oldest_pending_age_seconds{route="ev.ok"}'] == 0, m
        assert m['igw_queue_oldest_pending_age_seconds{route="ev.bad"}'] == 0, m
        for fam in ("igw_messages_accepted_total", "igw_deliveries_total",
                    "igw_delivery_duration_seconds", "igw_circuit_state",
                    "igw_queue_route_deliveries", "igw_queue_oldest_pending_age_seconds"):
            assert "# TYPE %s " % fam in text, fam

        logs = e.gw.logs()
        ok = re.findall(r"delivered id=[0-9a-f]{16} route=ev\.ok attempt=1 status=200 "
                        r"duration_ms=\d+", logs)
        assert len(ok) == 5, logs[-3000:]
        assert re.search(r"dead-letter id=[0-9a-f]{16} route=ev\.bad attempts=1 status=400 "
                         r"duration_ms=\d+", logs), logs[-3000:]
        assert "BODYMARK" not in logs and "t0k" not in logs and TOKEN not in logs


def test_retry_and_circuit():
    with Env() as e:
        e.sink.control(path="/in/bad", fail=100, status=503)  # transient: retried, then dead
        for i in range(3):
            assert e.gw.request("POST", "/ev", {"chfId": "r%d" % i}, CH_AUTH)[0] == 202

        def opened():
            return samples(e.scrape()).get('igw_circuit_state{route="ev.bad"}') == 1
        eventually(opened, what="circuit open")
        # ev.ok is not held by ev.bad's circuit: all three delivered (on a loaded box they may
        # still be on their way when the circuit opens)
        eventually(lambda: samples(e.scrape()).get(
            'igw_queue_route_deliveries{route="ev.ok",state="delivered"}') == 3,
            what="ev.ok delivered")
        m = samples(e.scrape())
        assert m['igw_deliveries_total{route="ev.bad",outcome="retry"}'] >= 1, m
        # the open circuit holds ev.bad's deliveries: pending, and their age grows
        assert m['igw_queue_route_deliveries{route="ev.bad",state="pending"}'] >= 1, m
        assert m['igw_queue_route_deliveries{route="ev.ok",state="pending"}'] == 0, m
        age = m['igw_queue_oldest_pending_age_seconds{route="ev.bad"}']
        assert age > 0, m
        eventually(lambda: samples(e.scrape())['igw_queue_oldest_pending_age_seconds'
                                               '{route="ev.bad"}'] > age, what="age grows")
        assert re.search(r"retry id=[0-9a-f]{16} route=ev\.bad attempt=1 status=503 "
                         r"duration_ms=\d+ in_ms=\d+ error=", e.gw.logs()), e.gw.logs()[-3000:]


def test_promtool():
    promtool = shutil.which("promtool")
    if promtool is None:
        skip("promtool not installed (Debian package prometheus)")
    with Env() as e:
        e.gw.request("POST", "/ev", {"chfId": "p"}, CH_AUTH)
        eventually(lambda: samples(e.scrape()).get(
            'igw_deliveries_total{route="ev.ok",outcome="delivered"}') == 1, what="delivered")
        text = e.scrape()
        r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0 and r.stdout.strip() == "" and r.stderr.strip() == "", \
            (r.returncode, r.stdout, r.stderr)


if __name__ == "__main__":
    run([test_metrics_values_and_logs, test_retry_and_circuit, test_promtool])
