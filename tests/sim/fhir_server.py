# SPDX-License-Identifier: Apache-2.0
"""A small partner FHIR R4 server for delivery tests (Python 3 standard library only).

    python3 fhir_server.py --port N [--host 127.0.0.1] [--store FILE] [--base /fhir]

Stores resources in memory (and, with --store, rewrites FILE as JSON after every change) and
answers like a FHIR server: create (POST [base]/{type}), update (PUT [base]/{type}/{id}),
conditional update (PUT [base]/{type}?identifier=system|value: 0 matches create, 1 match update,
more 412), read (GET [base]/{type}/{id}), search by identifier (GET [base]/{type}?identifier=; Patient also
by family, given, birthdate, gender, phone, email; _sort, _count, _offset, next links),
transaction and batch Bundles (POST [base]), with OperationOutcome bodies on errors. Failures are
injected with POST /_control; GET /_received lists the requests, GET /_store the resources.
See tests/sim/README.md. Prints "READY <port>" once listening.
"""
import argparse
import copy
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

FHIR_JSON = "application/fhir+json"
MAX_BODY = 64 << 20
REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 404: "Not Found",
           405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed",
           413: "Payload Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Entity",
           500: "Internal Server Error", 503: "Service Unavailable"}


class FhirError(Exception):
    def __init__(self, status, code, diagnostics):
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics

    def outcome(self):
        return outcome("error", self.code, self.diagnostics)


def outcome(severity, code, diagnostics):
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}]}


def now_instant():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def split_token(value):
    """FHIR token search value -> (system or None, value); None system = any system,
    "" = no system. Honours the \\| escape."""
    parts, cur, i = [], "", 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            cur += value[i + 1]
            i += 2
            continue
        if c == "|" and not parts:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if parts:
        return parts[0], cur
    return None, cur


def split_list(value):
    """A FHIR search value -> its comma-separated alternatives (OR), honouring the \\, escape
    (\\| and \\\\ are kept for split_token)."""
    parts, cur, i = [], "", 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            cur += value[i:i + 2] if value[i + 1] in "|\\" else value[i + 1]
            i += 2
            continue
        if c == ",":
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    return parts + [cur]


def identifier_matches(resource, system, value):
    for ident in resource.get("identifier") or []:
        if not isinstance(ident, dict) or ident.get("value") != value:
            continue
        if system is None or (ident.get("system") or "") == system:
            return True
    return False


def _names(r, part):
    out = []
    for n in r.get("name") or []:
        v = n.get(part)
        out += v if isinstance(v, list) else [v] if v else []
    return out


def _text_match(values, v, exact):
    return any(x == v if exact else str(x).lower().startswith(v.lower()) for x in values)


def _date_match(r, v, _exact):
    prefix = v[:2] if v[:2] in ("eq", "ne", "gt", "ge", "lt", "le") else "eq"
    d, want = r.get("birthDate") or "", v[2:] if v[:2] == prefix else v
    if not d:
        return False
    return {"eq": d == want, "ne": d != want, "gt": d > want, "ge": d >= want, "lt": d < want,
            "le": d <= want}[prefix]


def _telecom(system):
    return lambda r, v, _exact: any(t.get("system") == system and t.get("value") == v
                                    for t in r.get("telecom") or [])


PATIENT_PARAMS = {
    "family": lambda r, v, exact: _text_match(_names(r, "family"), v, exact),
    "given": lambda r, v, exact: _text_match(_names(r, "given"), v, exact),
    "birthdate": _date_match,
    "gender": lambda r, v, _exact: r.get("gender") == v,
    "phone": _telecom("phone"),
    "email": _telecom("email"),
}
SORT_KEYS = {"family": lambda r: (_names(r, "family") or [""])[0],
             "given": lambda r: (_names(r, "given") or [""])[0],
             "birthdate": lambda r: r.get("birthDate") or "", "_id": lambda r: r.get("id")}


