"""Quoting an account before creating it: the same checks as creation, nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outpost.accounts.models import DeliveryAccount
from outpost.accounts.service import quote_new_account
from outpost.db import utcnow
from outpost.errors import Forbidden, ValidationFailed
from outpost.tenancy.models import Organization, OrgKind, Role
from outpost.tenancy.scope import Caller
from tests.accounts.helpers import BILLING
from tests.factories import Factory, make_account


def _caller(tenant_id: int, kind: OrgKind = OrgKind.customer, role: Role = Role.owner) -> Caller:
    return Caller(org_id=tenant_id, org_kind=kind, role=role)


def test_a_quote_prices_the_tier_and_says_when_billing_data_is_missing(
    session: Session, factory: Factory
) -> None:
    customer = factory.customer()
    caller = _caller(customer.org_id)
    quote = quote_new_account(
        session=session, caller=caller, org_id=None, plan="monthly", messages=50_000
    )
    assert (quote.customer.id, quote.messages, quote.needs_billing) == (
        customer.org_id,
        50_000,
        True,
    )
    assert quote.price is not None and quote.price.amount == "35.00"
    org = session.get_one(Organization, customer.org_id)
    org.billing, org.contract_accepted_at = BILLING, utcnow()
    again = quote_new_account(
        session=session, caller=caller, org_id=None, plan="monthly", messages=50_000
    )
    assert again.needs_billing is False
    free = quote_new_account(session=session, caller=caller, org_id=None, plan="free")
    assert (free.messages, free.needs_billing) == (3000, False)
    assert session.scalar(select(func.count(DeliveryAccount.id))) == 0


def test_a_quote_refuses_what_creation_refuses(session: Session, factory: Factory) -> None:
    customer = factory.customer()
    other = factory.customer()
    reseller = factory.reseller()
    make_account(session, org_id=customer.org_id, plan="free")
    caller = _caller(customer.org_id)
    with pytest.raises(ValidationFailed) as second_free:
        quote_new_account(session=session, caller=caller, org_id=None, plan="free")
    assert second_free.value.errors[0].field == "plan"
    make_account(session, org_id=customer.org_id, plan="monthly")
    org = session.get_one(Organization, customer.org_id)
    org.restrictions = {"max_accounts_per_plan": {"monthly": 1}}
    with pytest.raises(ValidationFailed) as restricted:
        quote_new_account(
            session=session, caller=caller, org_id=None, plan="monthly", messages=10_000
        )
    assert restricted.value.errors[0].description.startswith("your provider allows at most 1")
    with pytest.raises(ValidationFailed) as bad_tier:
        quote_new_account(session=session, caller=caller, org_id=None, plan="prepaid", messages=7)
    assert bad_tier.value.errors[0].field == "messages"
    with pytest.raises(ValidationFailed) as foreign:
        quote_new_account(
            session=session,
            caller=_caller(reseller.org_id, OrgKind.reseller),
            org_id=other.org_id,
        )
    assert foreign.value.errors[0].field == "org_id"
    with pytest.raises(Forbidden):
        quote_new_account(
            session=session, caller=_caller(customer.org_id, role=Role.read_only), org_id=None
        )
