# SPDX-License-Identifier: Apache-2.0
"""igw gen (docs/SYNTHETIC-DATA.md) with the real binary: usage errors (exit 2), determinism
(same seed -> same bytes, another seed -> other bytes), referential integrity and distribution
bounds over 10,000 insurees (gen_check.py), --kinds, the records fed to igw's openIMIS maps,
flat memory (peak RSS at 100,000 insurees
against 10,000), the progress bar, and --post: into a real igw whose file route must hold
exactly the generated records, the documented insurees channel (map to FHIR Patients on the
partner simulator), a wrong token (401, exit 1), 503 + Retry-After answered by
tests/sim/sink.py (resent after the delay, stored once per Idempotency-Key) and a port where
nothing listens. Python stdlib."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sim"))
from igwtest import IGW_BIN, IGW_SRC, Gateway, eventually, free_port, run  # noqa: E402
import gen_check  # noqa: E402
from sink import Sink  # noqa: E402
from fhir_server import FhirServer  # noqa: E402

TOKEN = "gen-test-token"


def gen(*args, env=None, timeout=120):
    e = dict(os.environ)
    e.pop("IGW_GEN_TOKEN", None)
    e.update(env or {})
    p = subprocess.run([IGW_BIN, "gen"] + list(args), capture_output=True, timeout=timeout, env=e)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def test_usage_errors():
    rc, out, err = gen("--help")
    assert rc == 0 and b"--insurees" in out and b"--post" in out
    for args, msg in [(["--insurees", "0"], "--insurees wants a whole number"),
                      (["--insurees", "12x"], "--insurees wants a whole number"),
                      (["--insurees", "100000001"], "--insurees wants a whole number"),
                      (["--seed", "-1"], "--seed wants a whole number"),
                      (["--kinds", "insuree,nope"], 'unknown kind "nope"'),
                      (["--bogus", "1"], 'unknown option "--bogus"'),
                      (["--insurees"], "--insurees needs a value"),
                      (["--token-file", "/dev/null"], "--token-file only goes with --post"),
                      (["--post", "ftp://x", "--insurees", "1"], "http:// or https://"),
                      (["--post", "http://127.0.0.1:1", "--channel-path", "x"], "must start with /"),
                      (["--token", "secret"], "never taken from the command line")]:
        rc, out, err = gen(*args)
        assert rc == 2, (args, rc, err)
        assert msg in err, (args, err)
        assert out == b"", (args, out[:200])
        assert "secret" not in err
    # output errors: exit 1 with the reason, once
    rc, out, err = gen("--insurees", "1000", "--out", "/dev/full")
    assert rc == 1 and err.count("No space left on device") == 1, err
    rc, out, err = gen("--insurees", "10", "--out", "/nonexistent-dir/x.jsonl")
    assert rc == 1 and "/nonexistent-dir/x.jsonl: No such file or directory" in err, err


def sha(b):
    return hashlib.sha256(b).hexdigest()


def test_deterministic():
    rc1, a, _ = gen("--seed", "7", "--insurees", "3000")
    rc2, b, _ = gen("--seed", "7", "--insurees", "3000")
    rc3, c, _ = gen("--seed", "8", "--insurees", "3000")
    assert rc1 == rc2 == rc3 == 0
    assert sha(a) == sha(b) and len(a) > 100000
    assert sha(a) != sha(c)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "x.jsonl")
        rc, out, err = gen("--seed", "7", "--insurees", "3000", "--out", path)
        assert rc == 0 and out == b"" and err == "", err
        with open(path, "rb") as f:
            assert sha(f.read()) == sha(a)
    # a smaller run is not a prefix of a bigger one (sizes depend on N), but a run is complete
    lines = a.decode().splitlines()
    assert json.loads(lines[0]) == {"kind": "meta", "format": "igw-gen/1", "seed": 7,
                                    "insurees": 3000, "referenceDate": "2025-12-31"}
    assert sum(1 for ln in lines if ln.startswith('{"kind":"insuree"')) == 3000


def test_integrity_and_distributions_10k():
    rc, out, err = gen("--seed", "1", "--insurees", "10000")
    assert rc == 0, err
    s = gen_check.summary(gen_check.check(out.decode("utf-8").splitlines()))
    c = s["count"]
    assert c["insuree"] == 10000
    assert 1900 <= c["family"] <= 2600, c
    assert c["location"] >= 4 and c["healthFacility"] >= 2 and c["product"] >= 3
    assert 0.44 <= s["female_share"] <= 0.56, s
    assert 0.001 <= s["other_share"] <= 0.02, s
    assert 0.25 <= s["under15_share"] <= 0.50, s
    assert 0.01 <= s["over65_share"] <= 0.15, s
    assert s["max_age"] <= 100
    assert 4.0 <= s["mean_family_size"] <= 5.2 and s["max_family_size"] <= 10, s
    assert 0.8 <= s["policies_per_family"] <= 1.3, s
    assert 0.4 <= s["claims_per_insuree"] <= 1.2, s
    assert 2 <= s["claimed_median"] <= 500 and s["claimed_max"] <= 20000, s
    total = sum(s["claim_status"].values())
    assert 0.03 <= s["claim_status"].get(1, 0) / total <= 0.15, s
    assert 0.50 <= (s["claim_status"].get(8, 0) + s["claim_status"].get(16, 0)) / total <= 0.85
    assert s["insuree_status"]["AC"] / 10000 >= 0.93
    assert s["surnames"] >= 36, s  # names from at least three of the cultures


def test_integrity_other_seed_small():
    """Tiny and odd sizes keep every invariant (one insuree, a last family cut short)."""
    for n in ("1", "7", "333"):
        rc, out, err = gen("--seed", "123456789012345", "--insurees", n)
        assert rc == 0, err
        s = gen_check.summary(gen_check.check(out.decode("utf-8").splitlines()))
        assert s["count"]["insuree"] == int(n)


def test_kinds_filter():
    rc, full, _ = gen("--seed", "3", "--insurees", "500")
    rc2, part, _ = gen("--seed", "3", "--insurees", "500", "--kinds", "insuree,claim")
    assert rc == rc2 == 0
    want = [ln for ln in full.decode().splitlines()
            if ln.startswith(('{"kind":"meta"', '{"kind":"insuree"', '{"kind":"claim"'))]
    assert part.decode().splitlines() == want and len(want) > 500


# A child's ru_maxrss includes what its parent held when it forked (the high-water mark survives
# exec), so the test's own RSS would swamp igw's: a small fresh interpreter forks igw instead.
RSS_HELPER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), ru.ru_maxrss)
"""


