# SPDX-License-Identifier: Apache-2.0
"""DCI signatures and partners end to end (docs/DCI.md, "Signatures and partners"), with the real
`igw serve`: igw's JWKS at GET /.well-known/jwks.json (public parts only, both keys during a
rotation) and the OAuth2 client-credentials endpoint POST /oauth2/client/token, whose access
tokens (JWTs signed by igw, RS256 and ES256) are verified here by Python's `cryptography`
against the served JWKS, not by igw's code; refused clients, wrong grant types and methods;
client secrets and tokens never in the log; `igw config check` refusals with file:line:column;
and callback:<partner> routes: a DCI callback goes to the partner's configured base URL + the
DCI path chosen by header.sender_uri, while a sender_uri on another host, port or scheme, with
user info or a ".." is never called (dead-lettered). Inbound signature verification itself is
covered by tests/unit/gateway/sign/sign_test.c (a channel calls it through the dci dialect).
Python 3 standard library, plus `cryptography` for the JWS checks (skipped without it)."""
import base64
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
from igwtest import IGW_BIN, IGW_FIXTURES, Gateway, eventually, run, skip  # noqa: E402
from sink import Sink  # noqa: E402

FIX = os.path.join(IGW_FIXTURES, "dci", "sign")
SECRET = "client-secret-never-logged-1"
STATIC = "static-partner-token-never-logged"


