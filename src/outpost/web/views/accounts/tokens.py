"""An account's Send API tokens: create (shown once), list masked, rename, IP list, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from outpost.api.deps import DbSession
from outpost.errors import ValidationFailed
from outpost.pagination import PageParams
from outpost.tokens.models import SendToken
from outpost.tokens.schemas import TokenCreate, TokenUpdate
from outpost.tokens.service import (
    MAX_TOKENS_PER_ACCOUNT,
    create_token,
    delete_token,
    get_token,
    list_tokens,
    update_token,
)
from outpost.web.allowlist_forms import address_errors, shown, with_added, without_entry
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.forms import errors_by_field, text, validate, values_of
from outpost.web.render import redirect
from outpost.web.viewer import Viewer
from outpost.web.views.accounts.shell import load_account, render_account

router = APIRouter()


def _base(account_id: int) -> str:
    return f"/accounts/{account_id}/tokens"


def _token(session: Session, viewer: Viewer, account_id: int, token_id: int) -> SendToken:
    return get_token(
        session=session, caller=viewer.caller, account_id=account_id, token_id=token_id
    )


def _token_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    account_id: int,
    token_id: int,
    *,
    errors: dict[str, str] | None = None,
    submitted: dict[str, str] | None = None,
) -> Response:
    view = load_account(session, viewer, account_id)
    token = _token(session, viewer, account_id, token_id)
    context = {
        "token": token,
        "ip_entries": shown(token.ip_allowlist),
        "values": {"name": token.name, **(submitted or {})},
        "errors": errors or {},
    }
    return render_account(
        request, "accounts/tokens_edit.html", view, context, status_code=422 if errors else 200
    )


def _save(
    session: Session, viewer: Viewer, account_id: int, token_id: int, data: TokenUpdate
) -> None:
    with session.begin_nested():
        update_token(
            session=session,
            caller=viewer.caller,
            account_id=account_id,
            token_id=token_id,
            data=data,
        )


@router.get("/accounts/{account_id}/tokens")
def token_list(
    request: Request, session: DbSession, viewer: CurrentViewer, account_id: int
) -> Response:
    """The account's tokens, masked."""
    view = load_account(session, viewer, account_id)
    # An account holds at most MAX_TOKENS_PER_ACCOUNT tokens: one page shows them all.
    params = PageParams(per=MAX_TOKENS_PER_ACCOUNT)
    tokens = list_tokens(
        session=session, caller=viewer.caller, account_id=account_id, params=params
    )
    return render_account(request, "accounts/tokens.html", view, {"tokens": tokens.items})


@router.get("/accounts/{account_id}/tokens/new")
def new_token(
    request: Request, session: DbSession, viewer: CurrentViewer, account_id: int
) -> Response:
    """The form for a new token."""
    view = load_account(session, viewer, account_id)
    return render_account(request, "accounts/tokens_new.html", view)


@router.post("/accounts/{account_id}/tokens/new")
def add_token(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Create the token and show its value, this once."""
    view = load_account(session, viewer, account_id)
    try:
        data = validate(TokenCreate, {"name": text(form, "name")})
        with session.begin_nested():
            created = create_token(
                session=session, caller=viewer.caller, account_id=account_id, data=data
            )
    except ValidationFailed as exc:
        failed = {"errors": errors_by_field(exc), "values": values_of(form)}
        return render_account(request, "accounts/tokens_new.html", view, failed, status_code=422)
    shown_once = {"token": created.token, "value": created.value}
    return render_account(request, "accounts/tokens_created.html", view, shown_once)


@router.get("/accounts/{account_id}/tokens/{token_id}")
def token_detail(
    request: Request, session: DbSession, viewer: CurrentViewer, account_id: int, token_id: int
) -> Response:
    """One token: its name and its IP allow-list."""
    return _token_page(request, session, viewer, account_id, token_id)


@router.post("/accounts/{account_id}/tokens/{token_id}")
def rename_token(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: PostedForm,
    account_id: int,
    token_id: int,
) -> Response:
    """Give the token another name."""
    try:
        data = validate(TokenUpdate, {"name": text(form, "name")})
        _save(session, viewer, account_id, token_id, data)
    except ValidationFailed as exc:
        return _token_page(
            request,
            session,
            viewer,
            account_id,
            token_id,
            errors=errors_by_field(exc),
            submitted=values_of(form),
        )
    target = f"{_base(account_id)}/{token_id}"
    return redirect(request, target, flash=f"The token is now called “{data.name}”.")


@router.post("/accounts/{account_id}/tokens/{token_id}/ip-access")
def add_token_ip(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: PostedForm,
    account_id: int,
    token_id: int,
) -> Response:
    """Allow one more address or range to use the token."""
    token = _token(session, viewer, account_id, token_id)
    try:
        entries = with_added(token.ip_allowlist, form)
        _save(session, viewer, account_id, token_id, TokenUpdate(ip_allowlist=entries))
    except ValidationFailed as exc:
        return _token_page(
            request,
            session,
            viewer,
            account_id,
            token_id,
            errors=address_errors(exc),
            submitted=values_of(form),
        )
    target = f"{_base(account_id)}/{token_id}"
    return redirect(request, target, flash=f"{entries[-1]} may now use the token.")


@router.post("/accounts/{account_id}/tokens/{token_id}/ip-access/remove")
def remove_token_ip(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: PostedForm,
    account_id: int,
    token_id: int,
) -> Response:
    """Take one address or range off the token's list."""
    token = _token(session, viewer, account_id, token_id)
    entry, remaining = without_entry(token.ip_allowlist, form)
    target = f"{_base(account_id)}/{token_id}"
    if remaining is None:
        return redirect(request, target, flash=f"{entry} was not in the list.", level="info")
    _save(session, viewer, account_id, token_id, TokenUpdate(ip_allowlist=remaining))
    return redirect(request, target, flash=f"{entry} was removed from the token's list.")


@router.get("/accounts/{account_id}/tokens/{token_id}/delete")
def confirm_delete_token(
    request: Request, session: DbSession, viewer: CurrentViewer, account_id: int, token_id: int
) -> Response:
    """Ask before revoking a token."""
    view = load_account(session, viewer, account_id)
    token = _token(session, viewer, account_id, token_id)
    return render_account(request, "accounts/tokens_delete.html", view, {"token": token})


@router.post("/accounts/{account_id}/tokens/{token_id}/delete")
def remove_token(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    _form: PostedForm,
    account_id: int,
    token_id: int,
) -> Response:
    """Revoke a token: requests bearing it fail from now on."""
    token = _token(session, viewer, account_id, token_id)
    name = token.name
    delete_token(session=session, caller=viewer.caller, account_id=account_id, token_id=token_id)
    return redirect(
        request, _base(account_id), flash=f"The token “{name}” was deleted; it no longer works."
    )
