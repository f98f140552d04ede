"""Service management of an account: change plan, buy extra messages, terminate."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from outpost.accounts.listing import AccountView
from outpost.accounts.purchases import buy_extra_messages, change_plan
from outpost.accounts.schemas import ExtraMessagesPurchase, PlanChange
from outpost.accounts.service import terminate_account
from outpost.api.deps import DbSession
from outpost.billing.confirmation import PAYMENT_METHOD_LABELS, amount_of
from outpost.billing.models import Order
from outpost.billing.service import has_billing_profile
from outpost.errors import Conflict, FieldError, Forbidden, ValidationFailed
from outpost.plans.service import list_plans
from outpost.tenancy.models import Organization
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.forms import errors_by_field, optional, text, validate, values_of
from outpost.web.render import redirect
from outpost.web.views.accounts.pending import pending_order_views
from outpost.web.views.accounts.plan_picker import (
    PAYMENT_METHODS,
    extra_packages,
    plan_options,
    read_plan_choice,
)
from outpost.web.views.accounts.shell import load_account, render_account

router = APIRouter()


def _page(
    request: Request,
    session: Session,
    view: AccountView,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    account = view.account
    shown = values or {
        "plan": view.plan.code,
        "payment_method": account.payment_method.value if account.payment_method else "",
        "extra.payment_method": account.payment_method.value if account.payment_method else "",
    }
    chosen = shown.get("plan")
    messages = account.plan_messages if chosen == view.plan.code else None
    context: dict[str, Any] = {
        "plans": plan_options(list_plans(session=session), chosen, messages),
        "payment_choices": PAYMENT_METHODS,
        "payment_methods": PAYMENT_METHOD_LABELS,
        "extra_packages": extra_packages(view.plan),
        "pending": pending_order_views(session, view),
        "billing_ready": has_billing_profile(session.get_one(Organization, account.org_id)),
        "values": shown,
        "errors": errors or {},
    }
    return render_account(request, "accounts/service.html", view, context, status_code=status_code)


@router.get("/accounts/{account_id}/service")
def service_page(
    request: Request, session: DbSession, viewer: CurrentViewer, account_id: int
) -> Response:
    """Change the plan, buy extra messages or terminate the service."""
    return _page(request, session, load_account(session, viewer, account_id))


def _refused(request: Request, account_id: int, error: Conflict | Forbidden) -> Response:
    return redirect(request, f"/accounts/{account_id}/service", flash=error.message, level="error")


def _ordered(request: Request, account_id: int, order: Order) -> Response:
    message = (
        f"Order {order.id} was placed: {amount_of(order)} to pay. "
        "The payment instructions are below and were sent by e-mail."
    )
    return redirect(request, f"/accounts/{account_id}/service", flash=message)


@router.post("/accounts/{account_id}/service/plan")
def change_plan_post(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Move the account to another plan or tier: at once to free, by an order otherwise."""
    view = load_account(session, viewer, account_id)
    try:
        code, messages = read_plan_choice(form, list_plans(session=session))
        data = validate(
            PlanChange,
            {
                "plan": code,
                "messages": messages,
                "payment_method": optional(form, "payment_method"),
            },
        )
        with session.begin_nested():
            result = change_plan(
                session=session,
                settings=request.app.state.settings,
                caller=viewer.caller,
                account_id=account_id,
                data=data,
            )
    except ValidationFailed as exc:
        errors = errors_by_field(exc)
        return _page(request, session, view, values=values_of(form), errors=errors, status_code=422)
    except (Conflict, Forbidden) as exc:
        return _refused(request, account_id, exc)
    if result.order is not None:
        return _ordered(request, account_id, result.order.order)
    return redirect(
        request,
        f"/accounts/{account_id}",
        flash=f"The account is now on the {result.account.plan.name} plan.",
    )


@router.post("/accounts/{account_id}/service/extra")
def buy_extra_post(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Order a package of extra messages."""
    view = load_account(session, viewer, account_id)
    try:
        data = validate(
            ExtraMessagesPurchase,
            {
                "messages": text(form, "extra.messages"),
                "payment_method": optional(form, "extra.payment_method"),
            },
        )
        with session.begin_nested():
            ordered = buy_extra_messages(
                session=session,
                settings=request.app.state.settings,
                caller=viewer.caller,
                account_id=account_id,
                data=data,
            )
    except ValidationFailed as exc:
        prefixed = ValidationFailed(
            [FieldError(f"extra.{e.field}", e.description) for e in exc.errors]
        )
        errors = errors_by_field(prefixed)
        return _page(request, session, view, values=values_of(form), errors=errors, status_code=422)
    except (Conflict, Forbidden) as exc:
        return _refused(request, account_id, exc)
    return _ordered(request, account_id, ordered.order)


@router.get("/accounts/{account_id}/service/terminate")
def confirm_terminate(
    request: Request, session: DbSession, viewer: CurrentViewer, account_id: int
) -> Response:
    """Ask, once more, before terminating the service."""
    view = load_account(session, viewer, account_id)
    return render_account(request, "accounts/service_terminate.html", view)


@router.post("/accounts/{account_id}/service/terminate")
def terminate(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Terminate the service once the username was typed to confirm it."""
    view = load_account(session, viewer, account_id)
    if text(form, "confirm_username") != view.account.username:
        errors = {"confirm_username": "Type the account's username exactly to confirm"}
        return render_account(
            request,
            "accounts/service_terminate.html",
            view,
            {
                "errors": errors,
                "values": values_of(form),
                "field_labels": {"confirm_username": "Confirmation"},
            },
            status_code=422,
        )
    description = view.account.description
    terminate_account(session=session, caller=viewer.caller, account_id=account_id)
    return redirect(
        request,
        "/accounts",
        flash=f"The service of “{description}” was terminated. Its domains are still yours.",
    )
