"""The message log, daily statistics and webhooks of an account, in the caller's scope."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outpost.accounts.service import get_account
from outpost.db import utcnow
from outpost.errors import NotFound, ValidationFailed
from outpost.events.egress import literal_refusal
from outpost.events.models import DailyStats, Event, EventType, Webhook, WebhookDelivery
from outpost.events.schemas import DayStats, WebhookCreate, WebhookUpdate
from outpost.events.sql import STAT_FIELDS
from outpost.pagination import Page, PageParams, paginate
from outpost.security import encrypt_secret
from outpost.sending.models import Message
from outpost.tenancy.scope import Caller, require_write

MAX_STATS_DAYS = 366


@dataclass(frozen=True)
class MessageRef:
    """The message an event belongs to, as the log shows it."""

    message_id: str
    subject: str


@dataclass(frozen=True)
class EventFilter:
    """What the message log is narrowed to."""

    type: EventType | None = None
    recipient: str | None = None
    # Part of the recipient address, for the panel's search box (case-insensitive).
    recipient_contains: str | None = None
    message_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_events(
    *, session: Session, caller: Caller, account_id: int, params: PageParams, filters: EventFilter
) -> tuple[Page[Event], dict[int, MessageRef]]:
    """A page of the account's events, newest first, and the messages they refer to."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    statement = select(Event).where(Event.account_id == account.id)
    applied: dict[str, str] = {}
    if filters.type is not None:
        statement = statement.where(Event.type == filters.type)
        applied["type"] = filters.type.value
    if filters.recipient:
        statement = statement.where(func.lower(Event.address) == filters.recipient.lower())
        applied["recipient"] = filters.recipient
    if filters.recipient_contains:
        wanted_part = filters.recipient_contains.strip().lower()
        statement = statement.where(
            func.lower(Event.address).contains(wanted_part, autoescape=True)
        )
        applied["recipient_contains"] = wanted_part
    if filters.message_id:
        wanted = filters.message_id.strip().strip("<>")
        messages = select(Message.id).where(
            Message.account_id == account.id, Message.message_id == wanted
        )
        statement = statement.where(Event.message_id.in_(messages))
        applied["message_id"] = wanted
    if filters.since is not None:
        statement = statement.where(Event.created_at >= filters.since)
        applied["from"] = filters.since.isoformat()
    if filters.until is not None:
        statement = statement.where(Event.created_at < filters.until)
        applied["to"] = filters.until.isoformat()
    page = paginate(
        session,
        statement,
        params,
        sortable={"created_at": Event.created_at},
        default_sort=[Event.created_at.desc(), Event.id.desc()],
        tiebreak=Event.id,
        filters=applied or None,
    )
    ids = {e.message_id for e in page.items if e.message_id is not None}
    rows = (
        session.execute(
            select(Message.id, Message.message_id, Message.subject).where(Message.id.in_(ids))
        ).all()
        if ids
        else []
    )
    return page, {row.id: MessageRef(row.message_id, row.subject) for row in rows}


def daily_stats(
    *, session: Session, caller: Caller, account_id: int, start: date | None, end: date | None
) -> list[DayStats]:
    """The account's counters for every day from ``start`` to ``end`` (zero-filled)."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    end = end or utcnow().date()
    start = start or end - timedelta(days=29)
    if start > end:
        raise ValidationFailed.one("from", "must not be after to")
    if (end - start).days >= MAX_STATS_DAYS:
        raise ValidationFailed.one("from", f"range is limited to {MAX_STATS_DAYS} days")
    rows = session.scalars(
        select(DailyStats).where(
            DailyStats.account_id == account.id, DailyStats.day >= start, DailyStats.day <= end
        )
    )
    by_day = {row.day: row for row in rows}
    days = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        row = by_day.get(day)
        counts = {f: getattr(row, f) for f in STAT_FIELDS} if row is not None else {}
        days.append(DayStats(day=day, **counts))
    return days


def list_webhooks(*, session: Session, caller: Caller, account_id: int) -> list[Webhook]:
    """The account's webhooks."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    return list(
        session.scalars(
            select(Webhook).where(Webhook.account_id == account.id).order_by(Webhook.id)
        )
    )


def get_webhook(*, session: Session, caller: Caller, account_id: int, webhook_id: int) -> Webhook:
    """One webhook of an account the caller may see; anything else is NotFound."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    hook = session.scalar(
        select(Webhook).where(Webhook.id == webhook_id, Webhook.account_id == account.id)
    )
    if hook is None:
        raise NotFound("Webhook not found.")
    return hook


def _check_reachable(url: str, *, allow_private_addresses: bool) -> None:
    # Only an IP literal can be judged now; a host name is vetted when each POST resolves it.
    refusal = None if allow_private_addresses else literal_refusal(url)
    if refusal is not None:
        raise ValidationFailed.one("url", refusal)


def create_webhook(
    *,
    session: Session,
    caller: Caller,
    account_id: int,
    data: WebhookCreate,
    installation_secret: str,
    allow_private_addresses: bool,
) -> tuple[Webhook, str]:
    """Add a webhook; returns it and its signing secret (shown once)."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    require_write(caller)
    _check_reachable(data.url, allow_private_addresses=allow_private_addresses)
    secret = data.secret or "whsec_" + secrets.token_urlsafe(32)
    hook = Webhook(
        account_id=account.id,
        url=data.url,
        secret=encrypt_secret(installation_secret, secret),
        event_types=[t.value for t in data.event_types],
        enabled=data.enabled,
    )
    session.add(hook)
    session.flush()
    return hook, secret


def update_webhook(
    *,
    session: Session,
    caller: Caller,
    account_id: int,
    webhook_id: int,
    data: WebhookUpdate,
    installation_secret: str,
    allow_private_addresses: bool,
) -> Webhook:
    """Change a webhook's URL, secret, event types or state."""
    hook = get_webhook(session=session, caller=caller, account_id=account_id, webhook_id=webhook_id)
    require_write(caller)
    if data.url is not None:
        _check_reachable(data.url, allow_private_addresses=allow_private_addresses)
        hook.url = data.url
    if data.secret is not None:
        hook.secret = encrypt_secret(installation_secret, data.secret)
    if data.event_types is not None:
        hook.event_types = [t.value for t in data.event_types]
    if data.enabled is not None:
        hook.enabled = data.enabled
    session.flush()
    return hook


def delete_webhook(*, session: Session, caller: Caller, account_id: int, webhook_id: int) -> None:
    """Remove a webhook and its delivery log."""
    hook = get_webhook(session=session, caller=caller, account_id=account_id, webhook_id=webhook_id)
    require_write(caller)
    session.delete(hook)
    session.flush()


def list_webhook_deliveries(
    *, session: Session, caller: Caller, account_id: int, webhook_id: int, params: PageParams
) -> tuple[Page[WebhookDelivery], dict[int, EventType]]:
    """A page of a webhook's delivery log (newest first) and the type of each event."""
    hook = get_webhook(session=session, caller=caller, account_id=account_id, webhook_id=webhook_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
    if params.status:
        statement = statement.where(WebhookDelivery.status == params.status)
    page = paginate(
        session,
        statement,
        params,
        sortable={"created_at": WebhookDelivery.created_at},
        default_sort=[WebhookDelivery.id.desc()],
        tiebreak=WebhookDelivery.id,
    )
    event_ids = {d.event_id for d in page.items}
    types = (
        {
            row[0]: row[1]
            for row in session.execute(select(Event.id, Event.type).where(Event.id.in_(event_ids)))
        }
        if event_ids
        else {}
    )
    return page, types
