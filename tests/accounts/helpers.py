"""Helpers for the accounts tests: billed customers, accounts made through the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from outpost.db import Database, utcnow
from outpost.domains.models import AccountDomain, Domain
from outpost.tenancy.models import Organization, Role
from tests.factories import Factory, Tenant

BILLING = {"firstname": "Ada", "lastname": "Lovelace", "country": "IT", "city": "Rome"}


def give_billing(db: Database, org_id: int) -> None:
    """Complete an organization's billing profile and accept the contract."""
    with db.session() as session:
        org = session.get_one(Organization, org_id)
        org.billing = BILLING
        org.contract_accepted_at = utcnow()


def billed_customer(
    factory: Factory, parent: Tenant | None = None, role: Role = Role.owner
) -> Tenant:
    """A customer with a billing profile and the accepted contract."""
    customer = factory.customer(parent, role=role)
    give_billing(factory.db, customer.org_id)
    return customer


def create_account(client: TestClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    """POST /accounts and return the created resource (asserting 201)."""
    payload = {"description": "Hotel newsletter", "type": "transactional", "plan": "free"}
    payload.update(body)
    response = client.post("/api/v1/accounts", headers=tenant.headers, json=payload)
    assert response.status_code == 201, response.text
    resource: dict[str, Any] = response.json()["resources"][0]
    return resource


def paid_account(
    client: TestClient, tenant: Tenant, plan: str = "monthly", messages: int = 10_000, **body: Any
) -> dict[str, Any]:
    """A paid account awaiting payment (the tenant must have a billing profile)."""
    return create_account(
        client, tenant, plan=plan, messages=messages, payment_method="card_auto", **body
    )


def pay(client: TestClient, operator: Tenant, order_id: int) -> dict[str, Any]:
    """Mark an order paid as the operator."""
    response = client.post(f"/api/v1/orders/{order_id}/pay", headers=operator.headers)
    assert response.status_code == 200, response.text
    resource: dict[str, Any] = response.json()["resources"][0]
    return resource


def read(client: TestClient, tenant: Tenant, account_id: int) -> dict[str, Any]:
    """GET one account (asserting 200)."""
    response = client.get(f"/api/v1/accounts/{account_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    resource: dict[str, Any] = response.json()["resources"][0]
    assert_invariant(resource)
    return resource


def assert_invariant(account: dict[str, Any]) -> None:
    """remaining == plan_messages - used + extra_messages - extra_used."""
    assert account["remaining"] == (
        account["plan_messages"]
        - account["used"]
        + account["extra_messages"]
        - account["extra_used"]
    ), account


def add_domain(session: Session, org_id: int, name: str, *account_ids: int) -> Domain:
    """A domain of ``org_id`` associated with the given accounts."""
    domain = Domain(
        org_id=org_id,
        name=name,
        verification_token="token",
        dkim_selector="s1",
        dkim_private_key="encrypted",
        dkim_public_key="public",
        return_path_host=f"bounces.{name}",
    )
    session.add(domain)
    session.flush()
    session.add_all(AccountDomain(account_id=a, domain_id=domain.id) for a in account_ids)
    session.flush()
    return domain
