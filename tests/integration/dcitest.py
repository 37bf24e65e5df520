# SPDX-License-Identifier: Apache-2.0
"""What the DCI integration tests (test_dci_async.py, test_dci_client.py, test_dci_subs.py) set
up alike: RSA keys for igw and the partners, the simulator processes (tests/sim/*.py, each
printing "READY <port>"), and the SP-MIS callback receiver (tests/sim/spmis_receiver.py) with
its control and listing endpoints. Python 3 standard library (+ python3-cryptography for keys)."""
import json
import os
import subprocess
import sys
import urllib.request

from igwtest import SIM_DIR, skip

sys.path.insert(0, SIM_DIR)
import dci_jws  # noqa: E402


# The registry's subscription channels (docs/DCI.md, "Subscriptions"), for a test config's
# `channels:` section: subscribe / unsubscribe for the partners spmis and other, their records
# in the store {dir}/subs, the on-subscribe / on-unsubscribe callbacks to spmis (bearer
# rcv-token) answered by the two _igw channels.
SUBSCRIPTION_CHANNELS = """\
  on_subscribe:
    listen: POST /dci/social/_igw/on-subscribe
    dialect: dci
    dci: { partner: [spmis, other] }
    answer: dci-on-subscribe
  on_unsubscribe:
    listen: POST /dci/social/_igw/on-unsubscribe
    dialect: dci
    dci: { partner: [spmis, other] }
    answer: dci-on-unsubscribe
  subscribe:
    listen: POST /dci/social/registry/subscribe
    dialect: dci
    dci: { partner: [spmis, other] }
    routes:
      store: { url: "dci-subscriptions:{dir}/subs", retry: { base: 100ms, cap: 400ms } }
      on_subscribe: { url: "callback:spmis", answer_from: on_subscribe,
                      auth: { type: bearer, token: rcv-token },
                      retry: { base: 100ms, cap: 400ms, max_attempts: 200 } }
  unsubscribe:
    listen: POST /dci/social/registry/unsubscribe
    dialect: dci
    dci: { partner: [spmis, other] }
    routes:
      store: { url: "dci-subscriptions:{dir}/subs", retry: { base: 100ms, cap: 400ms } }
      on_unsubscribe: { url: "callback:spmis", answer_from: on_unsubscribe,
                        auth: { type: bearer, token: rcv-token },
                        retry: { base: 100ms, cap: 400ms, max_attempts: 200 } }
"""

# The start of the config of it.dci_subs and it.dci_notify: the admin API, the signing key and
# the two partners (their callbacks at the receiver on RCV), and the subscription channels
# (SUBSCRIPTION_CHANNELS): a test adds its own channels after it.
SUBSCRIPTION_CONFIG = """
http: { listen: "http://127.0.0.1:{port}", max_body: 1MiB }
admin:
  listen: "http://127.0.0.1:ADMINPORT"
  credentials: [{ name: vera, role: viewer, token_file: viewer.tokens }]
queue: { path: "{dir}/queue" }
mappings: { dir: "MAPS" }
signing: { key_file: igw.pem, kid: igw-1 }
partners:
  spmis:
    base_urls: ["http://127.0.0.1:RCV/dci/spmis/"]
    auth: { type: bearer, tokens: [demo-token] }
    sign: true
  other:
    base_urls: ["http://127.0.0.1:RCV/dci/other/"]
    auth: { type: bearer, tokens: [other-token] }
channels:
""" + SUBSCRIPTION_CHANNELS


def rsa_pems(dirname, names):
    """A 2048-bit RSA key per name, written unencrypted as PKCS#8 PEM to <dirname>/<name>.pem;
    {name: path}. Skips the test when python3-cryptography is missing."""
    if not dci_jws.HAVE_CRYPTO:
        skip("python3-cryptography is not installed")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    pems = {}
    for name in names:
        k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pems[name] = os.path.join(dirname, name + ".pem")
        with open(pems[name], "wb") as f:
            f.write(k.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return pems


def read(path):
    with open(path) as f:
        return f.read()


class Procs:
    """The simulator processes of one test file, stopped together by close()."""

    def __init__(self):
        self.procs = []

    def spawn(self, argv):
        """Starts a simulator (python3 argv) and returns the port of its "READY <port>" line."""
        p = subprocess.Popen([sys.executable] + argv, stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline().split()
        assert line and line[0] == "READY", line
        return int(line[1])

    def receiver(self, base="/dci/spmis", token="rcv-token", jwks_url=None):
        """An SP-MIS callback receiver under base; it checks igw's signatures against jwks_url
        when given (then an unsigned callback is refused 401), else records them unchecked."""
        argv = [os.path.join(SIM_DIR, "spmis_receiver.py"), "--port", "0", "--base", base,
                "--token", token]
        if jwks_url:
            argv += ["--jwks-url", jwks_url]
        return Receiver(self.spawn(argv))

    def close(self):
        for p in self.procs:
            p.terminate()
            p.wait()
        self.procs = []


class Receiver:
    """Client side of a running tests/sim/spmis_receiver.py."""

    def __init__(self, port):
        self.port = port

    def call(self, path, body=None):
        """GET path (POST with body as JSON) on the receiver; the JSON answer."""
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def received(self, message_id=None):
        """The callbacks accepted ({path, sig, envelope}), only those whose header.message_id is
        message_id when given."""
        got = self.call("/_received")
        if message_id is None:
            return got
        return [c for c in got if c["envelope"]["header"].get("message_id") == message_id]

    def fail(self, n, status=503):
        """The next n callbacks are answered status (a receiver down for a while)."""
        return self.call("/_control", {"fail": n, "status": status})
