"""The plan catalog: everyone reads it, the operator edits tiers, prices and limits."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from outpost.api.deps import DbSession
from outpost.errors import ValidationFailed
from outpost.plans.schemas import PlanUpdate
from outpost.plans.service import PERIOD_BY_KIND, get_plan, list_plans, update_plan
from outpost.tenancy.scope import require_admin, require_operator
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.forms import errors_by_field, values_of
from outpost.web.plan_forms import EMPTY_TIER_ROWS, form_values, tier_rows, update_from
from outpost.web.render import redirect, render

router = APIRouter()


@router.get("/plans")
def plan_list(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    """The catalog; the operator also sees inactive plans."""
    plans = list_plans(session=session, include_inactive=viewer.is_operator)
    return render(request, "plans/list.html", {"plans": plans, "periods": PERIOD_BY_KIND})


@router.get("/plans/{code}/edit")
def edit_plan(request: Request, session: DbSession, viewer: CurrentViewer, code: str) -> Response:
    """The edit form (operator)."""
    require_operator(viewer.caller)
    require_admin(viewer.caller)
    plan = get_plan(session=session, code=code)
    return render(
        request,
        "plans/edit.html",
        {"plan": plan, "values": form_values(plan), "rows": len(plan.tiers) + EMPTY_TIER_ROWS},
    )


@router.post("/plans/{code}/edit")
def save_plan(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, code: str
) -> Response:
    """Save tiers, prices and limits."""
    try:
        data = update_from(form)
        with session.begin_nested():
            plan = update_plan(session=session, caller=viewer.caller, code=code, data=data)
    except ValidationFailed as exc:
        plan = get_plan(session=session, code=code)
        return render(
            request,
            "plans/edit.html",
            {
                "plan": plan,
                "values": values_of(form),
                "errors": errors_by_field(exc),
                "rows": tier_rows(form),
            },
            status_code=422,
        )
    return redirect(request, "/plans", flash=f"Plan “{plan.name}” was saved.")


@router.post("/plans/{code}/activate")
def activate(
    request: Request, session: DbSession, viewer: CurrentViewer, _form: PostedForm, code: str
) -> Response:
    """Offer the plan again."""
    plan = update_plan(
        session=session, caller=viewer.caller, code=code, data=PlanUpdate(active=True)
    )
    return redirect(request, "/plans", flash=f"Plan “{plan.name}” is active and offered again.")


@router.post("/plans/{code}/deactivate")
def deactivate(
    request: Request, session: DbSession, viewer: CurrentViewer, _form: PostedForm, code: str
) -> Response:
    """Stop offering the plan; accounts on it keep it."""
    data = PlanUpdate(active=False)
    plan = update_plan(session=session, caller=viewer.caller, code=code, data=data)
    return redirect(
        request, "/plans", flash=f"Plan “{plan.name}” is inactive: it is no longer offered."
    )
