"""The plan edit form: tiers as rows of messages and price, amounts in major units."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from outpost.errors import FieldError, ValidationFailed
from outpost.money import format_amount, parse_amount
from outpost.plans.models import Plan
from outpost.plans.schemas import PlanUpdate
from outpost.web.forms import checked, text, validate

EMPTY_TIER_ROWS = 2
MAX_TIER_ROWS = 60


def tier_rows(form: FormData) -> int:
    """How many tier rows the submitted form had."""
    rows = 0
    while rows < MAX_TIER_ROWS and f"tiers.{rows}.messages" in form:
        rows += 1
    return rows


def _amount(value: str, field: str, errors: list[FieldError]) -> int:
    try:
        return parse_amount(value)
    except ValueError as exc:
        errors.append(FieldError(field, str(exc)))
        return 0


def update_from(form: FormData) -> PlanUpdate:
    """The changes the form asks for; errors name the form's own rows and fields."""
    errors: list[FieldError] = []
    rows = [
        (index, text(form, f"tiers.{index}.messages"), text(form, f"tiers.{index}.price"))
        for index in range(tier_rows(form))
    ]
    # Blank rows are spare rows: skipped, so error positions are mapped back to form rows.
    kept = [row for row in rows if row[1] or row[2]]
    tiers = [
        {
            "messages": messages.replace(",", "").replace("_", "").replace(" ", ""),
            "price_cents": _amount(price or "", f"tiers.{index}.price", errors),
        }
        for index, messages, price in kept
    ]
    data: dict[str, Any] = {
        "name": text(form, "name"),
        "tiers": tiers,
        "currency": text(form, "currency").upper(),
        "max_domains": text(form, "max_domains"),
        "send_rate_per_hour": text(form, "send_rate_per_hour"),
        "extra_price_per_1000_cents": _amount(text(form, "extra_price"), "extra_price", errors),
        "active": checked(form, "active"),
        "position": text(form, "position") or "0",
    }
    try:
        update = validate(PlanUpdate, data)
    except ValidationFailed as exc:
        errors.extend(_form_field(error, [row[0] for row in kept]) for error in exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return update


def _form_field(error: FieldError, row_of: list[int]) -> FieldError:
    parts = error.field.split(".")
    if parts[0] == "tiers" and len(parts) > 1 and parts[1].isdigit():
        parts[1] = str(row_of[int(parts[1])])
    elif parts[0] == "extra_price_per_1000_cents":
        parts[0] = "extra_price"
    return FieldError(".".join(parts), error.description)


def form_values(plan: Plan) -> dict[str, str]:
    """A plan as the edit form's field values."""
    values = {
        "name": plan.name,
        "currency": plan.currency,
        "max_domains": str(plan.max_domains),
        "send_rate_per_hour": str(plan.send_rate_per_hour),
        "extra_price": format_amount(plan.extra_price_per_1000_cents),
        "position": str(plan.position),
    }
    if plan.active:
        values["active"] = "on"
    for index, tier in enumerate(plan.tiers):
        values[f"tiers.{index}.messages"] = str(tier["messages"])
        values[f"tiers.{index}.price"] = format_amount(int(tier["price_cents"]))
    return values
