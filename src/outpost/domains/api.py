"""Management API routes for sending domains and their association with delivery accounts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from outpost.api.deps import AppSettings, CurrentCaller, DbSession, Paging
from outpost.config import Settings
from outpost.domains import association, service
from outpost.domains.models import Domain
from outpost.domains.schemas import AssociationCreate, DomainCreate, DomainOut
from outpost.schemas import resources

router = APIRouter(tags=["domains"])


def _render(session: Session, settings: Settings, domains: Sequence[Domain]) -> list[DomainOut]:
    counts = service.accounts_counts(session=session, domain_ids=[d.id for d in domains])
    rendered = []
    for domain in domains:
        out = DomainOut.model_validate(domain)
        out.accounts_count = counts.get(domain.id, 0)
        out.dns_records = service.describe_records(domain, settings)
        rendered.append(out)
    return rendered


@router.get("/domains")
def list_domains(
    session: DbSession, caller: CurrentCaller, settings: AppSettings, paging: Paging
) -> dict[str, Any]:
    """Domains the caller may see; ``status`` filters (pending, verified, failing, all)."""
    page = service.list_domains(session=session, caller=caller, params=paging)
    return {"resources": _render(session, settings, page.items), "pagination": page.pagination}


@router.post("/domains", status_code=201)
def create_domain(
    session: DbSession, caller: CurrentCaller, settings: AppSettings, data: DomainCreate
) -> dict[str, Any]:
    """Add a sending domain; the answer lists the DNS records to publish."""
    domain = service.create_domain(session=session, caller=caller, settings=settings, data=data)
    return resources(*_render(session, settings, [domain]))


@router.get("/domains/{domain_id}")
def get_domain(
    session: DbSession, caller: CurrentCaller, settings: AppSettings, domain_id: int
) -> dict[str, Any]:
    """One domain with its DNS records and their last check."""
    domain = service.get_domain(session=session, caller=caller, domain_id=domain_id)
    return resources(*_render(session, settings, [domain]))


@router.post("/domains/{domain_id}/verify")
def verify_domain(
    session: DbSession, caller: CurrentCaller, settings: AppSettings, domain_id: int
) -> dict[str, Any]:
    """Check the domain's DNS records now."""
    domain = service.verify_domain(
        session=session, caller=caller, settings=settings, domain_id=domain_id
    )
    return resources(*_render(session, settings, [domain]))


@router.delete("/domains/{domain_id}", status_code=204)
def delete_domain(session: DbSession, caller: CurrentCaller, domain_id: int) -> Response:
    """Delete a domain and its associations with accounts."""
    service.delete_domain(session=session, caller=caller, domain_id=domain_id)
    return Response(status_code=204)


@router.get("/accounts/{account_id}/domains")
def list_account_domains(
    session: DbSession,
    caller: CurrentCaller,
    settings: AppSettings,
    account_id: int,
    paging: Paging,
) -> dict[str, Any]:
    """Domains an account may send from, with how many more it may take (``association``)."""
    page, capacity = association.list_account_domains(
        session=session, caller=caller, account_id=account_id, params=paging
    )
    return {
        "resources": _render(session, settings, page.items),
        "pagination": page.pagination,
        "association": capacity,
    }


@router.post("/accounts/{account_id}/domains", status_code=201)
def associate_domain(
    session: DbSession,
    caller: CurrentCaller,
    settings: AppSettings,
    account_id: int,
    data: AssociationCreate,
) -> dict[str, Any]:
    """Associate a verified domain of the account's customer with the account."""
    domain = association.associate_domain(
        session=session,
        caller=caller,
        account_id=account_id,
        domain_id=data.domain_id,
        name=data.name,
    )
    return resources(*_render(session, settings, [domain]))


@router.delete("/accounts/{account_id}/domains/{domain_id}", status_code=204)
def dissociate_domain(
    session: DbSession, caller: CurrentCaller, account_id: int, domain_id: int
) -> Response:
    """Remove a domain from an account; the domain stays."""
    association.dissociate_domain(
        session=session, caller=caller, account_id=account_id, domain_id=domain_id
    )
    return Response(status_code=204)
