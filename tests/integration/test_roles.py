# SPDX-License-Identifier: Apache-2.0
"""Admin roles, audit, probes and TLS (docs/ADMIN-API.md, "Roles", "Audit", "Probes", "TLS")
through the real `igw serve`: named credentials with roles (viewer, operator, admin, basic
with a password file), whoami, 403 below an endpoint's role, the older admin.auth as role admin,
every repair written to the audit log with who and what (paged, kept across a restart),
/healthz and /readyz without credentials, and the admin listener over https with a throwaway CA
made with openssl here, with and without a client certificate (curl). Python 3 standard
library; deliveries go to the HTTP sink tests/sim/sink.py."""
import base64
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import SIM_DIR, Gateway, SinkAdminEnv, eventually, free_port, run, skip, wait_port  # noqa: E402

sys.path.insert(0, SIM_DIR)
from sink import Sink  # noqa: E402

CH_AUTH = {"Authorization": "Bearer t0k", "Content-Type": "application/json"}
TOKENS = {"viewer": "v-t0ken", "operator": "o-t0ken", "admin": "a-t0ken", "legacy": "l-t0ken"}

CONFIG = """
http: { listen: "http://127.0.0.1:{port}" }
admin:
  listen: "LISTEN"
  auth: { type: bearer, tokens_file: legacy.tokens }
  credentials:
    - { name: vera, role: viewer, token_file: viewer.tokens }
    - { name: otto, role: operator, token_file: operator.tokens }
    - { name: ada, role: admin, token_file: admin.tokens }
    - { name: bob, role: operator, password_file: bob.password }
TLS
queue: { path: "{dir}/queue" }
channels:
  dl:
    listen: POST /dl
    auth: { type: bearer, tokens: [t0k] }
    routes:
      out:
        url: SINK/in/dl
        retry: { base: 50ms, cap: 200ms, max_attempts: 2 }
"""