class Store:
    """Resources by type and id; every method runs under the caller's lock."""

    def __init__(self, path=None):
        self.data = {}  # type -> id -> resource
        self.path = path

    def snapshot(self):
        return copy.deepcopy(self.data)

    def restore(self, snap):
        self.data = snap

    def save(self):
        if self.path:
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.data, f)
            os.replace(tmp, self.path)

    def get(self, rtype, rid):
        return self.data.get(rtype, {}).get(rid)

    def search(self, rtype, query):
        """query: dict of lists (parse_qs). identifier and _id on every type; on Patient also
        family and given (starts-with without case, :exact exactly), birthdate (eq ne gt ge lt
        le prefixes), gender, phone and email (telecom). A comma list of values is an OR
        (\\, a literal comma); identifier and gender also take :not (none of the values)."""
        found = list(self.data.get(rtype, {}).values())
        for key, values in query.items():
            name, _, modifier = key.partition(":")
            if name == "identifier" and modifier in ("", "not"):
                for v in values:  # a comma list is an OR; :not matches none of them
                    alts = [split_token(a) for a in split_list(v)]
                    found = [r for r in found if any(identifier_matches(r, sy, va)
                                                     for sy, va in alts) != (modifier == "not")]
            elif key == "_id":
                found = [r for r in found if r.get("id") == values[0]]
            elif rtype == "Patient" and name in PATIENT_PARAMS and (
                    modifier in ("", "exact") or (modifier == "not" and name == "gender")):
                for v in values:
                    alts = [a.replace("\\\\", "\\") for a in split_list(v)]
                    found = [r for r in found if any(PATIENT_PARAMS[name](r, a, modifier == "exact")
                                                     for a in alts) != (modifier == "not")]
            elif not key.startswith("_"):
                raise FhirError(400, "not-supported", "search parameter %r not supported" % key)
        return found

    def put(self, rtype, rid, resource):
        """Writes a version; returns (status, stored resource)."""
        old = self.get(rtype, rid)
        version = int(old["meta"]["versionId"]) + 1 if old else 1
        res = dict(resource)
        res["id"] = rid
        meta = dict(res.get("meta") or {})
        meta["versionId"] = str(version)
        meta["lastUpdated"] = now_instant()
        res["meta"] = meta
        self.data.setdefault(rtype, {})[rid] = res
        return (200 if old else 201), res

    def delete(self, rtype, rid):
        self.data.get(rtype, {}).pop(rid, None)


def check_resource(resource, rtype):
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise FhirError(400, "structure", "the body is not a FHIR resource (no resourceType)")
    if rtype is not None and resource["resourceType"] != rtype:
        raise FhirError(400, "invalid", "resourceType %r does not match the URL's %r"
                        % (resource["resourceType"], rtype))


