"""Secrets: password hashing, random tokens stored as hashes, generated credentials."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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
