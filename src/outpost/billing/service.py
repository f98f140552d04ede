"""Orders: placing them, listing them in the caller's scope, paying and cancelling them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outpost.accounts.models import AccountStatus, DeliveryAccount, PaymentMethod
from outpost.billing.confirmation import queue_order_confirmation
from outpost.billing.fulfilment import apply_paid_order
from outpost.billing.models import Order, OrderKind, OrderStatus
from outpost.billing.schemas import OrderFilters
from outpost.config import Settings
from outpost.db import utcnow
from outpost.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from outpost.pagination import Page, PageParams, paginate
from outpost.plans.models import Plan
from outpost.plans.service import Price
from outpost.tenancy.models import Organization
from outpost.tenancy.scope import (
    Caller,
    require_admin,
    require_operator,
    require_write,
    visible_orgs,
)

BILLING_REQUIRED = (
    "A billing profile (name and country) and the accepted contract are required to buy "
    "a paid plan or extra messages; send `billing` and `accept_contract`, or complete the "
    "organization's profile."
)


@dataclass(frozen=True)
class OrderView:
    """An order and the plan it buys."""

    order: Order
    plan: Plan


@dataclass(frozen=True)
class OrderAccount:
    """The account an order is for, as lists of orders name it."""

    id: int
    description: str
    username: str
    status: AccountStatus


def billing_problems(billing: Mapping[str, Any], *, contract_accepted: bool) -> list[FieldError]:
    """What keeps a billing profile from allowing paid purchases, by form field."""
    problems = []
    named = bool(billing.get("company_name")) or bool(
        billing.get("firstname") and billing.get("lastname")
    )
    if not named:
        problems.append(
            FieldError("billing.lastname", "is required: a first and last name, or a company name")
        )
    if not billing.get("country"):
        problems.append(FieldError("billing.country", "is required"))
    if not contract_accepted:
        problems.append(FieldError("accept_contract", "must be accepted to buy a paid plan"))
    return problems


def has_billing_profile(org: Organization) -> bool:
    """Whether ``org`` has a usable billing profile and accepted the contract."""
    accepted = org.contract_accepted_at is not None
    return not billing_problems(org.billing or {}, contract_accepted=accepted)


def require_billing_profile(org: Organization) -> None:
    """Refuse paid purchases for customers without billing profile or accepted contract."""
    if not has_billing_profile(org):
        raise Forbidden(BILLING_REQUIRED)


def place_order(
    *,
    session: Session,
    settings: Settings,
    account: DeliveryAccount,
    kind: OrderKind,
    plan: Plan,
    messages: int,
    price: Price,
    payment_method: PaymentMethod | None,
    description: str,
) -> Order:
    """A pending order for ``account``; its customer is sent the payment instructions."""
    order = Order(
        org_id=account.org_id,
        account_id=account.id,
        kind=kind,
        status=OrderStatus.pending,
        plan_id=plan.id,
        messages=messages,
        amount_cents=price.amount_cents,
        currency=price.currency,
        payment_method=payment_method,
        description=description[:300],
    )
    session.add(order)
    session.flush()
    queue_order_confirmation(session=session, settings=settings, order=order, plan=plan)
    return order


def pending_orders(
    *, session: Session, account_id: int, kinds: Collection[OrderKind] | None = None
) -> list[Order]:
    """The account's pending orders, oldest first."""
    statement = select(Order).where(
        Order.account_id == account_id, Order.status == OrderStatus.pending
    )
    if kinds is not None:
        statement = statement.where(Order.kind.in_(list(kinds)))
    return list(session.scalars(statement.order_by(Order.id)).all())


