# SPDX-License-Identifier: Apache-2.0
"""A 3-node NATS JetStream cluster on loopback for tests (Python 3 standard library only).

    c = NatsCluster(workdir, n=3); c.start(); c.wait_ready()
    c.client_urls()            # "nats://127.0.0.1:P0,nats://127.0.0.1:P1,..."
    c.kill9(0); c.restart(0)   # kill -9 a node, start it again on its own store
    c.cut(2); c.heal(2)        # cut a node off the others (its routes), then let it back
    c.stop()
    n = NatsServer(workdir).start()  # one node, no cluster; n.url
    js_api(port, "STREAM.CREATE.S", {...})  # a JetStream API request, its JSON answer

Each node is a real nats-server (-js) with its own store directory, client port, monitoring
port and cluster port. Routes between nodes go through a small TCP proxy in this process, one
per node (every route connection *to* node k enters through proxy k, whose address node k
advertises to the others). A proxy reads the first line of each connection, the route's
CONNECT, whose "name" is the connecting server's id, so it knows both ends of every route:
cut(k) closes every route connection that has node k at either end and refuses new ones, which
partitions node k from the others while its clients stay connected to it (as a broken switch
port would). No root needed; no network namespace.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request

NATS_SERVER = os.environ.get("NATS_SERVER") or next(
    (p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server")
     if os.access(p, os.X_OK)), None)


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def free_ports(n):
    """n distinct free ports on 127.0.0.1 for listeners that are stopped and started again
    (a killed node or igw instance), below the kernel's ephemeral range when there is room:
    while a listener is down, its clients keep connecting to its port, and a connect to a
    closed loopback port in the ephemeral range can be given that very port as its source (a
    TCP self-connect, holding the port for the client's connect timeout); any outgoing
    connection may take it too. Then the restart fails with "address already in use" (seen in
    it.cluster for a node's client port and an instance's HTTP port). Every socket is held
    until all are chosen, so they are distinct."""
    low = _ephemeral_low()
    socks = []
    try:
        if low > 12000:
            rnd = random.Random()
            for _ in range(200 * n):
                if len(socks) == n:
                    break
                s = socket.socket()
                try:
                    s.bind(("127.0.0.1", rnd.randrange(low - 10000, low)))
                    socks.append(s)
                except OSError:
                    s.close()
        while len(socks) < n:  # no room below the range: any free port
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class _RouteProxy:
    """Listens on port and forwards every connection to 127.0.0.1:target (node `node`)."""

    def __init__(self, cluster, node, target):
        self.cluster = cluster
        self.node = node
        self.target = target
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self.lock = threading.Lock()
        self.links = []  # [client socket, upstream socket, origin server id or None]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            u = socket.create_connection(("127.0.0.1", self.target), timeout=2)
        except OSError:
            c.close()
            return
        u.settimeout(None)
        link = [c, u, None]
        with self.lock:
            self.links.append(link)
        threading.Thread(target=self._pump, args=(u, c, link, False), daemon=True).start()
        self._pump(c, u, link, True)

    def _pump(self, src, dst, link, from_client):
        first = from_client
        buf = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if first:  # learn the origin from the route's CONNECT line
                    buf += data
                    if b"\r\n" in buf or len(buf) > 65536:
                        first = False
                        link[2] = self.cluster._node_of(buf)
                        if self.cluster._is_cut(self.node, link[2]):
                            break
                    dst.sendall(data)
                    continue
                if self.cluster._is_cut(self.node, link[2]):
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            with self.lock:
                if link in self.links:
                    self.links.remove(link)

    def drop(self, node):
        """Closes the links with node at either end."""
        with self.lock:
            sid = self.cluster.ids[node]
            links = [lk for lk in self.links if self.node == node or (sid and lk[2] == sid)]
        for lk in links:
            for s in lk[:2]:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.closed = True
        self.sock.close()
        self.drop(self.node)


class NatsCluster:
    def __init__(self, workdir, n=3, name="igwtest"):
        if NATS_SERVER is None:
            raise RuntimeError("nats-server not installed")
        self.dir = workdir
        self.n = n
        self.name = name
        self.procs = [None] * n
        self.ids = [None] * n
        self.cut_nodes = set()
        self.lock = threading.Lock()
        # the nodes' ports are chosen together (free_ports), while the proxies hold theirs: a
        # port chosen and released one at a time was seen to come back as a proxy's port (the
        # node's monitoring port then answered with a route's INFO line)
        self.proxies = [_RouteProxy(self, i, 0) for i in range(n)]
        ports = free_ports(3 * n)
        self.client, self.monitor, self.cluster = ports[:n], ports[n:2 * n], ports[2 * n:]
        for i in range(n):
            self.proxies[i].target = self.cluster[i]

    # -- proxy callbacks
    def _node_of(self, connect_line):
        """The server id in a route's CONNECT line (None when it is not one)."""
        try:
            line = connect_line.split(b"\r\n", 1)[0]
            return json.loads(line[line.index(b"{"):]).get("name")
        except (ValueError, IndexError, AttributeError):
            return None

    def _is_cut(self, to_node, from_id):
        with self.lock:
            cut = set(self.cut_nodes)
        return to_node in cut or (from_id is not None and any(self.ids[k] == from_id for k in cut))

    # -- nodes
    def _cmd(self, i):
        routes = ",".join("nats://127.0.0.1:%d" % self.proxies[j].port for j in range(self.n) if j != i)
        store = os.path.join(self.dir, "node%d" % i)
        os.makedirs(store, exist_ok=True)
        return [NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(self.client[i]),
                "-m", str(self.monitor[i]), "-n", "node%d" % i, "-sd", store,
                "--cluster_name", self.name, "--cluster", "nats://127.0.0.1:%d" % self.cluster[i],
                "--cluster_advertise", "127.0.0.1:%d" % self.proxies[i].port,
                "--routes", routes]

    def start_node(self, i):
        log = open(os.path.join(self.dir, "node%d.log" % i), "ab")
        self.procs[i] = subprocess.Popen(self._cmd(i), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                self.ids[i] = self.varz(i)["server_id"]
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats node %d did not start" % i)

    def start(self):
        for i in range(self.n):
            self.start_node(i)
        return self

    def varz(self, i, path="varz"):
        with urllib.request.urlopen("http://127.0.0.1:%d/%s" % (self.monitor[i], path), timeout=2) as r:
            return json.loads(r.read())

    def meta_leader(self, i):
        try:
            return self.varz(i, "jsz").get("meta_cluster", {}).get("leader")
        except (OSError, ValueError):
            return None

    def stream_states(self, streams=None):
        """What every running node's monitoring says of each stream it holds: lines "node<i>
        <stream> leader=<its leader> last=<its last sequence> msgs=<count>" (for diagnosis:
        replicas that disagree on the leader or lag); for each stream named in streams also the
        STREAM.INFO answer a new client connected to that node gets (the first to answer)."""
        out = []
        for i in range(self.n):
            if not self.procs[i] or self.procs[i].poll() is not None:
                out.append("node%d down" % i)
                continue
            try:
                jsz = self.varz(i, "jsz?accounts=true&streams=true")
            except (OSError, ValueError) as e:
                out.append("node%d jsz: %s" % (i, e))
                continue
            for acc in jsz.get("account_details") or []:
                for st in acc.get("stream_detail") or []:
                    state = st.get("state", {})
                    out.append("node%d %s leader=%s last=%s msgs=%s" % (
                        i, st.get("name"), (st.get("cluster") or {}).get("leader"),
                        state.get("last_seq"), state.get("messages")))
            for name in streams or []:  # as answered to a new client on this node
                try:
                    info = js_api(self.client[i], "STREAM.INFO." + name, {}, timeout=2)
                    out.append("node%d client: %s leader=%s last=%s" % (
                        i, name, (info.get("cluster") or {}).get("leader"),
                        (info.get("state") or {}).get("last_seq")))
                except (OSError, ValueError) as e:
                    out.append("node%d client: %s: %s" % (i, name, e))
        return out

    def wait_ready(self, timeout=30, nodes=None):
        """Until every running node (or those given) sees a JetStream meta leader."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            up = [i for i in (nodes or range(self.n)) if self.procs[i] and self.procs[i].poll() is None]
            if up and all(self.meta_leader(i) for i in up):
                return
            time.sleep(0.1)
        raise RuntimeError("JetStream cluster not ready in %ss" % timeout)

    def client_urls(self, order=None):
        return ",".join("nats://127.0.0.1:%d" % self.client[i] for i in (order or range(self.n)))

    def kill9(self, i):
        p = self.procs[i]
        if p and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
        self.proxies[i].drop(i)

    def restart(self, i):
        self.kill9(i)
        self.start_node(i)

    def cut(self, i):
        with self.lock:
            self.cut_nodes.add(i)
        for p in self.proxies:
            p.drop(i)

    def heal(self, i):
        with self.lock:
            self.cut_nodes.discard(i)

    def stop(self):
        for i in range(self.n):
            p = self.procs[i]
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for p in self.proxies:
            p.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class NatsServer:
    """One nats-server -js on loopback, no cluster."""

    def __init__(self, workdir):
        if NATS_SERVER is None:
            raise RuntimeError("nats-server not installed")
        self.dir = workdir
        self.port = _free_port()
        self.url = "nats://127.0.0.1:%d" % self.port
        self.proc = None

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        log = open(os.path.join(self.dir, "nats.log"), "ab")
        self.proc = subprocess.Popen([NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(self.port),
                                      "-sd", os.path.join(self.dir, "store")],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                js_api(self.port, "INFO", {})
                return self
            except (OSError, ValueError):
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def js_api(port, what, req, timeout=5):
    """Sends a JetStream API request ($JS.API.<what>, a JSON body) over the NATS protocol and
    returns its JSON answer (e.g. what="STREAM.CREATE.S" with a stream config)."""
    body = json.dumps(req).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        f = s.makefile("rb")
        if not f.readline().startswith(b"INFO "):
            raise ValueError("not a NATS server")
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB _INBOX.igwt 1\r\n'
                  + b"PUB $JS.API.%s _INBOX.igwt %d\r\n%s\r\nPING\r\n" % (what.encode(), len(body), body))
        while True:
            line = f.readline()
            if not line:
                raise OSError("connection closed")
            if line.startswith(b"PING"):
                s.sendall(b"PONG\r\n")
            elif line.startswith(b"MSG "):
                n = int(line.split()[-1])
                data = f.read(n + 2)[:n]
                return json.loads(data)
            elif line.startswith(b"-ERR"):
                raise OSError(line.decode(errors="replace").strip())
