"""The new-account wizard: account, plan, payment, summary; then Activate or Order."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from outpost.accounts.schemas import AccountCreate
from outpost.accounts.service import NewAccountQuote, create_account
from outpost.api.deps import DbSession
from outpost.billing.confirmation import (
    PAYMENT_METHOD_LABELS,
    amount_of,
    confirmation_recipient,
    payment_instructions,
)
from outpost.errors import Conflict, Forbidden, ValidationFailed
from outpost.pagination import PageParams
from outpost.plans.models import PlanKind
from outpost.plans.service import list_plans
from outpost.tenancy.models import OrgKind
from outpost.tenancy.scope import require_write
from outpost.tenancy.service import list_organizations
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.forms import errors_by_field, text, validate
from outpost.web.org_forms import BILLING_FIELDS, CUSTOMER_TYPES
from outpost.web.render import render
from outpost.web.viewer import Viewer
from outpost.web.views.accounts import wizard_steps as steps
from outpost.web.views.accounts.plan_picker import PAYMENT_METHODS, plan_options, price_label
from outpost.web.views.accounts.shell import TYPE_LABELS

router = APIRouter()
MAX_CUSTOMERS_IN_PICKER = 500
FIELD_LABELS = {
    "org_id": "Customer",
    "type": "Sending type",
    "accept_contract": "Contract terms",
    **{f"billing.{name}": label for name, label, _ in BILLING_FIELDS},
}
TEMPLATES = {
    steps.ACCOUNT: "accounts/wizard_account.html",
    steps.PLAN: "accounts/wizard_plan.html",
    steps.PAYMENT: "accounts/wizard_payment.html",
    steps.SUMMARY: "accounts/wizard_summary.html",
}


def _step_context(
    session: Session,
    viewer: Viewer,
    step: int,
    state: dict[str, str],
    found: NewAccountQuote | None,
) -> dict[str, Any]:
    if step == steps.ACCOUNT:
        customers = []
        if viewer.manages_organizations:
            params = PageParams(per=MAX_CUSTOMERS_IN_PICKER)
            page = list_organizations(
                session=session, caller=viewer.caller, params=params, kind=OrgKind.customer
            )
            customers = list(page.items)
        return {"customers": customers}
    if step == steps.PLAN:
        messages = state.get("messages", "")
        chosen = int(messages) if messages.isdigit() else None
        plans = list_plans(session=session)
        code = state.get("plan") or (plans[0].code if plans else "")
        return {
            "plans": plan_options(plans, code, chosen),
            "values": {**state, "plan": code},
        }
    return {
        "quote": found,
        "price": price_label(found.price, found.plan.kind)
        if found and found.price and found.plan
        else "",
        "billing_fields": BILLING_FIELDS,
        "customer_types": CUSTOMER_TYPES,
        "payment_choices": PAYMENT_METHODS,
        "payment_methods": PAYMENT_METHOD_LABELS,
        # The billing e-mail typed on step 3 is saved only with the account.
        "notify": state.get("billing.email_address")
        or (confirmation_recipient(session, found.customer) if found else None),
    }


def _render(
    request: Request,
    session: Session,
    viewer: Viewer,
    step: int,
    state: dict[str, str],
    *,
    found: NewAccountQuote | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
) -> Response:
    if step in (steps.PAYMENT, steps.SUMMARY) and found is None:
        try:
            found = steps.quote(session, viewer, state)
        except ValidationFailed as exc:
            # Going back to a step whose earlier answers no longer hold (a plan withdrawn).
            earlier = min(steps.step_of_field(e.field) for e in exc.errors)
            if earlier >= step:
                raise
            return _render(request, session, viewer, earlier, state, errors=errors_by_field(exc))
    free = found is not None and found.plan is not None and found.plan.kind is PlanKind.free
    context = {
        "step": step,
        "steps": steps.STEPS,
        "free": free or state.get("plan") == "free",
        "values": state,
        "carried": steps.carried(state, step),
        "errors": errors or {},
        "problem": problem,
        "type_labels": TYPE_LABELS,
        "field_labels": FIELD_LABELS,
        **_step_context(session, viewer, step, state, found),
    }
    status = 422 if errors or problem else 200
    return render(request, TEMPLATES[step], context, status_code=status)


@router.get("/accounts/new")
def new_account(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    """Step 1 of the wizard."""
    require_write(viewer.caller)
    return _render(request, session, viewer, steps.ACCOUNT, {"type": "transactional"})


def _next_step(step: int, found: NewAccountQuote) -> int:
    if step == steps.PLAN and found.plan is not None and found.plan.kind is PlanKind.free:
        return steps.SUMMARY
    return step + 1


def _previous_step(step: int, state: dict[str, str]) -> int:
    if step == steps.SUMMARY and state.get("plan") == "free":
        return steps.PLAN
    return max(step - 1, steps.ACCOUNT)


def _advance(
    request: Request, session: Session, viewer: Viewer, step: int, form: PostedForm
) -> Response:
    state = steps.state_of(form)
    try:
        with session.begin_nested():
            if step == steps.ACCOUNT:
                found = steps.check_account(session, viewer, form)
            elif step == steps.PLAN:
                found = steps.check_plan(session, viewer, form, state)
            else:
                found = steps.check_payment(session, viewer, form, state)
    except ValidationFailed as exc:
        shown_at = min(steps.step_of_field(e.field) for e in exc.errors)
        return _render(
            request, session, viewer, min(shown_at, step), state, errors=errors_by_field(exc)
        )
    return _render(request, session, viewer, _next_step(step, found), state, found=found)


def _create(request: Request, session: Session, viewer: Viewer, form: PostedForm) -> Response:
    state = steps.state_of(form)
    try:
        with session.begin_nested():
            found = steps.quote(session, viewer, state)
            data = validate(AccountCreate, steps.account_data(form, found))
            created = create_account(
                session=session,
                settings=request.app.state.settings,
                caller=viewer.caller,
                data=data,
            )
    except ValidationFailed as exc:
        step = min(steps.step_of_field(e.field) for e in exc.errors)
        return _render(request, session, viewer, step, state, errors=errors_by_field(exc))
    except (Conflict, Forbidden) as exc:
        return _render(request, session, viewer, steps.SUMMARY, state, problem=exc.message)
    order = created.order
    return render(
        request,
        "accounts/wizard_created.html",
        {
            "created": created,
            "view": created.account,
            "account": created.account.account,
            "order": order.order if order else None,
            "amount": amount_of(order.order) if order else "",
            "instructions": payment_instructions(order.order) if order else "",
            "notify": confirmation_recipient(session, found.customer),
            "settings": request.app.state.settings,
        },
    )


@router.post("/accounts/new")
def wizard_step(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm
) -> Response:
    """Check the submitted step and show the next one (or the previous, or create)."""
    step = int(text(form, "step")) if text(form, "step") in ("1", "2", "3", "4") else 1
    go = text(form, "go")
    if go == "back":
        previous = _previous_step(step, steps.state_of(form))
        return _render(request, session, viewer, previous, steps.state_of(form))
    if go == "create" and step == steps.SUMMARY:
        return _create(request, session, viewer, form)
    return _advance(request, session, viewer, step, form)
