"""Orders through the Management API: who sees, pays and cancels them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from outpost.tenancy.models import Role
from tests.accounts.helpers import billed_customer, paid_account, pay, read
from tests.factories import Factory, Tenant


def _ids(client: TestClient, tenant: Tenant, **params: Any) -> list[int]:
    response = client.get("/api/v1/orders", headers=tenant.headers, params=params)
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json()["resources"]]


def test_orders_are_listed_in_scope_with_filters(client: TestClient, factory: Factory) -> None:
    operator = factory.operator()
    reseller = factory.reseller()
    mine = billed_customer(factory, reseller)
    other = billed_customer(factory)
    first = paid_account(client, mine)
    second = paid_account(client, mine, plan="prepaid")
    third = paid_account(client, other)
    pay(client, operator, first["order"]["id"])
    ids = [a["order"]["id"] for a in (first, second, third)]

    assert _ids(client, mine) == [ids[1], ids[0]]
    assert _ids(client, reseller) == [ids[1], ids[0]]
    assert _ids(client, other) == [ids[2]]
    assert _ids(client, operator) == ids[::-1]
    assert _ids(client, mine, status="pending") == [ids[1]]
    assert _ids(client, mine, status="paid") == [ids[0]]
    assert _ids(client, operator, account_id=third["id"]) == [ids[2]]
    assert _ids(client, mine, account_id=third["id"]) == []
    assert _ids(client, operator, kind="new_account", per=1) == [ids[2]]
    assert _ids(client, operator, sort_field="amount", sort="desc")[0] == ids[1]
    response = client.get("/api/v1/orders?status=lost", headers=mine.headers)
    assert response.status_code == 422

    response = client.get(f"/api/v1/orders/{ids[1]}", headers=mine.headers)
    order = response.json()["resources"][0]
    assert order == {
        **order,
        "kind": "new_account",
        "plan": "prepaid",
        "plan_name": "Prepaid package",
        "messages": 10_000,
        "amount_cents": 1500,
        "amount": "15.00",
        "currency": "EUR",
        "payment_method": "card_auto",
        "status": "pending",
        "account_id": second["id"],
        "org_id": mine.org_id,
    }


def test_only_the_operator_pays(client: TestClient, factory: Factory) -> None:
    reseller = factory.reseller()
    customer = billed_customer(factory, reseller)
    account = paid_account(client, customer)
    url = f"/api/v1/orders/{account['order']['id']}/pay"
    assert client.post(url, headers=customer.headers).status_code == 403
    assert client.post(url, headers=reseller.headers).status_code == 403
    reader = factory.operator(role=Role.read_only)
    assert client.post(url, headers=reader.headers).status_code == 403
    assert read(client, customer, account["id"])["status"] == "awaiting_payment"
    operator = factory.operator(role=Role.member)
    assert client.post(url, headers=operator.headers).status_code == 200
    response = client.post(url, headers=operator.headers)
    assert response.status_code == 409
    assert response.json()["detail"] == "The order is paid; only pending orders can change."


def test_customer_admins_or_the_operator_cancel_pending_orders(
    client: TestClient, factory: Factory
) -> None:
    operator = factory.operator()
    reseller = factory.reseller()
    customer = billed_customer(factory, reseller)
    first, second = paid_account(client, customer), paid_account(client, customer)

    def cancel(tenant_headers: dict[str, str], order_id: int) -> int:
        response = client.post(f"/api/v1/orders/{order_id}/cancel", headers=tenant_headers)
        return response.status_code

    member = factory.key(customer.org_id, Role.member)
    assert cancel(member, first["order"]["id"]) == 403
    assert cancel(reseller.headers, first["order"]["id"]) == 403
    assert cancel(customer.headers, first["order"]["id"]) == 200
    assert cancel(customer.headers, first["order"]["id"]) == 409
    assert cancel(operator.headers, second["order"]["id"]) == 200
    response = client.post(f"/api/v1/orders/{second['order']['id']}/pay", headers=operator.headers)
    assert response.status_code == 409
    statuses = {
        o["status"]
        for o in client.get("/api/v1/orders", headers=customer.headers).json()["resources"]
    }
    assert statuses == {"cancelled"}
