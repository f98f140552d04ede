"""DKIM signing (RFC 6376, RFC 8463) at OpenSSL speed.

Relaxed/relaxed canonicalization is implemented here; the signatures come from
``cryptography`` (RSA-SHA256, and Ed25519-SHA256 as a second signature when the domain
has an Ed25519 key). Tests verify every signature with dkimpy, an independent
implementation, which is far too slow to sign with.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from outpost.domains.keys import load_private_key
from outpost.domains.models import Domain

# Always in h=, present or not: signing an absent field stops anyone adding it later.
ALWAYS_SIGNED = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
)
SIGNED_WHEN_PRESENT = (
    "cc",
    "reply-to",
    "sender",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "in-reply-to",
    "references",
    "feedback-id",
)

_WSP = re.compile(rb"[ \t]+")
_TRAILING_WSP = re.compile(rb"[ \t]+\r\n")
_LINE_END = re.compile(rb"\r\n|\r|\n")


def to_crlf(data: bytes) -> bytes:
    """``data`` with every line ending as CRLF, the form SMTP sends and DKIM signs."""
    return _LINE_END.sub(b"\r\n", data)


def split_message(message: bytes) -> tuple[list[bytes], bytes]:
    """The header fields (each with its folded continuation lines) and the body."""
    end = message.find(b"\r\n\r\n")
    if end < 0:
        head, body = message, b""
    else:
        head, body = message[: end + 2], message[end + 4 :]
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return fields, body


def relaxed_header(field: bytes) -> bytes:
    """One header field in relaxed canonical form, CRLF-terminated."""
    name, _, value = field.partition(b":")
    if b"\r\n" in value:
        value = value.replace(b"\r\n", b"")
    # Most fields hold no tab and no run of spaces: then there is nothing to collapse.
    if b"\t" in value or b"  " in value:
        value = _WSP.sub(b" ", value)
    return name.strip(b" \t").lower() + b":" + value.strip(b" ") + b"\r\n"


def relaxed_body(body: bytes) -> bytes:
    """The body in relaxed canonical form (RFC 6376 §3.4.4)."""
    # Composed bodies rarely hold runs of blanks or tabs: skip the regex passes then. With
    # neither, trailing whitespace can only be one space before a line end.
    if b"\t" in body or b"  " in body:
        body = _TRAILING_WSP.sub(b"\r\n", _WSP.sub(b" ", body))
    elif b" \r\n" in body:
        body = body.replace(b" \r\n", b"\r\n")
    body = body.rstrip(b"\r\n")
    if body.endswith(b" "):
        body = body.rstrip(b" ")
    return body + b"\r\n" if body else b""


def _field_name(field: bytes) -> str:
    return field.partition(b":")[0].strip(b" \t").decode("ascii", "replace").lower()


def signed_header_names(fields: Sequence[bytes]) -> list[str]:
    """The h= list: each present field once per occurrence, plus one to oversign."""
    counts: dict[str, int] = {}
    for field in fields:
        name = _field_name(field)
        counts[name] = counts.get(name, 0) + 1
    names: list[str] = []
    for name in ALWAYS_SIGNED:
        names += [name] * (counts.get(name, 0) + 1)
    for name in SIGNED_WHEN_PRESENT:
        if name in counts:
            names += [name] * (counts[name] + 1)
    return names


def canonical_headers(fields: Sequence[bytes], names: Sequence[str]) -> bytes:
    """The selected fields, bottom-up per name as RFC 6376 §5.4.2 says, canonicalized."""
    by_name: dict[str, list[bytes]] = {}
    for field in fields:
        by_name.setdefault(_field_name(field), []).append(field)
    out = []
    for name in names:
        instances = by_name.get(name)
        if instances:
            out.append(relaxed_header(instances.pop()))
    return b"".join(out)


@dataclass(frozen=True)
class DkimKey:
    """One private key and the selector its public half is published under."""

    selector: str
    private_key: RSAPrivateKey | Ed25519PrivateKey

    @property
    def algorithm(self) -> str:
        """The a= tag for this key."""
        return "ed25519-sha256" if isinstance(self.private_key, Ed25519PrivateKey) else "rsa-sha256"

    def sign(self, data: bytes) -> bytes:
        """The signature over canonical header bytes."""
        if isinstance(self.private_key, Ed25519PrivateKey):
            # RFC 8463: Ed25519 signs the SHA-256 hash, not the data itself.
            return self.private_key.sign(hashlib.sha256(data).digest())
        return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _fold_tags(tags: Sequence[tuple[str, str]]) -> str:
    lines = ["DKIM-Signature:"]
    for name, value in tags:
        part = f" {name}={value};"
        if len(lines[-1]) + len(part) > 78 and lines[-1] != "DKIM-Signature:":
            lines.append("\t" + part.lstrip())
        else:
            lines[-1] += part
    return "\r\n".join(lines)


def _fold_b64(value: str) -> str:
    return "\r\n\t ".join(value[i : i + 72] for i in range(0, len(value), 72))


@dataclass(frozen=True, slots=True)
class UnsignedMessage:
    """A canonicalized message waiting for its signatures: one payload per key.

    Canonicalization is Python and holds the GIL; the private-key operations in
    :meth:`signatures` run in OpenSSL with the GIL released, so a worker can do them on
    other threads (see ``delivery/prepare.py``).
    """

    message: bytes
    heads: tuple[str, ...]  # each DKIM-Signature field up to and including "b="
    payloads: tuple[bytes, ...]  # what each key signs
    keys: tuple[DkimKey, ...]

    def signatures(self) -> tuple[bytes, ...]:
        """The raw signature of each key (CPU-bound; releases the GIL)."""
        pairs = zip(self.keys, self.payloads, strict=True)
        return tuple(key.sign(payload) for key, payload in pairs)

    def fields(self, signatures: Sequence[bytes]) -> bytes:
        """The DKIM-Signature fields (CRLF-terminated) carrying ``signatures``."""
        return "".join(
            head + _fold_b64(base64.b64encode(signature).decode()) + "\r\n"
            for head, signature in zip(self.heads, signatures, strict=True)
        ).encode()

    def signed(self, signatures: Sequence[bytes]) -> bytes:
        """The message with its DKIM-Signature fields prepended."""
        return self.fields(signatures) + self.message


@dataclass(frozen=True)
class DkimSigner:
    """Signs messages for one domain with each of its keys."""

    domain: str
    keys: tuple[DkimKey, ...]

    def canonicalize(self, message: bytes, *, timestamp: int | None = None) -> UnsignedMessage:
        """Everything of the signatures but the private-key operations, for a CRLF message."""
        fields, body = split_message(message)
        names = signed_header_names(fields)
        headers = canonical_headers(fields, names)
        body_hash = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest()).decode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        heads, payloads = [], []
        for key in self.keys:
            head = _fold_tags(
                [
                    ("v", "1"),
                    ("a", key.algorithm),
                    ("c", "relaxed/relaxed"),
                    ("d", self.domain),
                    ("s", key.selector),
                    ("t", stamp),
                    ("h", ":".join(names)),
                    ("bh", body_hash),
                ]
            )
            head += "\r\n\tb="
            heads.append(head)
            payloads.append(headers + relaxed_header(head.encode())[:-2])
        return UnsignedMessage(message, tuple(heads), tuple(payloads), self.keys)

    def signature_headers(self, message: bytes, *, timestamp: int | None = None) -> bytes:
        """The DKIM-Signature fields (CRLF-terminated) for a CRLF message."""
        unsigned = self.canonicalize(message, timestamp=timestamp)
        return unsigned.fields(unsigned.signatures())

    def sign(self, message: bytes, *, timestamp: int | None = None) -> bytes:
        """``message`` (CRLF) with its signatures prepended."""
        unsigned = self.canonicalize(message, timestamp=timestamp)
        return unsigned.signed(unsigned.signatures())


def load_signer(domain: Domain, installation_secret: str) -> DkimSigner:
    """The signer for a domain's stored keys (PKCS#8 PEM encrypted with the secret)."""
    return signer_from_stored_keys(
        name=domain.name,
        selector=domain.dkim_selector,
        private_key=domain.dkim_private_key,
        ed25519_selector=domain.dkim_ed25519_selector,
        ed25519_private_key=domain.dkim_ed25519_private_key,
        installation_secret=installation_secret,
    )


def signer_from_stored_keys(
    *,
    name: str,
    selector: str,
    private_key: str,
    ed25519_selector: str | None,
    ed25519_private_key: str | None,
    installation_secret: str,
) -> DkimSigner:
    """The signer for keys as ``Domain`` stores them (encrypted PKCS#8 PEM)."""
    keys = [_load_key(selector, private_key, installation_secret)]
    if ed25519_private_key and ed25519_selector:
        keys.append(_load_key(ed25519_selector, ed25519_private_key, installation_secret))
    return DkimSigner(domain=name.lower(), keys=tuple(keys))


def _load_key(selector: str, encrypted_pem: str, installation_secret: str) -> DkimKey:
    return DkimKey(
        selector=selector, private_key=load_private_key(encrypted_pem, installation_secret)
    )