def read(name):
    with open(os.path.join(FIX, name)) as f:
        return f.read()


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify_jws(token, jwks):
    """Verifies a compact JWS with the JWKS using `cryptography`; returns the payload."""
    try:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    except ImportError:
        skip("python cryptography is not installed")
    h, p, s = token.split(".")
    hdr = json.loads(b64d(h))
    key = [k for k in jwks["keys"] if k["kid"] == hdr["kid"]][0]
    si = (h + "." + p).encode()
    sig = b64d(s)
    n = lambda v: int.from_bytes(b64d(v), "big")  # noqa: E731
    if hdr["alg"] == "RS256":
        pub = rsa.RSAPublicNumbers(n(key["e"]), n(key["n"])).public_key()
        pub.verify(sig, si, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert hdr["alg"] == "ES256" and key["crv"] == "P-256"
        pub = ec.EllipticCurvePublicNumbers(n(key["x"]), n(key["y"]), ec.SECP256R1()).public_key()
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        pub.verify(der, si, ec.ECDSA(hashes.SHA256()))
    return hdr, json.loads(b64d(p))


def config(signing, extra_partner="", routes="", sink_url="http://127.0.0.1:9"):
    return """
http: { listen: "http://127.0.0.1:{port}" }
queue: { path: "{dir}/queue" }
signing: %s
partners:
  crvs:
    base_urls: ["%s/dci/spmis/", "%s/other"]
    client_id: crvs-client
    client_secret_file: crvs.secret
    auth: { type: bearer, tokens_file: crvs.tokens }
%s
channels:
  cb:
    listen: POST /cb
    routes:
      out: { url: "callback:crvs", retry: { max_attempts: 1 } }
%s
""" % (signing, sink_url, sink_url, extra_partner, routes)


FILES = {"crvs.secret": SECRET + "\n", "crvs.tokens": STATIC + "\n"}


def gateway(signing, **kw):
    files = dict(FILES)
    files["a.pem"] = read("partner-a.pem")
    files["b.pem"] = read("partner-b.pem")
    files["c.pem"] = read("partner-c.pem")
    return Gateway(config(signing, **kw), extra_files=files).start()


def token_request(gw, form, ctype="application/x-www-form-urlencoded"):
    st, _, body = gw.request("POST", "/oauth2/client/token", body=form.encode(),
                             headers={"Content-Type": ctype})
    return st, json.loads(body) if body else None


GOOD = "grant_type=client_credentials&client_id=crvs-client&client_secret=" + SECRET


def check_token_roundtrip(gw, alg):
    st, _, body = gw.request("GET", "/.well-known/jwks.json")
    assert st == 200, st
    jwks = json.loads(body)
    assert all("d" not in k and "p" not in k for k in jwks["keys"]), "private part served"
    assert jwks["keys"][0]["alg"] == alg and jwks["keys"][0]["use"] == "sig"
    st, tok = token_request(gw, GOOD + "&scope=registry.search")
    assert st == 200, (st, tok)
    assert tok["token_type"] == "bearer" and tok["expires_in"] == 300
    hdr, claims = verify_jws(tok["access_token"], jwks)
    assert hdr["alg"] == alg and hdr["kid"] == jwks["keys"][0]["kid"]
    assert claims["sub"] == "crvs" and claims["iss"] == "igw" and claims["aud"] == "igw"
    assert claims["scope"] == "registry.search"
    assert claims["iat"] <= time.time() + 5 and claims["exp"] - claims["iat"] == 300
    return tok["access_token"]


def test_jwks_and_token_rs256():
    gw = gateway("{ key_file: a.pem }")
    try:
        token = check_token_roundtrip(gw, "RS256")
        log = gw.logs()
        assert SECRET not in log and token not in log and token.split(".")[2] not in log
    finally:
        gw.cleanup()


def test_jwks_and_token_es256():
    gw = gateway("{ key_file: b.pem, alg: ES256, kid: igw-ec-1 }")
    try:
        check_token_roundtrip(gw, "ES256")
        st, _, body = gw.request("GET", "/.well-known/jwks.json")
        assert json.loads(body)["keys"][0]["kid"] == "igw-ec-1"
    finally:
        gw.cleanup()


def test_rotation():
    """During a rotation both public keys are served, the new one first; the new one signs."""
    gw = gateway("{ key_file: c.pem, kid: k2, previous_key_file: a.pem, previous_kid: k1 }")
    try:
        st, _, body = gw.request("GET", "/.well-known/jwks.json")
        jwks = json.loads(body)
        assert [k["kid"] for k in jwks["keys"]] == ["k2", "k1"], jwks
        st, tok = token_request(gw, GOOD)
        hdr, _ = verify_jws(tok["access_token"], jwks)
        assert hdr["kid"] == "k2"
    finally:
        gw.cleanup()


def test_token_refusals():
    gw = gateway("{ key_file: a.pem }")
    try:
        st, b = token_request(gw, "grant_type=client_credentials&client_id=crvs-client&"
                                  "client_secret=wrong-secret-value")
        assert st == 401 and b["error"] == "invalid_client", (st, b)
        st, b = token_request(gw, "grant_type=client_credentials&client_id=nobody&"
                                  "client_secret=" + SECRET)
        assert st == 401 and b["error"] == "invalid_client"
        st, b = token_request(gw, "grant_type=password&client_id=crvs-client&client_secret=x")
        assert st == 400 and b["error"] == "unsupported_grant_type"
        st, b = token_request(gw, "client_id=crvs-client&client_secret=" + SECRET)
        assert st == 400 and b["error"] == "invalid_request"
        st, b = token_request(gw, json.dumps({"grant_type": "client_credentials"}),
                              ctype="application/json")
        assert st == 400 and b["error"] == "invalid_request"
        st, _, _ = gw.request("GET", "/oauth2/client/token")
        assert st == 405
        st, _, _ = gw.request("POST", "/.well-known/jwks.json", body=b"{}",
                              headers={"Content-Type": "application/json"})
        assert st == 405
        st, _, _ = gw.request("POST", "/oauth2/client/token", body=b"x" * 9000,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert st == 413
        assert "wrong-secret-value" not in gw.logs() and SECRET not in gw.logs()
    finally:
        gw.cleanup()


def test_not_configured():
    """Without signing and clients the two paths are not igw's: 404 like any unknown path."""
    gw = Gateway("""
http: { listen: "http://127.0.0.1:{port}" }
queue: { path: "{dir}/queue" }
channels:
  a: { listen: POST /a, routes: { f: { url: "file://{dir}/out.jsonl" } } }
""").start()
    try:
        assert gw.request("GET", "/.well-known/jwks.json")[0] == 404
        assert gw.request("POST", "/oauth2/client/token", body=b"a=b",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})[0] == 404
    finally:
        gw.cleanup()


def envelope(action, sender_uri=None, meta_uri=None, tag="x"):
    hdr = {"version": "1.0.0", "message_id": tag, "message_ts": "2025-01-01T00:00:00Z",
           "action": action, "sender_id": "igw", "total_count": 1}
    if sender_uri is not None:
        hdr["sender_uri"] = sender_uri
    if meta_uri is not None:
        hdr["meta"] = {"sender_uri": meta_uri}
    return json.dumps({"signature": "", "header": hdr,
                       "message": {"transaction_id": tag, "tag": tag}}).encode()


def test_callback_addresses():
    sink = Sink()
    gw = None
    try:
        gw = gateway("{ key_file: a.pem }", sink_url=sink.url)
        base = sink.url
        good = [
            ("on-search", None, None, "/dci/spmis/registry/on-search"),
            ("on-search", base + "/dci/spmis", None, "/dci/spmis/registry/on-search"),
            ("notify", None, base + "/other/", "/other/registry/notify"),
            ("txn-on-status", base.upper().replace("HTTP", "http") + "/dci/spmis", None,
             "/dci/spmis/registry/txn/on-status"),
            ("on-search", base + "/dci/spmis/callback/on-search", None,
             "/dci/spmis/callback/on-search"),
        ]
        port = int(base.rsplit(":", 1)[1])
        bad = [
            ("on-search", "http://127.0.0.2:%d/dci/spmis" % port),       # another host
            ("on-search", "http://127.0.0.1:%d/dci/spmis" % (port + 1)),  # another port
            ("on-search", "https://127.0.0.1:%d/dci/spmis" % port),      # another scheme
            ("on-search", "http://evil.example@127.0.0.1:%d/dci/spmis" % port),  # userinfo
            ("on-search", "http://127.0.0.1:%d@evil.example/dci/spmis" % port),
            ("on-search", base + "/dci/spmis/../../admin"),               # ..
            ("on-search", base + "/dci/spmis/%2e%2e/admin"),
            ("on-search", base + "/dci/spmisX"),
            ("on-search", "file:///etc/passwd"),
            ("bogus-action", None),
        ]
        for i, (action, uri) in enumerate(bad):
            st, _, _ = gw.request("POST", "/cb", body=envelope(action, uri, tag="bad%d" % i),
                                  headers={"Content-Type": "application/json"})
            assert st == 202, st
        for i, (action, uri, meta, _) in enumerate(good):
            st, _, _ = gw.request("POST", "/cb", body=envelope(action, uri, meta, "good%d" % i),
                                  headers={"Content-Type": "application/json"})
            assert st == 202, st
        eventually(lambda: len(sink.received()) >= len(good), what="every good callback")
        time.sleep(0.5)
        got = sorted((json.loads(r["body"])["header"]["message_id"], r["path"])
                     for r in sink.received())
        want = sorted(("good%d" % i, g[3]) for i, g in enumerate(good))
        assert got == want, (got, want)
        log = gw.logs()
        assert log.count("sender_uri is under none") + log.count("not a DCI envelope") >= 1, log
    finally:
        if gw is not None:
            gw.cleanup()
        sink.stop()


def test_relay_byte_for_byte():
    """A signed envelope igw relays reaches the destination as the exact bytes received (odd
    blanks, key order and all), so the sender's signature still verifies downstream."""
    sink = Sink()
    gw = None
    try:
        routes = ("  relay:\n    listen: POST /relay\n    routes:\n"
                  "      fwd: { url: \"%s/registry/search\" }\n" % sink.url)
        gw = gateway("{ key_file: a.pem }", routes=routes, sink_url=sink.url)
        body = read("reordered.json").encode()
        assert body.count(b"\n") > 3 and b"   " in body  # not compact JSON
        st, _, _ = gw.request("POST", "/relay", body=body,
                              headers={"Content-Type": "application/json"})
        assert st == 202, st
        rec = eventually(lambda: sink.received("/registry/search"), what="relayed")
        assert rec[0]["body"].encode() == body, "relayed bytes differ"
    finally:
        if gw is not None:
            gw.cleanup()
        sink.stop()


def check_refused(text, want, files=None):
    d = Gateway(text, extra_files=files or {})  # writes the config; never started
    try:
        p = subprocess.run([IGW_BIN, "config", "check", d.config_path], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode != 0, p.stdout
        assert want in p.stderr, p.stderr
        assert "igw.conf:" in p.stderr, p.stderr
    finally:
        d.cleanup()


HEAD = 'http: { listen: "http://127.0.0.1:{port}" }\nqueue: { path: "{dir}/q" }\n'


def test_config_check():
    check_refused(HEAD + "partners: { p: { base_urls: [\"http://u@h/x\"] } }\n",
                  "base_urls: user info")
    check_refused(HEAD + "partners: { p: { base_urls: [\"ftp://h/x\"] } }\n",
                  "not an http(s) address")
    check_refused(HEAD + "partners: { p: { verify: true } }\n",
                  "verify: true needs jwks_url or jwks_file")
    check_refused(HEAD + "partners: { p: { client_id: x } }\n",
                  "client_id and client_secret_file go together")
    check_refused(HEAD + "channels:\n  c:\n    listen: POST /c\n    routes:\n"
                  "      r: { url: \"callback:nobody\" }\n", "names no partner")
    check_refused(HEAD + "signing: { key_file: k.pem, alg: ES256 }\n",
                  "ES256 needs an EC key", files={"k.pem": read("partner-a.pem")})
    check_refused(HEAD + "partners: { p: { jwks_file: j.json, verify: true } }\n",
                  "partners.p.jwks_file", files={"j.json": "{\"nokeys\":1}"})


if __name__ == "__main__":
    run([test_jwks_and_token_rs256, test_jwks_and_token_es256, test_rotation,
         test_token_refusals, test_not_configured, test_callback_addresses, test_relay_byte_for_byte,
         test_config_check])
