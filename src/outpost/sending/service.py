"""``accept``: the one way mail gets in, used by the Send API and by SMTP submission."""

from __future__ import annotations

from outpost.config import Settings
from outpost.db import Database
from outpost.errors import PayloadTooLarge, ValidationFailed
from outpost.sending.pipeline import Render
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

    Order of checks (DESIGN §4): account enabled → IP allowed (account, then token) →
    sender domain associated and verified → size and recipient limits → suppression →
    quota. The limits need no database and are checked first here; the rest run in the
    writer's transaction, and a refusal at any step stores and reserves nothing.
    """

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.writer = make_writer(database, accepted_body)

    def check_limits(self, request: AcceptRequest) -> None:
        """Refuse messages that are too big or have too many recipients."""
        limit = self.settings.max_recipients_per_message
        for index, message in enumerate(request.messages):
            if len(message.content) > self.settings.max_message_size:
                raise PayloadTooLarge(
                    f"Message {index} is {len(message.content)} bytes; the limit is "
                    f"{self.settings.max_message_size}.",
                    code="message_too_large",
                )
            if len(message.recipients) > limit:
                raise ValidationFailed.one(
                    f"messages.{index}",
                    f"has {len(message.recipients)} recipients; the limit is {limit}",
                    code="too_many_recipients",
                )

    async def accept(self, request: AcceptRequest) -> AcceptResult:
        """Store ``request`` durably or refuse it whole; answer only after the commit."""
        self.check_limits(request)
        return await self.writer.accept(request)

    def start(self) -> None:
        """Start the writer."""
        self.writer.start()

    def stop(self) -> None:
        """Drain and stop the writer."""
        self.writer.stop()
