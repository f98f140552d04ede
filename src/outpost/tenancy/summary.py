"""What the panel's home page and lists show about organizations at a glance."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outpost.plans.models import Plan
from outpost.tenancy.models import ApiKey, Organization, OrgKind, User
from outpost.tenancy.scope import Caller, visible_orgs
from outpost.tenancy.service import get_organization


@dataclass(frozen=True)
class OrganizationSummary:
    """The caller's organization and how much sits in and under it."""

    organization: Organization
    resellers: int
    customers: int
    users: int
    api_keys: int
    active_plans: int


def _count_orgs(session: Session, caller: Caller, kind: OrgKind) -> int:
    statement = select(func.count(Organization.id)).where(
        visible_orgs(caller, Organization.id),
        Organization.kind == kind,
        Organization.id != caller.org_id,
    )
    return int(session.scalar(statement) or 0)


def organization_summary(*, session: Session, caller: Caller) -> OrganizationSummary:
    """The caller's organization with counts of its resellers, customers, users and keys."""
    org = get_organization(session=session, caller=caller, org_id=caller.org_id)
    users = session.scalar(select(func.count(User.id)).where(User.org_id == org.id))
    keys = session.scalar(select(func.count(ApiKey.id)).where(ApiKey.org_id == org.id))
    plans = session.scalar(select(func.count(Plan.id)).where(Plan.active.is_(True)))
    return OrganizationSummary(
        organization=org,
        resellers=_count_orgs(session, caller, OrgKind.reseller),
        customers=_count_orgs(session, caller, OrgKind.customer),
        users=int(users or 0),
        api_keys=int(keys or 0),
        active_plans=int(plans or 0),
    )


def organization_names(*, session: Session, caller: Caller, ids: Iterable[int]) -> dict[int, str]:
    """The names of those of ``ids`` the caller may see (e.g. the parents in a list)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(Organization.id, Organization.name).where(
            Organization.id.in_(wanted), visible_orgs(caller, Organization.id)
        )
    )
    return {org_id: name for org_id, name in rows}
