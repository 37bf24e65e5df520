# SPDX-License-Identifier: Apache-2.0
"""`igw config check FILE` refuses everything `igw serve` would refuse (issue 13 item 6), and
creates nothing while checking. Each case writes one broken config, then asserts that
  - `igw config check` exits 1 with the reason on stderr (and no "ok"),
  - `igw serve` with the same file exits 1 with the same reason, before listening.
The baseline config (a map-using route, SP over ipc://, HTTP, admin) checks ok and starts.
Python 3 standard library (and the openssl command for the TLS cases, skipped without it)."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import IGW_BIN, Gateway, free_port, run, skip  # noqa: E402

BASE = """
http: { listen: "HTTP_URL"TLS }
queue: { path: "QUEUE" }
sp: { listen: "SP_URL" }
mappings: { dir: "{dir}/mappings" }
admin:
  listen: "http://127.0.0.1:ADMIN_PORT"
  auth: { type: bearer, tokens_file: "{dir}/admin.tokens" }
channels:
  ev:
    listen: POST /ev
    auth: { type: bearer, tokens: [t0k] }
    routes:
      out:
        url: file://{dir}/out/ev.ndjson
        map: MAPNAME
"""

MAP = """map strict from json to json
resourceType = "Basic"
subject.identifier.value = required(chfId, "chfId is required")
"""


def make(**kw):
    """A Gateway whose config is BASE with the given substitutions (defaults: all valid)."""
    subst = {"HTTP_URL": "http://127.0.0.1:{port}", "TLS": "", "QUEUE": "{dir}/queue",
             "SP_URL": "ipc://{dir}/sock/igw.ipc", "MAPNAME": "strict",
             "ADMIN_PORT": str(free_port())}
    subst.update(kw)
    text = BASE
    for k, v in subst.items():
        text = text.replace(k, v)
    return Gateway(text, extra_files={"mappings/strict/map": MAP, "admin.tokens": "s3cret-admin-token\n"})


def check(gw, uid=None):
    return subprocess.run([IGW_BIN, "config", "check", gw.config_path], cwd=gw.dir,
                          capture_output=True, timeout=20, user=uid)


def serve(gw, uid=None):
    return subprocess.run([IGW_BIN, "serve", "--config", gw.config_path], cwd=gw.dir,
                          capture_output=True, timeout=20, user=uid)


def refused(gw, reason, uid=None):
    """check and serve (as uid when given) both refuse gw's config with reason on stderr."""
    p = check(gw, uid)
    assert p.returncode == 1 and reason in p.stderr and b"ok" not in p.stdout, p
    s = serve(gw, uid)
    assert s.returncode == 1 and reason in s.stderr, s
    assert b"listening http=" not in s.stderr, s


def test_baseline_ok_and_check_creates_nothing():
    gw = make()
    try:
        p = check(gw)
        assert p.returncode == 0 and b": ok (1 channels)" in p.stdout, p
        for d in ("queue", "sock", "out"):
            assert not os.path.exists(os.path.join(gw.dir, d)), "check created %s" % d
        gw.start()
        assert gw.request("GET", "/nothing-here")[0] == 404
        assert gw.stop() == 0
    finally:
        gw.cleanup()


def test_route_with_unknown_map():
    gw = make(MAPNAME="nosuchmap")
    try:
        refused(gw, b"route ev.out: unknown map 'nosuchmap'")
    finally:
        gw.cleanup()


def test_map_that_does_not_compile():
    gw = make()
    try:
        with open(os.path.join(gw.dir, "mappings", "strict", "map"), "a") as f:
            f.write("oops = unknownfunction(1)\n")
        refused(gw, b"strict/map:4:")
    finally:
        gw.cleanup()


def test_queue_directory_under_a_file():
    gw = make(QUEUE="{dir}/blocker/queue")
    try:
        with open(os.path.join(gw.dir, "blocker"), "w") as f:
            f.write("a file, not a directory\n")
        refused(gw, b"blocker is not a directory")
    finally:
        gw.cleanup()


def test_queue_directory_not_writable():
    """As root, permission bits do not stop root: the processes run as nobody instead, on a
    directory nobody can read but not write."""
    uid = 65534 if os.geteuid() == 0 else None
    gw = make(QUEUE="{dir}/ro/queue")
    try:
        ro = os.path.join(gw.dir, "ro")
        os.mkdir(ro)
        os.chmod(ro, 0o555)
        if uid is not None:
            os.chmod(gw.dir, 0o755)
            for name in ("igw.conf", "admin.tokens"):
                os.chmod(os.path.join(gw.dir, name), 0o644)
        refused(gw, b"ro: Permission denied", uid)
        os.chmod(ro, 0o700)
    finally:
        gw.cleanup()


