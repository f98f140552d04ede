"""SMTP logins: account username + SMTP password, with failed logins throttled."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass

from sqlalchemy import select

from outpost.accounts.models import DeliveryAccount
from outpost.db import Database
from outpost.security import hash_password, verify_password
from outpost.throttle import FailedLogins

_CACHE_SECONDS = 60.0
_UNKNOWN_USER_HASH = hash_password("no such user")


@dataclass(frozen=True, slots=True)
class Login:
    """Who logged in: the account the session sends for."""

    account_id: int
    username: str


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
