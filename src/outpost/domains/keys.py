"""DKIM key pairs: generated per domain, private parts stored encrypted, loaded for signing.

Storage format (the delivery worker depends on it):

- ``dkim_private_key``: ``encrypt_secret(secret, <unencrypted PKCS#8 PEM>)`` of an RSA-2048 key;
- ``dkim_public_key``: base64 of the DER SubjectPublicKeyInfo, the ``p=`` of ``k=rsa``;
- ``dkim_ed25519_private_key``: ``encrypt_secret(secret, <PKCS#8 PEM>)`` of an Ed25519 key;
- ``dkim_ed25519_public_key``: base64 of the raw 32-byte key, the ``p=`` of ``k=ed25519``
  (RFC 8463).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from outpost.domains.models import Domain
from outpost.security import decrypt_secret, encrypt_secret, random_string

RSA_KEY_BITS = 2048
_SELECTOR_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True)
class DkimKeys:
    """A domain's two DKIM key pairs, in the form they are stored."""

    rsa_selector: str
    rsa_private_key: str
    rsa_public_key: str
    ed25519_selector: str
    ed25519_private_key: str
    ed25519_public_key: str


def _pkcs8_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def rsa_public_value(key: rsa.RSAPublicKey) -> str:
    """The ``p=`` value of a ``k=rsa`` DKIM record: base64 of the DER SubjectPublicKeyInfo."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def ed25519_public_value(key: ed25519.Ed25519PublicKey) -> str:
    """The ``p=`` value of a ``k=ed25519`` DKIM record: base64 of the raw 32-byte key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def new_dkim_keys(secret: str) -> DkimKeys:
    """Fresh RSA-2048 and Ed25519 key pairs with their selectors, private parts encrypted."""
    suffix = random_string(6, _SELECTOR_ALPHABET)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    return DkimKeys(
        rsa_selector=f"op{suffix}",
        rsa_private_key=encrypt_secret(secret, _pkcs8_pem(rsa_key)),
        rsa_public_key=rsa_public_value(rsa_key.public_key()),
        ed25519_selector=f"op{suffix}e",
        ed25519_private_key=encrypt_secret(secret, _pkcs8_pem(ed_key)),
        ed25519_public_key=ed25519_public_value(ed_key.public_key()),
    )


PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def load_private_key(encrypted_pem: str, secret: str) -> PrivateKey:
    """A stored private key; ValueError when the secret does not decrypt it or it is neither."""
    key = serialization.load_pem_private_key(
        decrypt_secret(secret, encrypted_pem).encode(), password=None
    )
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ValueError("a DKIM key is neither RSA nor Ed25519")
    return key


def load_rsa_private_key(domain: Domain, secret: str) -> rsa.RSAPrivateKey:
    """The domain's RSA signing key; ValueError when the secret does not decrypt it."""
    key = load_private_key(domain.dkim_private_key, secret)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"the DKIM key of {domain.name} is not an RSA key")
    return key


def load_ed25519_private_key(domain: Domain, secret: str) -> ed25519.Ed25519PrivateKey | None:
    """The domain's Ed25519 signing key, or None when the domain has none."""
    if not domain.dkim_ed25519_private_key:
        return None
    key = load_private_key(domain.dkim_ed25519_private_key, secret)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError(f"the Ed25519 DKIM key of {domain.name} is not an Ed25519 key")
    return key
