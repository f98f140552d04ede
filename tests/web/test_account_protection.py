"""An account's protection settings in the browser: bounce alerts, suppression, IP access."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outpost.accounts.models import DeliveryAccount
from outpost.db import Database
from outpost.tenancy.models import Role
from outpost.tokens.models import SendToken
from tests.factories import Factory, make_domain, make_send_token
from tests.web.account_areas import csrf_token, customer_account, expect_not_found
from tests.web.conftest import Person, screenshot
from tests.web.test_accessibility import LOW_CONTRAST, UNLABELLED

pytestmark = pytest.mark.browser


def _account(db: Database, account_id: int) -> DeliveryAccount:
    with db.session() as session:
        account = session.get_one(DeliveryAccount, account_id)
        session.expunge(account)
        return account


def _token_rows(db: Database, account_id: int) -> list[SendToken]:
    with db.session() as session:
        return list(session.scalars(select(SendToken).where(SendToken.account_id == account_id)))


def test_bounce_alerts_and_the_suppression_list(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    setup = customer_account(factory, db, person)
    setup.owner.log_in(page)
    page.goto(f"/accounts/{setup.account_id}/protection")
    address = page.get_by_label("Bounce alert address")
    address.fill("not an address")
    page.get_by_role("button", name="Save address").click()
    expect(page.locator(".field-error")).to_be_visible()
    expect(address).to_have_value("not an address")
    assert _account(db, setup.account_id).bounce_alert_email is None

    address.fill("Alerts@Verde.Example")
    page.get_by_role("button", name="Save address").click()
    expect(page.get_by_role("status")).to_contain_text("Bounce alerts go to the new address.")
    expect(address).to_have_value("Alerts@verde.example")
    assert _account(db, setup.account_id).bounce_alert_email == "Alerts@verde.example"

    suppression = page.get_by_role("region", name="Suppression list")
    expect(suppression).to_contain_text("Applied")
    expect(suppression.get_by_role("radio", name=re.compile("^Apply"))).to_be_checked()
    suppression.get_by_text("Ignore", exact=True).click()
    suppression.get_by_role("button", name="Save choice").click()
    expect(page.get_by_role("status")).to_contain_text("The suppression list is ignored")
    expect(suppression).to_contain_text("Ignored")
    expect(suppression.get_by_role("radio", name=re.compile("^Ignore"))).to_be_checked()
    assert _account(db, setup.account_id).suppression_enabled is False
    suppression.get_by_text("Apply", exact=True).click()
    suppression.get_by_role("button", name="Save choice").click()
    expect(page.get_by_role("status")).to_contain_text("Suppressed addresses are skipped again")
    assert _account(db, setup.account_id).suppression_enabled is True

    address.fill("")
    page.get_by_role("button", name="Save address").click()
    expect(page.get_by_role("status")).to_contain_text("Bounce alerts are off")
    assert _account(db, setup.account_id).bounce_alert_email is None


def test_ip_access_control(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    setup = customer_account(factory, db, person)
    setup.owner.log_in(page)
    page.goto(f"/accounts/{setup.account_id}/protection")
    ip_card = page.get_by_role("region", name="IP access control")
    expect(ip_card).to_contain_text("No restriction: any address may connect.")
    field = ip_card.get_by_label("Add an address or range")
    add = ip_card.get_by_role("button", name="Add")

    field.fill("10.0.0.0/33")
    add.click()
    expect(ip_card.locator(".field-error")).to_have_text(
        "'10.0.0.0/33' is not an IP address or CIDR range"
    )
    expect(field).to_have_value("10.0.0.0/33")
    field.fill("10.0.0.1/24")
    add.click()
    expect(ip_card.locator(".field-error")).to_have_text("'10.0.0.1/24' has host bits set")
    assert _account(db, setup.account_id).ip_allowlist == []

    for entry in ("203.0.113.7", "198.51.100.0/24", "2001:DB8::/32"):
        field.fill(entry)
        add.click()
        expect(page.get_by_role("status")).to_contain_text("may now use the account")
    expect(ip_card.get_by_role("row", name="198.51.100.0/24")).to_contain_text("IPv4 range")
    expect(ip_card.get_by_role("row", name="203.0.113.7")).to_contain_text("IPv4 address")
    expect(ip_card.get_by_role("row", name="2001:db8::/32")).to_contain_text("IPv6 range")
    field.fill("203.0.113.7")
    add.click()
    expect(ip_card.locator(".field-error")).to_have_text("203.0.113.7 is already in the list")
    assert _account(db, setup.account_id).ip_allowlist == [
        "203.0.113.7",
        "198.51.100.0/24",
        "2001:db8::/32",
    ]
    page.goto(f"/accounts/{setup.account_id}/protection")
    screenshot(page, "account-protection")

    ip_card.get_by_role("button", name="Remove 198.51.100.0/24").click()
    expect(page.get_by_role("status")).to_contain_text("198.51.100.0/24 was removed")
    for entry in ("203.0.113.7", "2001:db8::/32"):
        ip_card.get_by_role("button", name=f"Remove {entry}").click()
    expect(page.get_by_role("status")).to_contain_text("any address may connect now")
    expect(ip_card).to_contain_text("No restriction: any address may connect.")
    assert _account(db, setup.account_id).ip_allowlist == []


def test_another_customer_cannot_see_or_change_the_protection(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    victim = customer_account(factory, db, person)
    intruder = customer_account(
        factory, db, person, name="Pizzeria Da Mario", email="mario@mario.example"
    )
    intruder.owner.log_in(page)
    expect_not_found(page, f"/accounts/{victim.account_id}/protection")
    token = csrf_token(page)
    base = f"/accounts/{victim.account_id}/protection"
    for path, form in [
        (f"{base}/bounce-alerts", {"bounce_alert_email": "mario@mario.example"}),
        (f"{base}/suppression", {"suppression": "ignore"}),
        (f"{base}/ip-access", {"address": "192.0.2.1"}),
        (f"{base}/ip-access/remove", {"entry": "192.0.2.1"}),
    ]:
        response = page.request.post(path, form={"csrf_token": token, **form})
        assert response.status == 404, path
    account = _account(db, victim.account_id)
    assert account.bounce_alert_email is None
    assert account.suppression_enabled is True
    assert account.ip_allowlist == []


def test_a_read_only_user_sees_no_write_controls(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    setup = customer_account(factory, db, person)
    with db.session() as session:
        session.get_one(DeliveryAccount, setup.account_id).ip_allowlist = ["192.0.2.1"]
    person(setup.customer, "auditor@verde.example", Role.read_only).log_in(page)
    page.goto(f"/accounts/{setup.account_id}/protection")
    main = page.locator("main")
    expect(main.get_by_role("row", name="192.0.2.1")).to_be_visible()
    expect(main.get_by_role("button")).to_have_count(0)
    expect(main.get_by_role("textbox")).to_have_count(0)
    expect(main.get_by_role("radio")).to_have_count(0)
    token = csrf_token(page)
    base = f"/accounts/{setup.account_id}/protection"
    for path, form in [
        (f"{base}/suppression", {"suppression": "ignore"}),
        (f"{base}/ip-access", {"address": "192.0.2.2"}),
        (f"{base}/ip-access/remove", {"entry": "192.0.2.1"}),
    ]:
        response = page.request.post(path, form={"csrf_token": token, **form})
        assert response.status == 403, path
    account = _account(db, setup.account_id)
    assert account.suppression_enabled is True
    assert account.ip_allowlist == ["192.0.2.1"]


def test_every_account_area_is_labelled_and_readable(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    setup = customer_account(factory, db, person, plan="free")
    with db.session() as session:
        domain = make_domain(
            session, org_id=setup.customer.org_id, name="shop.example", account_id=setup.account_id
        )
        session.get_one(DeliveryAccount, setup.account_id).ip_allowlist = ["192.0.2.1"]
        make_send_token(session, session.get_one(DeliveryAccount, setup.account_id), ["192.0.2.1"])
        domain_id = domain.id
    [token_id] = [t.id for t in _token_rows(db, setup.account_id)]
    setup.owner.log_in(page)
    base = f"/accounts/{setup.account_id}"
    for path in [
        f"{base}/domains",
        f"{base}/domains/{domain_id}/remove",
        f"{base}/credentials",
        f"{base}/password",
        f"{base}/protection",
        f"{base}/tokens",
        f"{base}/tokens/new",
        f"{base}/tokens/{token_id}",
        f"{base}/tokens/{token_id}/delete",
    ]:
        page.goto(path)
        assert page.evaluate(UNLABELLED) == [], path
        assert page.evaluate(LOW_CONTRAST) == [], path
    page.goto(f"{base}/protection")
    page.get_by_label("Add an address or range").fill("10.0.0.0/33")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".field-error")).to_be_visible()
    assert page.evaluate(LOW_CONTRAST) == []
