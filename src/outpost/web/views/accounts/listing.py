"""The accounts list: quick status filter, advanced filter, text search, sorting and pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from outpost.accounts.listing import list_accounts, status_counts
from outpost.accounts.schemas import AccountFilters
from outpost.api.deps import DbSession
from outpost.errors import ValidationFailed
from outpost.pagination import PageParams
from outpost.plans.service import list_plans
from outpost.web.deps import CurrentViewer
from outpost.web.forms import errors_by_field, validate
from outpost.web.render import render
from outpost.web.views.accounts.shell import STATUS_LABELS, TYPE_LABELS

router = APIRouter()
PER_PAGE = 20
QUICK_FILTERS = [("all", "All"), *STATUS_LABELS.items()]
FILTER_FIELDS = ("type", "plan", "remaining_from", "remaining_to")
# Column → the listing's sort field; the other columns are not sortable.
SORTABLE_COLUMNS = {
    "status": "status",
    "account": "description",
    "username": "username",
    "remaining": "remaining",
    "type": "type",
}


def _linker(applied: dict[str, str]) -> Callable[..., str]:
    """``link(status="enabled")``: this list's URL with some parameters changed (page reset)."""

    def link(**changes: str) -> str:
        merged = {k: v for k, v in {**applied, "page": "", **changes}.items() if v}
        return "/accounts" + (f"?{urlencode(merged)}" if merged else "")

    return link


def _sort_state(applied: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Each sortable column's ``aria-sort`` value and the direction its link asks for next."""
    state = {}
    descending = applied.get("sort") == "desc"
    for column, field in SORTABLE_COLUMNS.items():
        if applied.get("sort_field") == field:
            state[column] = ("descending", "asc") if descending else ("ascending", "desc")
        else:
            state[column] = ("none", "asc")
    return state


@router.get("/accounts")
def account_list(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    """The delivery accounts the viewer may see."""
    query = request.query_params
    applied = {
        name: query.get(name, "").strip()
        for name in ("status", "q", *FILTER_FIELDS, "sort_field", "sort")
    }
    if applied["sort_field"] not in SORTABLE_COLUMNS.values():
        applied["sort_field"] = applied["sort"] = ""
    if applied["sort"] not in ("asc", "desc"):
        applied["sort"] = ""
    if applied["status"] not in dict(QUICK_FILTERS):
        applied["status"] = ""
    page_number = query.get("page", "1")
    plans = list_plans(session=session, include_inactive=True)
    context: dict[str, Any] = {
        "applied": applied,
        "link": _linker(applied),
        "sorting": _sort_state(applied),
        "quick_filters": QUICK_FILTERS,
        "type_labels": TYPE_LABELS,
        "plans": plans,
        "advanced": any(applied[name] for name in FILTER_FIELDS),
        "plan_label": next((p.name for p in plans if p.code == applied["plan"]), applied["plan"]),
        "values": {name: applied[name] for name in FILTER_FIELDS},
    }
    try:
        filters = validate(AccountFilters, {k: applied[k] or None for k in FILTER_FIELDS})
        params = PageParams(
            page=int(page_number) if page_number.isdigit() and int(page_number) > 0 else 1,
            per=PER_PAGE,
            query=applied["q"] or None,
            status=applied["status"] or None,
            sort_field=applied["sort_field"] or None,
            sort=applied["sort"] or None,
        )
        counts = status_counts(
            session=session, caller=viewer.caller, filters=filters, query=params.query
        )
        page = list_accounts(session=session, caller=viewer.caller, params=params, filters=filters)
    except ValidationFailed as exc:
        context.update(errors=errors_by_field(exc), page=None, counts=None)
        return render(request, "accounts/list.html", context, status_code=422)
    context.update(page=page, counts=counts)
    return render(request, "accounts/list.html", context)
