# SPDX-License-Identifier: Apache-2.0
"""Deployment (issue 12 item 5): what `cmake --install` lays down, the systemd unit checked by
systemd's own tools, `igw wait-ready` (the unit's readiness step), the container recipe and the
Kubernetes manifests. The install goes into a DESTDIR under a temporary directory; nothing on
the machine is changed. Python 3 standard library (+ python3-yaml for the manifests, skipped
without it); systemd-analyze and a container engine are used when present, else the case is
skipped."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from igwtest import IGW_BIN, IGW_SRC, Gateway, free_port, run, skip  # noqa: E402

BUILD = os.path.dirname(os.path.dirname(os.path.abspath(IGW_BIN)))
MAX_EXPOSURE = 1.5  # systemd-analyze security: the unit must stay "OK" (recorded in OPERATIONS.md)
_staged = {}


def staged():
    """DESTDIR install with prefix /usr, once per run; returns the DESTDIR."""
    if "dest" not in _staged:
        dest = tempfile.mkdtemp(prefix="igw-install-")
        env = dict(os.environ, DESTDIR=dest)
        r = subprocess.run(["cmake", "--install", BUILD, "--prefix", "/usr"], env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        _staged["dest"] = dest
    return _staged["dest"]


def test_install_layout():
    d = staged()
    for f in ["usr/bin/igw", "usr/lib/systemd/system/igw.service", "usr/lib/sysusers.d/igw.conf",
              "etc/igw/igw.conf", "usr/share/igw/mappings/openimis-insuree-to-patient/map",
              "usr/share/doc/igw/CONFIG.md", "usr/share/doc/igw/examples/igw.example.conf"]:
        assert os.path.exists(os.path.join(d, f)), f
    assert os.access(os.path.join(d, "usr/bin/igw"), os.X_OK)
    assert os.path.isdir(os.path.join(d, "var/lib/igw"))
    assert os.path.isdir(os.path.join(d, "etc/igw/secrets"))
    # the config carries secrets' paths: not world-readable
    assert os.stat(os.path.join(d, "etc/igw/igw.conf")).st_mode & 0o007 == 0
    unit = open(os.path.join(d, "usr/lib/systemd/system/igw.service")).read()
    assert "ExecStart=/usr/bin/igw serve --config /etc/igw/igw.conf" in unit, unit
    assert "@IGW_" not in unit, "every placeholder filled in"
    users = open(os.path.join(d, "usr/lib/sysusers.d/igw.conf")).read()
    assert re.search(r"^u igw - .* /var/lib/igw /usr/sbin/nologin$", users, re.M), users


def test_installed_config_checks():
    """The installed production config is valid as soon as its secret exists."""
    d = staged()
    tmp = tempfile.mkdtemp(prefix="igw-etc-")
    conf = open(os.path.join(d, "etc/igw/igw.conf")).read()
    conf = conf.replace("/usr/share/igw/mappings", os.path.join(d, "usr/share/igw/mappings"))
    os.makedirs(os.path.join(tmp, "secrets"))
    with open(os.path.join(tmp, "secrets/admin.tokens"), "w") as f:
        f.write("x" * 32 + "\n")
    with open(os.path.join(tmp, "igw.conf"), "w") as f:
        f.write(conf)
    r = subprocess.run([os.path.join(d, "usr/bin/igw"), "config", "check",
                        os.path.join(tmp, "igw.conf")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    shutil.rmtree(tmp)



def test_reinstall_keeps_config():
    d = staged()
    path = os.path.join(d, "etc/igw/igw.conf")
    with open(path, "a") as f:
        f.write("# edited by the operator\n")
    r = subprocess.run(["cmake", "--install", BUILD, "--prefix", "/usr"],
                       env=dict(os.environ, DESTDIR=d), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Kept: " in r.stdout, r.stdout
    assert open(path).read().endswith("# edited by the operator\n")


def unit_for_host(d):
    """The installed unit with its commands pointing into the DESTDIR (verify checks that they
    exist and are executable)."""
    unit = open(os.path.join(d, "usr/lib/systemd/system/igw.service")).read()
    unit = unit.replace("/usr/bin/igw", os.path.join(d, "usr/bin/igw"))
    path = os.path.join(d, "igw.service")
    with open(path, "w") as f:
        f.write(unit)
    return path


def test_unit_verify():
    if shutil.which("systemd-analyze") is None:
        skip("systemd-analyze not installed")
    r = subprocess.run(["systemd-analyze", "verify", unit_for_host(staged())],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr


def test_unit_security_score():
    if shutil.which("systemd-analyze") is None:
        skip("systemd-analyze not installed")
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                        unit_for_host(staged())], capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", r.stdout)
    assert m, r.stdout + r.stderr
    score = float(m.group(1))
    print("systemd-analyze security: %.1f %s" % (score, m.group(2)))
    assert score <= MAX_EXPOSURE, r.stdout


def test_wait_ready_exit_codes():
    tmp = tempfile.mkdtemp(prefix="igw-wait-")
    noadmin = os.path.join(tmp, "noadmin.conf")
    with open(noadmin, "w") as f:
        f.write("channels: {}\n")
    r = subprocess.run([IGW_BIN, "wait-ready", "--config", noadmin], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0 and "nothing to wait for" in r.stdout, r
    down = os.path.join(tmp, "down.conf")
    with open(os.path.join(tmp, "admin.tokens"), "w") as f:
        f.write("a" * 32 + "\n")
    with open(down, "w") as f:
        f.write("admin: { listen: 'http://127.0.0.1:%d', auth: { type: bearer, tokens_file: "
                "admin.tokens } }\nchannels: {}\n" % free_port())
    r = subprocess.run([IGW_BIN, "wait-ready", "--config", down, "--timeout", "1"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "not ready" in r.stderr, r
    for bad in (["wait-ready"], ["wait-ready", "--config", down, "--timeout", "x"],
                ["wait-ready", "--config", os.path.join(tmp, "missing.conf")]):
        r = subprocess.run([IGW_BIN] + bad, capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (bad, r)
    shutil.rmtree(tmp)


def containerfile_final_stage():
    text = open(os.path.join(IGW_SRC, "deploy/container/Containerfile")).read()
    stages = re.split(r"^FROM ", text, flags=re.M)
    assert len(stages) >= 3, "a build stage and a runtime stage"
    return stages[-1]


def test_container_recipe():
    final = containerfile_final_stage()
    user = re.search(r"^USER (\S+)", final, re.M)
    assert user and not user.group(1).startswith(("0", "root")), "runs as a non-root user"
    assert re.search(r'^VOLUME \["/var/lib/igw"\]', final, re.M), "the queue on a volume"
    assert re.search(r"^HEALTHCHECK .*\n?.*wait-ready", final, re.M), "a health check"
    assert "build-essential" not in final, "no compiler in the runtime image"
    assert not re.search(r"^ADD https?:", final, re.M), "nothing fetched at build by URL"


def test_container_config_checks():
    tmp = tempfile.mkdtemp(prefix="igw-ct-")
    conf = open(os.path.join(IGW_SRC, "deploy/container/igw.conf")).read()
    conf = conf.replace("/usr/share/igw/mappings", os.path.join(IGW_SRC, "mappings"))
    conf = conf.replace("/var/lib/igw", tmp)
    os.makedirs(os.path.join(tmp, "secrets"))
    for s in ("admin.tokens", "openimis.tokens"):
        with open(os.path.join(tmp, "secrets", s), "w") as f:
            f.write(s.split(".")[0] * 4 + "\n")
    with open(os.path.join(tmp, "igw.conf"), "w") as f:
        f.write(conf)
    r = subprocess.run([IGW_BIN, "config", "check", os.path.join(tmp, "igw.conf")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    shutil.rmtree(tmp)


def test_container_build():
    engine = shutil.which("podman") or shutil.which("docker")
    if engine is None:
        skip("no container engine")
    if subprocess.run([engine, "info"], capture_output=True, timeout=30).returncode != 0:
        skip("%s has no daemon reachable here" % engine)
    r = subprocess.run([engine, "build", "-f", "deploy/container/Containerfile", "-t",
                        "igw:test", "."], cwd=IGW_SRC, capture_output=True, text=True,
                       timeout=1200)
    assert r.returncode == 0, r.stderr[-2000:]


def test_k8s_manifests():
    try:
        import yaml
    except ImportError:
        skip("python3-yaml not installed")
    docs = list(yaml.safe_load_all(open(os.path.join(IGW_SRC, "deploy/k8s/igw-lmdb.yaml"))))
    kinds = {d["kind"]: d for d in docs}
    sts = kinds["StatefulSet"]
    pod = sts["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    c = pod["containers"][0]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert mounts["/etc/igw/secrets"]["readOnly"] is True
    assert "/var/lib/igw" in mounts
    assert sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "queue"
    assert sts["spec"]["replicas"] == 1, "LMDB: one writer per queue"
    vols = {v["name"]: v for v in pod["volumes"]}
    assert "secret" in vols["secrets"], "credentials mounted from a Secret"
    assert "NetworkPolicy" in kinds


def test_k8s_jetstream_manifest():
    """JetStream mode: a Deployment (no queue volume), probes, secrets as files, its config
    checks with igw config check (secrets replaced by temporary files)."""
    try:
        import yaml
    except ImportError:
        skip("python3-yaml not installed")
    docs = list(yaml.safe_load_all(open(os.path.join(IGW_SRC, "deploy/k8s/igw-jetstream.yaml"))))
    kinds = {d["kind"]: d for d in docs}
    dep = kinds["Deployment"]
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert dep["spec"]["replicas"] >= 2
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert "secret" in {v["name"]: v for v in pod["volumes"]}["secrets"]
    assert "NetworkPolicy" in kinds
    conf = yaml.safe_load(kinds["ConfigMap"]["data"]["igw.conf"])
    assert conf["queue"]["backend"] == "jetstream" and conf["queue"]["jetstream"]["replicas"] == 3
    work = tempfile.mkdtemp(prefix="igw-k8s-")
    try:
        os.makedirs(os.path.join(work, "secrets"))
        for name in ("admin.tokens", "openimis.tokens", "nats.creds"):
            with open(os.path.join(work, "secrets", name), "w") as f:
                f.write("t0k3n-for-the-check-only\n")
        text = kinds["ConfigMap"]["data"]["igw.conf"].replace("/usr/share/igw/mappings",
                                                              os.path.join(IGW_SRC, "mappings"))
        path = os.path.join(work, "igw.conf")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([IGW_BIN, "config", "check", path], capture_output=True,
                           text=True)
        if "without the JetStream backend" in r.stdout + r.stderr:
            skip("igw built without the JetStream backend")
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run([test_install_layout, test_installed_config_checks, test_reinstall_keeps_config,
         test_unit_verify, test_unit_security_score, test_wait_ready_exit_codes,
         test_container_recipe, test_container_config_checks, test_container_build,
         test_k8s_manifests, test_k8s_jetstream_manifest])
