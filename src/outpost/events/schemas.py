"""API shapes for the message log, daily statistics and webhooks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from outpost.events.models import EventType
from outpost.schemas import InputModel, OutputModel


class EventOut(OutputModel):
    """One event of the message log."""

    id: int
    type: EventType
    created_at: datetime
    recipient: str
    message_id: str | None
    details: dict[str, Any]


class DayStats(OutputModel):
    """One UTC day's counters of an account."""

    day: date
    sent: int = 0
    delivered: int = 0
    deferred: int = 0
    bounced: int = 0
    suppressed: int = 0
    expired: int = 0


def _check_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) > 2000:
        raise ValueError("must be an http:// or https:// URL")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ValueError(f"is not a valid URL: {exc}") from None
    if not parts.hostname:
        raise ValueError("must name a host")
    return value


class WebhookCreate(InputModel):
    """A new webhook; without ``secret`` one is generated (either is shown only once)."""

    url: str
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    event_types: list[EventType] = Field(default_factory=list)
    enabled: bool = True

    _url = field_validator("url")(_check_url)


class WebhookUpdate(InputModel):
    """Changes to a webhook; absent fields stay as they are."""

    url: str | None = None
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    event_types: list[EventType] | None = None
    enabled: bool | None = None

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)


class WebhookOut(OutputModel):
    """A webhook as the API shows it (never its secret)."""

    id: int
    url: str
    event_types: list[str]
    enabled: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    """A new webhook with its signing secret, shown only in this answer."""

    secret: str


class WebhookDeliveryOut(OutputModel):
    """One event's delivery to a webhook: attempts and the last answer."""

    id: int
    event_id: int
    event_type: EventType | None = None
    status: str
    attempts: int
    next_attempt_at: datetime
    response_status: int | None
    response_body: str | None
    created_at: datetime
    delivered_at: datetime | None
