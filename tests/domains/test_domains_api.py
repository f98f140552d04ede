"""Adding, listing and deleting sending domains through the Management API."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from outpost.accounts.models import DeliveryAccount
from outpost.config import Settings
from outpost.db import Database, utcnow
from outpost.domains.checks import RECHECK_FAILING, RECHECK_NEW_PENDING, RECHECK_VERIFIED
from outpost.domains.models import AccountDomain, Domain, DomainStatus
from outpost.domains.service import recheck_due_domains, sending_domain_for
from outpost.jobs import ALL_JOBS
from outpost.tenancy.models import Role
from tests.domains.support import add_domain, publish, records
from tests.factories import Factory, make_account, make_domain
from tests.support.dns_server import DNSServer


def test_customer_adds_a_domain_for_itself(client: TestClient, factory: Factory) -> None:
    customer = factory.customer()
    domain = add_domain(client, customer.headers, "  Mail.Hotel.TEST. ")
    assert domain["name"] == "mail.hotel.test"
    assert domain["org_id"] == customer.org_id
    assert domain["accounts_count"] == 0
    got = client.get(f"/api/v1/domains/{domain['id']}", headers=customer.headers)
    assert got.status_code == 200
    assert got.json()["resources"][0]["dns_records"] == domain["dns_records"]


def test_internationalized_names_are_stored_as_punycode(
    client: TestClient, factory: Factory
) -> None:
    customer = factory.customer()
    assert add_domain(client, customer.headers, "Hôtel.test")["name"] == "xn--htel-vqa.test"


def test_invalid_names_are_refused(client: TestClient, factory: Factory) -> None:
    customer = factory.customer()
    for name in ["localhost", "no spaces.test", "-bad.test", "a..test", "x" * 64 + ".test", ""]:
        response = client.post("/api/v1/domains", headers=customer.headers, json={"name": name})
        assert response.status_code == 422, name
        assert response.json()["errors"][0]["field"] == "name"


def test_same_customer_twice_is_already_exists(client: TestClient, factory: Factory) -> None:
    customer = factory.customer()
    add_domain(client, customer.headers, "hotel.test")
    response = client.post("/api/v1/domains", headers=customer.headers, json={"name": "HOTEL.test"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "name", "description": "already exists"}]


def test_a_name_verified_by_another_customer_is_refused(
    client: TestClient, factory: Factory, db: Database
) -> None:
    owner, other = factory.customer(), factory.customer()
    with db.session() as session:
        make_domain(session, org_id=owner.org_id, name="hotel.test")
    response = client.post("/api/v1/domains", headers=other.headers, json={"name": "hotel.test"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "name", "description": "is already verified by another customer"}
    ]


def test_resellers_and_the_operator_add_domains_for_their_customers(
    client: TestClient, factory: Factory
) -> None:
    operator, reseller = factory.operator(), factory.reseller()
    customer = factory.customer(reseller)
    assert add_domain(client, reseller.headers, "a.test", customer.org_id)["org_id"] == (
        customer.org_id
    )
    assert add_domain(client, operator.headers, "b.test", customer.org_id)["org_id"] == (
        customer.org_id
    )
    missing = client.post("/api/v1/domains", headers=reseller.headers, json={"name": "c.test"})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "org_id"
    for org_id in (reseller.org_id, operator.org_id):
        response = client.post(
            "/api/v1/domains", headers=operator.headers, json={"name": "d.test", "org_id": org_id}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0] == {
            "field": "org_id",
            "description": "must be a customer: domains belong to customers",
        }


def test_read_only_callers_can_look_but_not_change(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = factory.customer()
    reader = factory.key(customer.org_id, Role.read_only)
    domain = add_domain(client, customer.headers, "hotel.test")
    assert client.get("/api/v1/domains", headers=reader).status_code == 200
    url = f"/api/v1/domains/{domain['id']}"
    assert client.post("/api/v1/domains", headers=reader, json={"name": "x.test"}).status_code == (
        403
    )
    assert client.post(f"{url}/verify", headers=reader).status_code == 403
    assert client.delete(url, headers=reader).status_code == 403
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Domain)) == 1


def test_list_filters_by_status_and_query(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = factory.customer()
    with db.session() as session:
        make_domain(session, org_id=customer.org_id, name="alpha.test")
        make_domain(session, org_id=customer.org_id, name="beta.test", status=DomainStatus.failing)
        make_domain(session, org_id=customer.org_id, name="gamma.test", status=DomainStatus.pending)

    def names(query: str) -> list[str]:
        response = client.get(f"/api/v1/domains{query}", headers=customer.headers)
        assert response.status_code == 200, response.text
        return [d["name"] for d in response.json()["resources"]]

    assert names("") == ["alpha.test", "beta.test", "gamma.test"]
    assert names("?status=verified") == names("?status=enabled") == ["alpha.test"]
    assert names("?status=not_verified") == ["gamma.test"]
    assert names("?status=misconfigured") == ["beta.test"]
    assert names("?status=all&query=TA.T") == ["beta.test"]
    assert names("?sort_field=name&sort=desc&per=2") == ["gamma.test", "beta.test"]
    page = client.get("/api/v1/domains?per=2&page=2", headers=customer.headers).json()
    assert page["pagination"] | {"filter": None} == {
        "per": 2,
        "page": 2,
        "total_pages": 2,
        "total_records": 3,
        "query": None,
        "filter": None,
        "status": None,
        "sort_field": None,
        "sort": None,
    }
    bad = client.get("/api/v1/domains?status=green", headers=customer.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


def test_deleting_a_domain_removes_its_associations(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = factory.customer()
    with db.session() as session:
        account = make_account(session, org_id=customer.org_id)
        domain = make_domain(session, org_id=customer.org_id, account_id=account.id)
        account_id, domain_id = account.id, domain.id
    listed = client.get("/api/v1/domains", headers=customer.headers).json()["resources"]
    assert listed[0]["accounts_count"] == 1
    response = client.delete(f"/api/v1/domains/{domain_id}", headers=customer.headers)
    assert response.status_code == 204
    assert client.get(f"/api/v1/domains/{domain_id}", headers=customer.headers).status_code == 404
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(AccountDomain)) == 0
        assert (
            sending_domain_for(session=session, account_id=account_id, domain_name="example.test")
            is None
        )
        assert session.get(DeliveryAccount, account_id) is not None


def test_the_scheduler_rechecks_domains_at_their_own_pace(
    client: TestClient,
    factory: Factory,
    db: Database,
    dns_server: DNSServer,
    dns_settings: Settings,
) -> None:
    assert "recheck-domains" in {job.name for job in ALL_JOBS}
    customer = factory.customer()
    created = add_domain(client, customer.headers, "hotel.test")
    start = utcnow()

    def recheck(at: timedelta) -> int:
        with db.session() as session:
            return recheck_due_domains(session=session, settings=dns_settings, now=start + at)

    def status() -> DomainStatus:
        with db.session() as session:
            return session.get_one(Domain, created["id"]).status

    assert recheck(timedelta(0)) == 1  # never checked: at once
    assert status() is DomainStatus.pending
    publish(dns_server.zone, created)
    assert recheck(RECHECK_NEW_PENDING - timedelta(seconds=1)) == 0
    assert recheck(RECHECK_NEW_PENDING + timedelta(seconds=1)) == 1
    assert status() is DomainStatus.verified

    dns_server.zone.remove(records(created)["ownership"]["name"])
    verified_at = RECHECK_NEW_PENDING + timedelta(seconds=1)
    assert recheck(verified_at + RECHECK_VERIFIED - timedelta(seconds=1)) == 0
    failing_at = verified_at + RECHECK_VERIFIED + timedelta(seconds=1)
    assert recheck(failing_at) == 1
    assert status() is DomainStatus.failing
    assert recheck(failing_at + RECHECK_FAILING + timedelta(seconds=1)) == 1
