"""The home page: the organization at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from outpost.api.deps import DbSession
from outpost.tenancy.summary import organization_summary
from outpost.web.deps import CurrentViewer
from outpost.web.render import render

router = APIRouter()


@router.get("/")
def home(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    """The summary of the user's organization."""
    summary = organization_summary(session=session, caller=viewer.caller)
    return render(request, "home.html", {"summary": summary})
