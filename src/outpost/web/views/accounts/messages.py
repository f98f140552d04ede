"""An account's message log: what happened to each recipient, searchable and filtered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from outpost.api.deps import DbSession
from outpost.events.models import Event, EventType
from outpost.events.service import EventFilter, MessageRef, list_events
from outpost.pagination import PageParams
from outpost.web.deps import CurrentViewer
from outpost.web.views.accounts.shell import load_account, render_account

router = APIRouter()
PER_PAGE = 30
TYPE_LABELS = {
    EventType.accepted: "Accepted",
    EventType.delivered: "Delivered",
    EventType.deferred: "Deferred",
    EventType.bounced: "Bounced",
    EventType.suppressed: "Suppressed",
    EventType.expired: "Expired",
    EventType.complaint: "Complaint",
}
TYPE_TONES = {
    EventType.accepted: "info",
    EventType.delivered: "success",
    EventType.deferred: "warning",
    EventType.bounced: "danger",
    EventType.suppressed: "muted",
    EventType.expired: "danger",
    EventType.complaint: "warning",
}
DETAIL_LABELS = {
    "reply": "Reply",
    "code": "SMTP code",
    "enhanced_code": "Enhanced status",
    "remote_host": "Remote server",
    "bounce_kind": "Bounce kind",
    "attempt": "Attempt",
    "next_attempt_at": "Next attempt",
    "source": "Submitted through",
    "parked": "Parked after an internal error",
}


@dataclass(frozen=True)
class LogRow:
    """One event as a row of the log: the summary line and the full detail."""

    event: Event
    label: str
    tone: str
    subject: str
    message_id: str
    summary: str
    details: list[tuple[str, str]]


def _summary(event: Event) -> str:
    details = event.details or {}
    reply = str(details.get("reply") or "")
    if event.type is EventType.accepted:
        return f"Accepted through {details.get('source') or 'the API'}, queued for delivery"
    if event.type is EventType.suppressed and not reply:
        return "Not sent: the address is on the suppression list"
    if event.type is EventType.bounced and details.get("bounce_kind") == "hard":
        return f"Hard bounce: {reply}" if reply else "Hard bounce"
    return reply or "—"


def _details(event: Event) -> list[tuple[str, str]]:
    shown = []
    for key, value in (event.details or {}).items():
        if value is None or value == "" or key == "message_id":
            continue
        shown.append((DETAIL_LABELS.get(key, key.replace("_", " ").capitalize()), str(value)))
    return shown


def _row(event: Event, messages: dict[int, MessageRef]) -> LogRow:
    message = messages.get(event.message_id) if event.message_id is not None else None
    fallback = str((event.details or {}).get("message_id") or "")
    return LogRow(
        event=event,
        label=TYPE_LABELS.get(event.type, event.type.value),
        tone=TYPE_TONES.get(event.type, "neutral"),
        subject=message.subject if message else "",
        message_id=message.message_id if message else fallback,
        summary=_summary(event),
        details=_details(event),
    )


def _day(value: str, field: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = "Is not a date such as 2025-01-31"
        return None


def _start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


@router.get("/accounts/{account_id}/messages")
def message_log(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    account_id: int,
    q: str = "",
    type: str = "",
    start: str = "",
    end: str = "",
    page: int = 1,
) -> Response:
    """The account's events, newest first, by recipient, type and day range."""
    view = load_account(session, viewer, account_id)
    errors: dict[str, str] = {}
    first, last = _day(start.strip(), "start", errors), _day(end.strip(), "end", errors)
    if first and last and first > last:
        errors["end"] = "Must not be before the first day"
    wanted = EventType(type) if type in EventType.__members__ else None
    filters = EventFilter(
        type=wanted,
        recipient_contains=q.strip() or None,
        since=_start_of(first),
        until=_start_of(last + timedelta(days=1)) if last else None,
    )
    result, messages = list_events(
        session=session,
        caller=viewer.caller,
        account_id=view.account.id,
        params=PageParams(page=max(page, 1), per=PER_PAGE),
        filters=filters,
    )
    values = {"q": q.strip(), "type": wanted.value if wanted else "", "start": start, "end": end}
    applied: dict[str, Any] = {k: v for k, v in values.items() if v}
    context = {
        "page": result,
        "rows": [_row(e, messages) for e in result.items],
        "values": values,
        "applied": applied,
        "errors": errors,
        "types": [(t.value, label) for t, label in TYPE_LABELS.items()],
        "base": f"/accounts/{account_id}/messages",
    }
    return render_account(
        request, "accounts/messages.html", view, context, status_code=422 if errors else 200
    )
