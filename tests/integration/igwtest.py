# SPDX-License-Identifier: Apache-2.0
"""Shared helpers for igw integration tests: start the real igw binary on 127.0.0.1 with a
config written to a temporary directory, talk HTTP to it with the standard library, and run
small test functions with a closing "N passed, N failed" line. Python standard library only."""
import atexit
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

IGW_BIN = os.environ.get("IGW_BIN", os.path.join(os.path.dirname(__file__), "../../build/cli/igw"))
IGW_SRC = os.environ.get("IGW_SRC", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
IGW_FIXTURES = os.environ.get("IGW_FIXTURES", os.path.join(IGW_SRC, "tests", "fixtures"))
SIM_DIR = os.path.join(IGW_SRC, "tests", "sim")


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


_EPHEMERAL_LOW = _ephemeral_low()
_handed = set()
_rng = random.SystemRandom()  # not the tests' own (they may seed it)


def free_port():
    """A port nothing listens on, for a server a test starts next. Taken below the kernel's
    ephemeral range when there is room: a port from bind(0) is an ephemeral one, which any
    outgoing connection of a loaded box (a flood test beside) may take as its local port
    before the server binds it (EADDRINUSE)."""
    low = _EPHEMERAL_LOW - 1 if _EPHEMERAL_LOW > 12000 else 0
    for _ in range(200 if low else 0):
        port = _rng.randint(max(10000, low - 12000), low)
        if port in _handed:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue  # bound, or in TIME_WAIT
        finally:
            s.close()
        _handed.add(port)
        return port
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before listening" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d not listening after %.1fs" % (port, timeout))


class Gateway:
    """A running igw serve. config is YAML text; {port}, {dir} and {sp} are substituted."""

    def __init__(self, config, workdir=None, port=None, extra_files=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="igw-it-")
        self.port = port or free_port()
        self.sp = "ipc://%s/igw.ipc" % self.dir
        self.config_text = config.replace("{port}", str(self.port)).replace("{dir}", self.dir).replace("{sp}", self.sp)
        self.config_path = os.path.join(self.dir, "igw.conf")
        with open(self.config_path, "w") as f:
            f.write(self.config_text)
        for name, content in (extra_files or {}).items():
            path = os.path.join(self.dir, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(content)
        self.proc = None
        self.log_path = os.path.join(self.dir, "igw.log")

    def start(self, wait=True):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([IGW_BIN, "serve", "--config", self.config_path],
                                     cwd=self.dir, stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            wait_port(self.port, proc=self.proc)
        return self

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout=15):
        """SIGTERM and wait; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("igw did not stop within %ss of SIGTERM" % timeout)
        self.log.close()
        return self.proc.returncode

    def stop_clean(self, timeout=15):
        """SIGTERM; requires exit 0 and no sanitizer report in the log (IGW_SANITIZER builds).
        Returns the log text."""
        rc = self.stop(timeout)
        logs = self.logs()
        for bad in SANITIZER_REPORTS:
            assert bad not in logs, "sanitizer report in the igw log:\n" + logs[-4000:]
        assert rc == 0, "igw exited with %s:\n%s" % (rc, logs[-3000:])
        return logs

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request(self, method, path, body=None, headers=None, timeout=10):
        """Returns (status, headers dict (lower-case names), body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            elif isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            conn.close()

    def cleanup(self):
        try:
            self.stop()
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


SANITIZER_REPORTS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "runtime error:")


class SinkAdminEnv:
    """Base of the test environments made of one gateway (self.gw), one sink (self.sink) and
    an admin port (self.admin_port), set by the subclass's __init__. As a context manager it
    starts the gateway and waits for the admin port; on a clean exit it requires a clean stop
    (Gateway.stop_clean); it always removes the gateway's files and stops the sink."""

    def __enter__(self):
        try:
            self.gw.start()
            wait_port(self.admin_port, proc=self.gw.proc)
        except Exception:
            self.sink.stop()
            raise
        return self

    def __exit__(self, exc_type, *exc):
        try:
            if exc_type is None:
                self.gw.stop_clean()
            self.gw.cleanup()
        finally:
            self.sink.stop()


def raw_request(port, data, timeout=3.0):
    """Sends raw bytes, returns everything read until close or timeout (bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        s.close()
    return out


# Sanitizer builds run igw several times slower (TSan 5-15x, ASan about 2x), so waits for the
# gateway to get something done scale with the build; what a test asserts does not change.
SLOWDOWN = {"thread": 4.0}.get(os.environ.get("IGW_SANITIZER", "none"),
                               1.0 if os.environ.get("IGW_SANITIZER", "none") == "none" else 2.0)


def eventually(fn, timeout=10.0, interval=0.05, what="condition"):
    """Calls fn until it returns a true value, for at most timeout seconds (times SLOWDOWN)."""
    timeout *= SLOWDOWN
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(interval)
    raise AssertionError("%s not met within %.1fs (last: %r)" % (what, timeout, last))


# Long forms. A test with a long form reads its sizes through chaos_knob; `make chaos` runs
# every integration test that mentions IGW_CHAOS with IGW_CHAOS=1 (ctest label "chaos"), and
# `make test` runs their short forms. IGW_CHAOS=1 on its own also works for one test file.
CHAOS = os.environ.get("IGW_CHAOS", "") not in ("", "0")


def chaos_knob(name, short, long):
    """The integer in environment variable name, else long under IGW_CHAOS=1, else short."""
    v = os.environ.get(name, "")
    return int(v) if v.strip() else (long if CHAOS else short)


SKIP_CODE = 77  # exit status ctest reports as "Skipped" (SKIP_RETURN_CODE)


class Skip(Exception):
    """Raised by a case that cannot run on this machine (a missing tool or fixture)."""


def skip(reason):
    """Ends the current case as skipped, with the reason on the runner's line."""
    raise Skip(reason)


def _live_children():
    """pid -> command line of this process's children still running (not zombies)."""
    me, out = str(os.getpid()), {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
            if ppid != me or state == "Z":  # a zombie has stopped already
                continue
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                out[int(pid)] = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError, ValueError):
            continue
    return out


def _reap_children(grace=5.0):
    """Kills what this process started and did not stop (children still running after a grace
    for those being stopped); returns their command lines."""
    deadline = time.time() + grace
    left = _live_children()
    while left and time.time() < deadline:
        time.sleep(0.05)
        left = _live_children()
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return [cmd[:120] for cmd in left.values()]


def _reap_at_exit():
    """At interpreter exit (after the test file's own finally blocks and exit handlers): a case
    that failed half-way may have left its servers running, and they would hold ctest's pipe."""
    left = _reap_children()
    if left:
        print("note: killed %d process(es) left running: %s" % (len(left), "; ".join(left)),
              flush=True)


atexit.register(_reap_at_exit)  # registered first: runs last


def run(tests):
    """Runs test functions (name -> fn) and prints the closing line. Exit status: 1 when a case
    failed (or none ran), SKIP_CODE when one was skipped, else 0."""
    only = sys.argv[1:] or None
    passed = failed = skipped = 0
    for fn in tests:
        if only and fn.__name__ not in only:
            continue
        t0 = time.time()
        try:
            fn()
            passed += 1
            print("ok   %s (%.2fs)" % (fn.__name__, time.time() - t0), flush=True)
        except Skip as e:
            skipped += 1
            print("SKIP %s: %s" % (fn.__name__, e), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % fn.__name__, flush=True)
            traceback.print_exc()
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped), flush=True)
    if failed or passed + skipped == 0:
        sys.exit(1)
    sys.exit(SKIP_CODE if skipped else 0)
