"""SMTP logins: account username + SMTP password, with failed logins throttled."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import deque
from dataclasses import dataclass

from sqlalchemy import select

from outpost.accounts.models import DeliveryAccount
from outpost.db import Database
from outpost.security import verify_password

# Argon2 is deliberately slow; a session that logs in again within this time with the
# same password skips it. A password reset in this process clears the cache entry.
_CACHE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Login:
    """Who logged in: the account the session sends for."""

    account_id: int
    username: str


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


class Authenticator:
    """Checks SMTP credentials against the accounts' argon2 hashes, off the event loop."""

    def __init__(self, database: Database, failures: FailedLogins) -> None:
        self.database = database
        self.failures = failures
        self._cache: dict[tuple[str, str], tuple[float, Login]] = {}

    def _lookup(self, username: str, password: str) -> Login | None:
        with self.database.read_engine.connect() as conn:
            row = conn.execute(
                select(DeliveryAccount.id, DeliveryAccount.smtp_password_hash).where(
                    DeliveryAccount.username == username
                )
            ).first()
        if row is None or not verify_password(row.smtp_password_hash, password):
            return None
        return Login(account_id=row.id, username=username)

    async def login(self, username: str, password: str) -> Login | None:
        """The login these credentials stand for, or None."""
        key = (username, hashlib.sha256(password.encode()).hexdigest())
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < _CACHE_SECONDS:
            return cached[1]
        login = await asyncio.to_thread(self._lookup, username, password)
        if login is not None:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (now, login)
        return login

    def forget(self, username: str) -> None:
        """Drop cached logins of ``username`` (after a password reset)."""
        self._cache = {k: v for k, v in self._cache.items() if k[0] != username}
