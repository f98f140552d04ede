"""The plan catalog and the one pricing function the API and the panel share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.errors import NotFound, ValidationFailed
from outpost.money import format_amount
from outpost.plans.models import MAX_DOMAINS_PER_ACCOUNT, Plan, PlanKind
from outpost.plans.schemas import PlanCreate, PlanUpdate, Tier
from outpost.tenancy.scope import Caller, require_admin, require_operator

EXTRA_MESSAGES_STEP = 1000

PERIOD_BY_KIND = {
    PlanKind.free: "month",
    PlanKind.subscription: "month",
    PlanKind.prepaid: "one year",
}

DEFAULT_PLANS: list[dict[str, Any]] = [
    {
        "code": "free",
        "name": "Free",
        "kind": PlanKind.free,
        "tiers": [{"messages": 3000, "price_cents": 0}],
        "max_domains": 1,
        "send_rate_per_hour": 300,
        "extra_price_per_1000_cents": 0,
        "position": 0,
    },
    {
        "code": "monthly",
        "name": "Monthly subscription",
        "kind": PlanKind.subscription,
        "tiers": [
            {"messages": 10_000, "price_cents": 1_000},
            {"messages": 50_000, "price_cents": 3_500},
            {"messages": 100_000, "price_cents": 6_000},
            {"messages": 250_000, "price_cents": 12_500},
            {"messages": 500_000, "price_cents": 22_000},
            {"messages": 1_000_000, "price_cents": 40_000},
        ],
        "max_domains": MAX_DOMAINS_PER_ACCOUNT,
        "send_rate_per_hour": 100_000,
        "extra_price_per_1000_cents": 120,
        "position": 1,
    },
    {
        "code": "prepaid",
        "name": "Prepaid package",
        "kind": PlanKind.prepaid,
        "tiers": [
            {"messages": 10_000, "price_cents": 1_500},
            {"messages": 50_000, "price_cents": 6_000},
            {"messages": 100_000, "price_cents": 10_000},
            {"messages": 500_000, "price_cents": 40_000},
            {"messages": 1_000_000, "price_cents": 70_000},
        ],
        "max_domains": MAX_DOMAINS_PER_ACCOUNT,
        "send_rate_per_hour": 100_000,
        "extra_price_per_1000_cents": 150,
        "position": 2,
    },
]


@dataclass(frozen=True)
class Price:
    """An amount in minor units of a currency, for a period."""

    amount_cents: int
    currency: str
    period: str

    @property
    def amount(self) -> str:
        """The amount in major units with two decimals, e.g. ``"10.00"``."""
        return format_amount(self.amount_cents)


def price_for(plan: Plan, messages: int) -> Price:
    """What ``messages`` cost on ``plan``; the count must be one of the plan's tiers."""
    for tier in plan.tiers:
        if tier["messages"] == messages:
            return Price(int(tier["price_cents"]), plan.currency, PERIOD_BY_KIND[plan.kind])
    offered = ", ".join(str(t["messages"]) for t in plan.tiers)
    raise ValidationFailed.one("messages", f"must be one of the plan's tiers: {offered}")


def extra_messages_price(plan: Plan, messages: int) -> Price:
    """What a package of extra messages costs on ``plan`` (whole thousands)."""
    if plan.kind is PlanKind.free:
        raise ValidationFailed.one("plan", "a free plan cannot buy extra messages")
    if messages <= 0 or messages % EXTRA_MESSAGES_STEP:
        raise ValidationFailed.one(
            "messages", f"must be a positive multiple of {EXTRA_MESSAGES_STEP}"
        )
    amount = messages // EXTRA_MESSAGES_STEP * plan.extra_price_per_1000_cents
    return Price(amount, plan.currency, "one year")


def list_plans(*, session: Session, include_inactive: bool = False) -> list[Plan]:
    """The catalog in display order."""
    statement = select(Plan).order_by(Plan.position, Plan.id)
    if not include_inactive:
        statement = statement.where(Plan.active.is_(True))
    return list(session.scalars(statement).all())


def get_plan(*, session: Session, code: str) -> Plan:
    """A plan by its code."""
    plan = session.scalar(select(Plan).where(Plan.code == code))
    if plan is None:
        raise NotFound(f"Plan {code!r} not found.")
    return plan


def _check_kind_rules(kind: PlanKind, tiers: list[Tier] | list[dict[str, Any]]) -> None:
    if kind is not PlanKind.free:
        return
    prices = [t.price_cents if isinstance(t, Tier) else t["price_cents"] for t in tiers]
    if len(prices) != 1 or prices[0] != 0:
        raise ValidationFailed.one("tiers", "a free plan has exactly one tier, priced 0")


def create_plan(*, session: Session, caller: Caller, data: PlanCreate) -> Plan:
    """Add a plan to the catalog (operator only)."""
    require_operator(caller)
    require_admin(caller)
    _check_kind_rules(data.kind, data.tiers)
    if session.scalar(select(Plan.id).where(Plan.code == data.code)) is not None:
        raise ValidationFailed.one("code", "already exists")
    plan = Plan(**data.model_dump(exclude={"tiers"}), tiers=[t.model_dump() for t in data.tiers])
    session.add(plan)
    session.flush()
    return plan


def update_plan(*, session: Session, caller: Caller, code: str, data: PlanUpdate) -> Plan:
    """Edit a plan (operator only); accounts keep the messages they already have."""
    require_operator(caller)
    require_admin(caller)
    plan = get_plan(session=session, code=code)
    changes = data.model_dump(exclude_unset=True, exclude={"tiers"})
    for field, value in changes.items():
        if value is None:
            raise ValidationFailed.one(field, "cannot be null")
        setattr(plan, field, value)
    if data.tiers is not None:
        _check_kind_rules(plan.kind, data.tiers)
        plan.tiers = [t.model_dump() for t in data.tiers]
    session.flush()
    return plan


def seed_default_plans(*, session: Session) -> None:
    """Put the default catalog in place when the catalog is empty."""
    if session.scalar(select(Plan.id).limit(1)) is not None:
        return
    session.add_all(Plan(**spec) for spec in DEFAULT_PLANS)
    session.flush()
