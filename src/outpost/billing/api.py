"""Management API routes for orders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from outpost.api.deps import CurrentCaller, DbSession, Paging
from outpost.billing import service
from outpost.billing.schemas import OrderFilters, OrderOut
from outpost.schemas import resources

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("")
def list_orders(
    session: DbSession,
    caller: CurrentCaller,
    paging: Paging,
    filters: Annotated[OrderFilters, Depends()],
) -> dict[str, Any]:
    """Orders the caller may see, newest first; filter by ``status``, account, kind."""
    page = service.list_orders(session=session, caller=caller, params=paging, filters=filters)
    return {
        "resources": [OrderOut.of(view.order, view.plan) for view in page.items],
        "pagination": page.pagination,
    }


@router.get("/{order_id}")
def get_order(session: DbSession, caller: CurrentCaller, order_id: int) -> dict[str, Any]:
    """One order."""
    view = service.get_order(session=session, caller=caller, order_id=order_id)
    return resources(OrderOut.of(view.order, view.plan))


@router.post("/{order_id}/pay")
def pay_order(session: DbSession, caller: CurrentCaller, order_id: int) -> dict[str, Any]:
    """Record the payment (operator) and give the account what was bought."""
    view = service.pay_order(session=session, caller=caller, order_id=order_id)
    return resources(OrderOut.of(view.order, view.plan))


@router.post("/{order_id}/cancel")
def cancel_order(session: DbSession, caller: CurrentCaller, order_id: int) -> dict[str, Any]:
    """Cancel a pending order (the customer's admins or the operator)."""
    view = service.cancel_order(session=session, caller=caller, order_id=order_id)
    return resources(OrderOut.of(view.order, view.plan))
