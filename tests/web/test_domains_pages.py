"""Sending domains in the browser, verified against a real DNS server on loopback."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from outpost.app import create_app
from outpost.config import Settings
from outpost.db import Database
from outpost.domains.models import Domain, DomainStatus
from outpost.tenancy.models import Role
from tests.factories import Factory, make_account, make_domain
from tests.support.dns_server import DNSServer, Zone
from tests.web.conftest import Person, screenshot, sidebar

pytestmark = pytest.mark.browser

SPF_INCLUDE = "spf.outpost.test"
RETURN_PATH_TARGET = "bounces.outpost.test"
PURPOSES = [
    "Ownership",
    "SPF",
    "DKIM (RSA)",
    "DKIM (Ed25519)",
    "Return path (bounces)",
    "DMARC",
]


@pytest.fixture
def dns_server() -> Iterator[DNSServer]:
    server = DNSServer().start()
    yield server
    server.stop()


@pytest.fixture
def app(settings: Settings, db: Database, dns_server: DNSServer) -> FastAPI:
    """The app asking the loopback DNS server, which the test fills with records."""
    dns_settings = settings.model_copy(
        update={
            "dns_resolver": dns_server.address,
            "dns_timeout": 2.0,
            "spf_include": SPF_INCLUDE,
            "return_path_target": RETURN_PATH_TARGET,
        }
    )
    return create_app(dns_settings, db)


def _shown_records(page: Page) -> list[tuple[str, str, str, str]]:
    """(purpose, type, host, value) of each record as the page shows them."""
    rows = page.locator(".record").evaluate_all(
        """items => items.map(i => [
            i.querySelector('.record-purpose').innerText,
            i.querySelector('.record-type').innerText,
            i.querySelector('[id$=-host]').textContent,
            i.querySelector('[id$=-value]').textContent])"""
    )
    return [(p, t, h, v) for p, t, h, v in rows]


def _publish(zone: Zone, records: list[tuple[str, str, str, str]]) -> None:
    for _, rdtype, host, value in records:
        if rdtype == "TXT":
            zone.add_txt(host, value)
        else:
            zone.add(host, rdtype, value + ".")


def _record(page: Page, purpose: str) -> Locator:
    return page.locator(".record").filter(has=page.get_by_text(purpose, exact=True))


def _domain_names(db: Database) -> set[str]:
    with db.session() as session:
        return set(session.scalars(select(Domain.name)))


def test_add_publish_verify_and_delete_a_domain(
    page: Page,
    factory: Factory,
    person: Callable[..., Person],
    db: Database,
    dns_server: DNSServer,
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    customer = factory.customer(name="Hotel Bella Vista")
    person(customer, "owner@bella.example").log_in(page)
    sidebar(page, "Domains").click()
    expect(page.get_by_text("No domains yet")).to_be_visible()
    page.get_by_role("link", name="Add domain").click()
    expect(page.get_by_label("Customer")).to_have_count(0)
    page.get_by_label("Domain name").fill("not a domain")
    page.get_by_role("button", name="Add domain").click()
    expect(page.locator("#f-name-error")).to_have_text("Is not a valid domain name")

    page.get_by_label("Domain name").fill("Hotel-Bella.TEST")
    page.get_by_role("button", name="Add domain").click()
    expect(page).to_have_url(re.compile(r"/domains/\d+$"))
    expect(page.get_by_role("status")).to_contain_text("hotel-bella.test was added")
    expect(page.get_by_role("heading", level=1)).to_have_text("hotel-bella.test")
    expect(page.locator(".subtitle")).to_contain_text("Not verified")
    records = _shown_records(page)
    assert [r[0] for r in records] == PURPOSES
    by_purpose = {r[0]: r for r in records}
    assert by_purpose["SPF"][1:] == (
        "TXT",
        "hotel-bella.test",
        f"v=spf1 include:{SPF_INCLUDE} ~all",
    )
    assert by_purpose["Return path (bounces)"][1:] == (
        "CNAME",
        "op-bounces.hotel-bella.test",
        RETURN_PATH_TARGET,
    )
    dkim = by_purpose["DKIM (RSA)"]
    assert dkim[1] == "TXT" and dkim[2].endswith("._domainkey.hotel-bella.test")
    assert dkim[3].startswith("v=DKIM1; k=rsa; p=") and len(dkim[3]) > 300
    expect(page.locator(".record .badge", has_text="Not checked yet")).to_have_count(6)
    # The long key wraps inside the card instead of widening the page.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    _record(page, "DKIM (RSA)").get_by_role("button", name=re.compile("Copy value")).click()
    assert page.evaluate("navigator.clipboard.readText()") == dkim[3]

    page.get_by_role("button", name="Verify now").click()
    expect(page.get_by_role("alert")).to_contain_text("hotel-bella.test is not verified yet")
    expect(page.get_by_role("alert")).to_contain_text("Ownership, SPF, DKIM (RSA)")
    ownership = _record(page, "Ownership")
    expect(ownership).to_contain_text("Missing or wrong")
    expect(ownership).to_contain_text("No TXT record at _outpost-verify.hotel-bella.test")
    expect(page.locator(".subtitle")).not_to_contain_text("last checked never")

    _publish(dns_server.zone, records)
    page.get_by_role("button", name="Verify now").click()
    expect(page.get_by_role("status")).to_contain_text(
        "All required records were found: hotel-bella.test is verified."
    )
    expect(page.locator(".subtitle")).to_contain_text("Verified")
    expect(page.locator(".record .badge", has_text="Found")).to_have_count(6)
    expect(page.locator(".record-problem")).to_have_count(0)
    screenshot(page, "domain-records")

    sidebar(page, "Domains").click()
    row = page.get_by_role("row", name=re.compile("hotel-bella.test"))
    expect(row).to_contain_text("Verified")
    screenshot(page, "domains-list")

    row.get_by_role("link", name="hotel-bella.test").click()
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete the domain hotel-bella.test?")).to_be_visible()
    page.get_by_role("button", name="Delete domain").click()
    expect(page.get_by_role("status")).to_contain_text("hotel-bella.test was deleted.")
    expect(page.get_by_text("No domains yet")).to_be_visible()
    assert _domain_names(db) == set()


def test_operator_adds_a_domain_for_a_customer(
    page: Page, factory: Factory, operator_admin: Person, db: Database
) -> None:
    reseller = factory.reseller("Acme Hosting")
    customer = factory.customer(reseller, "Pizzeria Da Mario")
    with db.session() as session:
        account = make_account(session, org_id=customer.org_id)
        make_domain(session, org_id=customer.org_id, name="mario.test", account_id=account.id)
    operator_admin.log_in(page)
    page.goto("/domains")
    row = page.get_by_role("row", name=re.compile("mario.test"))
    expect(row).to_contain_text("Pizzeria Da Mario")
    expect(row.locator("td.num")).to_have_text("1")
    page.get_by_role("link", name="Add domain").click()
    page.get_by_label("Domain name").fill("mario-pizza.test")
    page.get_by_role("button", name="Add domain").click()
    expect(page.locator("#f-org_id-error")).to_contain_text("Is required")
    page.get_by_label("Customer").select_option(label="Pizzeria Da Mario")
    page.get_by_role("button", name="Add domain").click()
    expect(page.get_by_role("status")).to_contain_text("mario-pizza.test was added")
    expect(page.locator(".subtitle")).to_contain_text("Pizzeria Da Mario")
    with db.session() as session:
        added = session.scalars(select(Domain).where(Domain.name == "mario-pizza.test")).one()
        assert added.org_id == customer.org_id
    page.goto("/domains?status=verified")
    expect(page.get_by_role("row", name=re.compile("mario.test"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("mario-pizza.test"))).to_have_count(0)


def test_read_only_users_cannot_verify_or_delete(
    page: Page, factory: Factory, person: Callable[..., Person], db: Database
) -> None:
    customer = factory.customer()
    with db.session() as session:
        domain_id = make_domain(session, org_id=customer.org_id, name="readonly.test").id
    person(customer, "reader@ro.example", Role.read_only).log_in(page)
    page.goto("/domains")
    expect(page.get_by_role("link", name="Add domain")).to_have_count(0)
    page.goto(f"/domains/{domain_id}")
    expect(page.get_by_role("button", name="Verify now")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.input_value()
    refused = page.request.post(f"/domains/{domain_id}/delete", form={"csrf_token": token})
    assert refused.url.endswith(f"/domains/{domain_id}")
    assert "Your role is read-only." in refused.text()
    assert _domain_names(db) == {"readonly.test"}


def test_another_customer_gets_not_found_and_changes_nothing(
    page: Page, factory: Factory, person: Callable[..., Person], db: Database
) -> None:
    victim = factory.customer()
    with db.session() as session:
        domain_id = make_domain(session, org_id=victim.org_id, name="victim.test").id
    intruder = factory.customer()
    person(intruder, "owner@intruder.example").log_in(page)
    page.goto("/domains")
    expect(page.get_by_text("No domains yet")).to_be_visible()
    for path in [f"/domains/{domain_id}", f"/domains/{domain_id}/delete"]:
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    token = page.locator("input[name=csrf_token]").first.input_value()
    for action in ("verify", "delete"):
        response = page.request.post(f"/domains/{domain_id}/{action}", form={"csrf_token": token})
        assert response.status == 404, action
    response = page.request.post(
        "/domains/new",
        form={"csrf_token": token, "name": "planted.test", "org_id": str(victim.org_id)},
    )
    assert response.status == 200  # a customer's own form ignores org_id: the domain is its own
    with db.session() as session:
        domains = {d.name: d for d in session.scalars(select(Domain))}
        assert domains["victim.test"].last_checked_at is None
        assert domains["planted.test"].org_id == intruder.org_id


def test_a_dns_server_that_does_not_answer_is_reported_as_such(
    page: Page,
    factory: Factory,
    person: Callable[..., Person],
    db: Database,
    dns_server: DNSServer,
) -> None:
    customer = factory.customer()
    with db.session() as session:
        domain_id = make_domain(
            session, org_id=customer.org_id, name="silent.test", status=DomainStatus.pending
        ).id
    person(customer, "owner@silent.example").log_in(page)
    page.goto(f"/domains/{domain_id}")
    dns_server.stop()
    page.get_by_role("button", name="Verify now").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "silent.test is not verified yet: DNS did not answer for Ownership, SPF"
    )
    expect(page.locator(".record .badge", has_text="DNS did not answer")).to_have_count(6)
    expect(page.locator(".subtitle")).to_contain_text("Not verified")
