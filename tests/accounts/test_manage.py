"""Changing an account's settings and status, and terminating it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.billing.models import Order, OrderStatus
from outpost.db import Database
from outpost.domains.models import AccountDomain, Domain
from outpost.security import new_token
from outpost.suppression.models import Suppression, SuppressionReason
from outpost.suppression.service import add_suppression
from outpost.tenancy.models import Role
from outpost.tokens.models import SendToken
from tests.accounts.helpers import add_domain, billed_customer, create_account, paid_account, read
from tests.factories import Factory, Tenant


def _put(client: TestClient, tenant: Tenant, account_id: int, body: dict[str, object]) -> dict:  # type: ignore[type-arg]
    response = client.put(f"/api/v1/accounts/{account_id}", headers=tenant.headers, json=body)
    return {"status": response.status_code, **response.json()}


def test_protection_settings_are_updated_and_validated(
    client: TestClient, factory: Factory
) -> None:
    customer = factory.customer()
    account = create_account(client, customer)
    url = f"/api/v1/accounts/{account['id']}"
    response = client.put(
        url,
        headers=customer.headers,
        json={
            "description": "Bookings",
            "bounce_alert_email": "alerts@Hotel.example",
            "suppression_enabled": False,
            "ip_allowlist": ["192.0.2.10", "2001:db8::/32", "192.0.2.10/32"],
        },
    )
    assert response.status_code == 200, response.text
    updated = response.json()["resources"][0]
    assert updated["description"] == "Bookings"
    assert updated["bounce_alert_email"] == "alerts@hotel.example"
    assert updated["suppression_enabled"] is False
    assert updated["ip_allowlist"] == ["192.0.2.10", "2001:db8::/32"]

    # Absent fields stay; null clears the bounce alert; an empty list allows any IP.
    response = client.put(
        url, headers=customer.headers, json={"bounce_alert_email": None, "ip_allowlist": []}
    )
    updated = response.json()["resources"][0]
    assert (updated["description"], updated["bounce_alert_email"], updated["ip_allowlist"]) == (
        "Bookings",
        None,
        [],
    )

    for body, field in [
        ({"ip_allowlist": ["mail.example.com"]}, "ip_allowlist.0"),
        ({"description": None}, "description"),
        ({"bounce_alert_email": "not-an-address"}, "bounce_alert_email"),
        ({"suppression_enabled": None}, "suppression_enabled"),
        ({"username": "mine"}, "username"),
    ]:
        response = client.put(url, headers=customer.headers, json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field
    reader = factory.key(customer.org_id, Role.read_only)
    assert client.put(url, headers=reader, json={"description": "X"}).status_code == 403
    assert read(client, customer, account["id"])["description"] == "Bookings"


def _status(client: TestClient, tenant: Tenant, account_id: int, status: str) -> tuple[int, str]:
    response = client.put(
        f"/api/v1/accounts/{account_id}/status", headers=tenant.headers, json={"status": status}
    )
    body = response.json()
    return response.status_code, body["resources"][0][
        "status"
    ] if response.is_success else body.get("detail", "")


def test_customer_enables_and_disables_its_account(client: TestClient, factory: Factory) -> None:
    customer = factory.customer()
    account_id = create_account(client, customer)["id"]
    assert _status(client, customer, account_id, "disabled") == (200, "disabled")
    assert _status(client, customer, account_id, "enabled") == (200, "enabled")
    status, _ = _status(client, customer, account_id, "blocked")
    assert status == 403
    response = client.put(
        f"/api/v1/accounts/{account_id}/status", headers=customer.headers, json={"status": "paused"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"


def test_awaiting_payment_cannot_be_enabled_by_hand(client: TestClient, factory: Factory) -> None:
    customer = billed_customer(factory)
    account_id = paid_account(client, customer)["id"]
    status, detail = _status(client, customer, account_id, "enabled")
    assert status == 409 and "awaiting payment" in detail


def test_only_the_reseller_above_or_the_operator_blocks_and_unblocks(
    client: TestClient, factory: Factory
) -> None:
    operator = factory.operator()
    reseller = factory.reseller()
    customer = factory.customer(reseller)
    account_id = create_account(client, customer)["id"]
    assert _status(client, customer, account_id, "disabled")[0] == 200

    assert _status(client, reseller, account_id, "blocked") == (200, "blocked")
    status, detail = _status(client, customer, account_id, "enabled")
    assert status == 409 and "blocked" in detail
    assert _status(client, customer, account_id, "unblocked")[0] == 403
    # Unblocking returns to the status before the block.
    assert _status(client, reseller, account_id, "unblocked") == (200, "disabled")
    assert _status(client, reseller, account_id, "unblocked")[0] == 409

    assert _status(client, operator, account_id, "blocked") == (200, "blocked")
    assert _status(client, operator, account_id, "unblocked") == (200, "disabled")
    reader = Tenant(
        reseller.org_id, reseller.kind, reseller.name, factory.key(reseller.org_id, Role.read_only)
    )
    assert _status(client, reader, account_id, "blocked")[0] == 403


def test_terminating_deletes_the_account_and_its_list_but_keeps_domains(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = billed_customer(factory)
    account = create_account(client, customer)
    waiting = paid_account(client, customer)
    with db.session() as session:
        domain_id = add_domain(
            session, customer.org_id, "hotel.example", account["id"], waiting["id"]
        ).id
        add_suppression(
            session=session,
            account_id=account["id"],
            address="gone@example.com",
            reason=SuppressionReason.hard_bounce,
        )
        token = new_token("ost_")
        session.add(
            SendToken(
                account_id=account["id"], name="shop", token_hash=token.hash, preview=token.preview
            )
        )

    member = factory.key(customer.org_id, Role.member)
    assert client.delete(f"/api/v1/accounts/{account['id']}", headers=member).status_code == 403
    for account_id in (account["id"], waiting["id"]):
        response = client.delete(f"/api/v1/accounts/{account_id}", headers=customer.headers)
        assert response.status_code == 204
        assert response.content == b""
        assert (
            client.get(f"/api/v1/accounts/{account_id}", headers=customer.headers).status_code
            == 404
        )
    assert (
        client.delete(f"/api/v1/accounts/{account['id']}", headers=customer.headers).status_code
        == 404
    )

    with db.session() as session:
        assert session.get(Domain, domain_id) is not None
        assert session.scalars(select(AccountDomain)).all() == []
        assert session.scalars(select(Suppression)).all() == []
        assert session.scalars(select(SendToken)).all() == []
        order = session.scalars(select(Order).where(Order.org_id == customer.org_id)).one()
        assert (order.status, order.account_id) == (OrderStatus.cancelled, None)
    # The free slot is free again.
    create_account(client, customer)


def test_resource_shows_connection_details(
    client: TestClient, factory: Factory, session: Session
) -> None:
    customer = factory.customer()
    account = read(client, customer, create_account(client, customer)["id"])
    assert account["config_hostname"] == account["smtp_host"] == "outpost.test"
    assert (account["smtp_port"], account["smtp_tls_port"]) == (2587, 2465)
    for field in (
        "period_start",
        "period_end",
        "expires_at",
        "extra_expires_at",
        "has_pending_order",
    ):
        assert field in account