class Fhir:
    """The FHIR interactions over a Store."""

    def __init__(self, store):
        self.store = store

    def create(self, rtype, resource, if_none_exist=None):
        check_resource(resource, rtype)
        if if_none_exist:
            found = self.store.search(rtype, parse_qs(if_none_exist.lstrip("?")))
            if len(found) > 1:
                raise FhirError(412, "duplicate", "ifNoneExist matched %d resources" % len(found))
            if found:
                return 200, found[0]
        return self.store.put(rtype, uuid.uuid4().hex, resource)

    def update(self, rtype, rid, resource):
        check_resource(resource, rtype)
        if resource.get("id") != rid:
            raise FhirError(400, "invalid", "resource id %r differs from the URL's %r"
                            % (resource.get("id"), rid))
        return self.store.put(rtype, rid, resource)

    def conditional_update(self, rtype, query, resource):
        check_resource(resource, rtype)
        found = self.store.search(rtype, query)
        if len(found) > 1:
            raise FhirError(412, "multiple-matches", "conditional update matched %d resources"
                            % len(found))
        if found:
            rid = found[0]["id"]
            if resource.get("id") not in (None, rid):
                raise FhirError(400, "invalid", "resource id %r differs from the match %r"
                                % (resource.get("id"), rid))
            return self.store.put(rtype, rid, resource)
        rid = resource.get("id")
        if not rid or self.store.get(rtype, rid) is not None:
            rid = uuid.uuid4().hex
        return self.store.put(rtype, rid, resource)

    def read(self, rtype, rid):
        res = self.store.get(rtype, rid)
        if res is None:
            raise FhirError(404, "not-found", "%s/%s is not known" % (rtype, rid))
        return 200, res

    def search_bundle(self, rtype, query):
        """_sort (family, given, birthdate, _id; - for descending; ties in store order), _count with
        _offset and a next link (the base path and query, no host) when more follow."""
        found = self.store.search(rtype, query)
        for key in reversed((query.get("_sort") or [""])[0].split(",")):
            if key.lstrip("-") in SORT_KEYS:
                found.sort(key=SORT_KEYS[key.lstrip("-")], reverse=key.startswith("-"))
            elif key:
                raise FhirError(400, "not-supported", "_sort %r not supported" % key)
        total = len(found)
        links = []
        if "_count" in query:
            try:
                count, offset = int(query["_count"][0]), int((query.get("_offset") or ["0"])[0])
            except ValueError:
                raise FhirError(400, "invalid", "_count and _offset must be integers")
            if count < 0 or offset < 0:
                raise FhirError(400, "invalid", "_count and _offset must not be negative")
            found = found[offset:offset + count]
            if offset + count < total:
                q = {k: v[0] for k, v in query.items() if k != "_offset"}
                q["_offset"] = str(offset + count)
                links.append({"relation": "next", "url": "%s/%s?%s" % (
                    getattr(self, "base", ""), rtype, urlencode(q))})
        return 200, {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links,
                     "entry": [{"fullUrl": "%s/%s" % (rtype, r["id"]), "resource": r,
                                "search": {"mode": "match"}} for r in found]}

    def entry(self, e):
        """One transaction/batch entry -> (status, resource or None)."""
        req = e.get("request") if isinstance(e, dict) else None
        if not isinstance(req, dict) or "method" not in req or "url" not in req:
            raise FhirError(400, "required", "entry.request.method and url are required")
        method, url = req["method"], req["url"]
        parts = urlsplit(url)
        segs = [unquote(s) for s in parts.path.strip("/").split("/") if s]
        query = parse_qs(parts.query)
        res = e.get("resource")
        if method == "POST" and len(segs) == 1:
            return self.create(segs[0], res, req.get("ifNoneExist"))
        if method == "PUT" and len(segs) == 2:
            return self.update(segs[0], segs[1], res)
        if method == "PUT" and len(segs) == 1 and query:
            return self.conditional_update(segs[0], query, res)
        if method == "DELETE" and len(segs) == 2:
            self.store.delete(segs[0], segs[1])
            return 204, None
        if method == "GET" and len(segs) == 2:
            return self.read(segs[0], segs[1])
        if method == "GET" and len(segs) == 1:
            return self.search_bundle(segs[0], query)
        raise FhirError(400, "not-supported", "entry %s %s not supported" % (method, url))

    @staticmethod
    def response_entry(status, res):
        out = {"status": "%d %s" % (status, REASONS.get(status, ""))}
        if res is not None and "id" in res:
            out["location"] = "%s/%s/_history/%s" % (res["resourceType"], res["id"],
                                                      res["meta"]["versionId"])
            out["etag"] = 'W/"%s"' % res["meta"]["versionId"]
        return {"response": out}

    def bundle(self, b):
        check_resource(b, "Bundle")
        kind = b.get("type")
        if kind not in ("transaction", "batch"):
            raise FhirError(400, "invalid", "Bundle.type must be transaction or batch")
        entries = b.get("entry") or []
        if kind == "batch":
            return 200, {"resourceType": "Bundle", "type": "batch-response",
                         "entry": [self.batch_entry(e) for e in entries]}
        snap = self.store.snapshot()
        try:
            out, refs = [], {}
            for e in entries:
                status, res = self.entry(e)
                out.append(self.response_entry(status, res))
                if res is not None and isinstance(e, dict) and e.get("fullUrl"):
                    refs[e["fullUrl"]] = "%s/%s" % (res["resourceType"], res["id"])
            self.resolve_refs(refs)
        except FhirError:
            self.store.restore(snap)
            raise
        return 200, {"resourceType": "Bundle", "type": "transaction-response", "entry": out}

    def batch_entry(self, e):
        try:
            status, res = self.entry(e)
            return self.response_entry(status, res)
        except FhirError as err:
            return {"response": {"status": "%d %s" % (err.status, REASONS.get(err.status, "")),
                                 "outcome": err.outcome()}}

    def resolve_refs(self, refs):
        """Rewrites references to a transaction's fullUrls (urn:uuid:...) into Type/id."""
        def walk(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "reference" and isinstance(v, str) and v in refs:
                        node[k] = refs[v]
                    else:
                        walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        if refs:
            walk(self.store.data)


class State:
    def __init__(self, store_path, base):
        self.lock = threading.Lock()
        self.store = Store(store_path)
        self.fhir = Fhir(self.store)
        self.base = base.rstrip("/")
        self.fhir.base = self.base
        self.rules = []
        self.records = []

    def rule_for(self, method, path):
        with self.lock:
            for rule in self.rules:
                if rule.get("count") is not None and rule["count"] <= 0:
                    continue
                if "path" in rule and not path.startswith(rule["path"]):
                    continue
                if "method" in rule and rule["method"] != method:
                    continue
                if rule.get("count") is not None:
                    rule["count"] -= 1
                return dict(rule)
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fhir-sim/1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, headers=None, ctype=FHIR_JSON):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status, REASONS.get(status))
        if body is not None:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise FhirError(413, "too-long", "body above %d bytes" % MAX_BODY)
        return self.rfile.read(n) if n > 0 else b""

    def record(self, path, body, status):
        st = self.server.state
        rec = {"t": time.time(), "method": self.command, "path": path, "status": status,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body.decode("utf-8", "replace")}
        with st.lock:
            rec["seq"] = len(st.records)
            st.records.append(rec)

    # ---- control ------------------------------------------------------------------------

    def control(self, body):
        st = self.server.state
        cmd = json.loads(body or b"{}")
        with st.lock:
            if cmd.get("reset"):
                st.rules = []
                st.records = []
                if not cmd.get("keep_store"):
                    st.store.data = {}
                    st.store.save()
            base = {k: cmd[k] for k in ("path", "method") if k in cmd}
            if "fail" in cmd:
                st.rules.append(dict(base, count=cmd["fail"], status=cmd.get("status", 503),
                                     hang_ms=cmd.get("hang_ms", 0),
                                     retry_after=cmd.get("retry_after")))
            if "conflict" in cmd:
                st.rules.append(dict(base, count=cmd["conflict"], status=409, hang_ms=0))
            if "hang_ms" in cmd and "fail" not in cmd:
                st.rules.append(dict(base, count=cmd.get("hang", 1), status=None,
                                     hang_ms=cmd["hang_ms"]))
            if "seed" in cmd:  # resources stored as they are (for 412: two with one identifier)
                for res in cmd["seed"]:
                    st.store.put(res["resourceType"], res.get("id") or uuid.uuid4().hex, res)
                st.store.save()
            rules = list(st.rules)
        self.reply(200, rules, ctype="application/json")

    def introspect(self, path, query):
        st = self.server.state
        with st.lock:
            if path == "/_received":
                prefix = (query.get("path") or [""])[0]
                data = [r for r in st.records if r["path"].startswith(prefix)]
            else:
                data = copy.deepcopy(st.store.data)
        self.reply(200, data, ctype="application/json")

    # ---- FHIR ---------------------------------------------------------------------------

    def route(self, method, segs, query, body):
        st = self.server.state
        if method in ("POST", "PUT"):
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype not in (FHIR_JSON, "application/json"):
                raise FhirError(415, "not-supported", "Content-Type %r not supported" % ctype)
            try:
                res = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError, RecursionError) as e:
                raise FhirError(400, "structure", "the body is not JSON: %s" % e)
        f = st.fhir
        if method == "POST" and not segs:
            return f.bundle(res)
        if method == "POST" and len(segs) == 1:
            return f.create(segs[0], res, self.headers.get("If-None-Exist"))
        if method == "PUT" and len(segs) == 2:
            return f.update(segs[0], segs[1], res)
        if method == "PUT" and len(segs) == 1 and query:
            return f.conditional_update(segs[0], query, res)
        if method == "GET" and len(segs) == 2:
            return f.read(segs[0], segs[1])
        if method == "GET" and len(segs) == 1:
            return f.search_bundle(segs[0], query)
        raise FhirError(405, "not-supported", "%s on this URL is not supported" % method)

    def serve(self, method):
        st = self.server.state
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qs(parts.query)
        try:
            body = self.read_body()
        except FhirError as e:
            self.close_connection = True
            self.reply(e.status, e.outcome())
            return
        if path == "/_control" and method == "POST":
            self.control(body)
            return
        if path in ("/_received", "/_store") and method == "GET":
            self.introspect(path, query)
            return
        rule = st.rule_for(method, path)
        if rule is not None and rule.get("hang_ms"):
            time.sleep(rule["hang_ms"] / 1000.0)
        if rule is not None and rule.get("status"):
            self.record(self.path, body, rule["status"])
            hdrs = {"Retry-After": str(rule["retry_after"])} if rule.get("retry_after") else {}
            self.reply(rule["status"], outcome("error", "transient" if rule["status"] >= 500
                                               else "conflict", "injected failure"), hdrs)
            return
        if not path.startswith(st.base + "/") and path != st.base:
            self.record(self.path, body, 404)
            self.reply(404, outcome("error", "not-found", "not under %s" % st.base))
            return
        segs = [unquote(s) for s in path[len(st.base):].strip("/").split("/") if s]
        with st.lock:
            try:
                status, res = self.route(method, segs, query, body)
                if method != "GET":
                    st.store.save()
            except FhirError as e:
                status, res = e.status, e.outcome()
        headers = {}
        if res is not None and status in (200, 201) and res.get("resourceType") not in (
                "Bundle", "OperationOutcome") and "meta" in res:
            headers["Location"] = "%s/%s/%s/_history/%s" % (
                st.base, res["resourceType"], res["id"], res["meta"]["versionId"])
            headers["ETag"] = 'W/"%s"' % res["meta"]["versionId"]
        self.record(self.path, body, status)
        self.reply(status, res, headers)

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def do_PUT(self):
        self.serve("PUT")

    def do_DELETE(self):
        self.serve("DELETE")


class Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class FhirServer:
    """Runs fhir_server.py as a process: .url (the FHIR base), .control(**cmd), .store(type),
    .received(path), .stop()."""

    def __init__(self, store_path=None, port=0, base="/fhir"):
        import subprocess
        cmd = [sys.executable, os.path.abspath(__file__), "--port", str(port), "--base", base]
        if store_path:
            cmd += ["--store", store_path]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError("fhir_server did not start: %r" % line)
        self.port = int(line.split()[1])
        self.root = "http://127.0.0.1:%d" % self.port
        self.url = self.root + base

    def call(self, method, path, body=None, headers=None):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            conn.close()

    def control(self, **cmd):
        status, _, data = self.call("POST", "/_control", cmd)
        if status != 200:
            raise RuntimeError("control failed: %s %r" % (status, data))
        return json.loads(data)

    def store(self, rtype=None):
        _, _, data = self.call("GET", "/_store")
        data = json.loads(data)
        return list(data.get(rtype, {}).values()) if rtype else data

    def received(self, path=None):
        _, _, data = self.call("GET", "/_received" + ("?path=" + path if path else ""))
        return json.loads(data)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--base", default="/fhir", help="path of the FHIR service base")
    ap.add_argument("--store", default=None, help="JSON file rewritten after every change")
    args = ap.parse_args()
    srv = Server((args.host, args.port), Handler)
    srv.state = State(args.store, args.base)
    print("READY %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
