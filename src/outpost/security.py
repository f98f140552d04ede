"""Secrets: password hashing, random tokens stored as hashes, generated credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_hasher = PasswordHasher()

_ALNUM = string.ascii_letters + string.digits
_LOWER_ALNUM = string.ascii_lowercase + string.digits


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; never raises on a bad hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A freshly generated token: the value shown once, its stored hash and a masked preview."""

    value: str
    hash: str
    preview: str


def new_token(prefix: str) -> NewToken:
    """A token made of ``prefix`` and 32 random bytes, with its hash and masked preview."""
    value = prefix + secrets.token_urlsafe(32)
    return NewToken(value=value, hash=token_hash(value), preview=value[: len(prefix) + 4] + "…")


def random_string(length: int, alphabet: str = _ALNUM) -> str:
    """A uniformly random string drawn from ``alphabet``."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def generate_username() -> str:
    """A random SMTP username: a letter, then lower-case letters and digits (12 in all)."""
    return secrets.choice(string.ascii_lowercase) + random_string(11, _LOWER_ALNUM)


def generate_password() -> str:
    """A random password strong enough for SMTP and panel logins (24 characters)."""
    return random_string(24)


def constant_time_equals(a: str, b: str) -> bool:
    """Compare two secrets without leaking where they differ."""
    return hmac.compare_digest(a.encode(), b.encode())


@lru_cache(maxsize=8)
def _fernet(installation_secret: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"outpost secret storage v1"
    ).derive(installation_secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(installation_secret: str, plaintext: str) -> str:
    """``plaintext`` encrypted and authenticated with a key derived from the secret."""
    return _fernet(installation_secret).encrypt(plaintext.encode()).decode()


def decrypt_secret(installation_secret: str, ciphertext: str) -> str:
    """The plaintext of :func:`encrypt_secret`; ValueError when the secret does not match."""
    try:
        return _fernet(installation_secret).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: wrong installation secret or corrupted value") from exc
