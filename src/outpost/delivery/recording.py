"""Write a batch's outcomes: recipient rows, events, counters, suppressions, bounce alerts.

Everything for one claim goes in one transaction with bulk statements, never one
transaction per recipient.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from outpost.config import Settings
from outpost.delivery import sql
from outpost.delivery.outcome import BounceKind, DeliveryOutcome, OutcomeKind, expired
from outpost.delivery.queue import ClaimedRecipient
from outpost.events.models import EventType
from outpost.events.recording import add_events, count_daily, driver_for
from outpost.fastsql import Driver
from outpost.notices import queue_notice
from outpost.sending.models import MessageSource
from outpost.suppression.models import SuppressionReason
from outpost.suppression.service import add_suppressions

_STAT_OF = {
    OutcomeKind.delivered: "delivered",
    OutcomeKind.deferred: "deferred",
    OutcomeKind.bounced: "bounced",
    OutcomeKind.expired: "expired",
    OutcomeKind.suppressed: "suppressed",
}


@dataclass(frozen=True)
class Settled:
    """A recipient's outcome after the retry policy, with when to try next."""

    recipient: ClaimedRecipient
    outcome: DeliveryOutcome
    attempted: bool
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class MessageContext:
    """What the recorder needs to know of a recipient's message."""

    id: int
    source: MessageSource
    message_id: str
    bounce_alert_email: str | None


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    """Exponential back-off after the ``attempts``-th failed attempt."""
    base = settings.delivery_retry_base_seconds
    seconds = min(base * 2 ** max(attempts - 1, 0), settings.delivery_retry_max_seconds)
    return timedelta(seconds=seconds)


def settle(
    *, settings: Settings, recipient: ClaimedRecipient, outcome: DeliveryOutcome, now: datetime
) -> Settled:
    """Apply the retry policy: deferrals get a next attempt, or expire past the deadline."""
    attempted = outcome.kind not in (OutcomeKind.suppressed, OutcomeKind.parked)
    attempts = recipient.attempts + (1 if attempted else 0)
    if outcome.is_final:
        return Settled(recipient, outcome, attempted, None)
    if outcome.kind is OutcomeKind.parked:
        next_at = now + timedelta(seconds=settings.delivery_park_seconds)
    else:
        next_at = now + retry_delay(settings, attempts)
    deadline = recipient.created_at + timedelta(seconds=settings.delivery_deadline_seconds)
    if next_at > deadline:
        return Settled(recipient, expired(outcome), attempted, None)
    return Settled(recipient, outcome, attempted, next_at)


def record_outcomes(
    *,
    session: Session,
    settings: Settings,
    worker_id: str,
    settled: list[Settled],
    messages: dict[int, MessageContext],
    now: datetime,
) -> None:
    """Store every settled outcome of one batch in the caller's transaction."""
    if not settled:
        return
    driver = driver_for(session)
    _update_recipients(driver, worker_id, settled, now)
    add_events(driver, [_event_row(s, messages[s.recipient.message_id], now) for s in settled])
    count_daily(driver, _counters(settled, messages, now.date()))
    hard = [
        s
        for s in settled
        if s.outcome.bounce_kind is BounceKind.hard
        and s.outcome.kind is OutcomeKind.bounced
        and messages[s.recipient.message_id].source is not MessageSource.system
    ]
    handle_hard_bounces(
        session=session,
        settings=settings,
        bounces=[(s.recipient, s.outcome, messages[s.recipient.message_id]) for s in hard],
    )


def _update_recipients(
    driver: Driver, worker_id: str, settled: list[Settled], now: datetime
) -> None:
    stamp = driver.time(now)
    rows = []
    for s in settled:
        outcome, recipient = s.outcome, s.recipient
        rows.append(
            {
                "id": recipient.id,
                "worker_id": worker_id,
                "status": outcome.status.value,
                "attempts": recipient.attempts + (1 if s.attempted else 0),
                "next": driver.time(s.next_attempt_at) if s.next_attempt_at else stamp,
                # A parked recipient says so, for operators looking for internal errors.
                "locked_by": "parked" if outcome.kind is OutcomeKind.parked else None,
                "last": stamp if s.attempted else None,
                "host": outcome.remote_host,
                "code": outcome.smtp_code,
                "enhanced": outcome.enhanced_code,
                "reply": outcome.reply[:4000],
                "kind": outcome.bounce_kind.value if outcome.bounce_kind else None,
                "finished": stamp if outcome.is_final else None,
            }
        )
    driver.executemany(sql.RECORD_OUTCOME, rows)


