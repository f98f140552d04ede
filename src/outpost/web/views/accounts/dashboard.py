"""An account's dashboard: its details, quota use and this month's daily traffic."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from outpost.api.deps import DbSession
from outpost.billing.confirmation import PAYMENT_METHOD_LABELS
from outpost.db import utcnow
from outpost.events.service import daily_stats
from outpost.web.deps import CurrentViewer
from outpost.web.views.accounts.chart import SERIES, daily_chart
from outpost.web.views.accounts.pending import pending_order_views
from outpost.web.views.accounts.shell import load_account, render_account

router = APIRouter()


@router.get("/accounts/{account_id}")
def dashboard(
    request: Request, session: DbSession, viewer: CurrentViewer, account_id: int
) -> Response:
    """The account's details, messages used of its quota and the month's chart."""
    view = load_account(session, viewer, account_id)
    today = utcnow().date()
    days = daily_stats(
        session=session,
        caller=viewer.caller,
        account_id=account_id,
        start=today.replace(day=1),
        end=today,
    )
    return render_account(
        request,
        "accounts/dashboard.html",
        view,
        {
            "chart": daily_chart(days),
            "series": SERIES,
            "month": today.strftime("%B %Y"),
            "payment_methods": PAYMENT_METHOD_LABELS,
            "pending": pending_order_views(session, view),
        },
    )
