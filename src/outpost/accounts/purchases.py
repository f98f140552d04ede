"""Buying for an existing account: plan changes, prepaid top-ups, extra messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from outpost.accounts.listing import AccountView, views_of
from outpost.accounts.models import AccountStatus, DeliveryAccount
from outpost.accounts.rules import (
    check_plan_allowed,
    lock_customer,
    payment_method_for,
    resolve_plan,
    tier_for,
)
from outpost.accounts.schemas import ExtraMessagesPurchase, PlanChange
from outpost.accounts.service import get_account
from outpost.billing.fulfilment import activate, switch_plan
from outpost.billing.models import OrderKind
from outpost.billing.service import (
    OrderView,
    cancel_pending_orders,
    pending_orders,
    place_order,
    require_billing_profile,
)
from outpost.config import Settings
from outpost.db import utcnow
from outpost.errors import Conflict, ValidationFailed
from outpost.plans.models import Plan, PlanKind
from outpost.plans.service import extra_messages_price
from outpost.tenancy.models import Organization
from outpost.tenancy.scope import Caller, require_write

# Orders that change what the account is on; only one may wait for payment at a time.
PLAN_ORDERS = (OrderKind.new_account, OrderKind.plan_change, OrderKind.prepaid_topup)


@dataclass(frozen=True)
class PlanChangeResult:
    """The account after a plan change and the order to pay (none when moving to free)."""

    account: AccountView
    order: OrderView | None


def _plan_order_kind(account: DeliveryAccount, plan: Plan) -> OrderKind:
    if account.status is AccountStatus.awaiting_payment:
        return OrderKind.new_account
    if plan.id == account.plan_id and plan.kind is PlanKind.prepaid:
        return OrderKind.prepaid_topup
    return OrderKind.plan_change


def _check_can_change(session: Session, account: DeliveryAccount) -> None:
    if account.status is AccountStatus.blocked:
        raise Conflict("The account is blocked; its plan cannot change.")
    waiting = pending_orders(session=session, account_id=account.id, kinds=PLAN_ORDERS)
    if waiting:
        raise Conflict(
            f"Order {waiting[0].id} is waiting for payment for this account; "
            "pay or cancel it first."
        )


def change_plan(
    *,
    session: Session,
    settings: Settings,
    caller: Caller,
    account_id: int,
    data: PlanChange,
    now: datetime | None = None,
) -> PlanChangeResult:
    """Order a plan change (applied when paid); moving to free happens at once."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    require_write(caller)
    org = lock_customer(session, account.org_id)
    _check_can_change(session, account)
    plan = resolve_plan(session, data.plan)
    messages, price = tier_for(plan, data.messages)
    awaiting = account.status is AccountStatus.awaiting_payment
    if plan.id == account.plan_id and not awaiting:
        if plan.kind is not PlanKind.prepaid and messages == account.plan_messages:
            raise ValidationFailed.one("plan", "is already the account's plan")
    else:
        check_plan_allowed(session, org, plan, moving_account_id=account.id)
    now = now or utcnow()
    if plan.kind is PlanKind.free:
        cancel_pending_orders(session=session, account_id=account.id, now=now)
        switch_plan(session=session, account=account, plan=plan, messages=messages, now=now)
        activate(account)
        account.payment_method = None
        session.flush()
        return PlanChangeResult(views_of(session, [account])[0], None)
    require_billing_profile(org)
    method = payment_method_for(data.payment_method, account)
    kind = _plan_order_kind(account, plan)
    order = place_order(
        session=session,
        settings=settings,
        account=account,
        kind=kind,
        plan=plan,
        messages=messages,
        price=price,
        payment_method=method,
        description=f"{kind.value.replace('_', ' ').capitalize()} for {account.description!r}: "
        f"{plan.name}, {messages} messages",
    )
    return PlanChangeResult(views_of(session, [account])[0], OrderView(order, plan))


def buy_extra_messages(
    *,
    session: Session,
    settings: Settings,
    caller: Caller,
    account_id: int,
    data: ExtraMessagesPurchase,
) -> OrderView:
    """Order extra messages for an account (added when paid, valid one year)."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    require_write(caller)
    if account.status in (AccountStatus.awaiting_payment, AccountStatus.blocked):
        raise Conflict(f"The account is {account.status.value.replace('_', ' ')}.")
    plan = session.get_one(Plan, account.plan_id)
    price = extra_messages_price(plan, data.messages)
    require_billing_profile(session.get_one(Organization, account.org_id))
    order = place_order(
        session=session,
        settings=settings,
        account=account,
        kind=OrderKind.extra_messages,
        plan=plan,
        messages=data.messages,
        price=price,
        payment_method=payment_method_for(data.payment_method, account),
        description=f"{data.messages} extra messages for {account.description!r}",
    )
    return OrderView(order, plan)
