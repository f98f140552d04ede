"""Management API routes: the message log, daily statistics and webhooks of an account."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from outpost.api.deps import AppSettings, CurrentCaller, DbSession, Paging
from outpost.events import service
from outpost.events.models import EventType
from outpost.events.schemas import (
    EventOut,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryOut,
    WebhookOut,
    WebhookUpdate,
)
from outpost.schemas import resources

router = APIRouter(tags=["events"])


@router.get("/accounts/{account_id}/events")
def list_events(
    session: DbSession,
    caller: CurrentCaller,
    account_id: int,
    paging: Paging,
    type: EventType | None = None,
    recipient: str | None = None,
    message_id: str | None = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """The account's message log, newest first, filtered by type, recipient, message, time."""
    filters = service.EventFilter(
        type=type, recipient=recipient, message_id=message_id, since=since, until=until
    )
    page, messages = service.list_events(
        session=session, caller=caller, account_id=account_id, params=paging, filters=filters
    )
    return {
        "resources": [
            EventOut(
                id=e.id,
                type=e.type,
                created_at=e.created_at,
                recipient=e.address,
                message_id=messages[e.message_id].message_id if e.message_id in messages else None,
                details=e.details,
            )
            for e in page.items
        ],
        "pagination": page.pagination,
    }


@router.get("/accounts/{account_id}/stats")
def daily_stats(
    session: DbSession,
    caller: CurrentCaller,
    account_id: int,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Daily counters from ``from`` to ``to`` (default: the last 30 days), zero-filled."""
    days = service.daily_stats(
        session=session, caller=caller, account_id=account_id, start=start, end=end
    )
    totals = {
        field: sum(getattr(d, field) for d in days)
        for field in ("sent", "delivered", "deferred", "bounced", "suppressed", "expired")
    }
    return {"resources": days, "totals": totals}


@router.get("/accounts/{account_id}/webhooks")
def list_webhooks(session: DbSession, caller: CurrentCaller, account_id: int) -> dict[str, Any]:
    """The account's webhooks."""
    hooks = service.list_webhooks(session=session, caller=caller, account_id=account_id)
    return {"resources": [WebhookOut.model_validate(h) for h in hooks]}


@router.post("/accounts/{account_id}/webhooks", status_code=201)
def create_webhook(
    session: DbSession,
    caller: CurrentCaller,
    settings: AppSettings,
    account_id: int,
    data: WebhookCreate,
) -> dict[str, Any]:
    """Add a webhook; the answer shows its signing secret, once."""
    hook, secret = service.create_webhook(
        session=session,
        caller=caller,
        account_id=account_id,
        data=data,
        installation_secret=settings.installation_secret(),
        allow_private_addresses=settings.webhook_allow_private_addresses,
    )
    out = WebhookCreated.model_validate(
        {**WebhookOut.model_validate(hook).model_dump(), "secret": secret}
    )
    return resources(out)


@router.get("/accounts/{account_id}/webhooks/{webhook_id}")
def get_webhook(
    session: DbSession, caller: CurrentCaller, account_id: int, webhook_id: int
) -> dict[str, Any]:
    """One webhook."""
    hook = service.get_webhook(
        session=session, caller=caller, account_id=account_id, webhook_id=webhook_id
    )
    return resources(WebhookOut.model_validate(hook))


@router.put("/accounts/{account_id}/webhooks/{webhook_id}")
def update_webhook(
    session: DbSession,
    caller: CurrentCaller,
    settings: AppSettings,
    account_id: int,
    webhook_id: int,
    data: WebhookUpdate,
) -> dict[str, Any]:
    """Change a webhook."""
    hook = service.update_webhook(
        session=session,
        caller=caller,
        account_id=account_id,
        webhook_id=webhook_id,
        data=data,
        installation_secret=settings.installation_secret(),
        allow_private_addresses=settings.webhook_allow_private_addresses,
    )
    return resources(WebhookOut.model_validate(hook))


@router.delete("/accounts/{account_id}/webhooks/{webhook_id}", status_code=204)
def delete_webhook(
    session: DbSession, caller: CurrentCaller, account_id: int, webhook_id: int
) -> Response:
    """Remove a webhook."""
    service.delete_webhook(
        session=session, caller=caller, account_id=account_id, webhook_id=webhook_id
    )
    return Response(status_code=204)


@router.get("/accounts/{account_id}/webhooks/{webhook_id}/deliveries")
def list_webhook_deliveries(
    session: DbSession, caller: CurrentCaller, account_id: int, webhook_id: int, paging: Paging
) -> dict[str, Any]:
    """The webhook's delivery log: each event's attempts and last answer."""
    page, types = service.list_webhook_deliveries(
        session=session, caller=caller, account_id=account_id, webhook_id=webhook_id, params=paging
    )
    items = []
    for delivery in page.items:
        out = WebhookDeliveryOut.model_validate(delivery)
        out.event_type = types.get(delivery.event_id)
        items.append(out)
    return {"resources": items, "pagination": page.pagination}
