"""An account's orders waiting for payment, with how to pay each (dashboard and service page)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from outpost.accounts.listing import AccountView
from outpost.billing.confirmation import amount_of, payment_instructions
from outpost.billing.models import Order
from outpost.billing.service import pending_orders, plans_by_id
from outpost.plans.models import Plan


@dataclass(frozen=True)
class PendingOrder:
    """An order waiting for payment, with what to pay and how."""

    order: Order
    plan: Plan
    amount: str
    instructions: str


def pending_order_views(session: Session, view: AccountView) -> list[PendingOrder]:
    """The account's orders waiting for payment (``view`` is already in the viewer's scope)."""
    orders = pending_orders(session=session, account_id=view.account.id)
    plans = plans_by_id(session, (o.plan_id for o in orders))
    return [
        PendingOrder(o, plans[o.plan_id], amount_of(o), payment_instructions(o)) for o in orders
    ]
