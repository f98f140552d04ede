"""Send API tokens: shown once, masked after, stored as a hash, bound to IPs on request."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from outpost.db import Database
from outpost.tenancy.models import Role
from outpost.tokens.models import SendToken
from tests.factories import Factory, Tenant, make_account


def _account(factory: Factory, db: Database) -> tuple[Tenant, str]:
    customer = factory.customer()
    with db.session() as session:
        account = make_account(session, org_id=customer.org_id)
        return customer, f"/api/v1/accounts/{account.id}/tokens"


def _create(client: TestClient, headers: dict[str, str], url: str, **body: Any) -> dict[str, Any]:
    response = client.post(url, headers=headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["resources"][0]
    return created


def test_the_token_is_shown_once_then_masked(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer, url = _account(factory, db)
    created = _create(client, customer.headers, url, name="Booking site")
    token = created["token"]
    assert token.startswith("ops_") and len(token) > 40
    assert created["name"] == "Booking site"
    assert created["preview"] == token[:8] + "…"
    assert created["last_used_at"] is None and created["ip_allowlist"] == []

    listed = client.get(url, headers=customer.headers).json()
    assert listed["pagination"]["total_records"] == 1
    shown = listed["resources"][0]
    assert "token" not in shown
    assert shown["preview"] == created["preview"]
    assert set(shown) == {
        "id",
        "account_id",
        "name",
        "preview",
        "created_at",
        "last_used_at",
        "ip_allowlist",
    }
    one = client.get(f"{url}/{created['id']}", headers=customer.headers).json()["resources"][0]
    assert "token" not in one
    assert token not in client.get(url, headers=customer.headers).text

    with db.session() as session:
        row = session.get_one(SendToken, created["id"])
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        stored = [str(getattr(row, c.key)) for c in SendToken.__table__.columns]
        assert not any(token in value or token[8:] in value for value in stored)


def test_ip_allowlist_is_validated_and_normalized(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer, url = _account(factory, db)
    response = client.post(
        url,
        headers=customer.headers,
        json={"name": "x", "ip_allowlist": ["192.0.2.1", "10.0.0.1/8", "nonsense"]},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "ip_allowlist.1", "description": "'10.0.0.1/8' has host bits set"},
        {"field": "ip_allowlist.2", "description": "'nonsense' is not an IP address or CIDR range"},
    ]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(SendToken)) == 0

    created = _create(
        client,
        customer.headers,
        url,
        name="x",
        ip_allowlist=["192.0.2.1/32", "2001:DB8::/32", "192.0.2.1"],
    )
    assert created["ip_allowlist"] == ["192.0.2.1", "2001:db8::/32"]


def test_update_renames_and_changes_the_allowlist(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer, url = _account(factory, db)
    created = _create(client, customer.headers, url, name="old", ip_allowlist=["192.0.2.1"])
    token_url = f"{url}/{created['id']}"

    response = client.put(token_url, headers=customer.headers, json={"name": "new"})
    assert response.status_code == 200
    updated = response.json()["resources"][0]
    assert updated == {k: v for k, v in created.items() if k != "token"} | {"name": "new"}

    bad = client.put(token_url, headers=customer.headers, json={"ip_allowlist": ["::1", "x"]})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "ip_allowlist.1"

    cleared = client.put(token_url, headers=customer.headers, json={"ip_allowlist": []})
    assert cleared.json()["resources"][0]["ip_allowlist"] == []
    assert cleared.json()["resources"][0]["name"] == "new"


def test_delete_revokes(client: TestClient, factory: Factory, db: Database) -> None:
    customer, url = _account(factory, db)
    created = _create(client, customer.headers, url, name="x")
    assert client.delete(f"{url}/{created['id']}", headers=customer.headers).status_code == 204
    assert client.get(f"{url}/{created['id']}", headers=customer.headers).status_code == 404
    assert client.delete(f"{url}/{created['id']}", headers=customer.headers).status_code == 404
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(SendToken)) == 0


def test_read_only_callers_list_but_do_not_change(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer, url = _account(factory, db)
    created = _create(client, customer.headers, url, name="x")
    reader = factory.key(customer.org_id, Role.read_only)
    assert client.get(url, headers=reader).status_code == 200
    assert client.post(url, headers=reader, json={"name": "y"}).status_code == 403
    assert client.put(f"{url}/{created['id']}", headers=reader, json={"name": "y"}).status_code == (
        403
    )
    assert client.delete(f"{url}/{created['id']}", headers=reader).status_code == 403


def test_name_is_required(client: TestClient, factory: Factory, db: Database) -> None:
    customer, url = _account(factory, db)
    response = client.post(url, headers=customer.headers, json={"name": ""})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"