class Env(SinkAdminEnv):
    def __init__(self, tls=None, workdir=None):
        self.sink = Sink()
        self.admin_port = free_port()
        scheme = "https" if tls else "http"
        cfg = (CONFIG.replace("SINK", self.sink.url)
               .replace("LISTEN", "%s://127.0.0.1:%d" % (scheme, self.admin_port))
               .replace("TLS", tls or ""))
        files = {"%s.tokens" % k: "%s\n" % v for k, v in TOKENS.items()}
        files["bob.password"] = "s3cret pass\n"
        self.gw = Gateway(cfg, workdir=workdir, extra_files=files)

    def admin(self, method, path, who="admin", auth=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            h = {}
            if auth is not None:
                h["Authorization"] = auth
            elif who is not None:
                h["Authorization"] = "Bearer " + TOKENS[who]
            conn.request(method, path, headers=h)
            r = conn.getresponse()
            data = r.read()
            ctype = r.getheader("Content-Type", "")
            return r.status, (json.loads(data) if "json" in ctype else data.decode())
        finally:
            conn.close()

    def dead_message(self):
        self.sink.control(path="/in/dl", status_4xx=400, count=1)
        st, _, body = self.gw.request("POST", "/dl", {"x": 1}, CH_AUTH)
        assert st == 202, (st, body)
        mid = json.loads(body)["id"]

        def dead():
            st, doc = self.admin("GET", "/admin/messages/" + mid)
            return st == 200 and doc["deliveries"][0]["state"] == "dead"
        eventually(dead, what="dead letter")
        return mid


def test_whoami_and_roles():
    with Env() as e:
        for who, name, role in (("viewer", "vera", "viewer"), ("operator", "otto", "operator"),
                                ("admin", "ada", "admin"), ("legacy", "admin", "admin")):
            st, doc = e.admin("GET", "/admin/whoami", who=who)
            assert st == 200 and doc == {"name": name, "role": role}, (who, st, doc)
        basic = "Basic " + base64.b64encode(b"bob:s3cret pass").decode()
        st, doc = e.admin("GET", "/admin/whoami", auth=basic)
        assert st == 200 and doc == {"name": "bob", "role": "operator"}, doc
        wrong = "Basic " + base64.b64encode(b"bob:nope").decode()
        st, doc = e.admin("GET", "/admin/whoami", auth=wrong)
        assert st == 401, doc
        st, doc = e.admin("GET", "/admin/whoami", who=None)
        assert st == 401, doc
        # a channel's token is no admin credential
        st, doc = e.admin("GET", "/admin/whoami", auth="Bearer t0k")
        assert st == 401, doc

        mid = e.dead_message()
        st, doc = e.admin("GET", "/admin/messages/" + mid, who="viewer")
        assert st == 200, doc
        st, doc = e.admin("POST", "/admin/messages/%s/release" % mid, who="viewer")
        assert st == 403 and doc["error"]["code"] == "forbidden", (st, doc)
        st, doc = e.admin("DELETE", "/admin/messages/" + mid, who="operator")
        assert st == 403, (st, doc)
        st, doc = e.admin("POST", "/admin/messages/%s/release" % mid, who="operator")
        assert st == 200, (st, doc)
        eventually(lambda: e.admin("GET", "/admin/messages/" + mid)[1]["deliveries"][0]["state"]
                   == "delivered", what="delivered after release")
        st, doc = e.admin("DELETE", "/admin/messages/" + mid, who="admin")
        assert st == 200, (st, doc)
        logs = e.gw.logs()
        assert "admin forbidden who=vera role=viewer needs=operator" in logs, logs[-2000:]
        for t in TOKENS.values():
            assert t not in logs


def test_audit_log():
    with Env() as e:
        mid = e.dead_message()
        assert e.admin("POST", "/admin/messages/%s/release?route=dl.out" % mid,
                       who="operator")[0] == 200
        eventually(lambda: e.admin("GET", "/admin/messages/" + mid)[1]["deliveries"][0]["state"]
                   == "delivered", what="delivered after release")  # replay would get 409
        assert e.admin("POST", "/admin/messages/%s/replay" % mid, who="operator")[0] == 200
        assert e.admin("DELETE", "/admin/messages/" + mid, who="admin")[0] == 200
        # refused actions change nothing and are not audited
        assert e.admin("DELETE", "/admin/messages/" + mid, who="viewer")[0] == 403
        st, doc = e.admin("GET", "/admin/audit", who="viewer")
        assert st == 200, doc
        items = doc["items"]
        assert [i["action"] for i in items] == ["purge", "replay", "release"], items
        assert [i["who"] for i in items] == ["ada", "otto", "otto"], items
        assert items[0]["role"] == "admin" and items[0]["target"] == mid, items
        assert items[2]["detail"] == {"route": "dl.out"}, items
        assert items[0]["seq"] > items[1]["seq"] > items[2]["seq"], items
        assert doc["next"] is None, doc
        # paging: one at a time, newest first
        st, p1 = e.admin("GET", "/admin/audit?limit=1")
        assert st == 200 and len(p1["items"]) == 1 and p1["next"] is not None, p1
        st, p2 = e.admin("GET", "/admin/audit?limit=2&cursor=" + p1["next"])
        assert [i["action"] for i in p2["items"]] == ["replay", "release"], p2
        st, doc = e.admin("GET", "/admin/audit?limit=0")
        assert st == 400, doc
        path = os.path.join(e.gw.dir, "queue", "audit.jsonl")
        assert os.stat(path).st_mode & 0o077 == 0, oct(os.stat(path).st_mode)
        with open(path) as f:
            lines = [json.loads(line) for line in f]
        assert len(lines) == 3, lines
        # kept, and numbered on, across a restart
        e.gw.stop()
        e.gw.start()
        wait_port(e.admin_port, proc=e.gw.proc)
        mid2 = e.dead_message()
        assert e.admin("POST", "/admin/messages/%s/release" % mid2, who="admin")[0] == 200
        st, doc = e.admin("GET", "/admin/audit")
        assert len(doc["items"]) == 4 and doc["items"][0]["seq"] == items[0]["seq"] + 1, doc


def test_probes_without_credentials():
    with Env() as e:
        st, doc = e.admin("GET", "/healthz", who=None)
        assert st == 200 and doc == {"status": "alive"}, doc
        st, doc = e.admin("GET", "/readyz", who=None)
        assert st == 200 and doc == {"status": "ready"}, doc
        st, doc = e.admin("POST", "/readyz", who=None)
        assert st == 405, doc
        # everything else keeps its auth
        for path in ("/metrics", "/admin/stats", "/admin/health", "/admin/audit"):
            st, _ = e.admin("GET", path, who=None)
            assert st == 401, (path, st)
        st, _ = e.admin("GET", "/metrics", who="viewer")
        assert st == 200


def test_readyz_when_full():
    """A queue that refuses intake (full) makes /readyz 503 queue_full, and /metrics says so."""
    cfg = CONFIG.replace('queue: { path: "{dir}/queue" }',
                         'queue: { path: "{dir}/queue", map_size: 1MiB }')
    assert "map_size: 1MiB" in cfg
    sink = Sink()
    port = free_port()
    files = {"%s.tokens" % k: "%s\n" % v for k, v in TOKENS.items()}
    files["bob.password"] = "x\n"
    gw = Gateway(cfg.replace("SINK", sink.url).replace("LISTEN", "http://127.0.0.1:%d" % port)
                 .replace("TLS", ""), extra_files=files)
    try:
        sink.control(path="/in/dl", fail=100000, status=503)  # nothing drains
        gw.start()
        wait_port(port, proc=gw.proc)
        body = {"pad": "x" * 60000}
        for _ in range(200):
            st, _, _ = gw.request("POST", "/dl", body, CH_AUTH)
            if st == 503:
                break
        assert st == 503, "no 503 from a 1 MiB queue"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/readyz")
        r = conn.getresponse()
        doc = json.loads(r.read())
        assert r.status == 503 and doc == {"status": "not_ready", "reasons": ["queue_full"]}, doc
        conn.request("GET", "/metrics", headers={"Authorization": "Bearer " + TOKENS["viewer"]})
        r = conn.getresponse()
        assert "\nigw_queue_full 1\n" in r.read().decode()
        conn.close()
    finally:
        gw.cleanup()
        sink.stop()


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=igw test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name,
                "-keyout", name + ".key", "-out", name + ".csr", cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "1", "-out", name + ".pem",
                *(["-extfile", "san.ext"] if name == "server" else []), cwd=d)


