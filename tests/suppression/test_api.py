"""An account's suppression list through the Management API: list, add, remove, CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from outpost.db import Database
from outpost.suppression.models import Suppression, SuppressionReason
from outpost.suppression.service import EXPORT_CHUNK, add_suppression
from outpost.tenancy.models import Role
from tests.factories import Factory, Tenant, make_account


@pytest.fixture
def owner(factory: Factory) -> Tenant:
    return factory.customer()


@pytest.fixture
def account_id(owner: Tenant, db: Database) -> int:
    with db.session() as session:
        return make_account(session, org_id=owner.org_id).id


def _url(account_id: int, tail: str = "") -> str:
    return f"/api/v1/accounts/{account_id}/suppressions{tail}"


def _addresses(db: Database, account_id: int) -> list[str]:
    with db.session() as session:
        return sorted(
            session.scalars(select(Suppression.address).where(Suppression.account_id == account_id))
        )


def _seed(db: Database, account_id: int, *entries: tuple[str, SuppressionReason]) -> None:
    with db.session() as session:
        for address, reason in entries:
            add_suppression(session=session, account_id=account_id, address=address, reason=reason)


def test_add_list_search_and_remove(
    client: TestClient, owner: Tenant, account_id: int, db: Database
) -> None:
    response = client.post(
        _url(account_id),
        headers=owner.headers,
        json={"address": "Bob@Example.COM", "detail": "asked by phone"},
    )
    assert response.status_code == 201, response.text
    entry = response.json()["resources"][0]
    assert (entry["address"], entry["reason"], entry["detail"]) == (
        "bob@example.com",
        "manual",
        "asked by phone",
    )
    response = client.post(
        _url(account_id), headers=owner.headers, json={"address": "BOB@example.com"}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "address", "description": "already exists"}]
    response = client.post(_url(account_id), headers=owner.headers, json={"address": "nobody"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "address"

    _seed(
        db,
        account_id,
        ("carol@example.org", SuppressionReason.hard_bounce),
        ("dave@example.org", SuppressionReason.complaint),
    )

    def listed(**params: Any) -> list[str]:
        response = client.get(_url(account_id), headers=owner.headers, params=params)
        assert response.status_code == 200, response.text
        return [e["address"] for e in response.json()["resources"]]

    assert sorted(listed()) == ["bob@example.com", "carol@example.org", "dave@example.org"]
    assert listed(query="EXAMPLE.ORG", sort_field="address") == [
        "carol@example.org",
        "dave@example.org",
    ]
    assert listed(reason="complaint") == ["dave@example.org"]
    assert len(listed(per=2, page=2)) == 1
    assert (
        client.get(_url(account_id), headers=owner.headers, params={"reason": "x"}).status_code
        == 422
    )

    response = client.delete(_url(account_id, "/Carol@Example.org"), headers=owner.headers)
    assert response.status_code == 204
    assert (
        client.delete(_url(account_id, "/carol@example.org"), headers=owner.headers).status_code
        == 404
    )
    assert _addresses(db, account_id) == ["bob@example.com", "dave@example.org"]


def test_read_only_keys_only_read(
    client: TestClient, owner: Tenant, account_id: int, factory: Factory, db: Database
) -> None:
    _seed(db, account_id, ("a@example.com", SuppressionReason.manual))
    reader = factory.key(owner.org_id, Role.read_only)
    assert client.get(_url(account_id), headers=reader).status_code == 200
    assert client.get(_url(account_id, "/export.csv"), headers=reader).status_code == 200
    assert (
        client.post(_url(account_id), headers=reader, json={"address": "b@example.com"}).status_code
        == 403
    )
    assert client.delete(_url(account_id, "/a@example.com"), headers=reader).status_code == 403
    response = client.post(_url(account_id, "/import"), headers=reader, content=b"c@example.com\n")
    assert response.status_code == 403
    assert _addresses(db, account_id) == ["a@example.com"]


def test_export_streams_every_entry_as_csv(
    client: TestClient, owner: Tenant, account_id: int, db: Database
) -> None:
    count = EXPORT_CHUNK + 5
    with db.session() as session:
        session.add_all(
            Suppression(
                account_id=account_id,
                address=f"user{n}@example.com",
                reason=SuppressionReason.hard_bounce,
                detail='550 5.1.1 "no such user", sorry' if n == 0 else "",
            )
            for n in range(count)
        )
    response = client.get(_url(account_id, "/export.csv"), headers=owner.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["address", "reason", "detail", "created_at"]
    assert len(rows) == count + 1
    assert rows[1][:3] == ["user0@example.com", "hard_bounce", '550 5.1.1 "no such user", sorry']
    assert len({r[0] for r in rows[1:]}) == count


def test_export_keeps_formulas_inert_and_imports_them_back(
    client: TestClient, owner: Tenant, account_id: int, db: Database
) -> None:
    # A remote server writes the bounce text; a spreadsheet must show it, not run it.
    _seed(db, account_id, ("+tag@example.com", SuppressionReason.manual))
    with db.session() as session:
        session.add(
            Suppression(
                account_id=account_id,
                address="user@example.com",
                reason=SuppressionReason.hard_bounce,
                detail='=HYPERLINK("http://evil.test","click")',
            )
        )
    response = client.get(_url(account_id, "/export.csv"), headers=owner.headers)
    rows = {r[0]: r for r in csv.reader(io.StringIO(response.text))}
    assert rows["'+tag@example.com"][0] == "'+tag@example.com"
    assert rows["user@example.com"][2] == '\'=HYPERLINK("http://evil.test","click")'

    with db.session() as session:
        other = make_account(session, org_id=owner.org_id).id
    report = _import(client, owner, other, response.content)
    assert report.json()["resources"][0]["added"] == 2
    listed = client.get(_url(other), headers=owner.headers).json()["resources"]
    assert {(e["address"], e["detail"]) for e in listed} == {
        ("+tag@example.com", ""),
        ("user@example.com", '=HYPERLINK("http://evil.test","click")'),
    }


def test_empty_export_has_a_header(client: TestClient, owner: Tenant, account_id: int) -> None:
    response = client.get(_url(account_id, "/export.csv"), headers=owner.headers)
    assert response.text == "address,reason,detail,created_at\n"


def _import(client: TestClient, owner: Tenant, account_id: int, content: bytes) -> Any:
    return client.post(
        _url(account_id, "/import"),
        headers={**owner.headers, "Content-Type": "text/csv"},
        content=content,
    )


def test_import_reports_added_present_and_invalid_lines(
    client: TestClient, owner: Tenant, account_id: int, db: Database
) -> None:
    _seed(db, account_id, ("known@example.com", SuppressionReason.manual))
    content = (
        b"email,reason,detail\n"
        b"New@Example.com,bounce,550 gone\n"
        b"known@example.com,,\n"
        b"\n"
        b"not-an-address,manual,\n"
        b"second@example.com,complaint,\n"
        b"new@example.com,manual,again\n"
        b"third@example.com,angry,\n"
        b"fourth@example.com\n"
    )
    response = _import(client, owner, account_id, content)
    assert response.status_code == 200, response.text
    report = response.json()["resources"][0]
    assert (report["added"], report["already_present"], report["invalid"]) == (3, 2, 2)
    assert report["invalid_lines"] == [
        {"line": 5, "value": "not-an-address", "description": "is not a valid email address"},
        {
            "line": 8,
            "value": "third@example.com",
            "description": "has an unknown reason "
            "(use hard_bounce, complaint, unsubscribe, manual)",
        },
    ]
    assert _addresses(db, account_id) == [
        "fourth@example.com",
        "known@example.com",
        "new@example.com",
        "second@example.com",
    ]
    listed = client.get(_url(account_id), headers=owner.headers, params={"query": "new@"}).json()
    assert (listed["resources"][0]["reason"], listed["resources"][0]["detail"]) == (
        "hard_bounce",
        "550 gone",
    )


def test_import_without_header_and_with_semicolons(
    client: TestClient, owner: Tenant, account_id: int, db: Database
) -> None:
    report = _import(client, owner, account_id, b"a@example.com\r\nb@example.com,complaint\r\n")
    assert report.json()["resources"][0]["added"] == 2
    content = "\ufeffc@example.com;unsubscribe;x\nd@example.com;complaint;y\n".encode()
    report = _import(client, owner, account_id, content)
    assert report.json()["resources"][0]["added"] == 2
    listed = client.get(_url(account_id), headers=owner.headers, params={"reason": "unsubscribe"})
    assert [(e["address"], e["detail"]) for e in listed.json()["resources"]] == [
        ("c@example.com", "x")
    ]


@pytest.mark.parametrize(
    ("content", "description"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a CSV file"),
        ("caf\u00e9@example.com".encode("latin-1"), "is not UTF-8 text"),
        (b'{"address": "a@example.com"}\n{"address": "b@example.com"}\n', "does not look like"),
        (b"name,phone\nBob,123\nAlice,456\nok@example.com,1\n", "does not look like"),
        (b'"unterminated@example.com\n' + b"x" * 200_000, "is not valid CSV"),
        (b"", "holds no addresses"),
    ],
)
def test_a_file_that_is_not_csv_changes_nothing(
    client: TestClient,
    owner: Tenant,
    account_id: int,
    db: Database,
    content: bytes,
    description: str,
) -> None:
    _seed(db, account_id, ("kept@example.com", SuppressionReason.manual))
    response = _import(client, owner, account_id, content)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "file"
    assert description in error["description"]
    assert _addresses(db, account_id) == ["kept@example.com"]