def _event_row(s: Settled, message: MessageContext, now: datetime) -> dict[str, Any]:
    outcome = s.outcome
    kind = EventType.deferred if outcome.kind is OutcomeKind.parked else EventType(outcome.kind)
    details: dict[str, Any] = {
        "reply": outcome.reply,
        "code": outcome.smtp_code,
        "enhanced_code": outcome.enhanced_code,
        "remote_host": outcome.remote_host,
        "bounce_kind": outcome.bounce_kind.value if outcome.bounce_kind else None,
        "attempt": s.recipient.attempts + (1 if s.attempted else 0),
        "message_id": message.message_id,
    }
    if outcome.kind is OutcomeKind.parked:
        details["parked"] = True
    if s.next_attempt_at is not None:
        details["next_attempt_at"] = s.next_attempt_at.isoformat()
    return {
        "account_id": s.recipient.account_id,
        "message_id": s.recipient.message_id,
        "recipient_id": s.recipient.id,
        "type": kind,
        "address": s.recipient.address,
        "details": details,
        "created_at": now,
    }


def _counters(
    settled: list[Settled], messages: dict[int, MessageContext], day: date
) -> dict[tuple[int, date], Counter[str]]:
    counters: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
    for s in settled:
        if messages[s.recipient.message_id].source is MessageSource.system:
            continue  # Outpost's own notices are not the customer's traffic
        stat = _STAT_OF.get(s.outcome.kind)
        if stat is not None:
            counters[(s.recipient.account_id, day)][stat] += 1
    return counters


def handle_hard_bounces(
    *,
    session: Session,
    settings: Settings,
    bounces: list[tuple[ClaimedRecipient, DeliveryOutcome, MessageContext]],
) -> None:
    """Suppress each hard-bounced address, and alert each account that asked for it."""
    by_account: dict[int, list[tuple[ClaimedRecipient, DeliveryOutcome]]] = defaultdict(list)
    entries: dict[int, list[tuple[str, str, str | None]]] = defaultdict(list)
    alert_to: dict[int, str] = {}
    for recipient, outcome, message in bounces:
        entries[recipient.account_id].append((recipient.address, outcome.reply, message.message_id))
        by_account[recipient.account_id].append((recipient, outcome))
        if message.bounce_alert_email:
            alert_to[recipient.account_id] = message.bounce_alert_email
    for account_id, account_entries in entries.items():
        # One look-up and one insert per account, not per bounced address.
        add_suppressions(
            session=session,
            account_id=account_id,
            entries=account_entries,
            reason=SuppressionReason.hard_bounce,
        )
    for account_id, email in alert_to.items():
        queue_bounce_alert(
            session=session,
            settings=settings,
            account_id=account_id,
            to=email,
            bounces=by_account[account_id],
        )


def queue_bounce_alert(
    *,
    session: Session,
    settings: Settings,
    account_id: int,
    to: str,
    bounces: list[tuple[ClaimedRecipient, DeliveryOutcome]],
) -> None:
    """Queue a notice about hard bounces, delivered by the same workers as any message."""
    lines = [f"{r.address}: {o.reply}" for r, o in bounces]
    subject = (
        f"Bounce alert: {bounces[0][0].address} bounced"
        if len(bounces) == 1
        else f"Bounce alert: {len(bounces)} addresses bounced"
    )
    text = (
        "These addresses bounced permanently and were added to the account's "
        "suppression list:\n\n" + "\n".join(lines) + "\n"
    )
    queue_notice(
        session=session,
        settings=settings,
        account_id=account_id,
        to=to,
        subject=subject,
        text=text,
        tag="bounce-alert",
    )
