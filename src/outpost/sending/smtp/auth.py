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
from outpost.security import hash_password, verify_password

_CACHE_SECONDS = 60.0
_UNKNOWN_USER_HASH = hash_password("no such user")


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
    """Checks SMTP credentials against the accounts' argon2 hashes, off the event loop.

    Argon2 is slow on purpose, so a verified (stored hash, password) pair is remembered for
    a minute and concurrent logins with the same credentials share one verification. The
    stored hash is read on every login, so a password reset takes effect at once.
    """

    def __init__(self, database: Database, failures: FailedLogins) -> None:
        self.database = database
        self.failures = failures
        self._verified: dict[tuple[str, str], float] = {}
        self._in_flight: dict[tuple[str, str], asyncio.Future[bool]] = {}

    def _account(self, username: str) -> tuple[int, str] | None:
        with self.database.read_engine.connect() as conn:
            row = conn.execute(
                select(DeliveryAccount.id, DeliveryAccount.smtp_password_hash).where(
                    DeliveryAccount.username == username
                )
            ).first()
        return None if row is None else (row.id, row.smtp_password_hash)

    async def _verify(self, stored_hash: str, password: str) -> bool:
        key = (stored_hash, hashlib.sha256(password.encode()).hexdigest())
        verified_at = self._verified.get(key)
        if verified_at is not None and time.monotonic() - verified_at < _CACHE_SECONDS:
            return True
        pending = self._in_flight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            ok = await asyncio.to_thread(verify_password, stored_hash, password)
            future.set_result(ok)
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            del self._in_flight[key]
        if ok:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[key] = time.monotonic()
        return ok

    async def login(self, username: str, password: str) -> Login | None:
        """The login these credentials stand for, or None."""
        account = await asyncio.to_thread(self._account, username)
        if account is None:
            # As slow as a wrong password, so timing does not tell which usernames exist.
            await asyncio.to_thread(verify_password, _UNKNOWN_USER_HASH, password)
            return None
        account_id, stored_hash = account
        if not await self._verify(stored_hash, password):
            return None
        return Login(account_id=account_id, username=username)
