"""API shapes for suppression lists."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from outpost.schemas import Email, InputModel, OutputModel
from outpost.suppression.models import SuppressionReason


class SuppressionCreate(InputModel):
    """An address added by hand."""

    address: Email
    reason: SuppressionReason = SuppressionReason.manual
    detail: str = Field(default="", max_length=1000)


class SuppressionOut(OutputModel):
    """An entry of an account's suppression list."""

    id: int
    account_id: int
    address: str
    reason: SuppressionReason
    detail: str
    message_id: str | None
    created_at: datetime


class InvalidLine(OutputModel):
    """A line of an imported file that was skipped."""

    line: int
    value: str
    description: str


class ImportReport(OutputModel):
    """What an import did: added, already present, and invalid lines (the first 100)."""

    added: int
    already_present: int
    invalid: int
    invalid_lines: list[InvalidLine]
