"""The user's own profile: name and password."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from outpost.api.deps import DbSession
from outpost.errors import ValidationFailed
from outpost.tenancy.auth import change_password
from outpost.tenancy.schemas import PasswordChange, UserUpdate
from outpost.tenancy.service import update_user
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.forms import errors_by_field, raw, text, validate
from outpost.web.render import redirect, render

router = APIRouter()


@router.get("/profile")
def profile(request: Request, viewer: CurrentViewer) -> Response:
    """The profile forms."""
    return render(request, "profile.html", {"values": {"name": viewer.name}})


@router.post("/profile")
def save_name(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm
) -> Response:
    """Change the user's display name."""
    try:
        data = validate(UserUpdate, {"name": text(form, "name")})
        update_user(session=session, caller=viewer.caller, user_id=viewer.user_id, data=data)
    except ValidationFailed as exc:
        context = {"values": {"name": text(form, "name")}, "errors": errors_by_field(exc)}
        return render(request, "profile.html", context, status_code=422)
    return redirect(request, "/profile", flash="Your name was saved.")


@router.post("/profile/password")
def save_password(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm
) -> Response:
    """Change the user's password; the user's other sessions end."""
    try:
        data = validate(
            PasswordChange,
            {
                "current_password": raw(form, "current_password"),
                "new_password": raw(form, "new_password"),
                "confirm_password": raw(form, "confirm_password"),
            },
        )
        change_password(
            session=session, caller=viewer.caller, data=data, keep_session_id=viewer.session_id
        )
    except ValidationFailed as exc:
        context = {"values": {"name": viewer.name}, "errors": errors_by_field(exc)}
        return render(request, "profile.html", context, status_code=422)
    return redirect(
        request,
        "/profile",
        flash="Your password was changed. Other sessions of yours were logged out.",
    )
