#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""DCI envelope helpers shared by the DCI simulators (dci_registry.py, spmis_receiver.py).

Signatures are what igw and OpenCRVS's DCI implementation do: `signature` is a compact JWS
(RS256 or ES256) whose attached payload is the JSON object {"header": H, "message": M} of the
envelope; a verifier requires the decoded payload to be JSON-equal to the envelope's header and
message. Keys use the `cryptography` package (Debian python3-cryptography); without it the
simulators run unsigned and say so."""
import base64
import datetime
import json
import urllib.request
import uuid

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
    HAVE_CRYPTO = True
except ImportError:  # pragma: no cover - the simulators then run unsigned
    HAVE_CRYPTO = False


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def now_ts():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def new_id():
    return str(uuid.uuid4())


def _int_b64(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return b64u(n.to_bytes(size, "big"))


class Signer:
    """An RS256 key (generated, or read from a PEM file), its kid and public JWKS."""

    def __init__(self, pem_file=None, kid="sim-1"):
        self.kid = kid
        if pem_file:
            with open(pem_file, "rb") as f:
                self.key = serialization.load_pem_private_key(f.read(), password=None)
        else:
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.alg = "ES256" if isinstance(self.key, ec.EllipticCurvePrivateKey) else "RS256"

    def jwks(self):
        pub = self.key.public_key().public_numbers()
        if self.alg == "RS256":
            k = {"kty": "RSA", "n": _int_b64(pub.n), "e": _int_b64(pub.e)}
        else:
            k = {"kty": "EC", "crv": "P-256", "x": _int_b64(pub.x, 32), "y": _int_b64(pub.y, 32)}
        k.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return {"keys": [k]}

    def sign(self, payload):
        prot = b64u(json.dumps({"alg": self.alg, "kid": self.kid, "typ": "JWT"}).encode())
        inp = (prot + "." + b64u(payload)).encode()
        if self.alg == "RS256":
            sig = self.key.sign(inp, padding.PKCS1v15(), hashes.SHA256())
        else:
            r, s = utils.decode_dss_signature(self.key.sign(inp, ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return inp.decode() + "." + b64u(sig)

    def envelope(self, header, message=None):
        """The envelope {signature, header, message} as bytes, signed over the same texts."""
        h = json.dumps(header, separators=(",", ":"))
        m = json.dumps(message, separators=(",", ":")) if message is not None else None
        payload = '{"header":' + h + (',"message":' + m if m is not None else "") + "}"
        sig = self.sign(payload.encode())
        body = '{"signature":' + json.dumps(sig) + ',"header":' + h
        body += (',"message":' + m if m is not None else "") + "}"
        return body.encode()


def plain_envelope(header, message=None):
    env = {"header": header}
    if message is not None:
        env["message"] = message
    return json.dumps(env).encode()


def _public_key(jwk):
    if jwk.get("kty") == "RSA":
        n = int.from_bytes(unb64u(jwk["n"]), "big")
        e = int.from_bytes(unb64u(jwk["e"]), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        x = int.from_bytes(unb64u(jwk["x"]), "big")
        y = int.from_bytes(unb64u(jwk["y"]), "big")
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    return None


def fetch_jwks(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def verify(envelope, jwks):
    """(ok, reason) for the envelope's signature against jwks ({"keys": [...]})."""
    if not HAVE_CRYPTO:
        return None, "no cryptography module"
    sig = envelope.get("signature")
    if not isinstance(sig, str) or not sig:
        return False, "err.signature.missing"
    parts = sig.split(".")
    if len(parts) != 3:
        return False, "err.signature.invalid"
    try:
        prot = json.loads(unb64u(parts[0]))
        payload = json.loads(unb64u(parts[1]))
        raw = unb64u(parts[2])
    except ValueError:
        return False, "err.signature.invalid"
    keys = [k for k in jwks.get("keys", []) if k.get("kid") == prot.get("kid")]
    if not keys or prot.get("alg") not in ("RS256", "ES256"):
        return False, "err.signature.invalid"
    key = _public_key(keys[0])
    inp = (parts[0] + "." + parts[1]).encode()
    try:
        if prot["alg"] == "RS256":
            key.verify(raw, inp, padding.PKCS1v15(), hashes.SHA256())
        else:
            der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                             int.from_bytes(raw[32:], "big"))
            key.verify(der, inp, ec.ECDSA(hashes.SHA256()))
    except Exception:  # noqa: BLE001 - any failure is a bad signature
        return False, "err.signature.invalid"
    want = {"header": envelope.get("header")}
    if "message" in envelope:
        want["message"] = envelope["message"]
    if payload != want:
        return False, "err.signature.invalid"
    return True, "ok"


def response(ack, correlation_id, code=None, msg=None):
    """The DCI `Response` (ACK / NACK / ERR) as bytes."""
    m = {"ack_status": ack, "timestamp": now_ts(), "correlation_id": correlation_id}
    if code:
        m["error"] = {"code": code, "message": msg or code}
    return json.dumps({"message": m}).encode()
