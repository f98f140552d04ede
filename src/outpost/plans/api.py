"""Management API routes for the plan catalog and prices."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from outpost.api.deps import CurrentCaller, DbSession
from outpost.plans import service
from outpost.plans.schemas import PlanCreate, PlanOut, PlanUpdate, Quote
from outpost.schemas import resources

router = APIRouter(tags=["plans"])


@router.get("/plans")
def list_plans(session: DbSession, caller: CurrentCaller) -> dict[str, Any]:
    """The catalog; the operator also sees inactive plans."""
    plans = service.list_plans(session=session, include_inactive=caller.is_operator)
    return {"resources": [PlanOut.model_validate(p) for p in plans]}


@router.post("/plans", status_code=201)
def create_plan(session: DbSession, caller: CurrentCaller, data: PlanCreate) -> dict[str, Any]:
    """Add a plan (operator)."""
    return resources(
        PlanOut.model_validate(service.create_plan(session=session, caller=caller, data=data))
    )


@router.get("/plans/{code}")
def get_plan(session: DbSession, caller: CurrentCaller, code: str) -> dict[str, Any]:
    """One plan."""
    return resources(PlanOut.model_validate(service.get_plan(session=session, code=code)))


@router.put("/plans/{code}")
def update_plan(
    session: DbSession, caller: CurrentCaller, code: str, data: PlanUpdate
) -> dict[str, Any]:
    """Edit a plan (operator)."""
    plan = service.update_plan(session=session, caller=caller, code=code, data=data)
    return resources(PlanOut.model_validate(plan))


@router.get("/plans/{code}/price")
def quote(
    session: DbSession,
    caller: CurrentCaller,
    code: str,
    messages: Annotated[int, Query(gt=0)],
) -> dict[str, Any]:
    """What ``messages`` cost on a plan: the same function the panel's slider uses."""
    plan = service.get_plan(session=session, code=code)
    price = service.price_for(plan, messages)
    return resources(
        Quote(
            plan=plan.code,
            kind=plan.kind,
            messages=messages,
            amount_cents=price.amount_cents,
            amount=price.amount,
            currency=price.currency,
            period=price.period,
        )
    )
