"""The ``Date`` header value Outpost gives a message that has none (RFC 5322 §3.3)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache


@lru_cache(maxsize=4)
def _of_second(second: int) -> str:
    return format_datetime(datetime.fromtimestamp(second, UTC))


def rfc5322_date(moment: datetime) -> str:
    """``moment`` as a ``Date`` header value, e.g. ``Sun, 06 Dec 2026 12:00:00 +0000``.

    Formatted once per second: every message accepted within it shares the text.
    """
    return _of_second(int(moment.timestamp()))
