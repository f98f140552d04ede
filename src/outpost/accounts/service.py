"""Delivery accounts, always seen through the caller's scope: create, read, change, terminate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.accounts.listing import AccountView, views_of
from outpost.accounts.models import AccountStatus, DeliveryAccount
from outpost.accounts.quota import first_period, recompute_remaining
from outpost.accounts.rules import (
    check_plan_allowed,
    lock_customer,
    payment_method_for,
    resolve_plan,
    tier_for,
)
from outpost.accounts.schemas import AccountCreate, AccountUpdate
from outpost.billing.models import OrderKind
from outpost.billing.service import (
    OrderView,
    cancel_pending_orders,
    has_billing_profile,
    place_order,
    require_billing_profile,
)
from outpost.config import Settings
from outpost.db import utcnow
from outpost.errors import Conflict, NotFound, OutpostError, ValidationFailed
from outpost.netaccess import normalize_allowlist
from outpost.plans.models import Plan, PlanKind
from outpost.plans.service import Price
from outpost.security import generate_password, generate_username, hash_password
from outpost.tenancy.models import Organization, OrgKind
from outpost.tenancy.schemas import OrganizationUpdate
from outpost.tenancy.scope import (
    Caller,
    require_admin,
    require_manager_of,
    require_write,
    visible_orgs,
)
from outpost.tenancy.service import update_organization


@dataclass(frozen=True)
class CreatedAccount:
    """A new account, its SMTP password (shown once) and, for paid plans, the order to pay."""

    account: AccountView
    password: str
    order: OrderView | None


def get_account(*, session: Session, caller: Caller, account_id: int) -> DeliveryAccount:
    """An account the caller may see; any other id is NotFound."""
    account = session.scalar(
        select(DeliveryAccount).where(
            DeliveryAccount.id == account_id, visible_orgs(caller, DeliveryAccount.org_id)
        )
    )
    if account is None:
        raise NotFound("Delivery account not found.")
    return account


def get_account_view(*, session: Session, caller: Caller, account_id: int) -> AccountView:
    """An account the caller may see, with its plan, customer name and domain count."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    return views_of(session, [account])[0]


def _customer_for(session: Session, caller: Caller, org_id: int | None) -> Organization:
    if org_id is None:
        if caller.org_kind is not OrgKind.customer:
            raise ValidationFailed.one(
                "org_id", "is required: delivery accounts belong to customer organizations"
            )
        org_id = caller.org_id
    visible = session.scalar(
        select(Organization.id).where(
            Organization.id == org_id,
            Organization.kind == OrgKind.customer,
            visible_orgs(caller, Organization.id),
        )
    )
    if visible is None:
        raise ValidationFailed.one("org_id", "is not a customer you manage")
    return lock_customer(session, visible)


@dataclass(frozen=True)
class NewAccountQuote:
    """What creating an account would give a customer and cost, checked as creation checks it."""

    customer: Organization
    plan: Plan | None
    messages: int | None
    price: Price | None
    needs_billing: bool


def quote_new_account(
    *,
    session: Session,
    caller: Caller,
    org_id: int | None,
    plan: str | None = None,
    messages: int | None = None,
) -> NewAccountQuote:
    """Check the customer (and the plan and tier, when given) of an account not created yet."""
    require_write(caller)
    org = _customer_for(session, caller, org_id)
    if plan is None:
        return NewAccountQuote(org, None, None, None, needs_billing=False)
    chosen = resolve_plan(session, plan)
    count, price = tier_for(chosen, messages)
    check_plan_allowed(session, org, chosen)
    paid = chosen.kind is not PlanKind.free
    return NewAccountQuote(org, chosen, count, price, paid and not has_billing_profile(org))


def unused_username(session: Session, generate: Callable[[], str] = generate_username) -> str:
    """A generated username no account has yet (the unique index backs this check)."""
    for _attempt in range(10):
        candidate = generate()
        taken = session.scalar(
            select(DeliveryAccount.id).where(DeliveryAccount.username == candidate)
        )
        if taken is None:
            return candidate
    raise OutpostError("Could not generate an unused username; try again.")


def _fill_billing(session: Session, caller: Caller, org: Organization, data: AccountCreate) -> None:
    if data.billing is None and not data.accept_contract:
        return
    update_organization(
        session=session,
        caller=caller,
        org_id=org.id,
        data=OrganizationUpdate(billing=data.billing, accept_contract=data.accept_contract),
    )


