"""Paying for accounts: activation, plan changes, prepaid top-ups and extra messages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from outpost.accounts.models import DeliveryAccount
from outpost.accounts.quota import add_months
from outpost.db import Database, utcnow
from tests.accounts.helpers import (
    billed_customer,
    create_account,
    paid_account,
    pay,
    read,
)
from tests.factories import Factory, Tenant


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _close(moment: datetime, expected: datetime) -> bool:
    return abs(moment - expected) < timedelta(minutes=1)


def _change(
    client: TestClient, tenant: Tenant, account_id: int, **body: Any
) -> tuple[int, dict[str, Any]]:
    response = client.post(f"/api/v1/accounts/{account_id}/plan", headers=tenant.headers, json=body)
    return response.status_code, response.json()


def _set(db: Database, account_id: int, **values: Any) -> None:
    with db.session() as session:
        account = session.get_one(DeliveryAccount, account_id)
        for name, value in values.items():
            setattr(account, name, value)
        account.remaining = (
            account.plan_messages - account.used + account.extra_messages - account.extra_used
        )


def test_paying_a_new_subscription_enables_it_for_a_month(
    client: TestClient, factory: Factory
) -> None:
    operator = factory.operator()
    customer = billed_customer(factory)
    account = paid_account(client, customer)
    response = client.post(f"/api/v1/orders/{account['order']['id']}/pay", headers=customer.headers)
    assert response.status_code == 403
    order = pay(client, operator, account["order"]["id"])
    assert order["status"] == "paid" and order["paid_at"] is not None
    now = read(client, customer, account["id"])
    assert now["status"] == "enabled"
    assert (now["plan_messages"], now["remaining"], now["has_pending_order"]) == (
        10_000,
        10_000,
        False,
    )
    start = _at(now["period_start"])
    assert _close(start, utcnow()) and _at(now["period_end"]) == add_months(start, 1)
    assert now["expires_at"] is None


def test_prepaid_package_lasts_a_year_and_top_ups_extend_it(
    client: TestClient, factory: Factory, db: Database
) -> None:
    operator = factory.operator()
    customer = billed_customer(factory)
    account = paid_account(client, customer, plan="prepaid", messages=10_000)
    pay(client, operator, account["order"]["id"])
    now = read(client, customer, account["id"])
    assert now["period_end"] is None
    assert _close(_at(now["expires_at"]), add_months(utcnow(), 12))

    # 4,000 used; a later expiry than a year from now is kept.
    far = utcnow() + timedelta(days=500)
    _set(db, account["id"], used=4000, expires_at=far)
    status, body = _change(client, customer, account["id"], plan="prepaid", messages=50_000)
    assert status == 200, body
    order = body["resources"][0]["order"]
    assert (order["kind"], order["amount_cents"], order["payment_method"]) == (
        "prepaid_topup",
        6000,
        "card_auto",
    )
    pay(client, operator, order["id"])
    now = read(client, customer, account["id"])
    assert (now["plan_messages"], now["used"], now["remaining"]) == (60_000, 4000, 56_000)
    assert _at(now["expires_at"]) == far

    # An expiry sooner than a year is moved to a year after the purchase.
    _set(db, account["id"], expires_at=utcnow() + timedelta(days=10))
    order = _change(client, customer, account["id"], plan="prepaid", messages=10_000)[1]
    pay(client, operator, order["resources"][0]["order"]["id"])
    now = read(client, customer, account["id"])
    assert now["remaining"] == 66_000
    assert _close(_at(now["expires_at"]), add_months(utcnow(), 12))


def test_top_up_after_expiry_starts_a_fresh_package(
    client: TestClient, factory: Factory, db: Database
) -> None:
    operator = factory.operator()
    customer = billed_customer(factory)
    account = paid_account(client, customer, plan="prepaid", messages=10_000)
    pay(client, operator, account["order"]["id"])
    _set(db, account["id"], used=1000, expires_at=utcnow() - timedelta(days=1))
    order = _change(client, customer, account["id"], plan="prepaid", messages=10_000)[1]
    pay(client, operator, order["resources"][0]["order"]["id"])
    now = read(client, customer, account["id"])
    assert (now["plan_messages"], now["used"], now["remaining"]) == (10_000, 0, 10_000)


def test_plan_change_applies_when_paid_and_loses_unused_messages(
    client: TestClient, factory: Factory, db: Database
) -> None:
    operator = factory.operator()
    customer = billed_customer(factory)
    account = paid_account(client, customer)
    pay(client, operator, account["order"]["id"])
    _set(db, account["id"], used=2500, extra_messages=1000, extra_used=10)

    status, body = _change(
        client,
        customer,
        account["id"],
        plan="prepaid",
        messages=50_000,
        payment_method="paypal_auto",
    )
    assert status == 200
    order = body["resources"][0]["order"]
    assert (order["kind"], order["plan"], order["amount"]) == ("plan_change", "prepaid", "60.00")
    # Nothing changes until the order is paid.
    pending = read(client, customer, account["id"])
    assert (pending["plan"], pending["remaining"], pending["has_pending_order"]) == (
        "monthly",
        8490,
        True,
    )
    status, body = _change(client, customer, account["id"], plan="monthly", messages=50_000)
    assert status == 409 and f"Order {order['id']}" in body["detail"]

    pay(client, operator, order["id"])
    now = read(client, customer, account["id"])
    assert (now["plan"], now["plan_messages"], now["used"], now["extra_messages"]) == (
        "prepaid",
        50_000,
        0,
        0,
    )
    assert (now["remaining"], now["payment_method"], now["period_end"]) == (
        50_000,
        "paypal_auto",
        None,
    )
    assert now["expires_at"] is not None


def test_changing_tier_on_the_same_subscription(client: TestClient, factory: Factory) -> None:
    operator = factory.operator()
    customer = billed_customer(factory)
    account = paid_account(client, customer)
    pay(client, operator, account["order"]["id"])
    status, body = _change(client, customer, account["id"], plan="monthly", messages=10_000)
    assert status == 422
    assert body["errors"] == [{"field": "plan", "description": "is already the account's plan"}]
    status, body = _change(client, customer, account["id"], plan="monthly", messages=100_000)
    assert status == 200 and body["resources"][0]["order"]["kind"] == "plan_change"
    pay(client, operator, body["resources"][0]["order"]["id"])
    assert read(client, customer, account["id"])["plan_messages"] == 100_000


def test_moving_to_free_is_immediate_but_only_one_free_per_customer(
    client: TestClient, factory: Factory
) -> None:
    operator = factory.operator()
    customer = billed_customer(factory)
    account = paid_account(client, customer)
    pay(client, operator, account["order"]["id"])
    extra = client.post(
        f"/api/v1/accounts/{account['id']}/extra-messages",
        headers=customer.headers,
        json={"messages": 1000},
    ).json()["resources"][0]

    status, body = _change(client, customer, account["id"], plan="free")
    assert status == 200, body
    result = body["resources"][0]
    assert result["order"] is None
    assert (result["account"]["plan"], result["account"]["remaining"]) == ("free", 3000)
    assert result["account"]["payment_method"] is None
    # The pending purchase for the old plan is cancelled.
    response = client.get(f"/api/v1/orders/{extra['id']}", headers=customer.headers)
    assert response.json()["resources"][0]["status"] == "cancelled"

    other = paid_account(client, customer)
    pay(client, operator, other["order"]["id"])
    status, body = _change(client, customer, other["id"], plan="free")
    assert status == 422
    assert body["errors"][0]["field"] == "plan"


def test_a_cancelled_new_account_order_can_be_placed_again(
    client: TestClient, factory: Factory
) -> None:
    operator = factory.operator()
    customer = billed_customer(factory)
    account = paid_account(client, customer)
    response = client.post(
        f"/api/v1/orders/{account['order']['id']}/cancel", headers=customer.headers
    )
    assert response.status_code == 200
    assert read(client, customer, account["id"])["status"] == "awaiting_payment"
    status, body = _change(client, customer, account["id"], plan="prepaid", messages=10_000)
    assert status == 200
    order = body["resources"][0]["order"]
    assert order["kind"] == "new_account"
    pay(client, operator, order["id"])
    now = read(client, customer, account["id"])
    assert (now["status"], now["plan"], now["remaining"]) == ("enabled", "prepaid", 10_000)


def test_extra_messages_are_added_when_paid_and_last_a_year(
    client: TestClient, factory: Factory
) -> None:
    operator = factory.operator()
    customer = billed_customer(factory)
    free = create_account(client, customer)
    url = f"/api/v1/accounts/{free['id']}/extra-messages"
    response = client.post(url, headers=customer.headers, json={"messages": 1000})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "plan"

    account = paid_account(client, customer)
    url = f"/api/v1/accounts/{account['id']}/extra-messages"
    response = client.post(url, headers=customer.headers, json={"messages": 2000})
    assert response.status_code == 409  # still awaiting payment
    pay(client, operator, account["order"]["id"])
    response = client.post(url, headers=customer.headers, json={"messages": 1500})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "messages"
    response = client.post(url, headers=customer.headers, json={"messages": 2000})
    assert response.status_code == 201
    order = response.json()["resources"][0]
    assert (order["kind"], order["amount_cents"], order["amount"]) == (
        "extra_messages",
        240,
        "2.40",
    )
    pay(client, operator, order["id"])
    now = read(client, customer, account["id"])
    assert (now["extra_messages"], now["remaining"]) == (2000, 12_000)
    assert _close(_at(now["extra_expires_at"]), add_months(utcnow(), 12))


def test_buying_needs_a_billing_profile(client: TestClient, factory: Factory, db: Database) -> None:
    operator = factory.operator()
    customer = billed_customer(factory)
    account = paid_account(client, customer)
    pay(client, operator, account["order"]["id"])
    with db.session() as session:
        from outpost.tenancy.models import Organization

        session.get_one(Organization, customer.org_id).contract_accepted_at = None
    response = client.post(
        f"/api/v1/accounts/{account['id']}/extra-messages",
        headers=customer.headers,
        json={"messages": 1000},
    )
    assert response.status_code == 403
    status, _ = _change(client, customer, account["id"], plan="prepaid", messages=10_000)
    assert status == 403


def test_blocked_account_cannot_buy(client: TestClient, factory: Factory) -> None:
    operator = factory.operator()
    customer = billed_customer(factory)
    account = paid_account(client, customer)
    pay(client, operator, account["order"]["id"])
    client.put(
        f"/api/v1/accounts/{account['id']}/status",
        headers=operator.headers,
        json={"status": "blocked"},
    )
    status, _ = _change(client, customer, account["id"], plan="prepaid", messages=10_000)
    assert status == 409
    response = client.post(
        f"/api/v1/accounts/{account['id']}/extra-messages",
        headers=customer.headers,
        json={"messages": 1000},
    )
    assert response.status_code == 409


def test_paying_while_blocked_keeps_the_block(client: TestClient, factory: Factory) -> None:
    operator = factory.operator()
    customer = billed_customer(factory)
    account = paid_account(client, customer)
    url = f"/api/v1/accounts/{account['id']}/status"
    assert client.put(url, headers=operator.headers, json={"status": "blocked"}).status_code == 200
    pay(client, operator, account["order"]["id"])
    assert read(client, customer, account["id"])["status"] == "blocked"
    response = client.put(url, headers=operator.headers, json={"status": "unblocked"})
    assert response.json()["resources"][0]["status"] == "enabled"
    assert read(client, customer, account["id"])["remaining"] == 10_000
