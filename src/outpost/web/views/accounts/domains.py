"""An account's domains: the associated ones with their status, associate another, remove one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from outpost.api.deps import DbSession
from outpost.domains.association import (
    associable_domains,
    associate_domain,
    dissociate_domain,
    get_associated_domain,
    list_account_domains,
)
from outpost.domains.schemas import AssociationCreate
from outpost.errors import ValidationFailed
from outpost.pagination import PageParams
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.forms import errors_by_field, optional, validate, values_of
from outpost.web.render import redirect
from outpost.web.views.accounts.shell import load_account, render_account

router = APIRouter()

PER_PAGE = 50


def _domains_page(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    account_id: int,
    *,
    page: int = 1,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    view = load_account(session, viewer, account_id)
    params = validate(PageParams, {"page": page, "per": PER_PAGE})
    domains, capacity = list_account_domains(
        session=session, caller=viewer.caller, account_id=account_id, params=params
    )
    choices = associable_domains(session=session, caller=viewer.caller, account_id=account_id)
    context = {"domains": domains, "capacity": capacity, "choices": choices, **(extra or {})}
    return render_account(request, "accounts/domains.html", view, context, status_code=status_code)


@router.get("/accounts/{account_id}/domains")
def domain_list(
    request: Request, session: DbSession, viewer: CurrentViewer, account_id: int, page: int = 1
) -> Response:
    """The domains the account may send from, and the form to associate another."""
    return _domains_page(request, session, viewer, account_id, page=page)


@router.post("/accounts/{account_id}/domains")
def associate(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Associate one of the customer's verified domains with the account."""
    try:
        data = validate(AssociationCreate, {"domain_id": optional(form, "domain_id")})
        with session.begin_nested():
            domain = associate_domain(
                session=session,
                caller=viewer.caller,
                account_id=account_id,
                domain_id=data.domain_id,
            )
    except ValidationFailed as exc:
        errors = errors_by_field(exc)
        # "Give either domain_id or name" means nothing was chosen in the select.
        if "domain_id" not in errors:
            errors = {"domain_id": "Choose a domain"}
        extra = {"errors": errors, "values": values_of(form)}
        return _domains_page(request, session, viewer, account_id, extra=extra, status_code=422)
    return redirect(
        request,
        f"/accounts/{account_id}/domains",
        flash=f"The account can now send from {domain.name}.",
    )


@router.get("/accounts/{account_id}/domains/{domain_id}/remove")
def confirm_remove(
    request: Request, session: DbSession, viewer: CurrentViewer, account_id: int, domain_id: int
) -> Response:
    """Ask before removing an association."""
    view = load_account(session, viewer, account_id)
    domain = get_associated_domain(
        session=session, caller=viewer.caller, account_id=account_id, domain_id=domain_id
    )
    return render_account(request, "accounts/domains_remove.html", view, {"domain": domain})


@router.post("/accounts/{account_id}/domains/{domain_id}/remove")
def remove(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    _form: PostedForm,
    account_id: int,
    domain_id: int,
) -> Response:
    """Stop the account sending from a domain; the domain itself stays."""
    domain = get_associated_domain(
        session=session, caller=viewer.caller, account_id=account_id, domain_id=domain_id
    )
    name = domain.name
    dissociate_domain(
        session=session, caller=viewer.caller, account_id=account_id, domain_id=domain_id
    )
    return redirect(
        request,
        f"/accounts/{account_id}/domains",
        flash=f"{name} was removed from the account; the domain itself stays.",
    )
