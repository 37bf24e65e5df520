# SPDX-License-Identifier: Apache-2.0
"""Brute force and hostile input against the real `igw serve` (issue 13, items 3 and 4).

Brute force: 10,000 wrong tokens on a channel and 2,000 on the admin API are throttled per client
address (429 with Retry-After once an address is out of tries; credentials are then not even
checked), the checked-guess rate is measured with the throttle off and on, a valid client keeps
working, and every refusal's log line names the client address. The address is what igw's
connection guard passes in X-Igw-Peer; without the guard every client is "-" and shares one
count, so the cases check what the documentation promises for whichever this build has.
Hostile input: repeated JSON members on FHIR channels (resourceType too, inside Bundle entries
too) get a 400 OperationOutcome, a path parameter that is not UTF-8 gets 400, nothing the admin
API shows is invalid JSON, and any DOCTYPE in XML input is refused. Python standard library
only; every case is bounded in time and count."""
import http.client
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from igwtest import Gateway, eventually, free_port, raw_request, run, wait_port  # noqa: E402

GOOD = "g00d-t0ken-0123456789"
ADMIN_TOKEN = "adm1n-t0ken-0123456789"
FHIR = {"Content-Type": "application/fhir+json"}

CONFIG = """
http:
  listen: "http://127.0.0.1:{port}"
  auth_fail_burst: BURST
  auth_fail_per_minute: 30
admin:
  listen: "http://127.0.0.1:ADMINPORT"
  auth: { type: bearer, tokens: [ADMINTOKEN] }
queue: { path: "{dir}/queue" }
channels:
  json:
    listen: POST /json/{event}
    auth: { type: bearer, tokens: [GOODTOKEN] }
    routes:
      out: { url: "file://{dir}/out/json.ndjson" }
  open:
    listen: POST /open
    routes:
      out: { url: "file://{dir}/out/open.ndjson" }
  fhir_create:
    listen: POST /fhir/{type}
    dialect: fhir
    content_types: [application/fhir+json, application/json]
    routes:
      out: { url: "file://{dir}/out/fhir.ndjson" }
  fhir_bundle:
    listen: POST /fhir
    dialect: fhir
    fhir: { interaction: bundle }
    content_types: [application/fhir+json, application/json]
    routes:
      out: { url: "file://{dir}/out/bundle.ndjson" }
  xml:
    listen: POST /xml
    input: xml
    routes:
      out: { url: "file://{dir}/out/xml.ndjson" }
"""


