"""The accounts beside each order, as the panel's orders list shows them, in scope."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from outpost.accounts.models import AccountStatus
from outpost.billing.models import Order
from outpost.billing.service import OrderAccount, accounts_of_orders
from outpost.db import Database
from outpost.tenancy.models import OrgKind, Role
from outpost.tenancy.scope import Caller
from tests.accounts.helpers import billed_customer, paid_account
from tests.factories import Factory


def test_accounts_of_orders_are_named_within_the_callers_scope(
    client: TestClient, factory: Factory, db: Database
) -> None:
    mine = billed_customer(factory)
    other = billed_customer(factory)
    account = paid_account(client, mine, description="Hotel newsletter")
    paid_account(client, other)
    with db.session() as session:
        orders = list(session.scalars(select(Order).order_by(Order.id)))
        caller = Caller(org_id=mine.org_id, org_kind=OrgKind.customer, role=Role.read_only)
        named = accounts_of_orders(session=session, caller=caller, orders=orders)
        assert named == {
            account["id"]: OrderAccount(
                account["id"],
                "Hotel newsletter",
                account["username"],
                AccountStatus.awaiting_payment,
            )
        }
        assert accounts_of_orders(session=session, caller=caller, orders=[]) == {}
