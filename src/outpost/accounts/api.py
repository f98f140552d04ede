"""Management API routes for delivery accounts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from outpost.accounts import listing, purchases, service
from outpost.accounts.schemas import (
    AccountCreate,
    AccountCreated,
    AccountFilters,
    AccountOut,
    AccountSummary,
    AccountUpdate,
    ExtraMessagesPurchase,
    NewPassword,
    PlanChange,
    PlanChangeOut,
    StatusChange,
    StatusCounts,
)
from outpost.api.deps import AppSettings, CurrentCaller, DbSession, Paging
from outpost.billing.schemas import OrderOut
from outpost.schemas import resources

router = APIRouter(prefix="/accounts", tags=["accounts"])
Filters = Annotated[AccountFilters, Depends()]


@router.get("")
def list_accounts(
    session: DbSession, caller: CurrentCaller, paging: Paging, filters: Filters
) -> dict[str, Any]:
    """Accounts the caller may see: quick ``status`` filter, advanced filters, text query."""
    page = listing.list_accounts(session=session, caller=caller, params=paging, filters=filters)
    return {
        "resources": [AccountSummary.of(view) for view in page.items],
        "pagination": page.pagination,
    }


@router.get("/status-counts")
def status_counts(
    session: DbSession, caller: CurrentCaller, filters: Filters, query: str | None = None
) -> dict[str, Any]:
    """How many accounts each quick-filter status holds, under the same filters."""
    counts = listing.status_counts(session=session, caller=caller, filters=filters, query=query)
    return resources(StatusCounts(**counts))


@router.post("", status_code=201)
def create_account(
    session: DbSession, caller: CurrentCaller, settings: AppSettings, data: AccountCreate
) -> dict[str, Any]:
    """Create an account; the SMTP password is in this answer only."""
    created = service.create_account(session=session, settings=settings, caller=caller, data=data)
    order = OrderOut.of(created.order.order, created.order.plan) if created.order else None
    return resources(
        AccountCreated.detail(created.account, settings, password=created.password, order=order)
    )


@router.get("/{account_id}")
def get_account(
    session: DbSession, caller: CurrentCaller, settings: AppSettings, account_id: int
) -> dict[str, Any]:
    """One account with its quota, settings and SMTP connection details."""
    view = service.get_account_view(session=session, caller=caller, account_id=account_id)
    return resources(AccountOut.detail(view, settings))


@router.put("/{account_id}")
def update_account(
    session: DbSession,
    caller: CurrentCaller,
    settings: AppSettings,
    account_id: int,
    data: AccountUpdate,
) -> dict[str, Any]:
    """Change the description, bounce alert, suppression list use and IP allow-list."""
    view = service.update_account(session=session, caller=caller, account_id=account_id, data=data)
    return resources(AccountOut.detail(view, settings))


@router.put("/{account_id}/status")
def change_status(
    session: DbSession,
    caller: CurrentCaller,
    settings: AppSettings,
    account_id: int,
    data: StatusChange,
) -> dict[str, Any]:
    """Enable, disable, block or unblock an account."""
    view = service.change_status(
        session=session, caller=caller, account_id=account_id, status=data.status
    )
    return resources(AccountOut.detail(view, settings))


@router.post("/{account_id}/password")
def reset_password(session: DbSession, caller: CurrentCaller, account_id: int) -> dict[str, Any]:
    """Issue a new SMTP password, shown in this answer only."""
    username, password = service.reset_password(
        session=session, caller=caller, account_id=account_id
    )
    return resources(NewPassword(id=account_id, username=username, password=password))


@router.post("/{account_id}/plan")
def change_plan(
    session: DbSession,
    caller: CurrentCaller,
    settings: AppSettings,
    account_id: int,
    data: PlanChange,
) -> dict[str, Any]:
    """Order a plan change (applied when paid); a move to free is immediate."""
    result = purchases.change_plan(
        session=session, settings=settings, caller=caller, account_id=account_id, data=data
    )
    order = OrderOut.of(result.order.order, result.order.plan) if result.order else None
    return resources(
        PlanChangeOut(account=AccountOut.detail(result.account, settings), order=order)
    )


@router.post("/{account_id}/extra-messages", status_code=201)
def buy_extra_messages(
    session: DbSession,
    caller: CurrentCaller,
    settings: AppSettings,
    account_id: int,
    data: ExtraMessagesPurchase,
) -> dict[str, Any]:
    """Order extra messages, added when the order is paid."""
    view = purchases.buy_extra_messages(
        session=session, settings=settings, caller=caller, account_id=account_id, data=data
    )
    return resources(OrderOut.of(view.order, view.plan))


@router.delete("/{account_id}", status_code=204)
def terminate_account(session: DbSession, caller: CurrentCaller, account_id: int) -> Response:
    """Delete the account, its domain links, tokens and suppression list (domains stay)."""
    service.terminate_account(session=session, caller=caller, account_id=account_id)
    return Response(status_code=204)
