"""What a customer is told about an order: payment instructions, and the confirmation e-mail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.accounts.models import PaymentMethod
from outpost.billing.models import Order, OrderKind
from outpost.config import Settings
from outpost.money import format_amount
from outpost.notices import queue_notice
from outpost.plans.models import Plan
from outpost.tenancy.models import Organization, Role, User

PAYMENT_METHOD_LABELS = {
    PaymentMethod.card_auto: "Card, charged automatically",
    PaymentMethod.paypal_auto: "PayPal, charged automatically",
    PaymentMethod.paypal_manual: "PayPal, paid manually",
}
_HOW_TO_PAY = {
    PaymentMethod.card_auto: "Your card is charged {amount} automatically for this order.",
    PaymentMethod.paypal_auto: "You approve a PayPal payment of {amount} for this order.",
    PaymentMethod.paypal_manual: "Send {amount} by PayPal, quoting order number {number}.",
}


def amount_of(order: Order) -> str:
    """The order's total as people read it, e.g. ``10.00 EUR``."""
    return f"{format_amount(order.amount_cents)} {order.currency}"


def payment_instructions(order: Order) -> str:
    """How to pay ``order`` with its payment method, and what happens once it is paid."""
    method = order.payment_method or PaymentMethod.paypal_manual
    how = _HOW_TO_PAY[method].format(amount=amount_of(order), number=order.id)
    if order.kind is OrderKind.new_account:
        return f"{how} The account is enabled as soon as the payment is received."
    return f"{how} The order is applied to the account as soon as the payment is received."


def confirmation_recipient(session: Session, org: Organization) -> str | None:
    """Where order mail goes: the billing e-mail, else the organization's first owner."""
    billing_email = (org.billing or {}).get("email_address")
    if billing_email:
        return str(billing_email)
    return session.scalar(
        select(User.email)
        .where(User.org_id == org.id, User.role.in_([Role.owner, Role.admin]))
        .order_by(User.role != Role.owner, User.id)
        .limit(1)
    )


def queue_order_confirmation(
    *, session: Session, settings: Settings, order: Order, plan: Plan
) -> bool:
    """Queue the order confirmation with payment instructions; False when nobody can get it."""
    if order.account_id is None:
        return False
    org = session.get_one(Organization, order.org_id)
    to = confirmation_recipient(session, org)
    if to is None:
        return False
    lines = [
        f"Thank you for your order, {org.name}.",
        "",
        f"Order number: {order.id}",
        f"What: {order.description}",
        f"Plan: {plan.name}, {order.messages:,} messages",
        f"Total: {amount_of(order)}",
    ]
    if order.payment_method is not None:
        lines.append(f"Payment method: {PAYMENT_METHOD_LABELS[order.payment_method]}")
    text = "\n".join([*lines, "", payment_instructions(order), ""])
    queue_notice(
        session=session,
        settings=settings,
        account_id=order.account_id,
        to=to,
        subject=f"Order {order.id} confirmed: {amount_of(order)} to pay",
        text=text,
        tag="order-confirmation",
    )
    return True
