"""The accounts list: quick status filter, advanced filters, counts, and rows without N+1."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, column, func, or_, select, table
from sqlalchemy.orm import InstrumentedAttribute, Session

from outpost.accounts.models import SEARCH_TABLE, AccountStatus, AccountType, DeliveryAccount
from outpost.accounts.schemas import STATUS_ALIASES, TYPE_ALIASES, AccountFilters
from outpost.billing.models import Order, OrderStatus
from outpost.billing.service import plans_by_id
from outpost.domains.models import AccountDomain
from outpost.errors import ValidationFailed
from outpost.pagination import Page, PageParams, SortField, paginate
from outpost.plans.models import Plan
from outpost.tenancy.models import Organization, OrgKind
from outpost.tenancy.scope import Caller, visible_orgs

TRIGRAM = 3  # the shortest text a trigram index can look up

SORTABLE: dict[str, SortField] = {
    "id": DeliveryAccount.id,
    "description": DeliveryAccount.description,
    "username": DeliveryAccount.username,
    "status": DeliveryAccount.status,
    "type": DeliveryAccount.type,
    # The indexed thousands first; the planners sort only within the first few of them.
    "remaining": (DeliveryAccount.remaining_thousands, DeliveryAccount.remaining),
    "created_at": DeliveryAccount.created_at,
}


@dataclass(frozen=True)
class AccountView:
    """An account with what its rows show besides its own columns."""

    account: DeliveryAccount
    plan: Plan
    org_name: str
    domains_used: int
    has_pending_order: bool


def views_of(session: Session, accounts: Sequence[DeliveryAccount]) -> list[AccountView]:
    """Views of ``accounts`` in a fixed number of queries, whatever their number."""
    if not accounts:
        return []
    ids = [a.id for a in accounts]
    plans = plans_by_id(session, (a.plan_id for a in accounts))
    org_names: dict[int, str] = {
        row.id: row.name
        for row in session.execute(
            select(Organization.id, Organization.name).where(
                Organization.id.in_({a.org_id for a in accounts})
            )
        )
    }
    domain_counts: dict[int, int] = {
        row.account_id: row.domains
        for row in session.execute(
            select(AccountDomain.account_id, func.count().label("domains"))
            .where(AccountDomain.account_id.in_(ids))
            .group_by(AccountDomain.account_id)
        )
    }
    pending = set(
        session.scalars(
            select(Order.account_id)
            .where(Order.account_id.in_(ids), Order.status == OrderStatus.pending)
            .distinct()
        )
    )
    return [
        AccountView(
            account=a,
            plan=plans[a.plan_id],
            org_name=org_names.get(a.org_id, ""),
            domains_used=domain_counts.get(a.id, 0),
            has_pending_order=a.id in pending,
        )
        for a in accounts
    ]


def _status(value: str | None) -> AccountStatus | None:
    if not value or value == "all":
        return None
    try:
        return AccountStatus(STATUS_ALIASES.get(value, value))
    except ValueError:
        allowed = ", ".join(["all", *AccountStatus, *STATUS_ALIASES])
        raise ValidationFailed.one("status", f"must be one of: {allowed}") from None


def _contains(
    session: Session, column: InstrumentedAttribute[str], text: str
) -> ColumnElement[bool]:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's LIKE already ignores ASCII case (and its lower() knows only ASCII), so
        # this matches what ilike's lower(x) LIKE lower(y) would, several times faster.
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


_SEARCH = table(SEARCH_TABLE, column("rowid"), column(SEARCH_TABLE))


def _text_search(session: Session, text: str, *, one_customer: bool) -> ColumnElement[bool]:
    """Accounts whose description or username holds ``text``, ignoring case."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite and len(text) >= TRIGRAM and not one_customer:
        # The FTS5 trigram index finds the substring as one quoted phrase. One customer's
        # accounts are few: LIKE over them beats listing every match in the installation.
        phrase = '"' + text.replace('"', '""') + '"'
        found = select(_SEARCH.c.rowid).where(_SEARCH.c[SEARCH_TABLE].op("MATCH")(phrase))
        return DeliveryAccount.id.in_(found)
    return or_(
        _contains(session, DeliveryAccount.description, text),
        _contains(session, DeliveryAccount.username, text),
    )


def _visible(caller: Caller) -> ColumnElement[bool]:
    # visible_orgs() as one IN-subquery: the planners then walk the (org_id, …) index once
    # instead of OR-ing two index scans before sorting.
    if caller.org_kind is OrgKind.reseller:
        subtree = select(Organization.id).where(
            or_(Organization.id == caller.org_id, Organization.parent_id == caller.org_id)
        )
        return DeliveryAccount.org_id.in_(subtree)
    return visible_orgs(caller, DeliveryAccount.org_id)


def _conditions(
    session: Session, caller: Caller, filters: AccountFilters, query: str | None
) -> list[ColumnElement[bool]]:
    conditions = [_visible(caller)]
    if filters.type is not None:
        conditions.append(
            DeliveryAccount.type == AccountType(TYPE_ALIASES.get(filters.type, filters.type))
        )
    if filters.plan is not None:
        plan_id = session.scalar(select(Plan.id).where(Plan.code == filters.plan))
        if plan_id is None:
            raise ValidationFailed.one("plan", "is not a plan code")
        conditions.append(DeliveryAccount.plan_id == plan_id)
    # Each bound also on the indexed thousands, which follow remaining in order.
    if filters.remaining_from is not None:
        conditions.append(DeliveryAccount.remaining_thousands >= filters.remaining_from // 1000)
        conditions.append(DeliveryAccount.remaining >= filters.remaining_from)
    if filters.remaining_to is not None:
        conditions.append(DeliveryAccount.remaining_thousands <= filters.remaining_to // 1000)
        conditions.append(DeliveryAccount.remaining <= filters.remaining_to)
    if filters.org_id is not None:
        conditions.append(DeliveryAccount.org_id == filters.org_id)
    if query:
        one_customer = caller.org_kind is OrgKind.customer or filters.org_id is not None
        conditions.append(_text_search(session, query, one_customer=one_customer))
    return conditions


def list_accounts(
    *, session: Session, caller: Caller, params: PageParams, filters: AccountFilters
) -> Page[AccountView]:
    """A page of the accounts the caller may see, newest first unless sorted otherwise."""
    conditions = _conditions(session, caller, filters, params.query)
    status = _status(params.status)
    if status is not None:
        conditions.append(DeliveryAccount.status == status)
    # Page over ids first (often straight from an index), then load just those rows.
    page = paginate(
        session,
        select(DeliveryAccount.id).where(*conditions),
        params,
        sortable=SORTABLE,
        default_sort=[DeliveryAccount.id.desc()],
        tiebreak=DeliveryAccount.id,
        filters=filters.echo(),
    )
    ids = list(page.items)
    rows = session.scalars(select(DeliveryAccount).where(DeliveryAccount.id.in_(ids)))
    by_id = {account.id: account for account in rows}
    accounts = [by_id[i] for i in ids if i in by_id]
    return Page(items=views_of(session, accounts), pagination=page.pagination)


def status_counts(
    *, session: Session, caller: Caller, filters: AccountFilters, query: str | None = None
) -> dict[str, Any]:
    """How many visible accounts each status holds, under the same filters as the list."""
    rows = session.execute(
        select(DeliveryAccount.status, func.count())
        .where(*_conditions(session, caller, filters, query))
        .group_by(DeliveryAccount.status)
    )
    counts = {status.value: 0 for status in AccountStatus}
    for status, count in rows:
        counts[AccountStatus(status).value] = int(count)
    return {"all": sum(counts.values()), **counts}
