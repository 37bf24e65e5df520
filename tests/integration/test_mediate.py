# SPDX-License-Identifier: Apache-2.0
"""Synchronous mediation end to end (docs/MEDIATION.md): the real `igw serve` answering GET,
HEAD and POST channels from the upstream simulator tests/sim/upstream.py through the `map`
mediator: path templates, request and response maps, status pass-through, the channel's
timeout (504), upstream failure and refused connections (502), the channel's concurrency limit
and the upstream's rate limit (503 with Retry-After), bearer, basic and login credentials (a
token obtained once, renewed after its expiry and after a 401, never in the log), the response
cache (hit, miss, invalidation by a write of the same type), and an upstream that hangs without
blocking other channels or the queue intake. Every case gets its own upstreams and gateway.
Python 3 standard library only."""
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
from igwtest import IGW_BIN, Gateway, eventually, free_port, run  # noqa: E402
from upstream import Upstream  # noqa: E402

MAPS = {
    "maps/item-to-thing/map": "map item-to-thing from json to json\n"
                              "resourceType = \"Thing\"\nid = id\nlabel = name\n",
    "maps/thing-to-item/map": "map thing-to-item from json to json\nname = title\n",
    "maps/created-to-answer/map": "map created-to-answer from json to json\n"
                                  "ok = true\nname = created.name\n",
    "maps/params-to-lookup/map": "map params-to-lookup from json to json\n"
                                 "lookup.id = params.id\nlookup.lang = query.lang\n",
}
SECRETS = {"bearer.tok": "s3cr3t-bearer-token\n", "basic.user": "alice:pw-basic-123\n",
           "login.user": "Admin:admin123-secret\n", "bad.user": "Admin:wrong-password\n",
           "client.user": "client-7:client-secret-xyz\n"}
NEVER_LOGGED = ["s3cr3t-bearer-token", "pw-basic-123", "admin123-secret", "client-secret-xyz",
                "wrong-password"]

HEAD = """
http: { listen: "http://127.0.0.1:{port}" }
queue: { path: "{dir}/queue" }
mappings: { dir: "{dir}/maps" }
"""


def gateway(upstreams, channels, files=None):
    text = HEAD + "upstreams:\n" + upstreams + "channels:\n" + channels
    extra = dict(MAPS)
    extra.update(SECRETS)
    extra.update(files or {})
    return Gateway(text, extra_files=extra).start()


def get_json(gw, path, method="GET", body=None, headers=None, timeout=10):
    st, h, data = gw.request(method, path, body=body, headers=headers, timeout=timeout)
    return st, h, (json.loads(data) if data else None)


def assert_clean_log(gw, up=None):
    log = gw.logs()
    for s in NEVER_LOGGED + (up.state.issued if up is not None else []):
        assert s not in log, "secret %r in the log" % s[:12]


def with_setup(ups, upstreams, channels, fn, files=None):
    servers = [u.start() for u in ups]
    gw = None
    try:
        gw = gateway(upstreams(*servers), channels, files)
        fn(gw, *servers)
        assert gw.stop() == 0, "igw did not exit 0 after SIGTERM"
        for u in servers:
            assert_clean_log(gw, u)
        for bad in ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "runtime error:"):
            assert bad not in gw.logs(), gw.logs()[-3000:]
    finally:
        if gw is not None:
            gw.cleanup()
        for u in servers:
            u.stop()


PLAIN = """
  item:
    listen: GET /items/{id}
    answer: map
    upstream: up
    mediate: { path: "/items/{id}?lang={query.lang}" }
  thing:
    listen: GET /things/{id}
    answer: map
    upstream: up
    mediate: { path: "/items/{id}", response_map: item-to-thing }
  create:
    listen: POST /things
    answer: map
    upstream: up
    mediate: { method: POST, path: /items, request_map: thing-to-item,
               response_map: created-to-answer }
  lookup:
    listen: GET /lookup/{id}
    answer: map
    upstream: up
    mediate: { method: POST, path: /items, request_map: params-to-lookup }
  fail:
    listen: GET /fail
    answer: map
    upstream: up
    mediate: { path: /fail }
  fhir:
    listen: GET /fhir/{type}/{id}
    dialect: fhir
    answer: map
    upstream: up
    mediate: { path: "/items/{id}" }
"""


def up_plain(u):
    return "  up: { url: \"%s\", timeout: 2s }\n" % u.url


