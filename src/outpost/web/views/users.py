"""The users of the viewer's own organization: list, add, change role, remove."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from outpost.api.deps import DbSession
from outpost.errors import Conflict, ValidationFailed
from outpost.pagination import PageParams
from outpost.tenancy.schemas import UserCreate, UserUpdate
from outpost.tenancy.scope import require_admin
from outpost.tenancy.service import create_user, delete_user, get_user, list_users, update_user
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.forms import errors_by_field, optional, raw, text, validate, values_of
from outpost.web.render import redirect, render
from outpost.web.roles import grantable_roles
from outpost.web.viewer import ROLE_LABELS

router = APIRouter()
PER_PAGE = 25


@router.get("/users")
def user_list(
    request: Request, session: DbSession, viewer: CurrentViewer, q: str = "", page: int = 1
) -> Response:
    """The organization's users."""
    params = PageParams(page=max(page, 1), per=PER_PAGE, query=q.strip() or None)
    users = list_users(session=session, caller=viewer.caller, org_id=viewer.org_id, params=params)
    return render(
        request,
        "users/list.html",
        {"page": users, "query": q.strip(), "roles": grantable_roles(viewer)},
    )


@router.get("/users/new")
def new_user(request: Request, viewer: CurrentViewer) -> Response:
    """The form for a new user."""
    require_admin(viewer.caller)
    return render(
        request, "users/new.html", {"roles": grantable_roles(viewer), "values": {"role": "member"}}
    )


@router.post("/users/new")
def add_user(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm
) -> Response:
    """Add the user; show a generated password once."""
    try:
        data = validate(
            UserCreate,
            {
                "email": text(form, "email"),
                "name": text(form, "name"),
                "role": text(form, "role") or "member",
                "password": raw(form, "password") or None,
            },
        )
        with session.begin_nested():
            user, password = create_user(
                session=session, caller=viewer.caller, org_id=viewer.org_id, data=data
            )
    except ValidationFailed as exc:
        return render(
            request,
            "users/new.html",
            {
                "roles": grantable_roles(viewer),
                "values": values_of(form),
                "errors": errors_by_field(exc),
            },
            status_code=422,
        )
    if password:
        return render(request, "users/created.html", {"user": user, "password": password})
    return redirect(request, "/users", flash=f"{user.email} can now log in.")


@router.post("/users/{user_id}/role")
def change_role(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, user_id: int
) -> Response:
    """Give a user another role."""
    try:
        data = validate(UserUpdate, {"role": optional(form, "role")})
        with session.begin_nested():
            user = update_user(session=session, caller=viewer.caller, user_id=user_id, data=data)
    except ValidationFailed as exc:
        message = "The role was not changed: " + "; ".join(errors_by_field(exc).values())
        return redirect(request, "/users", flash=message, level="error")
    return redirect(
        request, "/users", flash=f"{user.email} is now {ROLE_LABELS[user.role].lower()}."
    )


@router.get("/users/{user_id}/delete")
def confirm_remove(
    request: Request, session: DbSession, viewer: CurrentViewer, user_id: int
) -> Response:
    """Ask before removing a user."""
    user = get_user(session=session, caller=viewer.caller, user_id=user_id)
    return render(request, "users/delete.html", {"user": user})


@router.post("/users/{user_id}/delete")
def remove(
    request: Request, session: DbSession, viewer: CurrentViewer, _form: PostedForm, user_id: int
) -> Response:
    """Remove a user; the last owner stays."""
    user = get_user(session=session, caller=viewer.caller, user_id=user_id)
    email = user.email
    try:
        delete_user(session=session, caller=viewer.caller, user_id=user_id)
    except Conflict as exc:
        return redirect(request, "/users", flash=exc.message, level="error")
    return redirect(request, "/users", flash=f"{email} was removed and can no longer log in.")
