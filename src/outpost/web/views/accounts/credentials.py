"""An account's details and credentials: description, SMTP connection, password, status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from outpost.accounts.schemas import AccountUpdate, StatusChange
from outpost.accounts.service import change_status, reset_password, update_account
from outpost.api.deps import DbSession
from outpost.errors import Conflict, ValidationFailed
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.forms import errors_by_field, text, validate, values_of
from outpost.web.render import redirect
from outpost.web.views.accounts.shell import load_account, render_account

router = APIRouter()

STATUS_DONE = {
    "enabled": "The account is enabled: it can send again.",
    "disabled": "The account is disabled: it sends nothing until you enable it again.",
    "blocked": "The account is blocked: it sends nothing and its customer cannot re-enable it.",
    "unblocked": "The block was lifted: the account is back to its status before the block.",
}


def _credentials_page(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    account_id: int,
    extra: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    view = load_account(session, viewer, account_id)
    settings = request.app.state.settings
    context = {
        "values": {"description": view.account.description},
        "smtp": {
            "host": settings.hostname,
            "submission_port": settings.smtp_submission_port,
            "tls_port": settings.smtp_tls_port,
        },
        **(extra or {}),
    }
    return render_account(
        request, "accounts/credentials.html", view, context, status_code=status_code
    )


@router.get("/accounts/{account_id}/credentials")
def credentials(
    request: Request, session: DbSession, viewer: CurrentViewer, account_id: int
) -> Response:
    """The description, SMTP connection details, password reset and status of the account."""
    return _credentials_page(request, session, viewer, account_id)


@router.post("/accounts/{account_id}/credentials")
def save_description(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Rename the account."""
    try:
        data = validate(AccountUpdate, {"description": text(form, "description")})
        with session.begin_nested():
            update_account(session=session, caller=viewer.caller, account_id=account_id, data=data)
    except ValidationFailed as exc:
        extra = {"errors": errors_by_field(exc), "values": values_of(form)}
        return _credentials_page(request, session, viewer, account_id, extra, status_code=422)
    return redirect(
        request, f"/accounts/{account_id}/credentials", flash="The description was saved."
    )


@router.get("/accounts/{account_id}/password")
def confirm_password_reset(
    request: Request, session: DbSession, viewer: CurrentViewer, account_id: int
) -> Response:
    """Ask before replacing the SMTP password."""
    view = load_account(session, viewer, account_id)
    return render_account(request, "accounts/credentials_reset.html", view)


@router.post("/accounts/{account_id}/password")
def new_password(
    request: Request, session: DbSession, viewer: CurrentViewer, _form: PostedForm, account_id: int
) -> Response:
    """Issue a new SMTP password and show it, this once."""
    username, password = reset_password(
        session=session, caller=viewer.caller, account_id=account_id
    )
    view = load_account(session, viewer, account_id)
    return render_account(
        request,
        "accounts/credentials_password.html",
        view,
        {"username": username, "password": password},
    )


@router.post("/accounts/{account_id}/status")
def set_status(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Enable, disable, block or unblock the account."""
    target = f"/accounts/{account_id}/credentials"
    data = validate(StatusChange, {"status": text(form, "status")})
    try:
        with session.begin_nested():
            change_status(
                session=session, caller=viewer.caller, account_id=account_id, status=data.status
            )
    except Conflict as exc:
        return redirect(request, target, flash=exc.message, level="error")
    return redirect(request, target, flash=STATUS_DONE[data.status])
