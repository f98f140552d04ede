"""Which plans and tiers a customer may take; shared by account creation and plan changes."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outpost.accounts.models import DeliveryAccount, PaymentMethod
from outpost.errors import ValidationFailed
from outpost.plans.models import Plan, PlanKind
from outpost.plans.service import Price, price_for
from outpost.tenancy.models import Organization


def resolve_plan(session: Session, code: str) -> Plan:
    """An active plan by code; anything else is a validation error on ``plan``."""
    plan = session.scalar(select(Plan).where(Plan.code == code))
    if plan is None or not plan.active:
        raise ValidationFailed.one("plan", "is not an offered plan")
    return plan


def tier_for(plan: Plan, messages: int | None) -> tuple[int, Price]:
    """The message count and price chosen on ``plan`` (a free plan's single tier is implied)."""
    if messages is None:
        if plan.kind is not PlanKind.free:
            raise ValidationFailed.one("messages", "is required: choose one of the plan's tiers")
        messages = int(plan.tiers[0]["messages"])
    return messages, price_for(plan, messages)


def check_plan_allowed(
    session: Session, org: Organization, plan: Plan, *, moving_account_id: int | None = None
) -> None:
    """Refuse a second free account and going over the customer's per-plan limit."""
    others = select(func.count(DeliveryAccount.id)).where(DeliveryAccount.org_id == org.id)
    if moving_account_id is not None:
        others = others.where(DeliveryAccount.id != moving_account_id)
    if plan.kind is PlanKind.free:
        free_plans = select(Plan.id).where(Plan.kind == PlanKind.free)
        if session.scalar(others.where(DeliveryAccount.plan_id.in_(free_plans))):
            raise ValidationFailed.one(
                "plan", "a customer can have only one account on a free plan"
            )
    limits = (org.restrictions or {}).get("max_accounts_per_plan") or {}
    limit = limits.get(plan.code)
    if (
        limit is not None
        and (session.scalar(others.where(DeliveryAccount.plan_id == plan.id)) or 0) >= limit
    ):
        raise ValidationFailed.one(
            "plan", f"your provider allows at most {limit} account(s) on the {plan.name} plan"
        )


def payment_method_for(
    given: PaymentMethod | None, account: DeliveryAccount | None
) -> PaymentMethod:
    """The payment method given, else the account's, else a validation error."""
    method = given or (account.payment_method if account else None)
    if method is None:
        raise ValidationFailed.one("payment_method", "is required for paid plans")
    return method


def lock_customer(session: Session, org_id: int) -> Organization:
    """The customer row, locked on PostgreSQL so per-customer limits hold under concurrency."""
    return session.execute(
        select(Organization).where(Organization.id == org_id).with_for_update()
    ).scalar_one()
