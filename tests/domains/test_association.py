"""Associating verified domains with delivery accounts, within the plan's limit."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from outpost.db import Database
from outpost.domains.association import (
    associable_domains,
    domain_counts,
    get_associated_domain,
)
from outpost.domains.models import AccountDomain, DomainStatus
from outpost.domains.service import sending_domain_for
from outpost.errors import NotFound
from outpost.plans.models import Plan
from outpost.tenancy.models import Role
from outpost.tenancy.scope import Caller
from tests.factories import Factory, Tenant, make_account, make_domain


def _setup(factory: Factory, db: Database, *names: str) -> tuple[Tenant, int, list[int]]:
    customer = factory.customer()
    with db.session() as session:
        account = make_account(session, org_id=customer.org_id)
        ids = [make_domain(session, org_id=customer.org_id, name=n).id for n in names]
        return customer, account.id, ids


def _associate(
    client: TestClient, headers: dict[str, str], account_id: int, **body: Any
) -> dict[str, Any]:
    response = client.post(f"/api/v1/accounts/{account_id}/domains", headers=headers, json=body)
    result: dict[str, Any] = response.json()
    result["status_code"] = response.status_code
    return result


def _set_plan_limit(db: Database, limit: int) -> None:
    with db.session() as session:
        session.execute(update(Plan).where(Plan.code == "monthly").values(max_domains=limit))


def test_associate_by_id_or_name_and_list(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer, account_id, (first, _) = _setup(factory, db, "a.test", "b.test")
    assert _associate(client, customer.headers, account_id, domain_id=first)["status_code"] == 201
    by_name = _associate(client, customer.headers, account_id, name="B.TEST")
    assert by_name["status_code"] == 201
    assert by_name["resources"][0]["name"] == "b.test"

    listed = client.get(f"/api/v1/accounts/{account_id}/domains", headers=customer.headers)
    assert listed.status_code == 200
    body = listed.json()
    assert [d["name"] for d in body["resources"]] == ["a.test", "b.test"]
    assert body["pagination"]["total_records"] == 2
    assert body["association"] == {
        "domains_used": 2,
        "domains_max": 250,
        "can_associate": True,
        "reason": None,
    }
    with db.session() as session:
        assert domain_counts(session=session, account_ids=[account_id, 999_999]) == {account_id: 2}


def test_body_needs_exactly_one_of_id_and_name(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer, account_id, (domain_id,) = _setup(factory, db, "a.test")
    for body in ({}, {"domain_id": domain_id, "name": "a.test"}):
        assert _associate(client, customer.headers, account_id, **body)["status_code"] == 422


def test_the_plan_limit_disables_association_with_a_reason(
    client: TestClient, factory: Factory, db: Database
) -> None:
    _set_plan_limit(db, 2)
    customer, account_id, ids = _setup(factory, db, "a.test", "b.test", "c.test")
    for domain_id in ids[:2]:
        assert (
            _associate(client, customer.headers, account_id, domain_id=domain_id)["status_code"]
            == 201
        )
    refused = _associate(client, customer.headers, account_id, domain_id=ids[2])
    assert refused["status_code"] == 422
    reason = (
        "The account's plan allows at most 2 domains. "
        "Remove an association, or use another account for other domains."
    )
    assert refused["errors"] == [{"field": "domain_id", "description": reason}]
    url = f"/api/v1/accounts/{account_id}/domains"
    assert client.get(url, headers=customer.headers).json()["association"] == {
        "domains_used": 2,
        "domains_max": 2,
        "can_associate": False,
        "reason": reason,
    }
    assert client.delete(f"{url}/{ids[0]}", headers=customer.headers).status_code == 204
    assert client.delete(f"{url}/{ids[0]}", headers=customer.headers).status_code == 404
    assert _associate(client, customer.headers, account_id, domain_id=ids[2])["status_code"] == 201


def test_never_more_than_250_whatever_the_plan_says(
    client: TestClient, factory: Factory, db: Database
) -> None:
    _set_plan_limit(db, 1000)
    customer, account_id, _ = _setup(factory, db)
    body = client.get(f"/api/v1/accounts/{account_id}/domains", headers=customer.headers).json()
    assert body["association"]["domains_max"] == 250


def test_refusals_name_the_reason(client: TestClient, factory: Factory, db: Database) -> None:
    operator = factory.operator()
    customer, account_id, (verified,) = _setup(factory, db, "a.test")
    other = factory.customer()
    with db.session() as session:
        pending = make_domain(
            session, org_id=customer.org_id, name="p.test", status=DomainStatus.pending
        ).id
        failing = make_domain(
            session, org_id=customer.org_id, name="f.test", status=DomainStatus.failing
        ).id
        foreign = make_domain(session, org_id=other.org_id, name="o.test").id

    def error(headers: dict[str, str], **body: Any) -> dict[str, str]:
        result = _associate(client, headers, account_id, **body)
        assert result["status_code"] == 422, result
        first: dict[str, str] = result["errors"][0]
        return first

    assert error(customer.headers, domain_id=pending)["description"] == (
        "is not verified (pending); publish its DNS records and verify it"
    )
    assert error(customer.headers, domain_id=failing)["description"].startswith(
        "is not verified (failing)"
    )
    # The operator sees both customers, so the foreign domain is found and refused.
    assert error(operator.headers, domain_id=foreign) == {
        "field": "domain_id",
        "description": "belongs to another customer than the account",
    }
    assert error(customer.headers, name="o.test") == {
        "field": "name",
        "description": "is not a domain of this account's customer",
    }
    _associate(client, customer.headers, account_id, domain_id=verified)
    assert error(customer.headers, domain_id=verified)["description"] == (
        "is already associated with this account"
    )
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(AccountDomain)) == 1


def test_sending_domain_for_the_send_path(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = factory.customer()
    with db.session() as session:
        account = make_account(session, org_id=customer.org_id)
        other_account = make_account(session, org_id=customer.org_id)
        make_domain(session, org_id=customer.org_id, name="ok.test", account_id=account.id)
        make_domain(
            session,
            org_id=customer.org_id,
            name="failing.test",
            status=DomainStatus.failing,
            account_id=account.id,
        )
        make_domain(
            session,
            org_id=customer.org_id,
            name="pending.test",
            status=DomainStatus.pending,
            account_id=account.id,
        )
        make_domain(session, org_id=customer.org_id, name="loose.test")

        def found(account_id: int, name: str) -> str | None:
            domain = sending_domain_for(session=session, account_id=account_id, domain_name=name)
            return domain.name if domain else None

        assert found(account.id, "OK.test") == "ok.test"
        assert found(account.id, "failing.test") == "failing.test"
        assert found(account.id, "pending.test") is None
        assert found(account.id, "loose.test") is None
        assert found(account.id, "sub.ok.test") is None
        assert found(other_account.id, "ok.test") is None


def test_associable_and_associated_domains_for_the_panel(factory: Factory, db: Database) -> None:
    customer, account_id, (linked, free) = _setup(factory, db, "b.test", "a.test")
    other = factory.customer()
    caller = Caller(org_id=customer.org_id, org_kind=customer.kind, role=Role.owner)
    stranger = Caller(org_id=other.org_id, org_kind=other.kind, role=Role.owner)
    with db.session() as session:
        pending = make_domain(
            session, org_id=customer.org_id, name="c.test", status=DomainStatus.pending
        ).id
        make_domain(session, org_id=other.org_id, name="o.test")
        session.add(AccountDomain(account_id=account_id, domain_id=linked))
    with db.session() as session:
        choices = associable_domains(session=session, caller=caller, account_id=account_id)
        # Every status is offered (the page explains unverified ones), never a linked one.
        assert [d.id for d in choices] == [free, pending]
        found = get_associated_domain(
            session=session, caller=caller, account_id=account_id, domain_id=linked
        )
        assert found.name == "b.test"
        for domain_id in (free, 999_999):
            with pytest.raises(NotFound):
                get_associated_domain(
                    session=session, caller=caller, account_id=account_id, domain_id=domain_id
                )
        with pytest.raises(NotFound):
            associable_domains(session=session, caller=stranger, account_id=account_id)
        with pytest.raises(NotFound):
            get_associated_domain(
                session=session, caller=stranger, account_id=account_id, domain_id=linked
            )
