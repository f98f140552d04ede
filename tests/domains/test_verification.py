"""Verification over real DNS: each record judged on its own, the status following them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dns.message
import dns.rcode
import pytest
from fastapi.testclient import TestClient

from outpost.app import create_app
from outpost.config import Settings
from outpost.db import Database, utcnow
from outpost.domains.checks import FAILING_GRACE
from outpost.domains.models import Domain, DomainStatus
from outpost.domains.service import verify_domain
from outpost.tenancy.models import OrgKind, Role
from outpost.tenancy.scope import Caller
from tests.domains.conftest import RETURN_PATH_TARGET, SPF_INCLUDE
from tests.domains.support import add_domain, publish, records, verify
from tests.factories import Factory
from tests.support.dns_server import DNSServer, Zone, free_port


def _verified_domain(
    client: TestClient, factory: Factory, dns_server: DNSServer, name: str = "hotel.test"
) -> tuple[dict[str, str], dict[str, Any]]:
    customer = factory.customer()
    created = add_domain(client, customer.headers, name)
    publish(dns_server.zone, created)
    domain = verify(client, customer.headers, created["id"])
    assert domain["status"] == "verified", records(domain)
    return customer.headers, domain


def test_records_to_publish(client: TestClient, factory: Factory) -> None:
    customer = factory.customer()
    domain = add_domain(client, customer.headers, "Hotel.TEST.")
    assert domain["name"] == "hotel.test"
    assert domain["status"] == "pending"
    assert domain["return_path_host"] == "op-bounces.hotel.test"
    by_purpose = records(domain)
    assert list(by_purpose) == [
        "ownership",
        "spf",
        "dkim",
        "dkim_ed25519",
        "return_path",
        "dmarc",
    ]
    ownership = by_purpose["ownership"]
    assert ownership["type"] == "TXT" and ownership["name"] == "_outpost-verify.hotel.test"
    assert ownership["value"].startswith("outpost-verification=")
    assert by_purpose["spf"] | {"status": None} == {
        "purpose": "spf",
        "type": "TXT",
        "name": "hotel.test",
        "value": f"v=spf1 include:{SPF_INCLUDE} ~all",
        "required": True,
        "status": None,
        "checked_at": None,
        "found": [],
        "error": None,
    }
    assert by_purpose["return_path"]["type"] == "CNAME"
    assert by_purpose["return_path"]["value"] == RETURN_PATH_TARGET
    assert by_purpose["dmarc"]["name"] == "_dmarc.hotel.test"
    assert by_purpose["dmarc"]["required"] is False
    assert {r["status"] for r in domain["dns_records"]} == {"unchecked"}


def test_published_records_verify_the_domain(
    client: TestClient, factory: Factory, dns_server: DNSServer
) -> None:
    _, domain = _verified_domain(client, factory, dns_server)
    assert domain["verified_at"] is not None and domain["last_checked_at"] is not None
    for record in domain["dns_records"]:
        assert record["status"] == "ok", record
        assert record["error"] is None and record["checked_at"] is not None
    assert records(domain)["spf"]["found"] == [f"v=spf1 include:{SPF_INCLUDE} ~all"]


def test_dmarc_is_advisory(client: TestClient, factory: Factory, dns_server: DNSServer) -> None:
    customer = factory.customer()
    created = add_domain(client, customer.headers, "hotel.test")
    publish(dns_server.zone, created, skip=("dmarc",))
    domain = verify(client, customer.headers, created["id"])
    assert domain["status"] == "verified"
    assert records(domain)["dmarc"]["status"] == "failing"
    assert records(domain)["dmarc"]["error"] == (
        "no DMARC record at _dmarc.hotel.test (recommended)"
    )


def test_nothing_published_leaves_it_pending_with_a_reason_per_record(
    client: TestClient, factory: Factory
) -> None:
    customer = factory.customer()
    created = add_domain(client, customer.headers, "hotel.test")
    domain = verify(client, customer.headers, created["id"])
    assert domain["status"] == "pending" and domain["verified_at"] is None
    errors = {p: r["error"] for p, r in records(domain).items()}
    assert errors["ownership"] == "no TXT record at _outpost-verify.hotel.test"
    assert errors["spf"] == "no SPF record (v=spf1 …) at hotel.test"
    assert errors["dkim"].startswith("no DKIM key record (v=DKIM1; … p=…) at op")
    assert errors["return_path"] == (
        f"no CNAME (or MX) record at op-bounces.hotel.test pointing to {RETURN_PATH_TARGET}"
    )


def _break(zone: Zone, domain: dict[str, Any], purpose: str) -> str:
    """Alter one published record; returns the error the check must report."""
    record = records(domain)[purpose]
    name = record["name"]
    zone.remove(name)
    if purpose == "ownership":
        zone.add_txt(name, "outpost-verification=someone-else")
        return f"no TXT record at {name} reads {record['value']!r}"
    if purpose == "spf":
        zone.add_txt(name, "v=spf1 mx include:spf.other.test -all")
        return f"the SPF record at {name} does not contain include:{SPF_INCLUDE} before its 'all'"
    if purpose == "dkim":
        zone.add_txt(name, "v=DKIM1; k=rsa; p=" + "A" * 392)
        return f"the DKIM key at {name} is not the key generated for this domain"
    if purpose == "dkim_ed25519":
        zone.add_txt(name, record["value"].replace("k=ed25519", "k=rsa"))
        return f"the DKIM record at {name} says k=rsa, expected k=ed25519"
    zone.add(name, "CNAME", "bounces.elsewhere.test.")
    return f"{name} is a CNAME to bounces.elsewhere.test, expected {RETURN_PATH_TARGET}"


@pytest.mark.parametrize("purpose", ["ownership", "spf", "dkim", "dkim_ed25519", "return_path"])
def test_a_broken_record_makes_a_verified_domain_failing(
    client: TestClient, factory: Factory, dns_server: DNSServer, purpose: str
) -> None:
    headers, domain = _verified_domain(client, factory, dns_server)
    expected_error = _break(dns_server.zone, domain, purpose)

    checked = verify(client, headers, domain["id"])
    assert checked["status"] == "failing"
    assert checked["verified_at"] == domain["verified_at"]
    broken = records(checked)[purpose]
    assert broken["status"] == "failing"
    assert broken["error"] == expected_error
    assert broken["found"]
    others = [r for p, r in records(checked).items() if p != purpose]
    assert all(r["status"] == "ok" for r in others), others

    dns_server.zone.remove(broken["name"])
    publish(dns_server.zone, {"dns_records": [records(domain)[purpose]]})
    assert verify(client, headers, domain["id"])["status"] == "verified"


def test_spf_rules(client: TestClient, factory: Factory, dns_server: DNSServer) -> None:
    headers, domain = _verified_domain(client, factory, dns_server)
    zone, name = dns_server.zone, "hotel.test"

    def spf_error(*values: str) -> str | None:
        zone.remove(name, "TXT")
        for value in values:
            zone.add_txt(name, value)
        error: str | None = records(verify(client, headers, domain["id"]))["spf"]["error"]
        return error

    # Merged with the domain's own senders, and next to unrelated TXT records: fine.
    assert spf_error("google-site-verification=x", f"v=spf1 mx +include:{SPF_INCLUDE} -all") is None
    assert spf_error(f"v=spf1 -all include:{SPF_INCLUDE}") == (
        f"the SPF record at {name} does not contain include:{SPF_INCLUDE} before its 'all'"
    )
    assert spf_error(f"v=spf1 ~include:{SPF_INCLUDE} -all") is not None
    assert spf_error(f"v=spf1 include:{SPF_INCLUDE} ~all", "v=spf1 mx -all") == (
        f"2 SPF records at {name}; RFC 7208 allows one, merge them"
    )


def test_spf_by_sending_ips(
    client: TestClient,
    factory: Factory,
    dns_server: DNSServer,
    db: Database,
    dns_settings: Settings,
) -> None:
    settings = dns_settings.model_copy(
        update={"spf_include": "", "sending_ips": ["192.0.2.10", "2001:db8::25"]}
    )
    customer = factory.customer()
    created = add_domain(client, customer.headers, "hotel.test")
    caller = Caller(org_id=customer.org_id, org_kind=OrgKind.customer, role=Role.owner)
    publish(dns_server.zone, created, skip=("spf",))
    dns_server.zone.add_txt("hotel.test", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all")
    with db.session() as session:
        domain = verify_domain(
            session=session, caller=caller, settings=settings, domain_id=created["id"]
        )
        assert domain.checks["spf"]["ok"], domain.checks["spf"]
    dns_server.zone.remove("hotel.test", "TXT")
    dns_server.zone.add_txt("hotel.test", "v=spf1 ip4:192.0.2.10 -all")
    with db.session() as session:
        domain = verify_domain(
            session=session, caller=caller, settings=settings, domain_id=created["id"]
        )
        assert domain.checks["spf"]["error"] == (
            "the SPF record at hotel.test does not contain ip6:2001:db8::25 before its 'all'"
        )


def test_return_path_may_be_an_mx(
    client: TestClient, factory: Factory, dns_server: DNSServer
) -> None:
    customer = factory.customer()
    created = add_domain(client, customer.headers, "hotel.test")
    publish(dns_server.zone, created, skip=("return_path",))
    dns_server.zone.add("op-bounces.hotel.test", "MX", f"10 {RETURN_PATH_TARGET}.")
    domain = verify(client, customer.headers, created["id"])
    assert domain["status"] == "verified"
    assert records(domain)["return_path"]["found"] == [f"MX {RETURN_PATH_TARGET}"]


def test_unreachable_resolver_reports_each_record_and_keeps_the_status(
    client: TestClient,
    factory: Factory,
    dns_server: DNSServer,
    db: Database,
    dns_settings: Settings,
) -> None:
    _, created = _verified_domain(client, factory, dns_server)
    nowhere = dns_settings.model_copy(
        update={"dns_resolver": f"127.0.0.1:{free_port()}", "dns_timeout": 0.5}
    )
    operator = Caller(org_id=factory.operator().org_id, org_kind=OrgKind.operator, role=Role.owner)
    with db.session() as session:
        domain = verify_domain(
            session=session, caller=operator, settings=nowhere, domain_id=created["id"]
        )
        assert domain.status is DomainStatus.verified
        for purpose, check in domain.checks.items():
            assert not check["ok"] and check["temporary"], purpose
            assert "timed out" in check["error"]


def test_unreachable_resolver_through_the_api_is_not_a_500(
    factory: Factory, settings: Settings, db: Database
) -> None:
    nowhere = settings.model_copy(
        update={"dns_resolver": f"127.0.0.1:{free_port()}", "dns_timeout": 0.5}
    )
    with TestClient(create_app(nowhere, db)) as client:
        customer = factory.customer()
        created = add_domain(client, customer.headers, "hotel.test")
        domain = verify(client, customer.headers, created["id"])
    assert domain["status"] == "pending"
    statuses = {r["status"] for r in domain["dns_records"]}
    assert statuses == {"error"}
    assert all("timed out" in r["error"] for r in domain["dns_records"])


class _ServfailZone(Zone):
    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.set_rcode(dns.rcode.SERVFAIL)
        return response


def test_servfail_is_a_per_record_error(factory: Factory, settings: Settings, db: Database) -> None:
    from outpost.app import create_app

    server = DNSServer(_ServfailZone()).start()
    try:
        failing = settings.model_copy(update={"dns_resolver": server.address})
        with TestClient(create_app(failing, db)) as client:
            customer = factory.customer()
            created = add_domain(client, customer.headers, "hotel.test")
            domain = verify(client, customer.headers, created["id"])
    finally:
        server.stop()
    assert domain["status"] == "pending"
    ownership = records(domain)["ownership"]
    assert ownership["status"] == "error"
    assert ownership["error"] == (
        "no DNS server could answer for _outpost-verify.hotel.test (TXT): "
        "SERVFAIL, refused or unreachable"
    )


def test_failing_past_the_grace_period_loses_verification(
    client: TestClient,
    factory: Factory,
    dns_server: DNSServer,
    db: Database,
    dns_settings: Settings,
) -> None:
    _, created = _verified_domain(client, factory, dns_server)
    dns_server.zone.remove(records(created)["dkim"]["name"])
    operator = Caller(org_id=factory.operator().org_id, org_kind=OrgKind.operator, role=Role.owner)
    start = utcnow()
    for offset, status in [
        (timedelta(0), DomainStatus.failing),
        (FAILING_GRACE - timedelta(minutes=1), DomainStatus.failing),
        (FAILING_GRACE, DomainStatus.pending),
    ]:
        with db.session() as session:
            domain = verify_domain(
                session=session,
                caller=operator,
                settings=dns_settings,
                domain_id=created["id"],
                now=start + offset,
            )
            assert domain.status is status, offset
    assert domain.verified_at is None


def test_name_verified_by_another_customer_meanwhile_stays_pending(
    client: TestClient, factory: Factory, dns_server: DNSServer, db: Database
) -> None:
    first, second = factory.customer(), factory.customer()
    mine = add_domain(client, first.headers, "shared.test")
    theirs = add_domain(client, second.headers, "shared.test")  # neither verified yet: allowed
    publish(dns_server.zone, mine)
    publish(dns_server.zone, theirs)
    assert verify(client, first.headers, mine["id"])["status"] == "verified"
    domain = verify(client, second.headers, theirs["id"])
    assert domain["status"] == "pending"
    assert records(domain)["ownership"]["error"] == (
        "the name is already verified by another customer"
    )
    with db.session() as session:
        assert session.get_one(Domain, theirs["id"]).verified_at is None