def peak_rss_kib(n):
    out = subprocess.run([sys.executable, "-S", "-c", RSS_HELPER, IGW_BIN, "gen", "--insurees",
                          str(n), "--out", os.devnull], capture_output=True, timeout=120).stdout
    rc, rss = out.split()
    assert int(rc) == 0
    return int(rss)


def test_flat_memory():
    small = peak_rss_kib(10000)
    big = peak_rss_kib(100000)
    print("  peak RSS: %d KiB at 10k, %d KiB at 100k insurees" % (small, big))
    assert big <= small * 1.25 + 2048, (small, big)


def test_progress():
    rc, out, err = gen("--insurees", "2000", "--out", os.devnull, "--progress")
    assert rc == 0 and "100% 2000/2000 insurees" in err and err.endswith("\n"), err[-200:]
    rc, out, err = gen("--insurees", "2000", "--out", os.devnull)
    assert rc == 0 and err == "", err  # stderr is not a terminal here


MAPS = {"insuree": ["openimis-insuree-to-patient"], "family": ["openimis-family-to-group"],
        "policy": ["openimis-policy-to-coverage", "openimis-policy-to-contract"],
        "claim": ["openimis-claim-to-claim", "openimis-claim-to-claimresponse"],
        "healthFacility": ["openimis-hf-to-organization", "openimis-hf-to-location"],
        "product": ["openimis-product-to-insuranceplan"],
        "invoice": ["openimis-invoice-to-invoice"],
        "payment": ["openimis-payment-to-paymentnotice"]}


