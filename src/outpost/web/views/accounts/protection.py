"""An account's protection and deliverability: bounce alerts, suppression list, IP access."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from outpost.accounts.schemas import AccountUpdate
from outpost.accounts.service import update_account
from outpost.api.deps import DbSession
from outpost.errors import ValidationFailed
from outpost.web.allowlist_forms import address_errors, shown, with_added, without_entry
from outpost.web.cookies import FlashLevel
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.forms import errors_by_field, optional, text, validate, values_of
from outpost.web.render import redirect
from outpost.web.views.accounts.shell import load_account, render_account

router = APIRouter()

SUPPRESSION_CHOICES = {"apply": True, "ignore": False}


def _protection_page(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    account_id: int,
    *,
    errors: dict[str, str] | None = None,
    submitted: dict[str, str] | None = None,
) -> Response:
    view = load_account(session, viewer, account_id)
    account = view.account
    values = {
        "bounce_alert_email": account.bounce_alert_email or "",
        "suppression": "apply" if account.suppression_enabled else "ignore",
        **(submitted or {}),
    }
    context = {"values": values, "errors": errors or {}, "ip_entries": shown(account.ip_allowlist)}
    status_code = 422 if errors else 200
    return render_account(
        request, "accounts/protection.html", view, context, status_code=status_code
    )


def _save(session: DbSession, viewer: CurrentViewer, account_id: int, **changes: Any) -> None:
    data = validate(AccountUpdate, changes)
    with session.begin_nested():
        update_account(session=session, caller=viewer.caller, account_id=account_id, data=data)


def _back(request: Request, account_id: int, flash: str, level: FlashLevel = "success") -> Response:
    return redirect(request, f"/accounts/{account_id}/protection", flash=flash, level=level)


@router.get("/accounts/{account_id}/protection")
def protection(
    request: Request, session: DbSession, viewer: CurrentViewer, account_id: int
) -> Response:
    """Bounce alert address, suppression list use and the IP access list of the account."""
    return _protection_page(request, session, viewer, account_id)


@router.post("/accounts/{account_id}/protection/bounce-alerts")
def save_bounce_address(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Set or clear the address that hears about hard bounces."""
    address = optional(form, "bounce_alert_email")
    try:
        _save(session, viewer, account_id, bounce_alert_email=address)
    except ValidationFailed as exc:
        return _protection_page(
            request,
            session,
            viewer,
            account_id,
            errors=errors_by_field(exc),
            submitted=values_of(form),
        )
    if address is None:
        return _back(request, account_id, "Bounce alerts are off: no address is set.")
    return _back(request, account_id, "Bounce alerts go to the new address.")


@router.post("/accounts/{account_id}/protection/suppression")
def save_suppression(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Apply or ignore the suppression list when the account sends."""
    choice = text(form, "suppression")
    if choice not in SUPPRESSION_CHOICES:
        errors = {"suppression": "Choose one of the options"}
        return _protection_page(request, session, viewer, account_id, errors=errors)
    _save(session, viewer, account_id, suppression_enabled=SUPPRESSION_CHOICES[choice])
    if SUPPRESSION_CHOICES[choice]:
        return _back(request, account_id, "Suppressed addresses are skipped again when sending.")
    return _back(request, account_id, "The suppression list is ignored: every address is sent to.")


@router.post("/accounts/{account_id}/protection/ip-access")
def add_ip(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Allow one more address or range to use the account."""
    account = load_account(session, viewer, account_id).account
    try:
        entries = with_added(account.ip_allowlist, form)
        _save(session, viewer, account_id, ip_allowlist=entries)
    except ValidationFailed as exc:
        return _protection_page(
            request,
            session,
            viewer,
            account_id,
            errors=address_errors(exc),
            submitted=values_of(form),
        )
    return _back(request, account_id, f"{entries[-1]} may now use the account.")


@router.post("/accounts/{account_id}/protection/ip-access/remove")
def remove_ip(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Take one address or range off the list."""
    account = load_account(session, viewer, account_id).account
    entry, remaining = without_entry(account.ip_allowlist, form)
    if remaining is None:
        return _back(request, account_id, f"{entry} was not in the list.", "info")
    _save(session, viewer, account_id, ip_allowlist=remaining)
    if not remaining:
        return _back(request, account_id, f"{entry} was removed; any address may connect now.")
    return _back(request, account_id, f"{entry} was removed from the list.")
