"""API shapes for orders."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from outpost.accounts.models import PaymentMethod
from outpost.billing.models import Order, OrderKind, OrderStatus
from outpost.money import format_amount
from outpost.plans.models import Plan
from outpost.schemas import OutputModel


class OrderFilters(BaseModel):
    """Filters of the orders list (besides ``status`` from the common parameters)."""

    account_id: int | None = None
    kind: OrderKind | None = None
    org_id: int | None = None


class OrderOut(OutputModel):
    """An order; amounts in integer cents and formatted in major units."""

    id: int
    org_id: int
    account_id: int | None
    kind: OrderKind
    status: OrderStatus
    plan: str
    plan_name: str
    messages: int
    amount_cents: int
    amount: str
    currency: str
    payment_method: PaymentMethod | None
    description: str
    created_at: datetime
    paid_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def of(cls, order: Order, plan: Plan) -> OrderOut:
        """The shape of ``order`` bought on ``plan``."""
        return cls(
            id=order.id,
            org_id=order.org_id,
            account_id=order.account_id,
            kind=order.kind,
            status=order.status,
            plan=plan.code,
            plan_name=plan.name,
            messages=order.messages,
            amount_cents=order.amount_cents,
            amount=format_amount(order.amount_cents),
            currency=order.currency,
            payment_method=order.payment_method,
            description=order.description,
            created_at=order.created_at,
            paid_at=order.paid_at,
            cancelled_at=order.cancelled_at,
        )
