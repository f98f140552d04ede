"""Dependencies of panel routes: the logged-in user and CSRF-checked forms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from outpost.api.deps import SESSION_COOKIE, DbSession
from outpost.errors import Forbidden, Unauthorized
from outpost.security import constant_time_equals
from outpost.tenancy.auth import resume_web_session
from outpost.tenancy.service import get_organization
from outpost.web.viewer import Viewer

CSRF_FIELD = "csrf_token"


def get_viewer(request: Request, session: DbSession) -> Viewer:
    """The logged-in user; Unauthorized (a redirect to the login page) otherwise."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthorized("Please log in.")
    caller, web_session, user = resume_web_session(session=session, token=token)
    org = get_organization(session=session, caller=caller, org_id=caller.org_id)
    viewer = Viewer(
        caller=caller,
        user_id=user.id,
        email=user.email,
        name=user.name,
        org_name=org.name,
        session_id=web_session.id,
        csrf_token=web_session.csrf_token,
    )
    request.state.viewer = viewer
    return viewer


CurrentViewer = Annotated[Viewer, Depends(get_viewer, scope="function")]


async def get_posted_form(request: Request, viewer: CurrentViewer) -> AsyncIterator[FormData]:
    """The submitted form, refused unless it carries the session's CSRF token.

    Uploaded files (spooled to temporary files) are closed once the route has run.
    """
    form = await request.form()
    try:
        sent = form.get(CSRF_FIELD)
        if not isinstance(sent, str) or not constant_time_equals(sent, viewer.csrf_token):
            raise Forbidden(
                "This form has expired or was not sent from the panel. "
                "Reload the page and try again."
            )
        yield form
    finally:
        await form.close()


PostedForm = Annotated[FormData, Depends(get_posted_form, scope="function")]
