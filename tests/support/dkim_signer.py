"""A minimal DKIM signer (relaxed/relaxed) on ``cryptography`` keys, for checking with dkimpy.

It signs From, To and Subject only; enough to prove a published key matches a stored one.
"""

from __future__ import annotations

import base64
import hashlib
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

SIGNED_HEADERS = (b"from", b"to", b"subject")


def _relaxed_header(name: bytes, value: bytes) -> bytes:
    value = re.sub(rb"[ \t]+", b" ", value.replace(b"\r\n", b"")).strip()
    return name.strip().lower() + b":" + value


def _relaxed_body(body: bytes) -> bytes:
    lines = [re.sub(rb"[ \t]+", b" ", line).rstrip(b" ") for line in body.split(b"\r\n")]
    while lines and not lines[-1]:
        lines.pop()
    return b"\r\n".join(lines) + b"\r\n" if lines else b""


def _headers(head: bytes) -> dict[bytes, bytes]:
    headers: dict[bytes, bytes] = {}
    last = b""
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and last:
            headers[last] += b"\r\n" + line
            continue
        name, _, value = line.partition(b":")
        last = name.strip().lower()
        headers[last] = value
    return headers


def sign(
    message: bytes,
    *,
    domain: str,
    selector: str,
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey,
) -> bytes:
    """``message`` (CRLF line ends) with a DKIM-Signature header prepended."""
    head, _, body = message.partition(b"\r\n\r\n")
    headers = _headers(head)
    body_hash = base64.b64encode(hashlib.sha256(_relaxed_body(body)).digest()).decode()
    algorithm = "rsa-sha256" if isinstance(key, rsa.RSAPrivateKey) else "ed25519-sha256"
    field = (
        f" v=1; a={algorithm}; c=relaxed/relaxed; d={domain}; s={selector};"
        f" h={':'.join(h.decode() for h in SIGNED_HEADERS)}; bh={body_hash}; b="
    ).encode()
    signed = b"".join(_relaxed_header(h, headers[h]) + b"\r\n" for h in SIGNED_HEADERS)
    signed += _relaxed_header(b"DKIM-Signature", field)
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
    else:
        # RFC 8463: Ed25519 signs the SHA-256 hash of the canonicalized headers.
        signature = key.sign(hashlib.sha256(signed).digest())
    return b"DKIM-Signature:" + field + base64.b64encode(signature) + b"\r\n" + message
