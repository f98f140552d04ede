"""The users of one's own organization in the browser: add, change role, remove."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from outpost.tenancy.models import Role
from tests.factories import Factory
from tests.web.conftest import Person, screenshot, sidebar

pytestmark = pytest.mark.browser


def test_add_a_user_who_logs_in_with_the_generated_password(
    page: Page, factory: Factory, person: Callable[..., Person]
) -> None:
    customer = factory.customer(None, "Hotel Bella Vista")
    person(customer, "owner@bellavista.example").log_in(page)
    sidebar(page, "Users").click()
    page.get_by_role("link", name="Add user").click()
    page.get_by_label("E-mail").fill("Clerk@BellaVista.example")
    page.get_by_label("Name").fill("Front Desk")
    page.get_by_text("Read-only", exact=True).click()
    page.get_by_role("button", name="Add user").click()

    # Addresses are kept in lower case, so nobody gets two logins by changing case.
    expect(page.get_by_role("status")).to_have_text(
        "clerk@bellavista.example was added as read-only."
    )
    password = page.get_by_label("Generated password").input_value()
    screenshot(page, "user-created")
    page.get_by_role("link", name="Back to users").click()
    row = page.get_by_role("row", name=re.compile("Front Desk"))
    expect(row.get_by_label("Role of clerk@bellavista.example")).to_have_value("read_only")

    page.get_by_role("button", name="Log out").click()
    Person(customer, "Clerk@bellavista.example", password).log_in(page)
    expect(page.locator(".org-card")).to_contain_text("Read-only")


def test_change_a_role_and_remove_a_user(
    page: Page, factory: Factory, person: Callable[..., Person]
) -> None:
    reseller = factory.reseller("Acme Hosting")
    person(reseller, "boss@acme.example").log_in(page)
    factory.user(reseller.org_id, "helper@acme.example", "helper-password-1", Role.member)
    page.goto("/users")
    page.get_by_label("Role of helper@acme.example").select_option("admin")
    page.get_by_role("button", name="Save role of helper@acme.example").click()
    expect(page.get_by_role("status")).to_have_text("helper@acme.example is now admin.")
    expect(page.get_by_label("Role of helper@acme.example")).to_have_value("admin")
    # Nobody changes their own role or removes themselves.
    expect(page.get_by_label("Role of boss@acme.example")).to_have_count(0)
    expect(page.get_by_role("link", name="Remove boss@acme.example")).to_have_count(0)

    page.get_by_role("link", name="Remove helper@acme.example").click()
    expect(page.get_by_role("heading", name="Remove helper@acme.example?")).to_be_visible()
    page.get_by_role("button", name="Remove user").click()
    expect(page.get_by_role("status")).to_have_text(
        "helper@acme.example was removed and can no longer log in."
    )
    expect(page.locator("tbody").get_by_text("helper@acme.example")).to_have_count(0)


def test_an_email_in_use_is_refused_next_to_the_field(page: Page, operator_admin: Person) -> None:
    operator_admin.log_in(page)
    page.goto("/users/new")
    page.get_by_label("E-mail").fill(operator_admin.email)
    page.get_by_role("button", name="Add user").click()
    expect(page.locator("#f-email-error")).to_have_text("Already exists")
    expect(page.get_by_label("E-mail")).to_have_value(operator_admin.email)
