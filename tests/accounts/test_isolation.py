"""Tenant isolation: every account, order and suppression endpoint answers 404 for ids of
organizations the caller cannot see, and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from outpost.accounts.models import DeliveryAccount
from outpost.billing.models import Order
from outpost.db import Database
from outpost.suppression.models import Suppression, SuppressionReason
from outpost.suppression.service import add_suppression
from tests.accounts.helpers import billed_customer, paid_account, pay
from tests.factories import Factory, Tenant


@dataclass(frozen=True)
class Holding:
    """What one customer owns: an enabled account with a pending order and a suppression."""

    tenant: Tenant
    account_id: int
    order_id: int


def _hold(
    client: TestClient, factory: Factory, db: Database, operator: Tenant, customer: Tenant
) -> Holding:
    account = paid_account(client, customer)
    pay(client, operator, account["order"]["id"])
    response = client.post(
        f"/api/v1/accounts/{account['id']}/extra-messages",
        headers=customer.headers,
        json={"messages": 1000},
    )
    with db.session() as session:
        add_suppression(
            session=session,
            account_id=account["id"],
            address="held@example.com",
            reason=SuppressionReason.manual,
        )
    return Holding(customer, account["id"], response.json()["resources"][0]["id"])


def _requests(h: Holding) -> list[tuple[str, str, dict[str, Any]]]:
    a, o = h.account_id, h.order_id
    s = f"/api/v1/accounts/{a}/suppressions"
    return [
        ("GET", f"/api/v1/accounts/{a}", {}),
        ("PUT", f"/api/v1/accounts/{a}", {"json": {"description": "pwned"}}),
        ("PUT", f"/api/v1/accounts/{a}/status", {"json": {"status": "disabled"}}),
        ("PUT", f"/api/v1/accounts/{a}/status", {"json": {"status": "blocked"}}),
        ("POST", f"/api/v1/accounts/{a}/password", {}),
        ("POST", f"/api/v1/accounts/{a}/plan", {"json": {"plan": "free"}}),
        ("POST", f"/api/v1/accounts/{a}/extra-messages", {"json": {"messages": 1000}}),
        ("DELETE", f"/api/v1/accounts/{a}", {}),
        ("GET", s, {}),
        ("POST", s, {"json": {"address": "new@example.com"}}),
        ("DELETE", f"{s}/held@example.com", {}),
        ("GET", f"{s}/export.csv", {}),
        ("POST", f"{s}/import", {"content": b"new@example.com\n"}),
        ("GET", f"/api/v1/orders/{o}", {}),
        ("POST", f"/api/v1/orders/{o}/pay", {}),
        ("POST", f"/api/v1/orders/{o}/cancel", {}),
    ]


def _snapshot(db: Database) -> list[tuple[Any, ...]]:
    with db.session() as session:
        accounts = session.execute(
            select(
                DeliveryAccount.id,
                DeliveryAccount.description,
                DeliveryAccount.status,
                DeliveryAccount.smtp_password_hash,
                DeliveryAccount.plan_id,
                DeliveryAccount.remaining,
            ).order_by(DeliveryAccount.id)
        ).all()
        orders = session.execute(select(Order.id, Order.status).order_by(Order.id)).all()
        entries = session.execute(
            select(Suppression.account_id, Suppression.address).order_by(Suppression.id)
        ).all()
    return [tuple(r) for r in [*accounts, *orders, *entries]]


@pytest.fixture
def tenants(client: TestClient, factory: Factory, db: Database) -> dict[str, Any]:
    operator = factory.operator()
    reseller_a, reseller_b = factory.reseller("A"), factory.reseller("B")
    holdings = {
        "a1": _hold(client, factory, db, operator, billed_customer(factory, reseller_a)),
        "a2": _hold(client, factory, db, operator, billed_customer(factory, reseller_a)),
        "b1": _hold(client, factory, db, operator, billed_customer(factory, reseller_b)),
        "direct": _hold(client, factory, db, operator, billed_customer(factory)),
    }
    return {"operator": operator, "a": reseller_a, "b": reseller_b, "holdings": holdings}


def test_foreign_ids_are_not_found_and_nothing_changes(
    client: TestClient, db: Database, tenants: dict[str, Any]
) -> None:
    h = tenants["holdings"]
    attempts: list[tuple[Tenant, Holding]] = [
        (h["a1"].tenant, h["a2"]),
        (h["a1"].tenant, h["b1"]),
        (h["a1"].tenant, h["direct"]),
        (h["direct"].tenant, h["a1"]),
        (h["b1"].tenant, h["a2"]),
        (tenants["a"], h["b1"]),
        (tenants["a"], h["direct"]),
        (tenants["b"], h["a1"]),
    ]
    before = _snapshot(db)
    for caller, foreign in attempts:
        for method, url, kwargs in _requests(foreign):
            response = client.request(method, url, headers=caller.headers, **kwargs)
            assert response.status_code == 404, (caller.name, method, url, response.text)
            assert response.json()["message"] == "Not found"
    assert _snapshot(db) == before


def test_lists_show_no_foreign_rows(client: TestClient, tenants: dict[str, Any]) -> None:
    h = tenants["holdings"]
    for caller, own in [
        (h["a1"].tenant, {h["a1"].account_id}),
        (tenants["a"], {h["a1"].account_id, h["a2"].account_id}),
        (tenants["b"], {h["b1"].account_id}),
    ]:
        accounts = client.get("/api/v1/accounts?per=100", headers=caller.headers).json()
        assert {a["id"] for a in accounts["resources"]} == own
        orders = client.get("/api/v1/orders?per=100", headers=caller.headers).json()
        assert {o["account_id"] for o in orders["resources"]} == own
        counts = client.get("/api/v1/accounts/status-counts", headers=caller.headers).json()
        assert counts["resources"][0]["all"] == len(own)
        foreign = h["direct"]
        assert (
            client.get(
                "/api/v1/orders", headers=caller.headers, params={"account_id": foreign.account_id}
            ).json()["resources"]
            == []
        )
        assert (
            client.get(
                "/api/v1/accounts", headers=caller.headers, params={"org_id": foreign.tenant.org_id}
            ).json()["resources"]
            == []
        )


def test_the_operator_reaches_every_tenant(client: TestClient, tenants: dict[str, Any]) -> None:
    operator = tenants["operator"]
    for holding in tenants["holdings"].values():
        for method, url, kwargs in _requests(holding):
            if method == "GET":
                response = client.request(method, url, headers=operator.headers, **kwargs)
                assert response.status_code == 200, (url, response.text)
