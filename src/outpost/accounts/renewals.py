"""Scheduled quota work: monthly resets (with renewal orders) and expiry of bought messages.

Every function takes ``now`` so tests can drive time without sleeping.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from outpost.accounts.models import AccountStatus, DeliveryAccount
from outpost.accounts.quota import next_period_end, quota_update, quota_update_where
from outpost.billing.models import Order, OrderKind, OrderStatus
from outpost.billing.service import plans_by_id
from outpost.db import utcnow
from outpost.errors import ValidationFailed
from outpost.plans.models import Plan, PlanKind
from outpost.plans.service import price_for

BATCH = 500


def _advance(start: datetime, end: datetime, now: datetime) -> tuple[datetime, datetime]:
    while end <= now:
        start, end = end, next_period_end(start, end)
    return start, end


def _renewal_amount(session: Session, account_id: int, plan: Plan, messages: int) -> int:
    try:
        return price_for(plan, messages).amount_cents
    except ValidationFailed:
        # The operator dropped this tier from the catalog: bill what was paid last time.
        last = session.scalar(
            select(Order.amount_cents)
            .where(
                Order.account_id == account_id,
                Order.plan_id == plan.id,
                Order.status == OrderStatus.paid,
            )
            .order_by(Order.id.desc())
            .limit(1)
        )
        return int(last or 0)


def _record_renewal(session: Session, row: Any, plan: Plan, start: datetime, end: datetime) -> None:
    session.add(
        Order(
            org_id=row.org_id,
            account_id=row.id,
            kind=OrderKind.renewal,
            status=OrderStatus.pending,
            plan_id=plan.id,
            messages=row.plan_messages,
            amount_cents=_renewal_amount(session, row.id, plan, row.plan_messages),
            currency=plan.currency,
            payment_method=row.payment_method,
            description=f"Renewal of {row.description!r}: {plan.name}, {row.plan_messages} "
            f"messages, {start:%Y-%m-%d} to {end:%Y-%m-%d}"[:300],
        )
    )


def _due_for_reset(session: Session, now: datetime, after_id: int) -> list[Any]:
    monthly = select(Plan.id).where(Plan.kind.in_([PlanKind.free, PlanKind.subscription]))
    return list(
        session.execute(
            select(
                DeliveryAccount.id,
                DeliveryAccount.org_id,
                DeliveryAccount.description,
                DeliveryAccount.plan_id,
                DeliveryAccount.plan_messages,
                DeliveryAccount.payment_method,
                DeliveryAccount.period_start,
                DeliveryAccount.period_end,
            )
            .where(
                DeliveryAccount.plan_id.in_(monthly),
                DeliveryAccount.period_end <= now,
                DeliveryAccount.status != AccountStatus.awaiting_payment,
                DeliveryAccount.id > after_id,
            )
            .order_by(DeliveryAccount.id)
            .limit(BATCH)
        ).all()
    )


def reset_monthly_quotas(*, session: Session, now: datetime | None = None) -> int:
    """Start a new period for every monthly account whose period ended; returns how many.

    ``used`` goes back to 0 and the period moves by whole months until it ends in the
    future. A subscription gets one pending ``renewal`` order for the new period (missed
    periods, e.g. while the scheduler was down, are not billed).
    """
    now = now or utcnow()
    renewed, last_id = 0, 0
    while rows := _due_for_reset(session, now, last_id):
        plans = plans_by_id(session, (r.plan_id for r in rows))
        for row in rows:
            last_id = row.id
            start, end = _advance(row.period_start or row.period_end, row.period_end, now)
            result = session.execute(
                quota_update(row.id, used=0, period_start=start, period_end=end).where(
                    DeliveryAccount.period_end == row.period_end
                )
            )
            if not getattr(result, "rowcount", 0):
                continue  # another scheduler got there first
            renewed += 1
            plan = plans[row.plan_id]
            if plan.kind is PlanKind.subscription:
                _record_renewal(session, row, plan, start, end)
        session.flush()
    return renewed


def expire_prepaid_packages(*, session: Session, now: datetime | None = None) -> int:
    """Drop the plan messages of prepaid packages past their expiry; returns how many."""
    now = now or utcnow()
    prepaid = select(Plan.id).where(Plan.kind == PlanKind.prepaid)
    result = session.execute(
        quota_update_where(
            DeliveryAccount.plan_id.in_(prepaid)
            & (DeliveryAccount.expires_at <= now)
            & or_(DeliveryAccount.plan_messages != 0, DeliveryAccount.used != 0),
            plan_messages=0,
            used=0,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def expire_extra_messages(*, session: Session, now: datetime | None = None) -> int:
    """Drop extra messages a year after their purchase; returns how many accounts lost some."""
    now = now or utcnow()
    result = session.execute(
        quota_update_where(
            DeliveryAccount.extra_expires_at <= now,
            extra_messages=0,
            extra_used=0,
            extra_expires_at=None,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
