"""Sending domains, always seen through the caller's scope; DNS checks and the send-path look-up."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from outpost.addresses import is_valid_domain
from outpost.config import Settings
from outpost.db import utcnow
from outpost.dns import make_resolver
from outpost.domains.checks import apply_checks, due_for_check
from outpost.domains.dns_records import DnsRecord, expected_records, return_path_host
from outpost.domains.keys import new_dkim_keys
from outpost.domains.models import AccountDomain, Domain, DomainStatus
from outpost.domains.schemas import DnsRecordOut, DomainCreate
from outpost.domains.verification import check_records
from outpost.errors import NotFound, ValidationFailed
from outpost.pagination import Page, PageParams, paginate
from outpost.tenancy.models import Organization, OrgKind
from outpost.tenancy.scope import Caller, require_write, visible_orgs
from outpost.tenancy.service import get_organization

# Domains an associated account may send from: verified, or broken since (within the grace
# period of checks.FAILING_GRACE), so a DNS hiccup never stops mail already flowing.
USABLE_STATUSES = (DomainStatus.verified, DomainStatus.failing)
# Qboxmail's status names, accepted as list filters.
_STATUS_ALIASES = {"enabled": "verified", "not_verified": "pending", "misconfigured": "failing"}
RECHECK_BATCH = 25


def normalize_domain_name(raw: str, *, field: str = "name") -> str:
    """A domain name lower-cased, without a final dot, IDNs in their ASCII (punycode) form."""
    name = raw.strip().rstrip(".").lower()
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValidationFailed.one(field, "is not a valid domain name") from None
    if not is_valid_domain(name):
        raise ValidationFailed.one(field, "is not a valid domain name")
    return name


def _owner_for(*, session: Session, caller: Caller, org_id: int | None) -> Organization:
    if org_id is None:
        if caller.org_kind is not OrgKind.customer:
            raise ValidationFailed.one("org_id", "is required: a domain belongs to a customer")
        org_id = caller.org_id
    org = get_organization(session=session, caller=caller, org_id=org_id)
    if org.kind is not OrgKind.customer:
        raise ValidationFailed.one("org_id", "must be a customer: domains belong to customers")
    return org


def create_domain(
    *, session: Session, caller: Caller, settings: Settings, data: DomainCreate
) -> Domain:
    """Add a sending domain to a customer, with fresh DKIM keys and an ownership token."""
    require_write(caller)
    org = _owner_for(session=session, caller=caller, org_id=data.org_id)
    name = normalize_domain_name(data.name)
    if session.scalar(select(Domain.id).where(Domain.org_id == org.id, Domain.name == name)):
        raise ValidationFailed.one("name", "already exists")
    if session.scalar(
        select(Domain.id).where(Domain.name == name, Domain.verified_at.is_not(None))
    ):
        raise ValidationFailed.one("name", "is already verified by another customer")
    keys = new_dkim_keys(settings.installation_secret())
    domain = Domain(
        org_id=org.id,
        name=name,
        status=DomainStatus.pending,
        verification_token=secrets.token_hex(16),
        dkim_selector=keys.rsa_selector,
        dkim_private_key=keys.rsa_private_key,
        dkim_public_key=keys.rsa_public_key,
        dkim_ed25519_selector=keys.ed25519_selector,
        dkim_ed25519_private_key=keys.ed25519_private_key,
        dkim_ed25519_public_key=keys.ed25519_public_key,
        return_path_host=return_path_host(name),
        checks={},
    )
    try:
        with session.begin_nested():
            session.add(domain)
            session.flush()
    except IntegrityError:
        raise ValidationFailed.one("name", "already exists") from None
    return domain


def get_domain(*, session: Session, caller: Caller, domain_id: int) -> Domain:
    """A domain the caller may see; any other id is NotFound."""
    domain = session.scalar(
        select(Domain).where(Domain.id == domain_id, visible_orgs(caller, Domain.org_id))
    )
    if domain is None:
        raise NotFound("Domain not found.")
    return domain


def _status_filter(status: str | None) -> DomainStatus | None:
    if status in (None, "", "all"):
        return None
    value = _STATUS_ALIASES.get(status, status)
    try:
        return DomainStatus(value)
    except ValueError:
        allowed = ", ".join(["all", *DomainStatus, *_STATUS_ALIASES])
        raise ValidationFailed.one("status", f"must be one of: {allowed}") from None


def list_domains(*, session: Session, caller: Caller, params: PageParams) -> Page[Domain]:
    """A page of the domains the caller may see, by status and name."""
    statement = select(Domain).where(visible_orgs(caller, Domain.org_id))
    status = _status_filter(params.status)
    if status is not None:
        statement = statement.where(Domain.status == status)
    if params.query:
        statement = statement.where(Domain.name.ilike(f"%{params.query.strip().lower()}%"))
    return paginate(
        session,
        statement,
        params,
        sortable={
            "name": Domain.name,
            "status": Domain.status,
            "created_at": Domain.created_at,
            "verified_at": Domain.verified_at,
        },
        default_sort=[Domain.name.asc()],
        tiebreak=Domain.id,
    )


def delete_domain(*, session: Session, caller: Caller, domain_id: int) -> None:
    """Delete a domain; accounts associated with it stop sending from it at once."""
    require_write(caller)
    domain = get_domain(session=session, caller=caller, domain_id=domain_id)
    session.execute(delete(AccountDomain).where(AccountDomain.domain_id == domain.id))
    session.delete(domain)
    session.flush()


def accounts_counts(*, session: Session, domain_ids: Collection[int]) -> dict[int, int]:
    """How many accounts each domain is associated with, in one query."""
    if not domain_ids:
        return {}
    rows = session.execute(
        select(AccountDomain.domain_id, func.count())
        .where(AccountDomain.domain_id.in_(domain_ids))
        .group_by(AccountDomain.domain_id)
    )
    return {domain_id: int(count) for domain_id, count in rows}


def describe_records(domain: Domain, settings: Settings) -> list[DnsRecordOut]:
    """The records to publish for ``domain`` with the result of their last check."""
    described = []
    for record in expected_records(domain, settings):
        check = domain.checks.get(record.purpose.value)
        if check is None:
            status = "unchecked"
        elif check["ok"]:
            status = "ok"
        else:
            status = "error" if check.get("temporary") else "failing"
        described.append(
            DnsRecordOut(
                purpose=record.purpose.value,
                type=record.type,
                name=record.name,
                value=record.value,
                required=record.required,
                status=status,
                checked_at=check["checked_at"] if check else None,
                found=check["found"] if check else [],
                error=check["error"] if check else None,
            )
        )
    return described


def _record_results(
    *,
    session: Session,
    domain_id: int,
    records: list[DnsRecord],
    settings: Settings,
    now: datetime,
) -> Domain | None:
    results = check_records(make_resolver(settings), records)
    domain = session.get(Domain, domain_id, populate_existing=True)
    if domain is None:
        return None  # deleted while DNS was being asked
    name_taken = session.scalar(
        select(Domain.id).where(
            Domain.name == domain.name, Domain.id != domain.id, Domain.verified_at.is_not(None)
        )
    )
    apply_checks(domain, records, results, now=now, name_taken=name_taken is not None)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Another customer verified the same name a moment ago.
        apply_checks(domain, records, results, now=now, name_taken=True)
        session.flush()
    return domain


def verify_domain(
    *,
    session: Session,
    caller: Caller,
    settings: Settings,
    domain_id: int,
    now: datetime | None = None,
) -> Domain:
    """Check every record over DNS now and store the results and the new status."""
    require_write(caller)
    domain = get_domain(session=session, caller=caller, domain_id=domain_id)
    records = expected_records(domain, settings)
    # No transaction stays open while DNS answers: on SQLite it would hold the write lock.
    session.commit()
    checked = _record_results(
        session=session,
        domain_id=domain_id,
        records=records,
        settings=settings,
        now=now or utcnow(),
    )
    if checked is None:
        raise NotFound("Domain not found.")
    return checked


def recheck_due_domains(*, session: Session, settings: Settings, now: datetime) -> int:
    """Re-check the domains whose turn has come (see ``checks``); returns how many."""
    due = session.scalars(
        select(Domain)
        .where(due_for_check(now))
        .order_by(Domain.last_checked_at.is_not(None), Domain.last_checked_at, Domain.id)
        .limit(RECHECK_BATCH)
    ).all()
    work = [(domain.id, expected_records(domain, settings)) for domain in due]
    session.commit()
    for domain_id, records in work:
        _record_results(
            session=session, domain_id=domain_id, records=records, settings=settings, now=now
        )
        session.commit()
    return len(work)


def sending_domain_for(*, session: Session, account_id: int, domain_name: str) -> Domain | None:
    """The domain ``domain_name`` if it is associated with the account and usable, in one query.

    Usable means ``verified`` or ``failing`` (verified, a record broke since, still within
    the grace period); ``pending`` domains are never usable.
    """
    return session.scalar(
        select(Domain)
        .join(AccountDomain, AccountDomain.domain_id == Domain.id)
        .where(
            AccountDomain.account_id == account_id,
            Domain.name == domain_name.strip().rstrip(".").lower(),
            Domain.status.in_(USABLE_STATUSES),
        )
    )