def test_get_head_post_through_maps():
    def body(gw, up):
        st, h, doc = get_json(gw, "/items/a%20b?lang=fr&x=1")
        assert st == 200 and doc["id"] == "a b" and doc["query"] == {"lang": "fr"}, (st, doc)
        assert h.get("etag") == 'W/"7"', h
        st, h, doc = get_json(gw, "/things/42")
        assert st == 200 and doc == {"resourceType": "Thing", "id": "42", "label": "item-42"}, doc
        st, h, data = gw.request("HEAD", "/things/42")
        assert st == 200 and data == b"" and int(h["content-length"]) > 0, (st, h, data)
        st, h, doc = get_json(gw, "/things", "POST", {"title": "new"},
                              {"Content-Type": "application/json"})
        assert st == 201 and doc == {"ok": True, "name": "new"}, (st, doc)
        st, h, doc = get_json(gw, "/lookup/7?lang=sw")
        assert st == 201 and doc["created"] == {"lookup": {"id": "7", "lang": "sw"}}, doc
        assert "POST /items" in up.state.paths
    with_setup([Upstream()], up_plain, PLAIN, body)


def test_status_pass_through_and_failures():
    def body(gw, up):
        st, _, doc = get_json(gw, "/items/missing")
        assert st == 404 and doc["error"]["code"] == "not_found", (st, doc)
        st, _, doc = get_json(gw, "/items/gone")
        assert st == 410 and doc == {"error": "gone"}, (st, doc)
        st, _, doc = get_json(gw, "/fail")
        assert st == 502 and doc["error"]["code"] == "bad_gateway", (st, doc)
        assert "500" in doc["error"]["message"], doc
        st, h, doc = get_json(gw, "/fhir/Patient/missing")
        assert st == 404 and doc["resourceType"] == "OperationOutcome", (st, doc)
        assert h["content-type"].startswith("application/fhir+json"), h
        st, _, _ = gw.request("POST", "/items/1", body=b"{}")
        assert st == 405
    with_setup([Upstream()], up_plain, PLAIN, body)


def test_connection_refused_is_502():
    dead = free_port()
    gw = gateway("  up: { url: \"http://127.0.0.1:%d\", timeout: 1s }\n" % dead, PLAIN)
    try:
        st, _, doc = get_json(gw, "/items/1")
        assert st == 502 and doc["error"]["code"] == "bad_gateway", (st, doc)
        st, _, doc = get_json(gw, "/fhir/Patient/1")
        assert st == 502 and doc["resourceType"] == "OperationOutcome", doc
    finally:
        gw.cleanup()


SLOW = """
  hang:
    listen: GET /hang
    answer: map
    upstream: up
    mediate: { path: /hang, timeout: 600ms }
  slow:
    listen: GET /slow
    answer: map
    upstream: up
    mediate: { path: "/slow?ms={query.ms}", max_inflight: 2, timeout: 5s }
  item:
    listen: GET /items/{id}
    answer: map
    upstream: fast
    mediate: { path: "/items/{id}" }
  write:
    listen: POST /events
    routes:
      log: { url: "file://{dir}/out.jsonl" }
"""


def test_timeout_hang_and_isolation():
    def ups(u, f):
        return ("  up: { url: \"%s\", timeout: 5s, max_inflight: 8 }\n"
                "  fast: { url: \"%s\" }\n" % (u.url, f.url))

    def body(gw, up, fast):
        t0 = time.time()
        st, _, doc = get_json(gw, "/hang")
        took = time.time() - t0
        assert st == 504 and doc["error"]["code"] == "upstream_timeout", (st, doc)
        assert 0.5 < took < 3.0, took
        results = []
        threads = [threading.Thread(target=lambda: results.append(get_json(gw, "/hang")[0]))
                   for _ in range(6)]
        for t in threads:
            t.start()
        time.sleep(0.1)
        t0 = time.time()
        st, _, _ = get_json(gw, "/items/1")
        assert st == 200 and time.time() - t0 < 0.4, (st, time.time() - t0)
        st, _, _ = gw.request("POST", "/events", body={"a": 1},
                              headers={"Content-Type": "application/json"})
        assert st == 202 and time.time() - t0 < 0.6, st
        for t in threads:
            t.join(10)
        assert results == [504] * 6, results
    with_setup([Upstream(), Upstream()], ups, SLOW, body)