class Env:
    """A gateway with channels and the admin API; burst 0 turns the throttle off."""

    def __init__(self, burst=10):
        self.admin_port = free_port()
        cfg = (CONFIG.replace("ADMINPORT", str(self.admin_port)).replace("BURST", str(burst))
               .replace("ADMINTOKEN", ADMIN_TOKEN).replace("GOODTOKEN", GOOD))
        self.gw = Gateway(cfg)

    def __enter__(self):
        self.gw.start()
        wait_port(self.admin_port, proc=self.gw.proc)
        return self

    def __exit__(self, exc_type, *exc):
        try:
            if exc_type is None:  # SIGTERM: exit 0 and no sanitizer report
                self.gw.stop_clean()
        finally:
            self.gw.cleanup()

    def conn(self, port=None, source="127.0.0.1"):
        return http.client.HTTPConnection("127.0.0.1", port or self.gw.port, timeout=10,
                                          source_address=(source, 0))

    def admin(self, method, path, token=ADMIN_TOKEN):
        c = self.conn(self.admin_port)
        try:
            c.request(method, path, headers={"Authorization": "Bearer " + token} if token else {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()


def send(c, path, token, body=b'{"a":1}', ctype="application/json"):
    """One request on keep-alive connection c: (status, headers, body)."""
    c.request("POST", path, body=body,
              headers={"Authorization": "Bearer " + token, "Content-Type": ctype})
    r = c.getresponse()
    data = r.read()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def guesses(env, n, port=None, path="/json/ev", admin=False):
    """Sends n wrong tokens (one connection, reopened when igw closes it); returns
    ({status: count}, seconds, first 429's headers)."""
    counts = {}
    first429 = None
    c = env.conn(port)
    t0 = time.time()
    for i in range(n):
        token = "wrong-%08d" % i
        try:
            if admin:
                c.request("GET", "/admin/stats", headers={"Authorization": "Bearer " + token})
                r = c.getresponse()
                st, hdr = r.status, {k.lower(): v for k, v in r.getheaders()}
                r.read()
            else:
                st, hdr, _ = send(c, path, token)
        except (http.client.HTTPException, OSError):
            c.close()
            c = env.conn(port)
            continue
        counts[st] = counts.get(st, 0) + 1
        if st == 429 and first429 is None:
            first429 = hdr
        if hdr.get("connection", "").lower() == "close":
            c.close()
            c = env.conn(port)
    c.close()
    return counts, time.time() - t0, first429


def peer_of_log(env):
    """The address igw logged for our refusals: "-" without the connection guard."""
    m = re.search(r"http 401 unauthorized channel=json peer=(\S+)", env.gw.logs())
    assert m, "no 401 refusal logged with peer="
    return m.group(1)


def test_channel_brute_force_throttled():
    # the rate of checked guesses with the throttle off ...
    with Env(burst=0) as env:
        counts, secs, _ = guesses(env, 2000)
        assert counts == {401: 2000}, counts
        before = 2000 / secs
    # ... and with it on: 10,000 wrong tokens, only the burst and the refill are checked
    with Env(burst=10) as env:
        counts, secs, h429 = guesses(env, 10000)
        checked = counts.get(401, 0)
        after = checked / secs
        print("  checked guesses/s: %.0f without the throttle, %.1f with it (%d of 10000 checked"
              " in %.1fs, %d answered 429)" % (before, after, checked, secs, counts.get(429, 0)))
        assert checked <= 10 + int(secs * 30 / 60) + 1, counts
        assert counts.get(429, 0) >= 10000 - checked - 5, counts
        assert h429 is not None and 1 <= int(h429["retry-after"]) <= 60, h429
        assert after < before / 50, (before, after)
        # the refusal body is the channel's own error shape
        c = env.conn()
        st, hdr, body = send(c, "/json/ev", "wrong-again")
        c.close()
        assert st == 429 and json.loads(body)["error"]["code"] == "too_many_auth_failures", body
        # every refusal names the client address (fail2ban-style)
        peer = peer_of_log(env)
        logs = env.gw.logs()
        refusals = [ln for ln in logs.splitlines() if " 401 " in ln or " 429 " in ln]
        assert len(refusals) >= 10000, len(refusals)
        assert all(("peer=%s" % peer) in ln for ln in refusals), refusals[:3]
        assert "auth throttled peer=%s channel=json" % peer in logs
        assert GOOD not in logs and "wrong-00000001" not in logs  # no credential is logged
        # a channel without auth is not affected by the throttle
        c = env.conn()
        st, _, _ = send(c, "/open", "anything")
        c.close()
        assert st == 202, st
        # a valid client from another address (127.0.0.2)
        c = env.conn(source="127.0.0.2")
        st, hdr, _ = send(c, "/json/ev", GOOD)
        c.close()
        if peer == "-":
            # no guard: one shared count, so the valid client waits out Retry-After too
            assert st == 429, st
        else:
            assert st == 202, st
        # and from the throttled address itself once Retry-After has passed
        wait = int(hdr.get("retry-after", "2")) if st == 429 else 2

        def valid_passes():
            c = env.conn()
            try:
                return send(c, "/json/ev", GOOD)[0] == 202
            finally:
                c.close()
        eventually(valid_passes, timeout=wait + 5, interval=0.5, what="valid token accepted again")


def test_admin_brute_force_throttled():
    with Env(burst=10) as env:
        st, _, _ = env.admin("GET", "/admin/stats")
        assert st == 200, st
        counts, secs, h429 = guesses(env, 2000, port=env.admin_port, admin=True)
        checked = counts.get(401, 0)
        print("  admin: %d of 2000 wrong tokens checked in %.1fs (%.1f/s), %d answered 429"
              % (checked, secs, checked / secs, counts.get(429, 0)))
        assert checked <= 10 + int(secs * 30 / 60) + 1, counts
        assert h429 is not None and 1 <= int(h429["retry-after"]) <= 60, h429
        st, hdr, body = env.admin("GET", "/admin/stats", token="wrong")
        assert st == 429 and json.loads(body)["error"]["code"] == "too_many_auth_failures", body
        logs = env.gw.logs()
        m = re.search(r"admin auth refused peer=(\S+)", logs)
        assert m, "no admin refusal logged with peer="
        assert "admin auth throttled peer=%s" % m.group(1) in logs
        assert ADMIN_TOKEN not in logs
        # the channels keep their own count: a valid channel client is not affected
        c = env.conn()
        st, _, _ = send(c, "/json/ev", GOOD)
        c.close()
        assert st == 202, st
        eventually(lambda: env.admin("GET", "/admin/stats")[0] == 200,
                   timeout=int(hdr.get("retry-after", "2")) + 5, interval=0.5,
                   what="admin token accepted again")


PATIENT = '"resourceType":"Patient","id":"p1","gender":"male"'


def test_fhir_duplicate_members_refused():
    with Env() as env:
        cases = [
            ("/fhir/Patient", '{%s,"resourceType":"Claim"}' % PATIENT, "Patient.resourceType"),
            ("/fhir/Patient", '{%s,"gender":"female"}' % PATIENT, "Patient.gender"),
            ("/fhir", '{"resourceType":"Bundle","type":"transaction","entry":[{"resource":'
                      '{%s,"resourceType":"Claim"},"request":{"method":"POST","url":"Patient"}}]}'
             % PATIENT, "Bundle.entry[0].resource.resourceType"),
        ]
        for path, body, expr in cases:
            c = env.conn()
            st, hdr, data = send(c, path, "x", body=body.encode(), ctype=FHIR["Content-Type"])
            c.close()
            oo = json.loads(data)
            assert st == 400 and oo["resourceType"] == "OperationOutcome", (st, data)
            issue = oo["issue"][0]
            assert "duplicate member" in issue["diagnostics"], oo
            assert expr in issue.get("expression", []), oo
        st, _, s = env.admin("GET", "/admin/stats")
        assert st == 200 and json.loads(s)["messages"] == 0, s  # nothing was stored
        # a clean resource still gets 201
        c = env.conn()
        st, _, _ = send(c, "/fhir/Patient", "x", body=("{%s}" % PATIENT).encode(),
                        ctype=FHIR["Content-Type"])
        c.close()
        assert st == 201, st


def strict_json(data):
    """Parses bytes as JSON text, refusing anything that is not UTF-8."""
    return json.loads(data.decode("utf-8", "strict"))


def test_path_parameter_not_utf8_refused():
    with Env() as env:
        c = env.conn()
        st, _, body = send(c, "/json/%c0%ae%c0%ae", GOOD)
        assert st == 400 and strict_json(body)["error"]["code"] == "bad_path_parameter", body
        st, _, body = send(c, "/json/%ff", GOOD)
        assert st == 400, st
        st, _, body = send(c, "/json/caf%C3%A9", GOOD)
        c.close()
        assert st == 202, (st, body)
        mid = strict_json(body)["id"]
        st, _, view = env.admin("GET", "/admin/messages/" + mid)
        assert st == 200, st
        assert strict_json(view)["metadata"]["params"]["event"] == "caf\u00e9", view


def test_admin_view_valid_json_whatever_was_sent():
    # bytes that are not UTF-8 in a header igw keeps (X-Request-Id): nng 1.5.2 drops a request
    # with any byte above 0x7f in its head without an answer (measured); should one get through
    # (another HTTP edge), it is stored and shown as U+FFFD, never as invalid JSON
    with Env() as env:
        body = b'{"a":1}'
        req = (b"POST /json/ev HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + GOOD.encode() +
               b"\r\nContent-Type: application/json\r\nX-Request-Id: r\xc0\xae\xff1\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
               + body)
        out = raw_request(env.gw.port, req)
        head, _, rbody = out.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 202"):
            assert out == b"" or head.startswith(b"HTTP/1.1 4"), out
            st, _, s = env.admin("GET", "/admin/stats")
            assert strict_json(s)["messages"] == 0, s  # refused: nothing stored
            return
        mid = strict_json(rbody)["id"]
        st, _, view = env.admin("GET", "/admin/messages/" + mid)
        assert st == 200, st
        doc = strict_json(view)
        assert doc["metadata"]["headers"]["x-request-id"] == "r\ufffd\ufffd\ufffd1", doc


def test_xml_doctype_refused():
    with Env() as env:
        docs = [
            b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><r>a</r>',
            b'<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r>a</r>',
            b'<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>',
            b'<!DOCTYPE r><r>a</r>',
        ]
        for d in docs:
            c = env.conn()
            st, _, body = send(c, "/xml", "x", body=d, ctype="application/xml")
            c.close()
            err = strict_json(body)["error"]
            assert st == 400 and "DOCTYPE is not allowed" in err["message"], (st, body)
        c = env.conn()
        st, _, _ = send(c, "/xml", "x", body=b"<r>a</r>", ctype="application/xml")
        c.close()
        assert st == 202, st
        st, _, s = env.admin("GET", "/admin/stats")
        assert json.loads(s)["messages"] == 1, s


if __name__ == "__main__":
    run([test_channel_brute_force_throttled, test_admin_brute_force_throttled,
         test_fhir_duplicate_members_refused, test_path_parameter_not_utf8_refused,
         test_admin_view_valid_json_whatever_was_sent, test_xml_doctype_refused])