def curl(e, d, path, client=True, who="viewer"):
    cmd = ["curl", "-sS", "--max-time", "10", "--cacert", os.path.join(d, "ca.pem"),
           "-H", "Authorization: Bearer " + TOKENS[who], "-w", "\n%{http_code}"]
    if client:
        cmd += ["--cert", os.path.join(d, "client.pem"), "--key", os.path.join(d, "client.key")]
    r = subprocess.run(cmd + ["https://127.0.0.1:%d%s" % (e.admin_port, path)],
                       capture_output=True, text=True)
    return r.returncode, r.stdout


def tls_env(client_ca):
    if shutil.which("openssl") is None or shutil.which("curl") is None:
        skip("openssl or curl not installed")
    import tempfile
    d = tempfile.mkdtemp(prefix="igw-pki-")
    make_pki(d)
    tls = "  tls: { cert_file: %s/server.pem, key_file: %s/server.key%s }" % (
        d, d, (", client_ca_file: %s/ca.pem" % d) if client_ca else "")
    cfg = CONFIG.replace("TLS", tls)
    assert "tls:" in cfg
    return d, tls


def test_tls_admin_listener():
    d, tls = tls_env(client_ca=False)
    try:
        with Env(tls=tls) as e:
            rc, out = curl(e, d, "/admin/whoami", client=False)
            assert rc == 0 and out.endswith("\n200") and '"vera"' in out, (rc, out)
            # plain http on the https port gets no answer
            try:
                st, _ = e.admin("GET", "/healthz", who=None)
                assert False, "plain HTTP answered on an https listener: %s" % st
            except (ConnectionError, http.client.HTTPException, OSError):
                pass
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_tls_client_certificates():
    d, tls = tls_env(client_ca=True)
    try:
        with Env(tls=tls) as e:
            rc, out = curl(e, d, "/admin/whoami")
            assert rc == 0 and out.endswith("\n200"), (rc, out)
            rc, out = curl(e, d, "/healthz", client=False)  # no certificate: no handshake
            assert rc != 0, (rc, out)
            # a certificate is not a credential: the token is still needed
            r = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", d + "/ca.pem",
                                "--cert", d + "/client.pem", "--key", d + "/client.key",
                                "-o", "/dev/null", "-w", "%{http_code}",
                                "https://127.0.0.1:%d/admin/stats" % e.admin_port],
                               capture_output=True, text=True)
            assert r.stdout == "401", r.stdout
            ctx = ssl.create_default_context(cafile=d + "/ca.pem")
            ctx.load_cert_chain(d + "/client.pem", d + "/client.key")
            conn = http.client.HTTPSConnection("127.0.0.1", e.admin_port, context=ctx, timeout=10)
            conn.request("GET", "/readyz")
            assert conn.getresponse().status == 200
            conn.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_config_check_refuses():
    """igw config check refuses what serve would: no credentials, https without a cert, a
    missing password file, an unknown role (file:line:column named)."""
    from igwtest import IGW_BIN
    import tempfile
    d = tempfile.mkdtemp(prefix="igw-cfg-")
    try:
        cases = [
            ('admin: { listen: "http://127.0.0.1:1" }', "needs credentials"),
            ('admin: { listen: "https://127.0.0.1:1", credentials: [{name: a, role: admin, '
             'token_file: t}] }', "https:// listen needs tls"),
            ('admin: { listen: "http://127.0.0.1:1", credentials: [{name: a, role: admin, '
             'password_file: missing}] }', "cannot read secrets file"),
            ('admin: { listen: "http://127.0.0.1:1", credentials: [{name: a, role: boss, '
             'token_file: t}] }', "role"),
            ('admin: { listen: "http://127.0.0.1:1", credentials: [{name: a, role: admin, '
             'token_file: t}, {name: a, role: viewer, token_file: t}] }', "duplicate"),
            ('admin: { listen: "http://127.0.0.1:1", audit_file: nodir/audit.jsonl, '
             'credentials: [{name: a, role: admin, token_file: t}] }', "nodir is missing"),
        ]
        with open(os.path.join(d, "t"), "w") as f:
            f.write("tok\n")
        for text, want in cases:
            p = os.path.join(d, "igw.conf")
            with open(p, "w") as f:
                f.write(text + "\nqueue: { path: %s/q }\n" % d)
            r = subprocess.run([IGW_BIN, "config", "check", p], capture_output=True, text=True)
            assert r.returncode != 0 and want in r.stderr + r.stdout, (text, r.stderr, r.stdout)
            if "audit_file" not in text:  # a file-system check names the option, not a line
                assert "igw.conf:1:" in r.stderr + r.stdout, (text, r.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    run([test_whoami_and_roles, test_audit_log, test_probes_without_credentials,
         test_readyz_when_full,
         test_tls_admin_listener, test_tls_client_certificates, test_config_check_refuses])
