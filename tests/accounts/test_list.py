"""The accounts list: quick status filter, advanced filters, search, sorting, counts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from outpost.accounts.models import AccountStatus, AccountType
from outpost.db import Database
from outpost.plans.service import get_plan
from tests.accounts.helpers import add_domain, assert_invariant
from tests.factories import Factory, Tenant, make_account


@pytest.fixture
def world(factory: Factory, db: Database) -> dict[str, Any]:
    """Two resellers with a customer each, accounts of every status, type and plan."""
    reseller_a, reseller_b = factory.reseller("Reseller A"), factory.reseller("Reseller B")
    a1, b1 = factory.customer(reseller_a, "Customer A1"), factory.customer(reseller_b, "B1")
    specs = [
        (a1, "Hotel newsletter", AccountStatus.enabled, AccountType.promotional, "monthly", 9000),
        (a1, "Hotel bookings", AccountStatus.enabled, AccountType.transactional, "free", 120),
        (a1, "Spa 100% offers", AccountStatus.disabled, AccountType.promotional, "prepaid", 50),
        (a1, "Old shop", AccountStatus.blocked, AccountType.transactional, "monthly", 0),
        (a1, "New shop", AccountStatus.awaiting_payment, AccountType.transactional, "monthly", 0),
        (b1, "Other hotel", AccountStatus.enabled, AccountType.transactional, "monthly", 5000),
    ]
    ids = {}
    with db.session() as session:
        for tenant, description, status, kind, plan, remaining in specs:
            account = make_account(
                session,
                org_id=tenant.org_id,
                plan=plan,
                remaining=remaining,
                status=status,
                description=description,
            )
            account.type = kind
            ids[description] = account.id
        add_domain(
            session, a1.org_id, "hotel.example", ids["Hotel newsletter"], ids["Hotel bookings"]
        )
        add_domain(session, a1.org_id, "spa.example", ids["Hotel newsletter"])
    return {"a": reseller_a, "b": reseller_b, "a1": a1, "b1": b1, "ids": ids}


def _descriptions(client: TestClient, tenant: Tenant, **params: Any) -> list[str]:
    response = client.get("/api/v1/accounts", headers=tenant.headers, params=params)
    assert response.status_code == 200, response.text
    return [row["description"] for row in response.json()["resources"]]


def test_rows_show_status_domains_remaining_type_and_plan(
    client: TestClient, world: dict[str, Any]
) -> None:
    response = client.get("/api/v1/accounts", headers=world["a1"].headers)
    body = response.json()
    assert body["pagination"]["total_records"] == 5
    row = next(r for r in body["resources"] if r["description"] == "Hotel newsletter")
    assert row["status"] == "enabled"
    assert (row["domains_used"], row["domains_max"]) == (2, 250)
    assert (row["remaining"], row["type"], row["plan"], row["plan_name"]) == (
        9000,
        "promotional",
        "monthly",
        "Monthly subscription",
    )
    assert row["org_name"] == "Customer A1"
    for row in body["resources"]:
        assert_invariant(row)
    # Newest first by default.
    assert [r["id"] for r in body["resources"]] == sorted(world["ids"].values())[:5][::-1]


def test_quick_status_filter_accepts_qboxmail_names(
    client: TestClient, world: dict[str, Any]
) -> None:
    a1 = world["a1"]
    assert _descriptions(client, a1, status="enabled") == ["Hotel bookings", "Hotel newsletter"]
    assert _descriptions(client, a1, status="wait_pay") == ["New shop"]
    assert _descriptions(client, a1, status="awaiting_payment") == ["New shop"]
    assert _descriptions(client, a1, status="blocked") == ["Old shop"]
    assert len(_descriptions(client, a1, status="all")) == 5
    response = client.get("/api/v1/accounts?status=sleeping", headers=a1.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"


def test_advanced_filters(client: TestClient, world: dict[str, Any]) -> None:
    a1 = world["a1"]
    assert _descriptions(client, a1, type="newsletter") == ["Spa 100% offers", "Hotel newsletter"]
    assert _descriptions(client, a1, type="transactional", plan="monthly") == [
        "New shop",
        "Old shop",
    ]
    assert _descriptions(client, a1, remaining_from=50, remaining_to=200) == [
        "Spa 100% offers",
        "Hotel bookings",
    ]
    assert _descriptions(client, a1, plan="prepaid", status="disabled") == ["Spa 100% offers"]
    response = client.get("/api/v1/accounts?plan=platinum", headers=a1.headers)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "plan", "description": "is not a plan code"}]
    response = client.get("/api/v1/accounts?type=fax&remaining_from=-1", headers=a1.headers)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"type", "remaining_from"}


def test_text_query_is_case_insensitive_on_description_and_username(
    client: TestClient, world: dict[str, Any], db: Database
) -> None:
    a1 = world["a1"]
    assert _descriptions(client, a1, query="HOTEL") == ["Hotel bookings", "Hotel newsletter"]
    assert _descriptions(client, a1, query="100%") == ["Spa 100% offers"]
    assert _descriptions(client, a1, query="%") == ["Spa 100% offers"]
    response = client.get(f"/api/v1/accounts/{world['ids']['Old shop']}", headers=a1.headers)
    username = response.json()["resources"][0]["username"]
    assert _descriptions(client, a1, query=username.upper()) == ["Old shop"]


def test_sorting_and_paging(client: TestClient, world: dict[str, Any]) -> None:
    a1 = world["a1"]
    assert _descriptions(client, a1, sort_field="remaining", sort="desc")[:3] == [
        "Hotel newsletter",
        "Hotel bookings",
        "Spa 100% offers",
    ]
    assert _descriptions(client, a1, sort_field="description", per=2, page=2) == [
        "New shop",
        "Old shop",
    ]
    response = client.get("/api/v1/accounts?sort_field=password", headers=a1.headers)
    assert response.status_code == 422
    page = client.get("/api/v1/accounts?per=2&page=3&status=all", headers=a1.headers).json()
    assert page["pagination"]["total_pages"] == 3
    assert page["pagination"]["status"] == "all"
    assert len(page["resources"]) == 1


def test_each_caller_sees_its_own_subtree(
    client: TestClient, world: dict[str, Any], factory: Factory
) -> None:
    operator = factory.operator()
    assert len(_descriptions(client, operator, per=100)) == 6
    assert _descriptions(client, operator, org_id=world["b1"].org_id) == ["Other hotel"]
    assert len(_descriptions(client, world["a"])) == 5
    assert _descriptions(client, world["b"]) == ["Other hotel"]
    assert _descriptions(client, world["b"], org_id=world["a1"].org_id) == []
    assert _descriptions(client, world["b1"]) == ["Other hotel"]
    assert _descriptions(client, world["b1"], org_id=world["a1"].org_id) == []


def test_status_counts_follow_the_same_filters(
    client: TestClient, world: dict[str, Any], factory: Factory
) -> None:
    def counts(tenant: Tenant, **params: Any) -> dict[str, int]:
        response = client.get(
            "/api/v1/accounts/status-counts", headers=tenant.headers, params=params
        )
        assert response.status_code == 200, response.text
        result: dict[str, int] = response.json()["resources"][0]
        return result

    assert counts(world["a1"]) == {
        "all": 5,
        "enabled": 2,
        "awaiting_payment": 1,
        "disabled": 1,
        "blocked": 1,
    }
    assert counts(world["a1"], type="transactional", query="shop") == {
        "all": 2,
        "enabled": 0,
        "awaiting_payment": 1,
        "disabled": 0,
        "blocked": 1,
    }
    assert counts(world["b"])["all"] == 1
    assert counts(factory.operator())["enabled"] == 3


@contextmanager
def _count_statements(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_list_queries_do_not_grow_with_the_page(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = factory.customer()
    with db.session() as session:
        accounts = [make_account(session, org_id=customer.org_id) for _ in range(30)]
        for n, account in enumerate(accounts):
            add_domain(session, customer.org_id, f"d{n}.example", account.id)
        assert get_plan(session=session, code="monthly").max_domains == 250

    def statements_for(per: int) -> int:
        with _count_statements(db) as statements:
            response = client.get(f"/api/v1/accounts?per={per}", headers=customer.headers)
            assert response.status_code == 200
            assert len(response.json()["resources"]) == per
            assert all(r["domains_used"] == 1 for r in response.json()["resources"])
        return len(statements)

    statements_for(1)  # the key's first use records last_used_at
    assert statements_for(2) == statements_for(30)


def test_remaining_sort_and_range_are_exact_within_and_across_thousands(
    client: TestClient, factory: Factory, db: Database
) -> None:
    # The list orders and filters through remaining_thousands first; within a thousand the
    # exact figure still decides.
    customer = factory.customer()
    with db.session() as session:
        for remaining in (1999, 1000, 1500, 999, 2000, 1001):
            make_account(
                session, org_id=customer.org_id, remaining=remaining, description=str(remaining)
            )

    def remaining(**params: Any) -> list[int]:
        return [int(d) for d in _descriptions(client, customer, sort_field="remaining", **params)]

    assert remaining(sort="desc") == [2000, 1999, 1500, 1001, 1000, 999]
    assert remaining(sort="asc") == [999, 1000, 1001, 1500, 1999, 2000]
    assert remaining(remaining_from=1001, remaining_to=1999) == [1001, 1500, 1999]
    assert remaining(remaining_from=999, remaining_to=999) == [999]


def test_text_query_follows_renames_and_terminations(
    client: TestClient, world: dict[str, Any]
) -> None:
    # The reseller searches the trigram index on SQLite; a customer's few accounts are
    # matched row by row. Both must follow the changes.
    a1, reseller, ids = world["a1"], world["a"], world["ids"]
    url = f"/api/v1/accounts/{ids['Spa 100% offers']}"
    response = client.put(url, headers=a1.headers, json={"description": "Wellness week"})
    assert response.status_code == 200, response.text
    for caller in (reseller, a1):
        assert _descriptions(client, caller, query="spa 1") == []
        assert _descriptions(client, caller, query="LNESS w") == ["Wellness week"]
        assert _descriptions(client, caller, query='ness "w') == []  # quotes are text
        assert _descriptions(client, caller, query="s ") == ["Wellness week"]  # < a trigram
    response = client.delete(f"/api/v1/accounts/{ids['Old shop']}", headers=a1.headers)
    assert response.status_code == 204, response.text
    for caller in (reseller, a1):
        assert _descriptions(client, caller, query="shop") == ["New shop"]


def test_quota_updates_stay_hot_on_postgresql(db: Database, factory: Factory) -> None:
    # No index may hold a quota column: a reservation then rewrites the account's row in
    # place (a HOT update) unless remaining crosses a thousand.
    if db.dialect != "postgresql":
        pytest.skip("HOT updates are PostgreSQL's")
    customer = factory.customer()
    with db.session() as session:
        account_id = make_account(session, org_id=customer.org_id, remaining=1002).id
    reserve = (
        "UPDATE delivery_accounts SET used = used + 1, remaining = remaining - 1,"
        " updated_at = now() WHERE id = :id"
    )
    hot = "SELECT pg_stat_get_xact_tuples_hot_updated('delivery_accounts'::regclass)"
    with db.engine.begin() as conn:
        for expected_hot in (1, 2, 2):  # 1002 → 1001 → 1000 → 999 crosses a thousand
            conn.execute(text(reserve), {"id": account_id})
            assert conn.execute(text(hot)).scalar_one() == expected_hot
