"""The reseller portal in the browser: create, search, page, edit and delete organizations."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outpost.db import Database
from outpost.tenancy.models import Organization, OrgKind
from tests.factories import Factory
from tests.web.conftest import Person, facts, screenshot, sidebar

pytestmark = pytest.mark.browser


def test_operator_creates_a_reseller_whose_owner_creates_a_customer(
    page: Page, operator_admin: Person, db: Database
) -> None:
    operator_admin.log_in(page)
    sidebar(page, "Organizations").click()
    page.get_by_role("link", name="New reseller").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New reseller")
    page.get_by_label("Reseller name").fill("Acme Hosting")
    page.get_by_label("Customer type").select_option("reseller")
    page.get_by_label("Company name").fill("Acme Hosting S.r.l.")
    page.get_by_label("Country (ISO code, e.g. IT)").fill("it")
    page.get_by_label("Owner's e-mail").fill("boss@acme.example")
    page.get_by_role("button", name="Create reseller").click()

    expect(page.get_by_role("status")).to_contain_text("“Acme Hosting” was created")
    password = page.get_by_label("Generated password").input_value()
    assert len(password) >= 20
    screenshot(page, "organization-created")
    page.get_by_role("link", name="Go to Acme Hosting").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Hosting")
    expect(page.get_by_text("Acme Hosting S.r.l.")).to_be_visible()
    expect(page.get_by_text("IT", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="boss@acme.example")).to_be_visible()
    assert password not in page.content()

    page.get_by_role("button", name="Log out").click()
    Person(operator_admin.tenant, "boss@acme.example", password).log_in(page)
    expect(page.locator(".org-card")).to_contain_text("Acme Hosting")
    expect(sidebar(page, "Customers")).to_be_visible()
    expect(sidebar(page, "Organizations")).to_have_count(0)
    sidebar(page, "Customers").click()
    expect(page.get_by_text("No customers yet")).to_be_visible()
    page.get_by_role("link", name="New customer").first.click()
    expect(page.locator("#f-parent_id")).to_have_count(0)  # its customers are its own
    page.get_by_label("Customer name").fill("Hotel Bella Vista")
    page.get_by_label("Billing e-mail").fill("billing@bellavista.example")
    page.get_by_text("Gold", exact=True).click()
    page.get_by_label("Max accounts: Free").fill("1")
    page.get_by_label("Max accounts: Monthly subscription").fill("3")
    page.get_by_label("Max mailing lists").fill("10")
    page.get_by_label("Owner's e-mail").fill("owner@bellavista.example")
    page.get_by_label("Password", exact=True).fill("a-chosen-password")
    page.get_by_role("button", name="Create customer").click()

    expect(page.get_by_role("status")).to_have_text("Customer “Hotel Bella Vista” was created.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hotel Bella Vista")
    assert facts(page.get_by_role("region", name="Plan restrictions")) == {
        "Accounts on Free": "1",
        "Accounts on Monthly subscription": "3",
        "Accounts on Prepaid package": "No limit",
        "Mailing lists": "10",
    }
    assert facts(page.get_by_role("region", name="Profile"))["Service package"] == "Gold"
    screenshot(page, "customer-detail")

    with db.session() as session:
        customer = session.scalars(
            select(Organization).where(Organization.name == "Hotel Bella Vista")
        ).one()
        reseller = session.get_one(Organization, customer.parent_id)
    assert reseller.name == "Acme Hosting"
    assert customer.restrictions == {
        "max_accounts_per_plan": {"free": 1, "monthly": 3},
        "max_mailing_lists": 10,
    }
    assert customer.billing["email_address"] == "billing@bellavista.example"


def test_validation_errors_appear_next_to_their_fields(page: Page, operator_admin: Person) -> None:
    operator_admin.log_in(page)
    page.goto("/organizations/new")
    page.get_by_label("Billing e-mail").fill("not an address")
    page.get_by_label("Country (ISO code, e.g. IT)").fill("I1")
    page.get_by_label("Max mailing lists").fill("-1")
    page.get_by_label("Owner's e-mail").fill("owner@example.com")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Create customer").click()

    expect(page.get_by_role("alert")).to_contain_text("Please correct these problems")
    for label, message in [
        ("Customer name", "Is required"),
        ("Billing e-mail", "Is not a valid email address"),
        ("Country (ISO code, e.g. IT)", "Has an invalid format"),
        ("Max mailing lists", "Must be at least 0"),
        ("Password", "Must be at least 10 characters"),
    ]:
        field = page.get_by_label(label)
        expect(field).to_have_attribute("aria-invalid", "true")
        error_id = (field.get_attribute("aria-describedby") or "").split()[-1]
        expect(page.locator(f"#{error_id}")).to_have_text(message)
    # What was typed is kept, except the password.
    expect(page.get_by_label("Billing e-mail")).to_have_value("not an address")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    screenshot(page, "organization-errors")


def test_search_and_pages(page: Page, operator_admin: Person, factory: Factory) -> None:
    for number in range(1, 24):
        factory.customer(None, f"Shop {number:02d}")
    factory.customer(None, "Bakery Rossi")
    operator_admin.log_in(page)
    page.goto("/organizations")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(20)
    expect(page.get_by_text("Page 1 of 2 · 24 in all")).to_be_visible()
    page.get_by_role("link", name="Next").click()
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("Shop 20")

    page.get_by_label("Search customers by name").fill("bakery")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Bakery Rossi")
    page.get_by_label("Search customers by name").fill("nothing like this")
    page.keyboard.press("Enter")
    expect(page.get_by_text("No customers match “nothing like this”")).to_be_visible()


def test_edit_a_customer(
    page: Page, factory: Factory, person: Callable[..., Person], db: Database
) -> None:
    reseller = factory.reseller("North Reseller")
    customer = factory.customer(reseller, "Old Name")
    person(reseller, "admin@north.example").log_in(page)
    page.goto(f"/organizations/{customer.org_id}")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Customer name").fill("New Name")
    page.get_by_label("Status").select_option("suspended")
    page.get_by_text("Platinum", exact=True).click()
    page.get_by_label("City").fill("Bologna")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("status")).to_have_text("Your changes were saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("New Name")
    expect(page.get_by_role("region", name="Profile")).to_contain_text("Suspended")
    expect(page.get_by_role("region", name="Billing data")).to_contain_text("Bologna")
    with db.session() as session:
        org = session.get_one(Organization, customer.org_id)
        assert (org.name, org.status.value, org.service_package.value) == (
            "New Name",
            "suspended",
            "platinum",
        )


def test_a_customer_edits_its_billing_data_but_not_its_package(
    page: Page, factory: Factory, person: Callable[..., Person]
) -> None:
    customer = factory.customer(None, "Self Service Ltd")
    person(customer, "me@selfservice.example").log_in(page)
    expect(sidebar(page, "Organizations")).to_have_count(0)
    expect(sidebar(page, "Customers")).to_have_count(0)
    sidebar(page, "Company profile").click()
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_text("Service package")).to_have_count(0)
    expect(page.get_by_label("Status")).to_have_count(0)
    page.get_by_label("VAT number").fill("IT01234567890")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(r"/organization$"))
    expect(page.get_by_role("status")).to_have_text("Your changes were saved.")
    expect(page.get_by_role("region", name="Billing data")).to_contain_text("IT01234567890")


def test_delete_a_customer_and_refuse_a_reseller_that_still_has_customers(
    page: Page, operator_admin: Person, factory: Factory, db: Database
) -> None:
    reseller = factory.reseller("Busy Reseller")
    factory.customer(reseller, "Its Customer")
    lonely = factory.customer(None, "Lonely Customer")
    operator_admin.log_in(page)

    page.goto(f"/organizations/{reseller.org_id}")
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete reseller").click()
    expect(page.get_by_role("alert")).to_contain_text("still owns customers")
    expect(page.get_by_role("heading", level=1)).to_have_text("Busy Reseller")

    page.goto(f"/organizations/{lonely.org_id}")
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete “Lonely Customer”?")).to_be_visible()
    screenshot(page, "organization-delete")
    page.get_by_role("button", name="Delete customer").click()
    expect(page.get_by_role("status")).to_have_text("Customer “Lonely Customer” was deleted.")
    expect(page.get_by_role("link", name="Lonely Customer")).to_have_count(0)
    with db.session() as session:
        assert session.get(Organization, lonely.org_id) is None
        assert session.get_one(Organization, reseller.org_id).kind is OrgKind.reseller
