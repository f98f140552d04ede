"""What a paid order does to its account; run in the transaction that marks it paid."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from outpost.accounts.models import AccountStatus, DeliveryAccount
from outpost.accounts.quota import (
    apply_quota,
    extra_expiry,
    first_period,
    prepaid_expiry,
)
from outpost.billing.models import Order, OrderKind
from outpost.plans.models import Plan, PlanKind


def switch_plan(
    *, session: Session, account: DeliveryAccount, plan: Plan, messages: int, now: datetime
) -> None:
    """Put ``account`` on ``plan`` with ``messages``; unused plan and extra messages are lost."""
    if plan.kind is PlanKind.prepaid:
        period: tuple[datetime | None, datetime | None] = (None, None)
        expires_at: datetime | None = prepaid_expiry(now, None)
    else:
        period, expires_at = first_period(now), None
    apply_quota(
        session,
        account,
        plan_id=plan.id,
        plan_messages=messages,
        used=0,
        extra_messages=0,
        extra_used=0,
        extra_expires_at=None,
        period_start=period[0],
        period_end=period[1],
        expires_at=expires_at,
    )


def activate(account: DeliveryAccount) -> None:
    """Enable an account that was waiting for payment (or remember it for its unblocking)."""
    if account.status is AccountStatus.awaiting_payment:
        account.status = AccountStatus.enabled
    elif account.status_before_block is AccountStatus.awaiting_payment:
        # Paid while blocked: unblocking will now bring it back enabled.
        account.status_before_block = AccountStatus.enabled


def _top_up(*, session: Session, account: DeliveryAccount, messages: int, now: datetime) -> None:
    current = account.expires_at
    # A package past its expiry is gone even if the expiry job has not run yet.
    expired = current is not None and current <= now
    changes: dict[str, Any] = (
        {"plan_messages": messages, "used": 0}
        if expired
        else {"plan_messages": DeliveryAccount.plan_messages + messages}
    )
    expiry = prepaid_expiry(now, None if expired else current)
    apply_quota(session, account, **changes, expires_at=expiry)


def _add_extra(*, session: Session, account: DeliveryAccount, messages: int, now: datetime) -> None:
    current = account.extra_expires_at
    expired = current is not None and current <= now
    changes: dict[str, Any] = (
        {"extra_messages": messages, "extra_used": 0}
        if expired
        else {"extra_messages": DeliveryAccount.extra_messages + messages}
    )
    expiry = extra_expiry(now, None if expired else current)
    apply_quota(session, account, **changes, extra_expires_at=expiry)


def apply_paid_order(
    *, session: Session, order: Order, account: DeliveryAccount, now: datetime
) -> None:
    """Give ``account`` what ``order`` bought."""
    plan = session.get_one(Plan, order.plan_id)
    if order.kind is OrderKind.new_account:
        switch_plan(session=session, account=account, plan=plan, messages=order.messages, now=now)
        activate(account)
    elif order.kind is OrderKind.plan_change or (
        order.kind is OrderKind.prepaid_topup and account.plan_id != plan.id
    ):
        switch_plan(session=session, account=account, plan=plan, messages=order.messages, now=now)
    elif order.kind is OrderKind.prepaid_topup:
        _top_up(session=session, account=account, messages=order.messages, now=now)
    elif order.kind is OrderKind.extra_messages:
        _add_extra(session=session, account=account, messages=order.messages, now=now)
    # A renewal only records the payment: the job already renewed the period.
    if order.payment_method is not None and order.kind is not OrderKind.renewal:
        account.payment_method = order.payment_method
    session.flush()