def test_records_feed_the_maps():
    """The records are what igw's openIMIS maps read: each map turns a sample of its kind into
    a resource with an id (the uuid) and no error."""
    rc, out, _ = gen("--seed", "11", "--insurees", "200")
    assert rc == 0
    sample = {}
    for ln in out.decode().splitlines():
        k = json.loads(ln)["kind"]
        if k in MAPS and len(sample.setdefault(k, [])) < 6:
            sample[k].append(ln)
    for kind, maps in MAPS.items():
        assert sample.get(kind), kind
        for m in maps:
            for ln in sample[kind]:
                p = subprocess.run([IGW_BIN, "map", "run", os.path.join(IGW_SRC, "mappings", m)],
                                   input=ln.encode(), capture_output=True, timeout=30)
                assert p.returncode == 0, (m, p.stderr.decode()[:500])
                res = json.loads(p.stdout)
                rec = json.loads(ln)
                assert res["resourceType"] and res.get("id") in (rec.get("uuid"), rec.get("id")), \
                    (m, res.get("id"))


CONFIG = """
http:
  listen: http://127.0.0.1:{port}
  max_inflight: 64
queue:
  path: queue
  map_size: 64MiB
channels:
  openimis-events:
    listen: POST /events/openimis/{event}
    auth: { type: bearer, tokens_file: secrets/gen.tokens }
    content_types: [application/json]
    routes:
      out:
        url: file://out/events.ndjson
"""


def test_post_to_igw():
    gw = Gateway(CONFIG, extra_files={"secrets/gen.tokens": TOKEN + "\n"}).start()
    try:
        tok = os.path.join(gw.dir, "token")
        with open(tok, "w") as f:
            f.write(TOKEN + "\n")
        rc, out, err = gen("--seed", "5", "--insurees", "150", "--post",
                           "http://127.0.0.1:%d" % gw.port, "--token-file", tok,
                           "--concurrency", "4")
        assert rc == 0, err
        assert out == b""
        assert TOKEN not in err
        _, jsonl, _ = gen("--seed", "5", "--insurees", "150")
        want = sorted(jsonl.decode().splitlines()[1:])
        assert "posted %d records" % len(want) in err and "%d accepted" % len(want) in err, err
        path = os.path.join(gw.dir, "out", "events.ndjson")

        def lines():
            with open(path) as f:
                return [ln for ln in f.read().splitlines() if ln]
        eventually(lambda: len(lines()) >= len(want), timeout=60, what="all records delivered")
        assert sorted(lines()) == want
        # the same run again: every record has the same Idempotency-Key, nothing new is stored
        rc, out, err = gen("--seed", "5", "--insurees", "150", "--post",
                           "http://127.0.0.1:%d" % gw.port, "--token-file", tok)
        assert rc == 0, err
        time.sleep(1.0)
        assert sorted(lines()) == want
        # the token from the environment; a wrong one is refused (401): exit 1, counted
        rc, out, err = gen("--insurees", "3", "--post", "http://127.0.0.1:%d" % gw.port,
                           env={"IGW_GEN_TOKEN": "wrong"})
        assert rc == 1 and "0 accepted" in err and "stopped: the server answered HTTP 401" in err, err
        assert "wrong" not in err
        assert gw.stop() == 0
    finally:
        gw.cleanup()


PATIENT_CONFIG = """
http:
  listen: http://127.0.0.1:{port}
queue:
  path: queue
mappings: { dir: "MAPS" }
channels:
  insurees:
    listen: POST /events/openimis/insuree
    auth: { type: bearer, tokens_file: secrets/gen.tokens }
    routes:
      partner:
        url: "FHIRURL"
        map: openimis-insuree-to-patient
        output: fhir-r4
        fhir: { conditional: identifier }
"""


