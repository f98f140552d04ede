"""Scheduled quota work, driven with explicit times: monthly resets, renewals, expiries."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.accounts.models import AccountStatus, DeliveryAccount, PaymentMethod
from outpost.accounts.quota import add_months, next_period_end
from outpost.accounts.renewals import (
    expire_extra_messages,
    expire_prepaid_packages,
    reset_monthly_quotas,
)
from outpost.billing.models import Order, OrderKind, OrderStatus
from outpost.config import Settings
from outpost.db import Database
from outpost.jobs import ALL_JOBS
from outpost.scheduler import Scheduler
from tests.factories import Factory, make_account


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def _account(session: Session, plan: str, **values: object) -> DeliveryAccount:
    account = make_account(session, plan=plan, remaining=0)
    for name, value in values.items():
        setattr(account, name, value)
    account.remaining = (
        account.plan_messages - account.used + account.extra_messages - account.extra_used
    )
    session.flush()
    return account


def test_periods_keep_their_anchor_day() -> None:
    assert add_months(at("2026-01-31"), 1) == at("2026-02-28")
    assert add_months(at("2027-12-15"), 3) == at("2028-03-15")
    start, end = at("2026-01-31"), at("2026-02-28")
    ends = []
    for _ in range(4):
        start, end = end, next_period_end(start, end)
        ends.append(end)
    assert ends == [at("2026-03-31"), at("2026-04-30"), at("2026-05-31"), at("2026-06-30")]


def test_monthly_reset_starts_a_new_period_and_bills_subscriptions(session: Session) -> None:
    subscription = _account(
        session,
        "monthly",
        plan_messages=10_000,
        used=9_000,
        extra_messages=500,
        extra_used=100,
        payment_method=PaymentMethod.card_auto,
        period_start=at("2026-01-31"),
        period_end=at("2026-02-28"),
    )
    free = _account(
        session,
        "free",
        plan_messages=3000,
        used=3000,
        period_start=at("2026-03-10"),
        period_end=at("2026-04-10"),
    )
    current = _account(
        session,
        "monthly",
        plan_messages=10_000,
        used=5,
        period_start=at("2026-04-01"),
        period_end=at("2026-05-01"),
    )
    session.commit()

    now = at("2026-04-20")
    assert reset_monthly_quotas(session=session, now=now) == 2
    assert reset_monthly_quotas(session=session, now=now) == 0
    for account in (subscription, free, current):
        session.refresh(account)
    # Advanced by whole months until the period ends in the future, on its anchor day.
    assert (subscription.period_start, subscription.period_end) == (
        at("2026-03-31"),
        at("2026-04-30"),
    )
    assert (subscription.used, subscription.remaining) == (0, 10_400)
    assert (free.period_start, free.period_end, free.remaining) == (
        at("2026-04-10"),
        at("2026-05-10"),
        3000,
    )
    assert (current.used, current.remaining) == (5, 9995)

    renewal = session.scalars(select(Order)).one()
    assert (renewal.kind, renewal.status, renewal.account_id) == (
        OrderKind.renewal,
        OrderStatus.pending,
        subscription.id,
    )
    assert (renewal.amount_cents, renewal.messages, renewal.payment_method) == (
        1000,
        10_000,
        PaymentMethod.card_auto,
    )
    assert "2026-03-31 to 2026-04-30" in renewal.description


def test_accounts_awaiting_payment_are_not_reset(session: Session) -> None:
    waiting = _account(
        session,
        "monthly",
        status=AccountStatus.awaiting_payment,
        period_start=at("2026-01-01"),
        period_end=at("2026-02-01"),
    )
    assert reset_monthly_quotas(session=session, now=at("2026-03-01")) == 0
    session.refresh(waiting)
    assert waiting.period_end == at("2026-02-01")


def test_prepaid_packages_expire_but_extra_messages_stay(session: Session) -> None:
    expired = _account(
        session,
        "prepaid",
        plan_messages=10_000,
        used=4000,
        extra_messages=2000,
        extra_used=500,
        expires_at=at("2026-06-01"),
        extra_expires_at=at("2026-12-01"),
    )
    valid = _account(session, "prepaid", plan_messages=10_000, used=1, expires_at=at("2026-08-01"))
    assert expire_prepaid_packages(session=session, now=at("2026-07-01")) == 1
    assert expire_prepaid_packages(session=session, now=at("2026-07-01")) == 0
    session.refresh(expired)
    session.refresh(valid)
    assert (expired.plan_messages, expired.used, expired.remaining) == (0, 0, 1500)
    assert valid.remaining == 9999


def test_extra_messages_expire(session: Session) -> None:
    account = _account(
        session,
        "monthly",
        plan_messages=10_000,
        used=100,
        extra_messages=3000,
        extra_used=1000,
        extra_expires_at=at("2026-06-01"),
    )
    assert expire_extra_messages(session=session, now=at("2026-05-31")) == 0
    assert expire_extra_messages(session=session, now=at("2026-06-01")) == 1
    session.refresh(account)
    assert (account.extra_messages, account.extra_used, account.extra_expires_at) == (0, 0, None)
    assert account.remaining == 9900


def test_the_scheduler_runs_the_quota_jobs(
    db: Database, settings: Settings, factory: Factory
) -> None:
    names = {job.name for job in ALL_JOBS}
    assert {"reset-monthly-quotas", "expire-prepaid-packages", "expire-extra-messages"} <= names
    with db.session() as session:
        account_id = _account(
            session,
            "monthly",
            plan_messages=10,
            used=10,
            period_start=at("2020-01-01"),
            period_end=at("2020-02-01"),
        ).id
    ran = Scheduler(db, settings, ALL_JOBS).run_due()
    assert "reset-monthly-quotas" in ran
    with db.session() as session:
        account = session.get_one(DeliveryAccount, account_id)
        assert (account.used, account.remaining) == (0, 10)
        assert account.period_end is not None and account.period_end.year >= 2026