def create_account(
    *,
    session: Session,
    settings: Settings,
    caller: Caller,
    data: AccountCreate,
    now: datetime | None = None,
) -> CreatedAccount:
    """Create an account: free ones are enabled at once, paid ones wait for their order."""
    require_write(caller)
    org = _customer_for(session, caller, data.org_id)
    plan = resolve_plan(session, data.plan)
    messages, price = tier_for(plan, data.messages)
    paid = plan.kind is not PlanKind.free
    method = payment_method_for(data.payment_method, None) if paid else None
    allowlist = normalize_allowlist(data.ip_allowlist)
    check_plan_allowed(session, org, plan)
    _fill_billing(session, caller, org, data)
    if paid:
        require_billing_profile(org)
    now = now or utcnow()
    password = generate_password()
    account = DeliveryAccount(
        org_id=org.id,
        description=data.description,
        type=data.type,
        username=unused_username(session),
        smtp_password_hash=hash_password(password),
        status=AccountStatus.awaiting_payment if paid else AccountStatus.enabled,
        plan_id=plan.id,
        payment_method=method,
        plan_messages=0 if paid else messages,
        used=0,
        extra_messages=0,
        extra_used=0,
        bounce_alert_email=data.bounce_alert_email,
        suppression_enabled=data.suppression_enabled,
        ip_allowlist=allowlist,
    )
    if not paid:
        account.period_start, account.period_end = first_period(now)
    recompute_remaining(account)
    session.add(account)
    session.flush()
    order = None
    if paid:
        order = place_order(
            session=session,
            settings=settings,
            account=account,
            kind=OrderKind.new_account,
            plan=plan,
            messages=messages,
            price=price,
            payment_method=method,
            description=f"New account {data.description!r}: {plan.name}, {messages} messages",
        )
    view = views_of(session, [account])[0]
    return CreatedAccount(view, password, OrderView(order, plan) if order else None)


def update_account(
    *, session: Session, caller: Caller, account_id: int, data: AccountUpdate
) -> AccountView:
    """Change an account's description and protection settings."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    require_write(caller)
    changes = data.model_dump(exclude_unset=True)
    for field in ("description", "suppression_enabled", "ip_allowlist"):
        if field in changes and changes[field] is None:
            raise ValidationFailed.one(field, "cannot be null")
    if "description" in changes:
        account.description = changes["description"]
    if "bounce_alert_email" in changes:
        account.bounce_alert_email = changes["bounce_alert_email"]
    if "suppression_enabled" in changes:
        account.suppression_enabled = changes["suppression_enabled"]
    if "ip_allowlist" in changes:
        account.ip_allowlist = normalize_allowlist(changes["ip_allowlist"])
    session.flush()
    return views_of(session, [account])[0]


def _block(caller: Caller, org: Organization, account: DeliveryAccount) -> None:
    require_manager_of(caller, org)
    if account.status is not AccountStatus.blocked:
        account.status_before_block = account.status
        account.status = AccountStatus.blocked


def _unblock(caller: Caller, org: Organization, account: DeliveryAccount) -> None:
    require_manager_of(caller, org)
    if account.status is not AccountStatus.blocked:
        raise Conflict("The account is not blocked.")
    account.status = account.status_before_block or AccountStatus.disabled
    account.status_before_block = None


def change_status(*, session: Session, caller: Caller, account_id: int, status: str) -> AccountView:
    """Enable or disable an account; block or unblock it (operator or its reseller only)."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    require_write(caller)
    org = session.get_one(Organization, account.org_id)
    if status == "blocked":
        _block(caller, org, account)
    elif status == "unblocked":
        _unblock(caller, org, account)
    elif account.status is AccountStatus.blocked:
        raise Conflict(
            "The account is blocked; the operator or the customer's reseller can lift the "
            "block with status `unblocked`."
        )
    elif account.status is AccountStatus.awaiting_payment:
        raise Conflict("The account is awaiting payment; it is enabled when its order is paid.")
    else:
        account.status = AccountStatus(status)
    session.flush()
    return views_of(session, [account])[0]


def reset_password(*, session: Session, caller: Caller, account_id: int) -> tuple[str, str]:
    """Issue a new SMTP password; returns the username and the password (shown once)."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    require_write(caller)
    password = generate_password()
    account.smtp_password_hash = hash_password(password)
    session.flush()
    return account.username, password


def terminate_account(*, session: Session, caller: Caller, account_id: int) -> None:
    """Delete an account with its domain links, tokens and suppression list; domains stay."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    require_admin(caller)
    cancel_pending_orders(session=session, account_id=account.id, now=utcnow())
    session.delete(account)
    session.flush()
