"""Orders: the list in the viewer's scope, one order with how to pay it, paying and cancelling."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request, Response

from outpost.api.deps import DbSession
from outpost.billing.models import OrderKind, OrderStatus
from outpost.billing.schemas import OrderFilters
from outpost.billing.service import (
    OrderView,
    accounts_of_orders,
    cancel_order,
    get_order,
    list_orders,
    pay_order,
)
from outpost.errors import Conflict
from outpost.money import format_amount
from outpost.pagination import PageParams
from outpost.tenancy.summary import organization_names
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.render import redirect, render
from outpost.web.viewer import Viewer

router = APIRouter()
PER_PAGE = 25
STATUS_LABELS = {
    OrderStatus.pending.value: "Awaiting payment",
    OrderStatus.paid.value: "Paid",
    OrderStatus.cancelled.value: "Cancelled",
}
KIND_LABELS = {
    OrderKind.new_account.value: "New account",
    OrderKind.plan_change.value: "Plan change",
    OrderKind.prepaid_topup.value: "Prepaid top-up",
    OrderKind.extra_messages.value: "Extra messages",
    OrderKind.renewal.value: "Renewal",
}
METHOD_LABELS = {
    "card_auto": "Card, charged automatically",
    "paypal_auto": "PayPal, charged automatically",
    "paypal_manual": "PayPal, paid by you",
}


@dataclass(frozen=True)
class OrderRow:
    """An order in the list and the actions the viewer gets on it."""

    view: OrderView
    can_pay: bool
    can_cancel: bool


def _labels() -> dict[str, dict[str, str]]:
    return {"status_labels": STATUS_LABELS, "kind_labels": KIND_LABELS, "methods": METHOD_LABELS}


def may_pay(viewer: Viewer, view: OrderView) -> bool:
    """Whether the viewer sees the "Mark paid" action (the service decides in the end)."""
    return viewer.is_operator and viewer.can_write and view.order.status is OrderStatus.pending


def may_cancel(viewer: Viewer, view: OrderView) -> bool:
    """Whether the viewer sees the "Cancel order" action: the operator or the customer's admins."""
    own = viewer.is_operator or viewer.org_id == view.order.org_id
    return own and viewer.can_administer and view.order.status is OrderStatus.pending


@router.get("/orders")
def order_list(
    request: Request, session: DbSession, viewer: CurrentViewer, status: str = "", page: int = 1
) -> Response:
    """The orders the viewer may see, newest first, filtered by status."""
    wanted = status if status in STATUS_LABELS else None
    params = PageParams(page=max(page, 1), per=PER_PAGE, status=wanted)
    result = list_orders(
        session=session, caller=viewer.caller, params=params, filters=OrderFilters()
    )
    orders = [v.order for v in result.items]
    context = {
        "page": result,
        "status": wanted or "",
        "filters": {"status": wanted} if wanted else {},
        "accounts": accounts_of_orders(session=session, caller=viewer.caller, orders=orders),
        "customers": organization_names(
            session=session, caller=viewer.caller, ids={o.org_id for o in orders}
        ),
        "rows": [OrderRow(v, may_pay(viewer, v), may_cancel(viewer, v)) for v in result.items],
        "amount": format_amount,
        **_labels(),
    }
    return render(request, "orders/list.html", context)


def _order_page(
    request: Request, session: DbSession, viewer: Viewer, order_id: int, template: str
) -> Response:
    view = get_order(session=session, caller=viewer.caller, order_id=order_id)
    accounts = accounts_of_orders(session=session, caller=viewer.caller, orders=[view.order])
    customers = organization_names(session=session, caller=viewer.caller, ids={view.order.org_id})
    context = {
        "view": view,
        "order": view.order,
        "account": accounts.get(view.order.account_id or 0),
        "customer": customers.get(view.order.org_id, ""),
        "can_pay": may_pay(viewer, view),
        "can_cancel": may_cancel(viewer, view),
        "amount": format_amount,
        **_labels(),
    }
    return render(request, template, context)


@router.get("/orders/{order_id}")
def order_page(
    request: Request, session: DbSession, viewer: CurrentViewer, order_id: int
) -> Response:
    """One order: what it buys, its state and, while pending, how to pay it."""
    return _order_page(request, session, viewer, order_id, "orders/detail.html")


@router.get("/orders/{order_id}/pay")
def confirm_pay(
    request: Request, session: DbSession, viewer: CurrentViewer, order_id: int
) -> Response:
    """Ask the operator before recording a payment."""
    return _order_page(request, session, viewer, order_id, "orders/pay.html")


@router.post("/orders/{order_id}/pay")
def pay(
    request: Request, session: DbSession, viewer: CurrentViewer, _form: PostedForm, order_id: int
) -> Response:
    """Record the payment and apply the order to its account."""
    try:
        with session.begin_nested():
            view = pay_order(session=session, caller=viewer.caller, order_id=order_id)
    except Conflict as exc:
        return redirect(request, f"/orders/{order_id}", flash=exc.message, level="error")
    accounts = accounts_of_orders(session=session, caller=viewer.caller, orders=[view.order])
    account = accounts.get(view.order.account_id or 0)
    message = f"Order #{order_id} was marked paid."
    if account is not None:
        state = "is enabled" if account.status.value == "enabled" else "got what was ordered"
        message += f" The account “{account.description}” {state}."
    return redirect(request, f"/orders/{order_id}", flash=message)


@router.get("/orders/{order_id}/cancel")
def confirm_cancel(
    request: Request, session: DbSession, viewer: CurrentViewer, order_id: int
) -> Response:
    """Ask before cancelling a pending order."""
    return _order_page(request, session, viewer, order_id, "orders/cancel.html")


@router.post("/orders/{order_id}/cancel")
def cancel(
    request: Request, session: DbSession, viewer: CurrentViewer, _form: PostedForm, order_id: int
) -> Response:
    """Cancel a pending order."""
    try:
        with session.begin_nested():
            cancel_order(session=session, caller=viewer.caller, order_id=order_id)
    except Conflict as exc:
        return redirect(request, f"/orders/{order_id}", flash=exc.message, level="error")
    return redirect(request, f"/orders/{order_id}", flash=f"Order #{order_id} was cancelled.")
