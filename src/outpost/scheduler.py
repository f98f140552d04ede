"""Periodic jobs (quota resets, DNS re-checks, retention, ...), run by one scheduler at a time.

Each package declares its jobs; ``outpost.jobs.ALL_JOBS`` lists them. On PostgreSQL the
scheduler holds an advisory lock, so however many scheduler processes run, one works.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from outpost.config import Settings
from outpost.db import Database

log = logging.getLogger(__name__)

# Any constant shared by every scheduler of an installation.
ADVISORY_LOCK_KEY = 0x6F7574706F7374  # "outpost"


@dataclass(frozen=True)
class Job:
    """A named piece of periodic work; ``run`` does it in the given session."""

    name: str
    every: timedelta
    run: Callable[[Session, Settings], object]


class Scheduler:
    """Runs each job when its interval has passed since its last run."""

    def __init__(self, database: Database, settings: Settings, jobs: Sequence[Job]) -> None:
        self.database = database
        self.settings = settings
        self.jobs = list(jobs)
        self._last_run: dict[str, float] = {}

    def run_due(self, now: float | None = None) -> list[str]:
        """Run every job that is due; returns the names of those that ran."""
        now = time.monotonic() if now is None else now
        ran = []
        for job in self.jobs:
            last = self._last_run.get(job.name)
            if last is not None and now - last < job.every.total_seconds():
                continue
            self._last_run[job.name] = now
            try:
                with self.database.session() as session:
                    job.run(session, self.settings)
                ran.append(job.name)
            except Exception:
                log.exception("scheduled job %s failed; it will run again next time", job.name)
        return ran

    def _try_lock(self, connection: Connection) -> bool:
        if self.database.dialect != "postgresql":
            return True
        locked = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
        ).scalar()
        connection.commit()
        return bool(locked)

    async def serve(self, stop: asyncio.Event, tick: float = 1.0) -> None:
        """Run due jobs every ``tick`` seconds while holding the scheduler lock."""
        with self.database.engine.connect() as lock_connection:
            while not stop.is_set():
                if await asyncio.to_thread(self._try_lock, lock_connection):
                    break
                await _sleep_or_stop(stop, 5.0)
            while not stop.is_set():
                await asyncio.to_thread(self.run_due)
                await _sleep_or_stop(stop, tick)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
