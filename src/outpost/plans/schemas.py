"""API shapes for the plan catalog and prices."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, computed_field, field_validator

from outpost.money import format_amount
from outpost.plans.models import MAX_DOMAINS_PER_ACCOUNT, PlanKind
from outpost.schemas import InputModel, OutputModel


class Tier(InputModel):
    """A number of messages and what it costs (per month or per package)."""

    messages: int = Field(gt=0, le=100_000_000)
    price_cents: int = Field(ge=0, le=100_000_000)


def _check_tiers(tiers: list[Tier]) -> list[Tier]:
    counts = [t.messages for t in tiers]
    if counts != sorted(set(counts)):
        raise ValueError("must list distinct message counts in ascending order")
    return tiers


class PlanCreate(InputModel):
    """A new plan in the catalog."""

    code: str = Field(min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=100)
    kind: PlanKind
    tiers: list[Tier] = Field(min_length=1, max_length=50)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    max_domains: int = Field(default=1, ge=1, le=MAX_DOMAINS_PER_ACCOUNT)
    send_rate_per_hour: int = Field(default=1000, ge=1)
    extra_price_per_1000_cents: int = Field(default=0, ge=0)
    active: bool = True
    position: int = 0

    _tiers = field_validator("tiers")(_check_tiers)


class PlanUpdate(InputModel):
    """Changes to a plan; absent fields stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    tiers: list[Tier] | None = Field(default=None, min_length=1, max_length=50)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    max_domains: int | None = Field(default=None, ge=1, le=MAX_DOMAINS_PER_ACCOUNT)
    send_rate_per_hour: int | None = Field(default=None, ge=1)
    extra_price_per_1000_cents: int | None = Field(default=None, ge=0)
    active: bool | None = None
    position: int | None = None

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, tiers: list[Tier] | None) -> list[Tier] | None:
        return None if tiers is None else _check_tiers(tiers)


class TierOut(OutputModel):
    """A tier as shown, with its price in major units."""

    messages: int
    price_cents: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def price(self) -> str:
        """The price in major units, e.g. ``"10.00"``."""
        return format_amount(self.price_cents)


class PlanOut(OutputModel):
    """A plan as the API shows it."""

    id: int
    code: str
    name: str
    kind: PlanKind
    tiers: list[TierOut]
    currency: str
    max_domains: int
    send_rate_per_hour: int
    extra_price_per_1000_cents: int
    active: bool
    position: int
    created_at: datetime
    updated_at: datetime


class Quote(OutputModel):
    """What a plan costs for a number of messages."""

    plan: str
    kind: PlanKind
    messages: int
    amount_cents: int
    amount: str
    currency: str
    period: str