def cancel_pending_orders(*, session: Session, account_id: int, now: datetime) -> int:
    """Cancel every pending order of an account; returns how many."""
    result = session.execute(
        update(Order)
        .where(Order.account_id == account_id, Order.status == OrderStatus.pending)
        .values(status=OrderStatus.cancelled, cancelled_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def plans_by_id(session: Session, ids: Iterable[int]) -> dict[int, Plan]:
    """The plans with these ids, in one query."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(select(Plan).where(Plan.id.in_(wanted)))}


def _status_filter(status: str | None) -> OrderStatus | None:
    if status in (None, "", "all"):
        return None
    try:
        return OrderStatus(status)
    except ValueError:
        allowed = ", ".join(["all", *OrderStatus])
        raise ValidationFailed.one("status", f"must be one of: {allowed}") from None


def list_orders(
    *, session: Session, caller: Caller, params: PageParams, filters: OrderFilters
) -> Page[OrderView]:
    """A page of the orders the caller may see, newest first."""
    statement = select(Order).where(visible_orgs(caller, Order.org_id))
    status = _status_filter(params.status)
    if status is not None:
        statement = statement.where(Order.status == status)
    if filters.account_id is not None:
        statement = statement.where(Order.account_id == filters.account_id)
    if filters.kind is not None:
        statement = statement.where(Order.kind == filters.kind)
    if filters.org_id is not None:
        statement = statement.where(Order.org_id == filters.org_id)
    page = paginate(
        session,
        statement,
        params,
        sortable={
            "created_at": Order.created_at,
            "amount": Order.amount_cents,
            "status": Order.status,
            "kind": Order.kind,
        },
        default_sort=[Order.id.desc()],
        tiebreak=Order.id,
        filters=filters.model_dump(mode="json", exclude_none=True),
    )
    plans = plans_by_id(session, (o.plan_id for o in page.items))
    views = [OrderView(order, plans[order.plan_id]) for order in page.items]
    return Page(items=views, pagination=page.pagination)


def _find_order(*, session: Session, caller: Caller, order_id: int) -> Order:
    order = session.scalar(
        select(Order).where(Order.id == order_id, visible_orgs(caller, Order.org_id))
    )
    if order is None:
        raise NotFound("Order not found.")
    return order


def _view(session: Session, order: Order) -> OrderView:
    return OrderView(order, session.get_one(Plan, order.plan_id))


def get_order(*, session: Session, caller: Caller, order_id: int) -> OrderView:
    """An order the caller may see."""
    return _view(session, _find_order(session=session, caller=caller, order_id=order_id))


def _require_pending(order: Order) -> None:
    if order.status is not OrderStatus.pending:
        raise Conflict(f"The order is {order.status.value}; only pending orders can change.")


def pay_order(
    *, session: Session, caller: Caller, order_id: int, now: datetime | None = None
) -> OrderView:
    """Mark an order paid (operator) and apply it to its account in the same transaction."""
    order = _find_order(session=session, caller=caller, order_id=order_id)
    require_operator(caller)
    require_write(caller)
    _require_pending(order)
    now = now or utcnow()
    order.status = OrderStatus.paid
    order.paid_at = now
    session.flush()
    if order.account_id is not None:
        account = session.get_one(DeliveryAccount, order.account_id, with_for_update=True)
        apply_paid_order(session=session, order=order, account=account, now=now)
    return _view(session, order)


def cancel_order(*, session: Session, caller: Caller, order_id: int) -> OrderView:
    """Cancel a pending order: the customer's owners and admins, or the operator."""
    order = _find_order(session=session, caller=caller, order_id=order_id)
    if not (caller.is_operator or caller.org_id == order.org_id):
        raise Forbidden("Only the customer's admins or the operator may cancel an order.")
    require_admin(caller)
    _require_pending(order)
    order.status = OrderStatus.cancelled
    order.cancelled_at = utcnow()
    session.flush()
    return _view(session, order)


def accounts_of_orders(
    *, session: Session, caller: Caller, orders: Sequence[Order]
) -> dict[int, OrderAccount]:
    """The accounts ``orders`` are for, by id, in one query (those the caller may see)."""
    ids = {o.account_id for o in orders if o.account_id is not None}
    if not ids:
        return {}
    rows = session.execute(
        select(
            DeliveryAccount.id,
            DeliveryAccount.description,
            DeliveryAccount.username,
            DeliveryAccount.status,
        ).where(DeliveryAccount.id.in_(ids), visible_orgs(caller, DeliveryAccount.org_id))
    )
    return {row.id: OrderAccount(row.id, row.description, row.username, row.status) for row in rows}
