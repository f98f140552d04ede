"""VERP envelope senders: ``b+<recipient id>-<tag>@<return-path host>``.

Each bounce names the one recipient it is about, and the HMAC tag makes the address
unforgeable: a stranger cannot make Outpost record a bounce for someone else's recipient.
Tags are lower-case so MTAs that fold the local part's case still match.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

_TAG_LENGTH = 12
_VERP = re.compile(rf"^b\+(\d{{1,19}})-([0-9a-f]{{{_TAG_LENGTH}}})@(.+)$", re.IGNORECASE)


@lru_cache(maxsize=8)
def _key(installation_secret: str) -> bytes:
    return hashlib.sha256(b"outpost verp v1\0" + installation_secret.encode()).digest()


def _tag(secret: str, recipient_id: int) -> str:
    mac = hmac.new(_key(secret), str(recipient_id).encode(), hashlib.sha256)
    return mac.hexdigest()[:_TAG_LENGTH]


def verp_address(*, secret: str, recipient_id: int, return_path_host: str) -> str:
    """The envelope sender that routes bounces for ``recipient_id`` back to Outpost."""
    return f"b+{recipient_id}-{_tag(secret, recipient_id)}@{return_path_host.lower()}"


def recipient_of(*, secret: str, address: str) -> int | None:
    """The recipient id a VERP address stands for, or None when it is not one of ours."""
    match = _VERP.match(address.strip().strip("<>"))
    if match is None:
        return None
    recipient_id, tag = int(match.group(1)), match.group(2).lower()
    if not hmac.compare_digest(tag, _tag(secret, recipient_id)):
        return None
    return recipient_id
