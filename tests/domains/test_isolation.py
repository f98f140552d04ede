"""Tenant isolation of every domain, association and Send API token endpoint.

Each caller tries the ids of tenants it cannot see: every answer is 404 and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from outpost.db import Database
from outpost.domains.models import AccountDomain, Domain
from outpost.tenancy.models import OrgKind, Role
from outpost.tenancy.scope import Caller
from outpost.tokens.models import SendToken
from outpost.tokens.schemas import TokenCreate
from outpost.tokens.service import create_token
from tests.factories import Factory, Tenant, make_account, make_domain


@dataclass(frozen=True)
class Holding:
    """What one tenant holds: a caller, and an account, token and domain in its subtree."""

    tenant: Tenant
    customer_org_id: int | None
    account_id: int
    token_id: int
    domain_id: int | None


def _hold(factory: Factory, db: Database, tenant: Tenant, owner_org: int, name: str) -> Holding:
    owner = Caller(org_id=owner_org, org_kind=OrgKind.customer, role=Role.owner)
    with db.session() as session:
        account = make_account(session, org_id=owner_org)
        token = create_token(
            session=session, caller=owner, account_id=account.id, data=TokenCreate(name=name)
        ).token
        domain_id = None
        if tenant.kind is not OrgKind.operator:
            domain_id = make_domain(
                session, org_id=owner_org, name=f"{name}.test", account_id=account.id
            ).id
        customer = None if tenant.kind is OrgKind.operator else owner_org
        return Holding(tenant, customer, account.id, token.id, domain_id)


@pytest.fixture
def world(factory: Factory, db: Database) -> dict[str, Holding]:
    operator = factory.operator()
    reseller_a, reseller_b = factory.reseller("A"), factory.reseller("B")
    customer_a, customer_b = factory.customer(reseller_a), factory.customer(reseller_b)
    # What a reseller holds sits in another of its customers: a sibling of customer_a.
    sibling_a, sibling_b = factory.customer(reseller_a), factory.customer(reseller_b)
    direct = factory.customer()
    return {
        "operator": _hold(factory, db, operator, operator.org_id, "op"),
        "reseller_a": _hold(factory, db, reseller_a, sibling_a.org_id, "ra"),
        "reseller_b": _hold(factory, db, reseller_b, sibling_b.org_id, "rb"),
        "customer_a": _hold(factory, db, customer_a, customer_a.org_id, "ca"),
        "customer_b": _hold(factory, db, customer_b, customer_b.org_id, "cb"),
        "direct": _hold(factory, db, direct, direct.org_id, "dc"),
    }


# (caller, tenant whose ids it tries): none of these may see the other's rows.
INVISIBLE = [
    ("customer_a", "customer_b"),
    ("customer_a", "reseller_a"),
    ("customer_a", "direct"),
    ("customer_a", "operator"),
    ("direct", "customer_a"),
    ("reseller_a", "reseller_b"),
    ("reseller_a", "customer_b"),
    ("reseller_a", "direct"),
    ("reseller_a", "operator"),
]


def _snapshot(db: Database) -> list[Any]:
    with db.session() as session:
        domains = session.execute(
            select(
                Domain.id, Domain.org_id, Domain.name, Domain.status, Domain.last_checked_at
            ).order_by(Domain.id)
        ).all()
        links = session.execute(select(AccountDomain.account_id, AccountDomain.domain_id)).all()
        tokens = session.execute(
            select(SendToken.id, SendToken.account_id, SendToken.name, SendToken.ip_allowlist)
        ).all()
    return [sorted(tuple(row) for row in rows) for rows in (domains, links, tokens)]


def _requests(mine: Holding, theirs: Holding) -> list[tuple[str, str, dict[str, Any] | None]]:
    account, token = theirs.account_id, theirs.token_id
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/api/v1/accounts/{account}/domains", None),
        ("GET", f"/api/v1/accounts/{account}/tokens", None),
        ("POST", f"/api/v1/accounts/{account}/tokens", {"name": "intruder"}),
        ("GET", f"/api/v1/accounts/{account}/tokens/{token}", None),
        ("PUT", f"/api/v1/accounts/{account}/tokens/{token}", {"name": "pwned"}),
        ("DELETE", f"/api/v1/accounts/{account}/tokens/{token}", None),
        # Their token through my account's URL.
        ("GET", f"/api/v1/accounts/{mine.account_id}/tokens/{token}", None),
        ("PUT", f"/api/v1/accounts/{mine.account_id}/tokens/{token}", {"ip_allowlist": []}),
        ("DELETE", f"/api/v1/accounts/{mine.account_id}/tokens/{token}", None),
    ]
    if mine.domain_id is not None:
        calls.append(("POST", f"/api/v1/accounts/{account}/domains", {"domain_id": mine.domain_id}))
    if theirs.domain_id is not None:
        domain = theirs.domain_id
        calls += [
            ("GET", f"/api/v1/domains/{domain}", None),
            ("POST", f"/api/v1/domains/{domain}/verify", None),
            ("DELETE", f"/api/v1/domains/{domain}", None),
            ("DELETE", f"/api/v1/accounts/{account}/domains/{domain}", None),
            ("POST", f"/api/v1/accounts/{mine.account_id}/domains", {"domain_id": domain}),
        ]
    if theirs.customer_org_id is not None:
        body = {"name": "grab.test", "org_id": theirs.customer_org_id}
        calls.append(("POST", "/api/v1/domains", body))
    return calls


@pytest.mark.parametrize(("caller", "target"), INVISIBLE)
def test_foreign_ids_are_not_found_and_nothing_changes(
    client: TestClient, db: Database, world: dict[str, Holding], caller: str, target: str
) -> None:
    mine, theirs = world[caller], world[target]
    before = _snapshot(db)
    for method, url, body in _requests(mine, theirs):
        response = client.request(method, url, headers=mine.tenant.headers, json=body)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["message"] == "Not found"
    listed = client.get("/api/v1/domains?per=100", headers=mine.tenant.headers).json()
    assert theirs.domain_id not in {d["id"] for d in listed["resources"]}
    assert _snapshot(db) == before


def test_each_caller_reaches_its_own_subtree(client: TestClient, world: dict[str, Holding]) -> None:
    reachable = {
        "operator": list(world),
        "reseller_a": ["reseller_a", "customer_a"],
        "customer_a": ["customer_a"],
    }
    for caller, targets in reachable.items():
        headers = world[caller].tenant.headers
        for target in targets:
            theirs = world[target]
            url = f"/api/v1/accounts/{theirs.account_id}/tokens/{theirs.token_id}"
            assert client.get(url, headers=headers).status_code == 200, (caller, target)
            if theirs.domain_id is not None:
                url = f"/api/v1/domains/{theirs.domain_id}"
                assert client.get(url, headers=headers).status_code == 200, (caller, target)


def test_the_operator_cannot_mix_ids_of_different_tenants(
    client: TestClient, db: Database, world: dict[str, Holding]
) -> None:
    headers = world["operator"].tenant.headers
    a, b = world["customer_a"], world["customer_b"]
    before = _snapshot(db)
    assert (
        client.get(f"/api/v1/accounts/{a.account_id}/tokens/{b.token_id}", headers=headers)
    ).status_code == 404
    assert (
        client.delete(f"/api/v1/accounts/{a.account_id}/tokens/{b.token_id}", headers=headers)
    ).status_code == 404
    assert (
        client.delete(f"/api/v1/accounts/{a.account_id}/domains/{b.domain_id}", headers=headers)
    ).status_code == 404
    response = client.post(
        f"/api/v1/accounts/{a.account_id}/domains", headers=headers, json={"domain_id": b.domain_id}
    )
    assert response.status_code == 422
    assert _snapshot(db) == before
