"""The new-account wizard's steps: which fields each owns, and checking one step's input.

The wizard keeps no state on the server: every step's form carries the earlier answers
as hidden fields, and each step is checked again by the accounts service's own rules
(``quote_new_account``, then ``create_account`` itself at the end).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from outpost.accounts.schemas import AccountCreate
from outpost.accounts.service import NewAccountQuote, quote_new_account
from outpost.billing.service import billing_problems
from outpost.errors import FieldError, ValidationFailed
from outpost.plans.service import list_plans
from outpost.web.forms import checked, optional, text, validate, values_of
from outpost.web.org_forms import billing_from
from outpost.web.viewer import Viewer
from outpost.web.views.accounts.plan_picker import read_plan_choice

STEPS = ((1, "Account"), (2, "Plan"), (3, "Payment"), (4, "Summary"))
ACCOUNT, PLAN, PAYMENT, SUMMARY = 1, 2, 3, 4
_OWN_FIELDS = {
    ACCOUNT: ("description", "type", "org_id"),
    PLAN: ("plan", "messages"),
    PAYMENT: ("payment_method", "accept_contract"),
    SUMMARY: (),
}


def step_of_field(field: str) -> int:
    """The step whose form has ``field``."""
    if field.startswith("billing."):
        return PAYMENT
    return next((step for step, names in _OWN_FIELDS.items() if field in names), SUMMARY)


def carried(state: dict[str, str], step: int) -> dict[str, str]:
    """The answers of the other steps, to send along as hidden fields."""
    return {k: v for k, v in state.items() if step_of_field(k) != step}


def state_of(form: FormData) -> dict[str, str]:
    """The answers so far, without the wizard's own controls and the sliders' positions."""
    return {
        k: v
        for k, v in values_of(form).items()
        if k not in ("step", "go") and not k.startswith("tier.")
    }


def account_data(form: FormData, quote: NewAccountQuote | None) -> dict[str, Any]:
    """What ``create_account`` is given; billing data only when the customer needs it."""
    needs_billing = quote is not None and quote.needs_billing
    return {
        "description": text(form, "description"),
        "type": text(form, "type"),
        "org_id": optional(form, "org_id"),
        "plan": text(form, "plan") or "free",
        "messages": optional(form, "messages"),
        "payment_method": optional(form, "payment_method"),
        "billing": billing_from(form) if needs_billing else None,
        "accept_contract": True if needs_billing and checked(form, "accept_contract") else None,
    }


def _only(exc: ValidationFailed, step: int) -> None:
    mine = [e for e in exc.errors if step_of_field(e.field) == step]
    if mine:
        raise ValidationFailed(mine) from exc


def quote(session: Session, viewer: Viewer, state: dict[str, str]) -> NewAccountQuote:
    """The quote for the answers so far (plan and tier once chosen)."""
    messages = state.get("messages", "")
    return quote_new_account(
        session=session,
        caller=viewer.caller,
        org_id=int(state["org_id"]) if state.get("org_id", "").isdigit() else None,
        plan=state.get("plan") or None,
        messages=int(messages) if messages.isdigit() else None,
    )


def check_account(session: Session, viewer: Viewer, form: FormData) -> NewAccountQuote:
    """Step 1: description, sending type and, for providers, the customer."""
    try:
        validate(AccountCreate, account_data(form, None))
    except ValidationFailed as exc:
        _only(exc, ACCOUNT)
    if viewer.manages_organizations and not text(form, "org_id"):
        raise ValidationFailed.one("org_id", "is required: choose the customer")
    return quote(session, viewer, {"org_id": text(form, "org_id")})


def check_plan(
    session: Session, viewer: Viewer, form: FormData, state: dict[str, str]
) -> NewAccountQuote:
    """Step 2: the plan and tier; records them in ``state``."""
    code, messages = read_plan_choice(form, list_plans(session=session))
    state["plan"], state["messages"] = code, str(messages or "")
    return quote(session, viewer, state)


def check_payment(
    session: Session, viewer: Viewer, form: FormData, state: dict[str, str]
) -> NewAccountQuote:
    """Step 3: the payment method and, when missing, billing data and the contract."""
    found = quote(session, viewer, state)
    problems: list[FieldError] = []
    if not text(form, "payment_method"):
        problems.append(FieldError("payment_method", "is required: choose how to pay"))
    try:
        validate(AccountCreate, account_data(form, found))
    except ValidationFailed as exc:
        problems += [e for e in exc.errors if step_of_field(e.field) == PAYMENT]
    if found.needs_billing and not problems:
        accepted = checked(form, "accept_contract")
        problems += billing_problems(billing_from(form), contract_accepted=accepted)
    if problems:
        raise ValidationFailed(problems)
    return found
