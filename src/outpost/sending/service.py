"""``accept``: the one way mail gets in, used by the Send API and by SMTP submission."""

from __future__ import annotations

import asyncio
from typing import NoReturn

from outpost.config import Settings
from outpost.db import Database, utcnow
from outpost.errors import OutpostError, PayloadTooLarge, ValidationFailed
from outpost.fastsql import Driver
from outpost.sending.pipeline import CREDENTIAL_CHECKS, Job, Render
from outpost.sending.responses import accepted_body
from outpost.sending.submission import AcceptRequest, AcceptResult
from outpost.sending.writer import LoopWriter, Writer
from outpost.sending.writer_process import ProcessWriter


def make_writer(database: Database, render: Render) -> Writer:
    """The group-committing writer that suits the database (see ``writer.py``)."""
    if database.dialect == "sqlite":
        return LoopWriter(database, render)
    return ProcessWriter(database, render)


class Sending:
    """Acceptance for one process: limit checks, then the group-committing writer.

    Order of checks (DESIGN §4, and the Qboxmail reference's "token, IP, payload, rate
    limit, quota"): token → account enabled → IP allowed (account, then token) → payload
    → sender domain associated and verified → size and recipient limits → rate limit →
    suppression → quota. They run in the writer's transaction, and a refusal at any step
    stores and reserves nothing. The payload, the limits and the rate limit need no
    database and are checked before the writer; a request they refuse is refused for
    what comes before them in that order when it has such a problem (``refuse``), so the
    answer does not depend on which checks happen to be cheap.
    """

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.writer = make_writer(database, accepted_body)

    def limits_problem(self, request: AcceptRequest) -> OutpostError | None:
        """Why ``request``'s messages are too big or have too many recipients, if they are."""
        limit = self.settings.max_recipients_per_message
        for index, message in enumerate(request.messages):
            if len(message.content) > self.settings.max_message_size:
                return PayloadTooLarge(
                    f"Message {index} is {len(message.content)} bytes; the limit is "
                    f"{self.settings.max_message_size}.",
                    code="message_too_large",
                )
            if len(message.recipients) > limit:
                return ValidationFailed.one(
                    f"messages.{index}",
                    f"has {len(message.recipients)} recipients; the limit is {limit}",
                    code="too_many_recipients",
                )
        return None

    def credentials_problem(self, request: AcceptRequest) -> OutpostError | None:
        """What the writer would refuse ``request`` for before its limits, read only:
        unknown token or account, account not enabled, IP not allowed, sender domain."""
        jobs = [Job(request=request)]
        now = utcnow()
        with self.database.read_engine.connect() as conn:
            driver = Driver(conn)
            for step in CREDENTIAL_CHECKS:
                step(driver, jobs, now)
        return jobs[0].error

    async def refuse(self, request: AcceptRequest, error: OutpostError) -> NoReturn:
        """Raise ``error``, found before the writer, unless an earlier check refuses first."""
        raise await asyncio.to_thread(self.credentials_problem, request) or error

    async def accept(
        self, request: AcceptRequest, *, throttled: OutpostError | None = None
    ) -> AcceptResult:
        """Store ``request`` durably or refuse it whole; answer only after the commit.

        ``throttled`` is the caller's rate-limit refusal, answered after the limits."""
        problem = self.limits_problem(request) or throttled
        if problem is not None:
            await self.refuse(request, problem)
        return await self.writer.accept(request)

    def start(self) -> None:
        """Start the writer."""
        self.writer.start()

    def stop(self) -> None:
        """Drain and stop the writer."""
        self.writer.stop()
