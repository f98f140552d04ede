"""Sending domains: the list, adding one, its DNS records, verifying and deleting it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from outpost.api.deps import AppSettings, DbSession
from outpost.domains.models import Domain, DomainStatus
from outpost.domains.schemas import DnsRecordOut, DomainCreate
from outpost.domains.service import (
    accounts_counts,
    create_domain,
    delete_domain,
    describe_records,
    get_domain,
    list_domains,
    verify_domain,
)
from outpost.errors import Forbidden, ValidationFailed
from outpost.pagination import PageParams
from outpost.tenancy.models import OrgKind
from outpost.tenancy.scope import require_write
from outpost.tenancy.service import list_organizations
from outpost.tenancy.summary import organization_names
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.forms import errors_by_field, optional, text, validate, values_of
from outpost.web.render import redirect, render
from outpost.web.viewer import Viewer

router = APIRouter()
PER_PAGE = 25
MAX_CUSTOMERS_IN_PICKER = 500
STATUS_LABELS = {
    DomainStatus.pending.value: "Not verified",
    DomainStatus.verified.value: "Verified",
    DomainStatus.failing.value: "Failing",
}
PURPOSE_LABELS = {
    "ownership": "Ownership",
    "spf": "SPF",
    "dkim": "DKIM (RSA)",
    "dkim_ed25519": "DKIM (Ed25519)",
    "return_path": "Return path (bounces)",
    "dmarc": "DMARC",
}


def _customers(session: Session, viewer: Viewer) -> list[tuple[str, str]]:
    """The customers an operator or reseller may add a domain for, as select options."""
    if not viewer.manages_organizations:
        return []
    params = PageParams(per=MAX_CUSTOMERS_IN_PICKER, sort_field="name", sort="asc")
    page = list_organizations(
        session=session, caller=viewer.caller, params=params, kind=OrgKind.customer
    )
    return [(str(org.id), org.name) for org in page.items]


@router.get("/domains")
def domain_list(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    q: str = "",
    status: str = "",
    page: int = 1,
) -> Response:
    """The domains the viewer may see, searchable by name and filtered by status."""
    wanted = status if status in STATUS_LABELS else None
    params = PageParams(page=max(page, 1), per=PER_PAGE, query=q.strip() or None, status=wanted)
    result = list_domains(session=session, caller=viewer.caller, params=params)
    ids = [d.id for d in result.items]
    owners = organization_names(
        session=session, caller=viewer.caller, ids={d.org_id for d in result.items}
    )
    filters = {k: v for k, v in (("q", q.strip()), ("status", wanted or "")) if v}
    return render(
        request,
        "domains/list.html",
        {
            "page": result,
            "accounts": accounts_counts(session=session, domain_ids=ids),
            "owners": owners,
            "filters": filters,
            "query": q.strip(),
            "status": wanted or "",
            "status_labels": STATUS_LABELS,
        },
    )


def _new_form(
    request: Request,
    session: Session,
    viewer: Viewer,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "domains/new.html",
        {
            "customers": _customers(session, viewer),
            "values": values or {},
            "errors": errors or {},
            "field_labels": {"name": "Domain name", "org_id": "Customer"},
        },
        status_code=422 if errors else 200,
    )


@router.get("/domains/new")
def new_domain(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    """The form for a new sending domain."""
    require_write(viewer.caller)
    return _new_form(request, session, viewer)


@router.post("/domains/new")
def add_domain(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    """Create the domain with its keys, then show the records to publish."""
    data: dict[str, Any] = {"name": text(form, "name")}
    if viewer.manages_organizations:
        data["org_id"] = optional(form, "org_id")
    try:
        with session.begin_nested():
            domain = create_domain(
                session=session,
                caller=viewer.caller,
                settings=settings,
                data=validate(DomainCreate, data),
            )
    except ValidationFailed as exc:
        return _new_form(
            request, session, viewer, values=values_of(form), errors=errors_by_field(exc)
        )
    message = f"{domain.name} was added. Publish the DNS records below, then verify it."
    return redirect(request, f"/domains/{domain.id}", flash=message)


def _records_page(
    request: Request, session: Session, viewer: Viewer, settings: AppSettings, domain: Domain
) -> Response:
    records = describe_records(domain, settings)
    owners = organization_names(session=session, caller=viewer.caller, ids={domain.org_id})
    return render(
        request,
        "domains/detail.html",
        {
            "domain": domain,
            "records": records,
            "owner": owners.get(domain.org_id, ""),
            "accounts": accounts_counts(session=session, domain_ids=[domain.id]).get(domain.id, 0),
            "status_labels": STATUS_LABELS,
            "purpose_labels": PURPOSE_LABELS,
        },
    )


@router.get("/domains/{domain_id}")
def domain_page(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    settings: AppSettings,
    domain_id: int,
) -> Response:
    """One domain: the records to publish and what the last check found."""
    domain = get_domain(session=session, caller=viewer.caller, domain_id=domain_id)
    return _records_page(request, session, viewer, settings, domain)


def _outcome(records: list[DnsRecordOut], domain: Domain) -> tuple[str, bool]:
    """The flash message after a check, and whether it is good news."""
    required = [r for r in records if r.required]
    wrong = [PURPOSE_LABELS.get(r.purpose, r.purpose) for r in required if r.status == "failing"]
    silent = [PURPOSE_LABELS.get(r.purpose, r.purpose) for r in required if r.status == "error"]
    if not wrong and not silent:
        return f"All required records were found: {domain.name} is verified.", True
    state = "is failing" if domain.status is DomainStatus.failing else "is not verified yet"
    problems = []
    if wrong:
        problems.append(f"{', '.join(wrong)} not found as expected")
    if silent:
        problems.append(f"DNS did not answer for {', '.join(silent)}; try again in a moment")
    return f"{domain.name} {state}: {'; '.join(problems)}. See each record below.", False


@router.post("/domains/{domain_id}/verify")
def verify(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    settings: AppSettings,
    _form: PostedForm,
    domain_id: int,
) -> Response:
    """Look the records up over DNS now and say what was found."""
    domain = verify_domain(
        session=session, caller=viewer.caller, settings=settings, domain_id=domain_id
    )
    message, ok = _outcome(describe_records(domain, settings), domain)
    return redirect(
        request, f"/domains/{domain_id}", flash=message, level="success" if ok else "error"
    )


@router.get("/domains/{domain_id}/delete")
def confirm_delete(
    request: Request, session: DbSession, viewer: CurrentViewer, domain_id: int
) -> Response:
    """Ask before deleting a domain, saying which accounts lose it."""
    domain = get_domain(session=session, caller=viewer.caller, domain_id=domain_id)
    used = accounts_counts(session=session, domain_ids=[domain.id]).get(domain.id, 0)
    return render(request, "domains/delete.html", {"domain": domain, "accounts": used})


@router.post("/domains/{domain_id}/delete")
def delete(
    request: Request, session: DbSession, viewer: CurrentViewer, _form: PostedForm, domain_id: int
) -> Response:
    """Delete the domain; accounts using it stop sending from it."""
    domain = get_domain(session=session, caller=viewer.caller, domain_id=domain_id)
    name = domain.name
    try:
        with session.begin_nested():
            delete_domain(session=session, caller=viewer.caller, domain_id=domain_id)
    except Forbidden as exc:
        return redirect(request, f"/domains/{domain_id}", flash=exc.message, level="error")
    return redirect(request, "/domains", flash=f"{name} was deleted.")
