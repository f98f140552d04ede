"""Choosing a plan and a tier (the wizard and the service page share it), and payment methods.

Every price shown comes from the plans' pricing function; the slider's script only
displays the tier → price table the server writes into the page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import FormData

from outpost.accounts.models import PaymentMethod
from outpost.billing.confirmation import PAYMENT_METHOD_LABELS
from outpost.errors import ValidationFailed
from outpost.plans.models import Plan, PlanKind
from outpost.plans.service import Price, extra_messages_price, price_for
from outpost.web.forms import text

PLAN_HINTS = {
    PlanKind.free: "A monthly allowance at no cost; one free account per customer.",
    PlanKind.subscription: "Messages renewed every month, billed monthly.",
    PlanKind.prepaid: "A package of messages to use within a year.",
}
PAYMENT_METHODS = [
    (
        PaymentMethod.card_auto.value,
        PAYMENT_METHOD_LABELS[PaymentMethod.card_auto],
        "Each order and renewal is charged to your card.",
    ),
    (
        PaymentMethod.paypal_auto.value,
        PAYMENT_METHOD_LABELS[PaymentMethod.paypal_auto],
        "Each order and renewal is charged through PayPal.",
    ),
    (
        PaymentMethod.paypal_manual.value,
        PAYMENT_METHOD_LABELS[PaymentMethod.paypal_manual],
        "You pay each order yourself by PayPal.",
    ),
]
EXTRA_PACKAGES = (1_000, 5_000, 10_000, 25_000, 50_000, 100_000)


def price_label(price: Price, kind: PlanKind | None = None) -> str:
    """``10.00 EUR per month``, ``15.00 EUR for one year`` or ``Free``."""
    if kind is PlanKind.free:
        return "Free"
    period = "per month" if price.period == "month" else f"for {price.period}"
    return f"{price.amount} {price.currency} {period}"


@dataclass(frozen=True)
class Tier:
    """One stop of a plan's slider."""

    messages: int
    price: Price
    label: str


@dataclass(frozen=True)
class PlanOption:
    """A plan as the picker offers it, with the tier selected on its slider."""

    plan: Plan
    tiers: list[Tier]
    selected: int
    hint: str

    @property
    def current(self) -> Tier:
        """The selected tier."""
        return self.tiers[self.selected]

    @property
    def tiers_json(self) -> str:
        """The slider's table for panel.js: per tier, the messages and the price to show."""
        return json.dumps([{"messages": f"{t.messages:,}", "price": t.label} for t in self.tiers])


def plan_options(
    plans: Sequence[Plan], chosen: str | None, messages: int | None
) -> list[PlanOption]:
    """The offered plans, each slider at the chosen tier (or the first)."""
    options = []
    for plan in plans:
        tiers = []
        for tier in plan.tiers:
            price = price_for(plan, int(tier["messages"]))
            tiers.append(Tier(int(tier["messages"]), price, price_label(price, plan.kind)))
        counts = [t.messages for t in tiers]
        selected = counts.index(messages) if plan.code == chosen and messages in counts else 0
        options.append(PlanOption(plan, tiers, selected, PLAN_HINTS[plan.kind]))
    return options


def read_plan_choice(form: FormData, plans: Sequence[Plan]) -> tuple[str, int | None]:
    """The plan code and message count picked (the slider sends its tier's position)."""
    code = text(form, "plan")
    plan = next((p for p in plans if p.code == code), None)
    if plan is None:
        raise ValidationFailed.one("plan", "is required: choose one of the plans")
    if plan.kind is PlanKind.free:
        return code, None
    position = text(form, f"tier.{code}")
    if not position.isdigit() or int(position) >= len(plan.tiers):
        raise ValidationFailed.one("messages", "is required: choose one of the plan's tiers")
    return code, int(plan.tiers[int(position)]["messages"])


def extra_packages(plan: Plan) -> list[tuple[int, str]]:
    """The packages of extra messages on offer for ``plan`` and what each costs."""
    if plan.kind is PlanKind.free:
        return []
    packages = []
    for messages in EXTRA_PACKAGES:
        price = extra_messages_price(plan, messages)
        packages.append((messages, f"{messages:,} messages — {price.amount} {price.currency}"))
    return packages
