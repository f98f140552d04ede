"""Every main screen renders for each kind of user, and a picture of it is kept."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from outpost.tenancy.models import Role
from tests.factories import Factory
from tests.web.conftest import Person, screenshot

pytestmark = pytest.mark.browser


def test_operator_screens(page: Page, factory: Factory, operator_admin: Person) -> None:
    reseller = factory.reseller("Acme Hosting")
    factory.customer(reseller, "Hotel Bella Vista")
    factory.customer(None, "Direct Customer Ltd")
    page.goto("/login")
    screenshot(page, "login")
    operator_admin.log_in(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    screenshot(page, "home-operator")
    for path, name in [
        ("/organizations", "organizations"),
        ("/organizations?kind=reseller", "resellers"),
        ("/organizations/new", "organization-new"),
        (f"/organizations/{reseller.org_id}", "organization-detail"),
        ("/users", "users"),
        ("/users/new", "user-new"),
        ("/api-keys", "api-keys"),
        ("/api-keys/new", "api-key-new"),
        ("/plans", "plans-operator"),
        ("/plans/monthly/edit", "plan-edit"),
        ("/profile", "profile"),
        ("/organization", "company-profile"),
        ("/no-such-page", "not-found"),
    ]:
        page.goto(path)
        screenshot(page, name)


def test_reseller_and_customer_screens(
    page: Page, factory: Factory, person: Callable[..., Person]
) -> None:
    reseller = factory.reseller("Acme Hosting")
    for name in ("Hotel Bella Vista", "Pizzeria Da Mario", "Studio Legale Rossi"):
        factory.customer(reseller, name)
    person(reseller, "boss@acme.example").log_in(page)
    screenshot(page, "home-reseller")
    page.goto("/organizations")
    screenshot(page, "customers-reseller")
    page.get_by_role("button", name="Log out").click()

    customer = factory.customer(reseller, "Trattoria Verde")
    person(customer, "owner@verde.example", Role.admin).log_in(page)
    expect(page.get_by_role("navigation", name="Main")).not_to_contain_text("Customers")
    screenshot(page, "home-customer")
    page.goto("/organization")
    screenshot(page, "company-profile-customer")
