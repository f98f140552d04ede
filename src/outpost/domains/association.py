"""Which verified domains a delivery account may send from, up to its plan's limit."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from outpost.accounts.models import DeliveryAccount
from outpost.accounts.service import get_account
from outpost.domains.models import AccountDomain, Domain, DomainStatus
from outpost.domains.schemas import AssociationCapacity
from outpost.domains.service import normalize_domain_name
from outpost.errors import NotFound, ValidationFailed
from outpost.pagination import Page, PageParams, paginate
from outpost.plans.models import MAX_DOMAINS_PER_ACCOUNT, Plan
from outpost.tenancy.scope import Caller, require_write, visible_orgs


def domain_counts(*, session: Session, account_ids: Collection[int]) -> dict[int, int]:
    """How many domains each account is associated with, in one query (absent means 0)."""
    if not account_ids:
        return {}
    rows = session.execute(
        select(AccountDomain.account_id, func.count())
        .where(AccountDomain.account_id.in_(account_ids))
        .group_by(AccountDomain.account_id)
    )
    return {account_id: int(count) for account_id, count in rows}


def _capacity(session: Session, account: DeliveryAccount) -> AssociationCapacity:
    plan_max = session.scalar(select(Plan.max_domains).where(Plan.id == account.plan_id)) or 0
    limit = min(plan_max, MAX_DOMAINS_PER_ACCOUNT)
    used = domain_counts(session=session, account_ids=[account.id]).get(account.id, 0)
    if used < limit:
        return AssociationCapacity(domains_used=used, domains_max=limit, can_associate=True)
    return AssociationCapacity(
        domains_used=used,
        domains_max=limit,
        can_associate=False,
        reason=f"The account's plan allows at most {limit} domain{'s' if limit != 1 else ''}. "
        "Remove an association, or use another account for other domains.",
    )


def association_capacity(
    *, session: Session, caller: Caller, account_id: int
) -> AssociationCapacity:
    """How many domains the account uses, its limit, and why it can take no more."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    return _capacity(session, account)


def list_account_domains(
    *, session: Session, caller: Caller, account_id: int, params: PageParams
) -> tuple[Page[Domain], AssociationCapacity]:
    """A page of the domains associated with an account, and its association capacity."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    statement = (
        select(Domain)
        .join(AccountDomain, AccountDomain.domain_id == Domain.id)
        .where(AccountDomain.account_id == account.id)
    )
    if params.query:
        statement = statement.where(Domain.name.ilike(f"%{params.query.strip().lower()}%"))
    page = paginate(
        session,
        statement,
        params,
        sortable={"name": Domain.name, "status": Domain.status},
        default_sort=[Domain.name.asc()],
        tiebreak=Domain.id,
    )
    return page, _capacity(session, account)


def associable_domains(*, session: Session, caller: Caller, account_id: int) -> list[Domain]:
    """The account's customer's domains not yet associated with it, by name (any status)."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    linked = select(AccountDomain.domain_id).where(AccountDomain.account_id == account.id)
    return list(
        session.scalars(
            select(Domain)
            .where(Domain.org_id == account.org_id, Domain.id.not_in(linked))
            .order_by(Domain.name, Domain.id)
        )
    )


def get_associated_domain(
    *, session: Session, caller: Caller, account_id: int, domain_id: int
) -> Domain:
    """A domain associated with an account the caller may see; NotFound otherwise."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    domain = session.scalar(
        select(Domain)
        .join(AccountDomain, AccountDomain.domain_id == Domain.id)
        .where(AccountDomain.account_id == account.id, Domain.id == domain_id)
    )
    if domain is None:
        raise NotFound("This domain is not associated with the account.")
    return domain


def _find_domain(
    *, session: Session, caller: Caller, org_id: int, domain_id: int | None, name: str | None
) -> tuple[Domain, str]:
    if domain_id is not None:
        domain = session.scalar(
            select(Domain).where(Domain.id == domain_id, visible_orgs(caller, Domain.org_id))
        )
        if domain is None:
            raise NotFound("Domain not found.")
        return domain, "domain_id"
    wanted = normalize_domain_name(name or "")
    domain = session.scalar(select(Domain).where(Domain.org_id == org_id, Domain.name == wanted))
    if domain is None:
        raise ValidationFailed.one("name", "is not a domain of this account's customer")
    return domain, "name"


def associate_domain(
    *,
    session: Session,
    caller: Caller,
    account_id: int,
    domain_id: int | None = None,
    name: str | None = None,
) -> Domain:
    """Let an account send from one of its customer's verified domains, within the plan's limit."""
    require_write(caller)
    account = get_account(session=session, caller=caller, account_id=account_id)
    # Serialize associations of one account so two at once cannot pass the limit together.
    session.execute(
        select(DeliveryAccount.id).where(DeliveryAccount.id == account.id).with_for_update()
    )
    domain, field = _find_domain(
        session=session, caller=caller, org_id=account.org_id, domain_id=domain_id, name=name
    )
    if domain.org_id != account.org_id:
        raise ValidationFailed.one(field, "belongs to another customer than the account")
    if domain.status is not DomainStatus.verified:
        raise ValidationFailed.one(
            field, f"is not verified ({domain.status.value}); publish its DNS records and verify it"
        )
    linked = session.get(AccountDomain, (account.id, domain.id))
    if linked is not None:
        raise ValidationFailed.one(field, "is already associated with this account")
    capacity = _capacity(session, account)
    if not capacity.can_associate:
        raise ValidationFailed.one(field, capacity.reason or "exceeds the plan's domain limit")
    session.add(AccountDomain(account_id=account.id, domain_id=domain.id))
    session.flush()
    return domain


def dissociate_domain(*, session: Session, caller: Caller, account_id: int, domain_id: int) -> None:
    """Stop an account sending from a domain; the domain itself stays."""
    require_write(caller)
    account = get_account(session=session, caller=caller, account_id=account_id)
    result = session.execute(
        delete(AccountDomain).where(
            AccountDomain.account_id == account.id, AccountDomain.domain_id == domain_id
        )
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound("This domain is not associated with the account.")
