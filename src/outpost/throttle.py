"""Failed logins counted per key (an IP, a username) so guessing passwords is slowed down.

Counts live in the memory of each process: behind several web or SMTP processes an
attacker gets the limit once per process, which still turns millions of guesses into a
handful per window.
"""

from __future__ import annotations

import time
from collections import deque


class FailedLogins:
    """Counts failed logins per key (IP, username) in a sliding window."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def wait_seconds(self, keys: list[str], now: float | None = None) -> int:
        """0 when these keys may try to log in, else how long until they may."""
        now = time.monotonic() if now is None else now
        waits = []
        for key in keys:
            failures = self._recent(key, now)
            if len(failures) >= self.limit:
                waits.append(int(self.window - (now - failures[0])) + 1)
        return max(waits, default=0)

    def record(self, keys: list[str], now: float | None = None) -> None:
        """Count one failure against each key."""
        now = time.monotonic() if now is None else now
        for key in keys:
            self._recent(key, now).append(now)
        if len(self._failures) > 50_000:
            self._failures = {k: v for k, v in self._failures.items() if v}