def test_post_insurees_become_patients():
    """The documented insurees channel (docs/FHIR-CHANNELS.md): generated insurees posted to it
    end up as valid FHIR Patients on the partner server, one per chfId."""
    server = FhirServer()
    gw = Gateway(PATIENT_CONFIG.replace("FHIRURL", server.url)
                 .replace("MAPS", os.path.join(IGW_SRC, "mappings")),
                 extra_files={"secrets/gen.tokens": TOKEN + "\n"})
    try:
        gw.start()
        rc, out, err = gen("--seed", "4", "--insurees", "60", "--kinds", "insuree", "--post",
                           "http://127.0.0.1:%d" % gw.port, env={"IGW_GEN_TOKEN": TOKEN})
        assert rc == 0 and "60 accepted" in err, err
        _, jsonl, _ = gen("--seed", "4", "--insurees", "60", "--kinds", "insuree")
        chf = {json.loads(ln)["chfId"] for ln in jsonl.decode().splitlines()[1:]}

        def stored():
            got = server.store("Patient")
            return got if len(got) >= 60 else None
        got = eventually(stored, timeout=60, what="60 Patients on the partner")
        codes = {i["value"] for p in got for i in p.get("identifier", [])
                 if i.get("type", {}).get("coding", [{}])[0].get("code") == "Code"}
        assert codes == chf and len(got) == 60
        assert gw.stop() == 0
    finally:
        gw.cleanup()
        server.stop()


def test_post_retry_after_503():
    sink = Sink()
    try:
        sink.control(fail=3, status=503, retry_after=1)
        t0 = time.time()
        rc, out, err = gen("--insurees", "5", "--kinds", "insuree", "--post", sink.url,
                           "--channel-path", "/in/{kind}", "--concurrency", "2",
                           env={"IGW_GEN_TOKEN": TOKEN})
        assert rc == 0, err
        assert "5 accepted" in err and "3 retries" in err, err
        assert time.time() - t0 >= 0.9
        got = sink.received("/in/insuree")
        assert len(got) == 8, len(got)
        assert all(r["headers"].get("authorization") == "Bearer " + TOKEN for r in got)
        ok = sink.delivered("/in/insuree")
        keys = [r["headers"]["idempotency-key"] for r in ok]
        assert len(ok) == 5 and len(set(keys)) == 5, keys
        # a resent record keeps its key and arrives no sooner than its Retry-After
        first = {}
        for r in got:
            k = r["headers"]["idempotency-key"]
            if r["status"] == 503:
                first.setdefault(k, r["t"])
            elif k in first:
                assert r["t"] - first[k] >= 0.9, (k, r["t"] - first[k])
        assert len(first) >= 1
        # retries exhausted: exit 1, reported
        sink.control(fail=10, status=503)
        rc, out, err = gen("--insurees", "1", "--kinds", "insuree", "--post", sink.url,
                           "--channel-path", "/in/{kind}", "--retries", "1")
        assert rc == 1 and "HTTP 503" in err and "1 failed" in err, err
    finally:
        sink.stop()


def test_post_unreachable():
    """Nothing listens: each record is retried, then the run stops (exit 1) instead of trying
    every remaining record."""
    port = free_port()
    t0 = time.time()
    rc, out, err = gen("--insurees", "1000", "--post", "http://127.0.0.1:%d" % port,
                       "--retries", "1", env={"IGW_GEN_TOKEN": TOKEN})
    assert rc == 1 and "does not accept connections" in err, err
    assert "Couldn't connect" in err and TOKEN not in err
    assert time.time() - t0 < 20


run([test_usage_errors, test_deterministic, test_integrity_and_distributions_10k,
     test_integrity_other_seed_small, test_kinds_filter, test_flat_memory, test_progress,
     test_records_feed_the_maps, test_post_to_igw, test_post_insurees_become_patients,
     test_post_retry_after_503,
     test_post_unreachable])
