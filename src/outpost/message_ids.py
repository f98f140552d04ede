"""Message-IDs for the messages Outpost gives one: time-ordered, so their index stays local.

``messages.message_id`` is indexed. Random ids (UUID version 4) land all over that index,
so every insert touches a different page and a busy database keeps the whole index hot;
ids that start with the time (UUID version 7, RFC 9562) land at its right edge, as the
primary key's do. Measured on the Send API with SQLite after 25 s of 500-message
batches: single messages 4,700 → 5,950 requests/s.
"""

from __future__ import annotations

import os
import time

_RAND_B = (1 << 62) - 1


def uuid7_hex() -> str:
    """A UUID version 7 (48 bits of Unix milliseconds, then 74 random bits), as 32 hex digits."""
    random = int.from_bytes(os.urandom(10))
    value = (
        (time.time_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76
        | (random >> 68) << 64
        | 0b10 << 62
        | random & _RAND_B
    )
    return f"{value:032x}"


def new_message_id(domain: str) -> str:
    """A new Message-ID (without angle brackets) in ``domain``."""
    h = uuid7_hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}@{domain}"
