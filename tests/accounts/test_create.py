"""Creating delivery accounts: free and paid plans, who may create for whom, credentials."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import chain

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outpost.accounts.models import DeliveryAccount
from outpost.accounts.quota import add_months
from outpost.accounts.service import unused_username
from outpost.billing.models import Order
from outpost.db import Database, utcnow
from outpost.security import verify_password
from outpost.tenancy.models import Organization, Role
from tests.accounts.helpers import BILLING, billed_customer, create_account, paid_account, read
from tests.factories import Factory, make_account


def _stored(db: Database, account_id: int) -> DeliveryAccount:
    with db.session() as session:
        return session.get_one(DeliveryAccount, account_id)


def _counts(db: Database) -> tuple[int, int]:
    with db.session() as session:
        return (
            session.scalar(select(func.count(DeliveryAccount.id))) or 0,
            session.scalar(select(func.count(Order.id))) or 0,
        )


def test_free_account_is_enabled_at_once_with_its_quota_and_a_one_time_password(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = factory.customer()
    account = create_account(
        client, customer, type="newsletter", bounce_alert_email="Ops@Hotel.EXAMPLE"
    )
    assert account["status"] == "enabled"
    assert account["type"] == "promotional"
    assert (account["plan"], account["plan_kind"]) == ("free", "free")
    assert (account["plan_messages"], account["used"], account["remaining"]) == (3000, 0, 3000)
    assert account["org_id"] == customer.org_id
    assert account["order"] is None and account["has_pending_order"] is False
    assert account["bounce_alert_email"] == "Ops@hotel.example"
    assert account["config_hostname"] == "outpost.test"
    assert (account["domains_used"], account["domains_max"]) == (0, 1)
    assert len(account["username"]) == 12 and account["username"].isalnum()
    assert len(account["password"]) == 24
    assert verify_password(_stored(db, account["id"]).smtp_password_hash, account["password"])
    assert account["period_end"] > account["period_start"]

    again = read(client, customer, account["id"])
    assert "password" not in again
    assert again["username"] == account["username"]


def test_a_customer_has_only_one_free_account(client: TestClient, factory: Factory) -> None:
    customer = factory.customer()
    create_account(client, customer)
    response = client.post(
        "/api/v1/accounts",
        headers=customer.headers,
        json={"description": "Second", "type": "transactional", "plan": "free"},
    )
    assert response.status_code == 422
    assert response.json() == {
        "message": "Validation failed",
        "errors": [
            {"field": "plan", "description": "a customer can have only one account on a free plan"}
        ],
    }


def test_paid_plan_without_billing_profile_is_forbidden_and_creates_nothing(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = factory.customer()
    before = _counts(db)
    response = client.post(
        "/api/v1/accounts",
        headers=customer.headers,
        json={
            "description": "Bookings",
            "type": "transactional",
            "plan": "monthly",
            "messages": 10_000,
            "payment_method": "card_auto",
        },
    )
    assert response.status_code == 403
    assert response.json()["message"] == "Forbidden"
    assert "billing profile" in response.json()["detail"]
    assert _counts(db) == before


def test_paid_account_waits_for_payment_with_a_priced_order(
    client: TestClient, factory: Factory
) -> None:
    customer = billed_customer(factory)
    account = paid_account(client, customer, messages=50_000)
    assert account["status"] == "awaiting_payment"
    assert (account["plan_messages"], account["remaining"]) == (0, 0)
    assert account["payment_method"] == "card_auto"
    assert account["has_pending_order"] is True
    order = account["order"]
    assert order["kind"] == "new_account" and order["status"] == "pending"
    assert (order["amount_cents"], order["amount"], order["currency"]) == (3500, "35.00", "EUR")
    assert (order["plan"], order["messages"], order["account_id"]) == (
        "monthly",
        50_000,
        account["id"],
    )


def test_billing_profile_and_contract_can_be_given_in_the_same_call(
    client: TestClient, factory: Factory, session: Session
) -> None:
    customer = factory.customer()
    account = paid_account(client, customer, billing=BILLING, accept_contract=True)
    assert account["status"] == "awaiting_payment"
    org = session.get_one(Organization, customer.org_id)
    assert org.billing["lastname"] == "Lovelace"
    assert org.contract_accepted_at is not None


def test_paid_plan_input_rules(client: TestClient, factory: Factory) -> None:
    customer = billed_customer(factory)
    base = {"description": "B", "type": "transactional", "plan": "monthly"}
    cases = [
        (
            {"payment_method": "card_auto"},
            "messages",
            "is required: choose one of the plan's tiers",
        ),
        ({"messages": 10_000}, "payment_method", "is required for paid plans"),
        (
            {"messages": 12_345, "payment_method": "card_auto"},
            "messages",
            "must be one of the plan's tiers: 10000, 50000, 100000, 250000, 500000, 1000000",
        ),
        ({"plan": "gold", "messages": 1}, "plan", "is not an offered plan"),
        ({"plan": "free", "messages": 10_000}, "messages", "must be one of the plan's tiers: 3000"),
    ]
    for extra, field, description in cases:
        response = client.post("/api/v1/accounts", headers=customer.headers, json={**base, **extra})
        assert response.status_code == 422, (extra, response.text)
        assert response.json()["errors"] == [{"field": field, "description": description}]


def test_bad_input_is_a_qboxmail_validation_error(client: TestClient, factory: Factory) -> None:
    customer = factory.customer()
    response = client.post(
        "/api/v1/accounts",
        headers=customer.headers,
        json={"description": "", "type": "marketing", "plan": "free", "surprise": True},
    )
    assert response.status_code == 422
    assert response.json()["message"] == "Validation failed"
    assert {e["field"] for e in response.json()["errors"]} == {"description", "type", "surprise"}
    response = client.post(
        "/api/v1/accounts",
        headers=customer.headers,
        json={
            "description": "X",
            "type": "transactional",
            "plan": "free",
            "ip_allowlist": ["10.0.0.1/8"],
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "ip_allowlist.0", "description": "'10.0.0.1/8' has host bits set"}
    ]


def test_plan_restrictions_set_by_the_reseller_are_respected(
    client: TestClient, factory: Factory
) -> None:
    reseller = factory.reseller()
    customer = billed_customer(factory, reseller)
    response = client.put(
        f"/api/v1/organizations/{customer.org_id}",
        headers=reseller.headers,
        json={"restrictions": {"max_accounts_per_plan": {"monthly": 1}}},
    )
    assert response.status_code == 200
    paid_account(client, customer)
    response = client.post(
        "/api/v1/accounts",
        headers=customer.headers,
        json={
            "description": "Second",
            "type": "transactional",
            "plan": "monthly",
            "messages": 10_000,
            "payment_method": "paypal_manual",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "plan",
            "description": "your provider allows at most 1 account(s) "
            "on the Monthly subscription plan",
        }
    ]
    paid_account(client, customer, plan="prepaid")


def test_who_may_create_for_which_customer(client: TestClient, factory: Factory) -> None:
    operator = factory.operator()
    reseller_a, reseller_b = factory.reseller(), factory.reseller()
    a1, b1 = factory.customer(reseller_a), factory.customer(reseller_b)
    body = {"description": "D", "type": "transactional", "plan": "free"}

    def post(headers: dict[str, str], org_id: int | None) -> tuple[int, list[dict[str, str]]]:
        response = client.post("/api/v1/accounts", headers=headers, json={**body, "org_id": org_id})
        return response.status_code, response.json().get("errors", [])

    not_managed = [{"field": "org_id", "description": "is not a customer you manage"}]
    status, errors = post(operator.headers, None)
    assert status == 422 and errors[0]["field"] == "org_id"
    assert post(reseller_a.headers, None)[0] == 422
    assert post(reseller_a.headers, b1.org_id) == (422, not_managed)
    assert post(reseller_a.headers, reseller_a.org_id) == (422, not_managed)
    assert post(a1.headers, b1.org_id) == (422, not_managed)
    assert post(operator.headers, reseller_b.org_id) == (422, not_managed)
    assert post(reseller_a.headers, a1.org_id)[0] == 201
    assert post(operator.headers, b1.org_id)[0] == 201


def test_roles_and_keys(client: TestClient, factory: Factory) -> None:
    body = {"description": "D", "type": "transactional", "plan": "free"}
    assert client.post("/api/v1/accounts", json=body).status_code == 401
    assert (
        client.post("/api/v1/accounts", headers={"X-Api-Token": "opk_wrong"}, json=body).status_code
        == 401
    )
    reader = factory.customer(role=Role.read_only)
    response = client.post("/api/v1/accounts", headers=reader.headers, json=body)
    assert response.status_code == 403
    member = factory.customer(role=Role.member)
    assert client.post("/api/v1/accounts", headers=member.headers, json=body).status_code == 201


def test_new_password_is_shown_once_and_replaces_the_old_one(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = factory.customer()
    account = create_account(client, customer)
    response = client.post(f"/api/v1/accounts/{account['id']}/password", headers=customer.headers)
    assert response.status_code == 200
    issued = response.json()["resources"][0]
    assert issued["username"] == account["username"]
    assert issued["password"] != account["password"]
    stored = _stored(db, account["id"]).smtp_password_hash
    assert verify_password(stored, issued["password"])
    assert not verify_password(stored, account["password"])


def test_generated_usernames_skip_taken_ones(session: Session) -> None:
    taken = make_account(session).username
    candidates = chain([taken, taken], ["fresh0000001"])
    assert unused_username(session, lambda: next(candidates)) == "fresh0000001"


def test_free_period_is_one_calendar_month(client: TestClient, factory: Factory) -> None:
    account = create_account(client, factory.customer())
    start = datetime.fromisoformat(account["period_start"])
    end = datetime.fromisoformat(account["period_end"])
    assert end == add_months(start, 1)
    assert abs(start - utcnow()) < timedelta(minutes=1)