def test_stop_while_mediating():
    """SIGTERM with calls in flight: they are answered (503 or the timeout), igw exits 0."""
    up = Upstream().start()
    gw = gateway("  up: { url: \"%s\", timeout: 30s }\n  fast: { url: \"%s\" }\n"
                 % (up.url, up.url), SLOW.replace("timeout: 600ms", "timeout: 20s"))
    try:
        out = []
        t = threading.Thread(target=lambda: out.append(gw.request("GET", "/hang", timeout=30)[0]))
        t.start()
        # stop only once the call is in flight upstream (a loaded box may need more than 0.3 s)
        deadline = time.time() + 10
        while up.state.calls < 1 and time.time() < deadline:
            time.sleep(0.05)
        t0 = time.time()
        assert gw.stop() == 0
        took = time.time() - t0
        t.join(30)
        assert out in ([503], [504]), out
        assert took < 15, took
        for bad in ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "runtime error:"):
            assert bad not in gw.logs()
    finally:
        gw.cleanup()
        up.stop()


def test_concurrency_limit_503_retry_after():
    def body(gw, up):
        out = []
        lock = threading.Lock()

        def one():
            r = gw.request("GET", "/slow?ms=800")
            with lock:
                out.append(r)
        threads = [threading.Thread(target=one) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        statuses = sorted(r[0] for r in out)
        assert statuses.count(200) == 2 and statuses.count(503) == 3, statuses
        busy = [r for r in out if r[0] == 503][0]
        assert busy[1].get("retry-after") == "1", busy[1]
        assert json.loads(busy[2])["error"]["code"] == "busy", busy[2]
    with_setup([Upstream()], lambda u: "  up: { url: \"%s\" }\n  fast: { url: \"%s\" }\n"
               % (u.url, u.url), SLOW, body)


def test_limits_of_answers_and_types():
    def body(gw, up):
        st, _, doc = get_json(gw, "/items/a?lang=" + "x" * 2500)  # a 2.5 KB answer: too large
        assert st == 502 and doc["error"]["code"] == "bad_gateway", (st, doc)
        st, _, doc = get_json(gw, "/items/short")
        assert st == 200, st
        st, _, _ = gw.request("GET", "/items/short", headers={"Content-Type": "text/plain"})
        assert st == 200, st  # GET without a body: content_types does not apply
    chans = PLAIN.replace("  item:\n    listen: GET /items/{id}\n",
                          "  item:\n    listen: GET /items/{id}\n    content_types: [application/json]\n")
    with_setup([Upstream()],
               lambda u: "  up: { url: \"%s\", max_response: 2KiB }\n" % u.url, chans, body)


def test_rate_limit_503_without_calling():
    def body(gw, up):
        codes = [gw.request("GET", "/items/%d" % i) for i in range(4)]
        assert [c[0] for c in codes[:2]] == [200, 200], [c[0] for c in codes]
        assert codes[2][0] == 503 and int(codes[2][1]["retry-after"]) >= 1, codes[2][:2]
        assert up.state.calls == 2, up.state.calls
    with_setup([Upstream()],
               lambda u: "  up: { url: \"%s\", rate_per_minute: 6, rate_burst: 2 }\n" % u.url,
               PLAIN, body)


AUTH = """
  item:
    listen: GET /items/{id}
    answer: map
    upstream: up
    mediate: { path: "/items/{id}" }
"""


def test_bearer_and_basic():
    def body(gw, up):
        st, _, _ = get_json(gw, "/items/1")
        assert st == 200 and up.state.auth_seen[-1] == "Bearer s3cr3t-bearer-token"
    with_setup([Upstream(bearer="s3cr3t-bearer-token")],
               lambda u: "  up: { url: \"%s\", auth: { type: bearer, token_file: bearer.tok } }\n"
               % u.url, AUTH, body)

    def body2(gw, up):
        st, _, _ = get_json(gw, "/items/1")
        assert st == 200 and up.state.auth_failures == 0, up.state.auth_seen
    with_setup([Upstream(basic="alice:pw-basic-123")],
               lambda u: "  up: { url: \"%s\", auth: { type: basic, user_file: basic.user } }\n"
               % u.url, AUTH, body2)

    def wrong(gw, up):
        st, _, doc = get_json(gw, "/items/1")
        assert st == 502 and doc["error"]["code"] == "upstream_auth", (st, doc)
    with_setup([Upstream(bearer="another-token")],
               lambda u: "  up: { url: \"%s\", auth: { type: bearer, token_file: bearer.tok } }\n"
               % u.url, AUTH, wrong)


def test_login_token_once_renewed_and_after_401():
    def body(gw, up):
        out = []
        threads = [threading.Thread(target=lambda i=i: out.append(get_json(gw, "/items/%d" % i)[0]))
                   for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert out == [200] * 8, out
        assert up.state.logins == 1 and up.state.auth_failures == 0, up.state.logins
        time.sleep(2.3)  # the token lives 3 s, renewed 1 s before
        st, _, _ = get_json(gw, "/items/x")
        # the renewal runs beside the call, which still carries the valid old token
        assert st == 200, st
        eventually(lambda: up.state.logins == 2, 5, what="the token renewed before its expiry")
        up.httpd.state.tokens.clear()  # the upstream forgets every token: next call gets 401
        st, _, _ = get_json(gw, "/items/y")
        assert st == 200 and up.state.logins == 3 and up.state.auth_failures == 1
    with_setup([Upstream(login="Admin:admin123-secret", ttl=3)],
               lambda u: ("  up:\n    url: \"%s\"\n    auth:\n      type: login\n"
                          "      user_file: login.user\n"
                          "      login: { preset: openimis-graphql, renew_before: 1s }\n"
                          % u.url), AUTH, body)


def test_login_presets_fhir_oauth2_and_refused():
    def body(gw, up):
        st, _, _ = get_json(gw, "/items/1")
        assert st == 200 and up.state.logins == 1, (st, up.state.logins)
    with_setup([Upstream(login="Admin:admin123-secret")],
               lambda u: ("  up: { url: \"%s\", auth: { type: login, user_file: login.user } }\n"
                          % u.url), AUTH, body)  # the default preset: openimis-fhir
    with_setup([Upstream(login="client-7:client-secret-xyz")],
               lambda u: ("  up: { url: \"%s\", auth: { type: login, user_file: client.user,"
                          " login: { preset: oauth2, url: \"%s/oauth/token\" } } }\n"
                          % (u.url, u.url)), AUTH, body)

    def refused(gw, up):
        for _ in range(3):
            st, _, doc = get_json(gw, "/items/1")
            assert st == 502 and doc["error"]["code"] == "upstream_auth", (st, doc)
        assert up.state.calls == 0
        assert up.state.login_attempts == 1, up.state.login_attempts  # backoff: no login flood
    with_setup([Upstream(login="Admin:admin123-secret")],
               lambda u: "  up: { url: \"%s\", auth: { type: login, user_file: bad.user } }\n"
               % u.url, AUTH, refused)


CACHE = """
  read:
    listen: GET /r/{type}/{id}
    answer: map
    upstream: up
    mediate: { path: "/items/{id}" }
    cache: { ttl: 30s, max_entries: 100 }
  write:
    listen: POST /w/{type}
    routes:
      log: { url: "file://{dir}/out.jsonl" }
"""


def test_cache_hit_miss_invalidation():
    def body(gw, up):
        st, h, _ = get_json(gw, "/r/Patient/1?b=2&a=1")
        assert st == 200 and h["x-igw-cache"] == "miss", h
        st, h, _ = get_json(gw, "/r/Patient/1?a=1&b=2")  # same query, other order
        assert st == 200 and h["x-igw-cache"] == "hit", h
        st, h, data = gw.request("HEAD", "/r/Patient/1?a=1&b=2")
        assert st == 200 and h["x-igw-cache"] == "hit" and data == b"", h
        get_json(gw, "/r/Group/1")
        assert up.state.calls == 2, up.state.calls
        st, _, _ = gw.request("POST", "/w/Patient", body={"x": 1},
                              headers={"Content-Type": "application/json"})
        assert st == 202
        st, h, _ = get_json(gw, "/r/Patient/1?a=1&b=2")
        assert h["x-igw-cache"] == "miss" and up.state.calls == 3, h
        st, h, _ = get_json(gw, "/r/Group/1")
        assert h["x-igw-cache"] == "hit", h  # another type's answers stay
        st, h, _ = get_json(gw, "/r/Patient/missing")
        st, h, _ = get_json(gw, "/r/Patient/missing")
        assert st == 404 and up.state.calls == 5  # errors are not cached
    with_setup([Upstream()], lambda u: "  up: { url: \"%s\" }\n" % u.url, CACHE, body)


COMMIT = """
  checked:
    listen: POST /checked
    answer: map
    upstream: up
    mediate: { method: POST, path: /items, on_success: commit }
    routes:
      log: { url: "file://{dir}/out.jsonl" }
  mapped:
    listen: POST /mapped
    answer: map
    upstream: up
    mediate: { method: POST, path: /items, on_success: commit, response_map: created-to-answer }
    routes:
      log: { url: "file://{dir}/out.jsonl" }
  refused:
    listen: POST /refused
    answer: map
    upstream: up
    mediate: { method: POST, path: /fail, on_success: commit }
    routes:
      log: { url: "file://{dir}/out.jsonl" }
"""


def test_commit_after_upstream():
    """IGW_MED_COMMIT: a 2xx from the upstream, then the durable write and the queue's answer."""
    def body(gw, up):
        hdr = {"Content-Type": "application/json"}
        st, _, doc = get_json(gw, "/checked", "POST", {"name": "one"}, hdr)
        assert st == 202 and len(doc["id"]) == 16, (st, doc)
        st, _, doc = get_json(gw, "/mapped", "POST", {"name": "two"}, hdr)
        assert st == 202, (st, doc)
        st, _, doc = get_json(gw, "/refused", "POST", {"name": "three"}, hdr)
        assert st == 502, (st, doc)
        out = os.path.join(gw.dir, "out.jsonl")
        deadline = time.time() + 10
        lines = []
        while time.time() < deadline and len(lines) < 2:
            lines = open(out).read().splitlines() if os.path.exists(out) else []
            time.sleep(0.05)
        got = sorted(json.dumps(json.loads(x), sort_keys=True) for x in lines)
        assert got == sorted([json.dumps({"name": "one"}), json.dumps({"name": "two", "ok": True},
                                                                      sort_keys=True)]), got
        time.sleep(0.2)
        assert len(open(out).read().splitlines()) == 2
    with_setup([Upstream()], lambda u: "  up: { url: \"%s\" }\n" % u.url, COMMIT, body)


def test_config_check_refuses():
    cases = [
        ("  up: { url: \"http://127.0.0.1:1\" }\n",
         "  c:\n    listen: GET /x\n    answer: map\n    upstream: nope\n    mediate: { path: /x }\n",
         b"no upstreams.nope is defined"),
        ("  up: { url: \"http://127.0.0.1:1\" }\n",
         "  c:\n    listen: GET /x\n    answer: magic\n    upstream: up\n",
         b"no mediator \"magic\""),
        ("  up: { url: \"http://127.0.0.1:1\" }\n",
         "  c:\n    listen: GET /x\n", b"needs an answer"),
        ("  up: { url: \"http://127.0.0.1:1/\" }\n",
         "  c:\n    listen: GET /x\n    answer: map\n    upstream: up\n    mediate: { path: /x }\n",
         b"trailing"),
        ("  up: { url: \"http://127.0.0.1:1\" }\n",
         "  c:\n    listen: GET /x/{id}\n    answer: map\n    upstream: up\n"
         "    mediate: { path: \"/y/{other}\" }\n", b"{other} is no parameter"),
        ("  up: { url: \"http://127.0.0.1:1\" }\n",
         "  c:\n    listen: GET /x\n    answer: map\n    upstream: up\n"
         "    mediate: { path: /x, response_map: nosuchmap }\n", b"unknown map 'nosuchmap'"),
        ("  up: { url: \"http://127.0.0.1:1\", tls: { ca_file: nonexistent.pem } }\n",
         "  c:\n    listen: GET /x\n    answer: map\n    upstream: up\n    mediate: { path: /x }\n",
         b"upstreams.up.tls.ca_file"),
        ("  up: { url: \"http://127.0.0.1:1\", auth: { type: login } }\n",
         "  c:\n    listen: GET /x\n    answer: map\n    upstream: up\n    mediate: { path: /x }\n",
         b"needs user_file"),
    ]
    for ups, chans, reason in cases:
        gw = Gateway(HEAD + "upstreams:\n" + ups + "channels:\n" + chans, extra_files=dict(MAPS))
        try:
            p = subprocess.run([IGW_BIN, "config", "check", gw.config_path], cwd=gw.dir,
                               capture_output=True, timeout=20)
            assert p.returncode == 1 and reason in p.stderr, (reason, p.stderr)
            assert b"igw.conf:" in p.stderr or b"unknown map" in p.stderr or b"ca_file" in p.stderr
            s = subprocess.run([IGW_BIN, "serve", "--config", gw.config_path], cwd=gw.dir,
                               capture_output=True, timeout=20)
            assert s.returncode == 1 and reason in s.stderr, (reason, s.stderr)
        finally:
            gw.cleanup()


if __name__ == "__main__":
    run([test_get_head_post_through_maps, test_status_pass_through_and_failures,
         test_connection_refused_is_502, test_timeout_hang_and_isolation, test_stop_while_mediating,
         test_concurrency_limit_503_retry_after, test_limits_of_answers_and_types,
         test_rate_limit_503_without_calling,
         test_bearer_and_basic, test_login_token_once_renewed_and_after_401,
         test_login_presets_fhir_oauth2_and_refused, test_cache_hit_miss_invalidation,
         test_commit_after_upstream,
         test_config_check_refuses])
