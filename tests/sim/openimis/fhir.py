# SPDX-License-Identifier: Apache-2.0
"""openIMIS's FHIR R4 API (openimis-be-api_fhir_r4_py), the read/search subset."""
import json

BASE = "/api/api_fhir_r4/"


def handle(h, method, path, query, body):
    """-> (status, body, headers) for a request under BASE; h is the HTTP handler."""
    rest = path[len(BASE):]
    if rest.rstrip("/") == "login":
        return login(h, method, body)
    return 404, {"detail": "Not found."}, {}


def login(h, method, body):
    if method != "POST":
        return 405, {"detail": 'Method "%s" not allowed.' % method}, {"Allow": "POST, OPTIONS"}
    try:
        req = json.loads(body or b"{}")
    except ValueError:
        return 400, {"detail": "JSON parse error"}, {}
    if not isinstance(req, dict) or not req.get("username") or not req.get("password"):
        return 400, "Missing username or password", {}
    h.sim.count("login")
    res = h.sim.auth.login(str(req["username"]), str(req["password"]))
    if res is None:
        return 401, "INCORRECT_CREDENTIALS", {}
    return 200, {"token": res["token"], "exp": res["payload"]["exp"]}, {}
