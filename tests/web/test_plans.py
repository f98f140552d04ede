"""The plan catalog in the browser: the operator edits it, everyone else reads it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from outpost.db import Database
from outpost.plans.service import get_plan
from tests.factories import Factory
from tests.web.conftest import Person, screenshot, sidebar

pytestmark = pytest.mark.browser


def test_operator_edits_tiers_prices_and_limits(
    page: Page, operator_admin: Person, db: Database
) -> None:
    operator_admin.log_in(page)
    sidebar(page, "Plans").click()
    monthly = page.get_by_role("article", name="Monthly subscription")
    monthly.get_by_role("link", name="Edit").click()
    page.get_by_label("Messages, tier 1").fill("20,000")
    page.get_by_label("Price, tier 1").fill("18,50")
    page.get_by_role("button", name="Add a tier").click()
    page.get_by_label("Messages, tier 9").fill("2000000")
    page.get_by_label("Price, tier 9").fill("700")
    page.get_by_label("Domains per account").fill("100")
    page.get_by_label("Sending rate (messages per hour)").fill("50000")
    page.get_by_label("Extra messages: price per 1,000").fill("0.99")
    page.get_by_role("button", name="Save plan").click()

    expect(page.get_by_role("status")).to_have_text("Plan “Monthly subscription” was saved.")
    expect(monthly).to_contain_text("20,000")
    expect(monthly).to_contain_text("18.50 EUR")
    expect(monthly).to_contain_text("2,000,000")
    expect(monthly).to_contain_text("0.99 EUR per 1,000")
    with db.session() as session:
        plan = get_plan(session=session, code="monthly")
        assert plan.tiers[0] == {"messages": 20_000, "price_cents": 1850}
        assert plan.tiers[-1] == {"messages": 2_000_000, "price_cents": 70_000}
        assert (plan.max_domains, plan.send_rate_per_hour) == (100, 50_000)
        assert plan.extra_price_per_1000_cents == 99


def test_bad_tiers_are_shown_on_their_row(page: Page, operator_admin: Person) -> None:
    operator_admin.log_in(page)
    page.goto("/plans/monthly/edit")
    page.get_by_label("Price, tier 2").fill("ten euros")
    page.get_by_label("Messages, tier 3").fill("")
    page.get_by_label("Price, tier 3").fill("")
    page.get_by_label("Messages, tier 5").fill("-5")
    page.get_by_label("Domains per account").fill("251")
    page.get_by_role("button", name="Save plan").click()
    expect(page.locator("#f-tiers-1-price-error")).to_have_text("Is not an amount such as 10.00")
    expect(page.locator("#f-tiers-4-messages-error")).to_have_text("Must be greater than 0")
    expect(page.locator("#f-max_domains-error")).to_have_text("Must be at most 250")
    screenshot(page, "plan-errors")


def test_deactivate_and_activate(page: Page, operator_admin: Person) -> None:
    operator_admin.log_in(page)
    page.goto("/plans")
    prepaid = page.get_by_role("article", name="Prepaid package")
    prepaid.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("status")).to_contain_text("is inactive")
    expect(prepaid).to_contain_text("Inactive")
    prepaid.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("status")).to_contain_text("is active and offered again")
    expect(prepaid.locator(".badge")).to_have_text("Active")


def test_customers_see_the_active_catalog_read_only(
    page: Page, operator_admin: Person, factory: Factory, person: Callable[..., Person]
) -> None:
    operator_admin.log_in(page)
    page.goto("/plans")
    page.get_by_role("article", name="Free").get_by_role("button", name="Deactivate").click()
    page.get_by_role("button", name="Log out").click()

    customer = factory.customer(None, "Reader Ltd")
    person(customer, "owner@reader.example").log_in(page)
    sidebar(page, "Plans").click()
    expect(page.get_by_role("article")).to_have_count(2)
    expect(page.get_by_role("article", name="Free")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("Edit"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("activate", re.I))).to_have_count(0)
    screenshot(page, "plans-customer")
    page.goto("/plans/monthly/edit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Access denied")
