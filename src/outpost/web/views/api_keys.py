"""Management API keys: create (shown once), list masked, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from outpost.api.deps import DbSession
from outpost.errors import ValidationFailed
from outpost.tenancy.auth import create_api_key, delete_api_key, get_api_key, list_api_keys
from outpost.tenancy.schemas import ApiKeyCreate
from outpost.tenancy.scope import require_admin
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.forms import errors_by_field, optional, text, validate, values_of
from outpost.web.render import redirect, render
from outpost.web.roles import grantable_roles

router = APIRouter()


@router.get("/api-keys")
def key_list(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    """The organization's keys, masked."""
    keys = list_api_keys(session=session, caller=viewer.caller)
    return render(request, "api_keys/list.html", {"keys": keys})


@router.get("/api-keys/new")
def new_key(request: Request, viewer: CurrentViewer) -> Response:
    """The form for a new key."""
    require_admin(viewer.caller)
    return render(
        request,
        "api_keys/new.html",
        {"roles": grantable_roles(viewer), "values": {"role": viewer.role.value}},
    )


@router.post("/api-keys/new")
def create_key(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm
) -> Response:
    """Create the key and show its secret, this once."""
    try:
        data = validate(ApiKeyCreate, {"name": text(form, "name"), "role": optional(form, "role")})
        with session.begin_nested():
            created = create_api_key(session=session, caller=viewer.caller, data=data)
    except ValidationFailed as exc:
        context = {"roles": grantable_roles(viewer), "values": values_of(form)}
        return render(
            request,
            "api_keys/new.html",
            {**context, "errors": errors_by_field(exc)},
            status_code=422,
        )
    return render(request, "api_keys/created.html", {"key": created.key, "token": created.token})


@router.get("/api-keys/{key_id}/delete")
def confirm_delete_key(
    request: Request, session: DbSession, viewer: CurrentViewer, key_id: int
) -> Response:
    """Ask before revoking a key."""
    key = get_api_key(session=session, caller=viewer.caller, key_id=key_id)
    return render(request, "api_keys/delete.html", {"key": key})


@router.post("/api-keys/{key_id}/delete")
def delete_key(
    request: Request, session: DbSession, viewer: CurrentViewer, _form: PostedForm, key_id: int
) -> Response:
    """Revoke a key."""
    delete_api_key(session=session, caller=viewer.caller, key_id=key_id)
    return redirect(request, "/api-keys", flash="The API key was deleted; it no longer works.")
