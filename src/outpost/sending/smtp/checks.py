"""The reads behind the answers to MAIL FROM and RCPT TO: the account's state, a recipient's.

On SQLite such a read takes microseconds and runs inline (:class:`InlineChecks`). On
PostgreSQL it is a network round trip, and inline it would stop every session of the
process for that long (measured: half the messages per second of the same server
without the reads). :class:`BatchedChecks` sends the reads from the event loop over an
asynchronous connection instead; the reads asked for while one is in flight go
together in the next, so one round trip answers every session waiting.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import psycopg
from sqlalchemy import Engine

from outpost.fastsql import HeldReader
from outpost.sending import sql

log = logging.getLogger(__name__)

Key = tuple[int, str | None]  # (account id, lower-cased recipient or None for the account)


@dataclass(frozen=True, slots=True)
class SubmitterState:
    """What MAIL FROM and RCPT TO need to know; ``listed`` is about one recipient."""

    status: str
    ip_allowlist: list[str]
    remaining: int
    suppression_enabled: bool
    listed: bool


def _state(status: str, ips: Any, remaining: int, suppression: Any, listed: Any) -> SubmitterState:
    allowlist = orjson.loads(ips) if isinstance(ips, str | bytes) else ips
    return SubmitterState(status, list(allowlist or []), remaining, bool(suppression), bool(listed))


class Checks(Protocol):
    """How the submission handler reads an account's state."""

    async def state(self, account_id: int, address: str | None = None) -> SubmitterState | None:
        """The account's state, and whether ``address`` is on its suppression list."""
        ...

    async def close(self) -> None:
        """Release the connection."""
        ...


def checks_for(engine: Engine) -> Checks:
    """Inline reads on SQLite, batched asynchronous reads on PostgreSQL."""
    if engine.dialect.name == "postgresql":
        return BatchedChecks(engine.url.set(drivername="postgresql").render_as_string(False))
    return InlineChecks(engine)


class InlineChecks:
    """One indexed read per question on a held connection: cheaper than any hand-over."""

    def __init__(self, engine: Engine) -> None:
        self.reader = HeldReader(engine)

    async def state(self, account_id: int, address: str | None = None) -> SubmitterState | None:
        rows = self.reader.execute(
            sql.SUBMITTER_STATE, {"account_id": account_id, "address": address}
        )
        return _state(*rows[0]) if rows else None

    async def close(self) -> None:
        self.reader.close()


class BatchedChecks:
    """Reads from the event loop, every question waiting answered by one statement."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._waiting: dict[Key, list[asyncio.Future[SubmitterState | None]]] = {}
        self._reading: asyncio.Task[None] | None = None

    async def state(self, account_id: int, address: str | None = None) -> SubmitterState | None:
        future: asyncio.Future[SubmitterState | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault((account_id, address), []).append(future)
        if self._reading is None:
            self._reading = asyncio.create_task(self._read_while_waiting())
        return await future

    async def _read_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                try:
                    answers = await self._read(list(batch))
                except Exception as exc:
                    await self._drop_connection()
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(exc)
                    continue
                for key, futures in batch.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(answers.get(key))
        finally:
            self._reading = None

    async def _read(self, keys: list[Key]) -> dict[Key, SubmitterState]:
        if self._connection is None:
            self._connection = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        cursor = await self._connection.execute(
            sql.SUBMITTER_STATES,
            {"ids": [key[0] for key in keys], "addresses": [key[1] for key in keys]},
        )
        return {(row[0], row[1]): _state(*row[2:]) for row in await cursor.fetchall()}

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:  # already broken; nothing more to release
                log.debug("closing a failed connection", exc_info=True)

    async def close(self) -> None:
        await self._drop_connection()
