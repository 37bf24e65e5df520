# SPDX-License-Identifier: Apache-2.0
"""A full JetStream queue (docs/JETSTREAM.md, "Capacity"), through the real `igw serve`.

One nats-server (tests/sim/nats_cluster.py NatsServer); the test creates the message stream
itself before igw opens it, with a tiny limit (max_msgs 20, discard new), as an operator would
with the `nats` tool. A flood until 503: the answer is `queue_full` with Retry-After (as with
LMDB's full map), /readyz answers 503, /metrics says igw_queue_full 1 and /admin/stats full;
every accepted message is still delivered (claims and outcomes go to the bucket, which has
room). Then admin DELETEs of delivered messages bring the stream below the low-water mark:
full clears and intake accepts again; the deleted messages' delivery keys are gone from the
bucket without tombstones, one purge marker each is left.
Bounded: at most 200 small messages, well under a minute. SKIP without nats-server or in a build
without the JetStream backend. Python 3 standard library only."""
import http.client
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import IGW_BIN, SIM_DIR, Gateway, eventually, free_port, run, skip, wait_port  # noqa: E402

sys.path.insert(0, SIM_DIR)
from sink import Sink  # noqa: E402
import nats_cluster  # noqa: E402

ADMIN_TOKEN = "adm1n-t0ken"
MAX_MSGS = 20

CONFIG = """
http: { listen: "http://127.0.0.1:{port}" }
admin:
  listen: "http://127.0.0.1:ADMINPORT"
  auth: { type: bearer, tokens_file: admin.tokens }
queue:
  path: "{dir}"
  backend: jetstream
  jetstream: { servers: "SERVERS", name: full_test, instance: a, replicas: 1, ack_wait: 5s }
channels:
  ev:
    listen: POST /ev
    auth: { type: bearer, tokens: [t0k] }
    routes:
      sink:
        url: SINK_URL/in
        timeout: 2s
        retry: { base: 50ms, cap: 300ms, max_attempts: 1000 }
"""


def request(port, method, path, body=None, token="t0k"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Authorization": "Bearer " + token}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def test_stream_full():
    if nats_cluster.NATS_SERVER is None:
        skip("nats-server not installed")
    work = tempfile.mkdtemp(prefix="igw-jsfull-")
    srv = nats_cluster.NatsServer(os.path.join(work, "nats"))
    sink = Sink(os.path.join(work, "sink.ndjson"))
    gw = None
    try:
        srv.start()
        rep = nats_cluster.js_api(srv.port, "STREAM.CREATE.full_test_MSG", {
            "name": "full_test_MSG", "subjects": ["igwq.full_test.msg"], "storage": "file",
            "num_replicas": 1, "max_msgs": MAX_MSGS, "discard": "new"})
        assert rep.get("did_create") or rep.get("config"), rep
        admin_port = free_port()
        gw = Gateway(CONFIG.replace("ADMINPORT", str(admin_port)).replace("SERVERS", srv.url)
                     .replace("SINK_URL", sink.url),
                     extra_files={"admin.tokens": "%s\n" % ADMIN_TOKEN})
        chk = subprocess.run([IGW_BIN, "config", "check", gw.config_path],
                             capture_output=True, text=True)
        if "without the JetStream backend" in chk.stdout + chk.stderr:
            skip("igw built without the JetStream backend (libnats)")
        gw.start()
        wait_port(admin_port, proc=gw.proc)
        st, _, _ = request(admin_port, "GET", "/readyz", token="")
        assert st == 200, st

        accepted = []
        refused = None
        for i in range(200):
            uid = "m%03d" % i
            st, h, data = request(gw.port, "POST", "/ev", json.dumps({"uid": uid}))
            if st == 503:
                refused = (h, data)
                break
            assert st == 202, (st, data)
            accepted.append(uid)
        assert refused is not None, "no 503 with a stream of %d messages" % MAX_MSGS
        h, data = refused
        assert b"queue_full" in data and h.get("retry-after"), (h, data)
        assert MAX_MSGS // 2 <= len(accepted) <= MAX_MSGS, len(accepted)
        print("  accepted %d of a %d-message stream, then 503 queue_full (Retry-After %s)"
              % (len(accepted), MAX_MSGS, h.get("retry-after")))

        eventually(lambda: request(admin_port, "GET", "/readyz", token="")[0] == 503, timeout=5,
                   what="/readyz 503 while full")
        st, _, metrics = request(admin_port, "GET", "/metrics", token=ADMIN_TOKEN)
        assert st == 200 and b"igw_queue_full 1" in metrics, metrics[-400:]
        st, _, doc = request(admin_port, "GET", "/admin/stats", token=ADMIN_TOKEN)
        assert st == 200 and json.loads(doc)["full"] is True, doc

        # the deliveries of what was accepted still go out
        def delivered():
            got = {json.loads(r["body"])["uid"] for r in sink.received("/in")}
            return all(u in got for u in accepted)
        eventually(delivered, timeout=30, what="every accepted message delivered while full")

        # room again: delete delivered messages until the stream is below the low-water mark
        st, _, doc = request(admin_port, "GET", "/admin/messages?limit=100", token=ADMIN_TOKEN)
        assert st == 200, doc
        items = json.loads(doc).get("items") or json.loads(doc).get("messages") or []
        ids = [it["id"] for it in items]
        assert len(ids) >= MAX_MSGS // 2, doc[:300]
        for mid in ids[:MAX_MSGS // 2]:
            st, _, d = request(admin_port, "DELETE", "/admin/messages/%s" % mid, token=ADMIN_TOKEN)
            assert st in (200, 204), (st, d)
        eventually(lambda: request(admin_port, "GET", "/readyz", token="")[0] == 200, timeout=10,
                   what="/readyz 200 after the deletes")
        # what the deletes left in the bucket: a purge marker each (removed by a sweep 10 minutes
        # later), and no delivery key and no tombstone of the deleted messages
        info = nats_cluster.js_api(srv.port, "STREAM.INFO.KV_full_test_STATE",
                                   {"subjects_filter": "$KV.full_test_STATE.>"})
        subjects = (info.get("state") or {}).get("subjects") or {}
        gone = ["%016x" % int(str(mid), 16) for mid in ids[:MAX_MSGS // 2]]
        left = [k for k in subjects if any(".d.%s." % g in k for g in gone)]
        assert not left, left[:5]
        markers = [k for k in subjects if ".x." in k]
        assert len(markers) == len(gone), (markers, gone)
        print("  %d deletes left %d purge markers, no delivery key or tombstone"
              % (len(gone), len(markers)))
        st, _, data = request(gw.port, "POST", "/ev", json.dumps({"uid": "after"}))
        assert st == 202, (st, data)
        st, _, metrics = request(admin_port, "GET", "/metrics", token=ADMIN_TOKEN)
        assert b"igw_queue_full 0" in metrics, metrics[-400:]
    except BaseException:
        if gw is not None:
            print(gw.logs()[-3000:])
        raise
    finally:
        if gw is not None:
            gw.cleanup()
        sink.stop()
        srv.cleanup()


if __name__ == "__main__":
    run([test_stream_full])