def test_ipc_socket_directory_under_a_file():
    gw = make(SP_URL="ipc://{dir}/sockfile/igw.ipc")
    try:
        with open(os.path.join(gw.dir, "sockfile"), "w") as f:
            f.write("x\n")
        refused(gw, b"sockfile is not a directory")
    finally:
        gw.cleanup()


def test_two_services_on_one_port():
    gw = make()
    try:
        with open(gw.config_path, "w") as f:
            f.write(gw.config_text.replace("ipc://%s/sock/igw.ipc" % gw.dir,
                                           "tcp://127.0.0.1:%d" % gw.port))
        refused(gw, b"the same address as")
    finally:
        gw.cleanup()


def make_tls(crt, key):
    return make(HTTP_URL="https://127.0.0.1:{port}",
                TLS=', tls: { cert_file: "{dir}/%s", key_file: "{dir}/%s" }' % (crt, key))


def test_tls_file_missing():
    gw = make_tls("nosuch.crt", "nosuch.key")
    try:
        refused(gw, b"cannot read " + gw.dir.encode() + b"/nosuch.crt")
    finally:
        gw.cleanup()


def test_tls_files_invalid_and_valid():
    if shutil.which("openssl") is None:
        skip("no openssl command to make a certificate")
    gw = make_tls("srv.crt", "srv.key")
    try:
        crt, key = os.path.join(gw.dir, "srv.crt"), os.path.join(gw.dir, "srv.key")
        with open(crt, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
        with open(key, "w") as f:
            f.write("not a key\n")
        refused(gw, b"TLS setup failed")
        p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                            "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", crt],
                           capture_output=True, timeout=60)
        assert p.returncode == 0, p
        p = check(gw)
        assert p.returncode == 0 and b"ok" in p.stdout, p
    finally:
        gw.cleanup()


DCI_SUBS = """
http: { listen: "http://127.0.0.1:{port}" }
queue: { path: "{dir}/queue" }
mappings: { dir: "{dir}/mappings" }
partners:
  spmis: { base_urls: ["http://127.0.0.1:9/dci/"], auth: { type: bearer, tokens: [t0k] },
           sign: false }
channels:
  on_subscribe: { listen: POST /dci/_igw/on-subscribe, dialect: dci, dci: { partner: [spmis] },
                  answer: ANSWER }
  subscribe:
    listen: POST /dci/registry/SUBOP
    DIALECT
    dci: { partner: [spmis] }
    routes:
STORE      on_subscribe: { url: "callback:spmis", answer_from: on_subscribe }
"""
STORE_ROUTE = '      store: { url: "dci-subscriptions:{dir}/subs" }\n'


def dci_subs(answer="dci-on-subscribe", store=True, dialect=True, op="subscribe"):
    text = (DCI_SUBS.replace("ANSWER", answer).replace("SUBOP", op)
            .replace("STORE", STORE_ROUTE if store else "")
            .replace("DIALECT", "dialect: dci" if dialect else "auth: { type: bearer, tokens: [t0k] }"))
    return Gateway(text, extra_files={"mappings/README": "no maps\n"})


def test_dci_subscription_answers_need_a_store_route():
    """A route with answer_from a dci-on-subscribe / dci-on-unsubscribe channel on a channel
    with no dci-subscriptions: route (the codes would never be in the store: the on-subscribe
    would wait forever, the on-unsubscribe refuse every code), or on a channel without
    dialect: dci, is refused by check and serve, naming file:line:column of the answer_from;
    with the store route the config checks ok."""
    for answer, op in (("dci-on-subscribe", "subscribe"), ("dci-on-unsubscribe", "unsubscribe")):
        gw = dci_subs(answer=answer, store=False, op=op)
        try:
            refused(gw, b"has no dci-subscriptions: route")
            p = check(gw)
            assert (gw.config_path + ":16:59:").encode() in p.stderr, p.stderr  # answer_from
        finally:
            gw.cleanup()
    gw = dci_subs(dialect=False)
    try:
        refused(gw, b"has no dialect: dci")
    finally:
        gw.cleanup()
    gw = dci_subs()
    try:
        p = check(gw)
        assert p.returncode == 0 and b"ok" in p.stdout, p
    finally:
        gw.cleanup()


if __name__ == "__main__":
    run([test_baseline_ok_and_check_creates_nothing,
         test_route_with_unknown_map,
         test_map_that_does_not_compile,
         test_queue_directory_under_a_file,
         test_queue_directory_not_writable,
         test_ipc_socket_directory_under_a_file,
         test_two_services_on_one_port,
         test_tls_file_missing,
         test_tls_files_invalid_and_valid,
         test_dci_subscription_answers_need_a_store_route])
