"""The accounts list in a browser: empty state, quick and advanced filters, search, sort, pages."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from outpost.accounts.models import AccountStatus, AccountType
from outpost.db import Database
from outpost.tenancy.models import Role
from tests.factories import Factory, make_account
from tests.web.conftest import Person, screenshot
from tests.web.test_accessibility import LOW_CONTRAST

pytestmark = pytest.mark.browser


def _rows(page: Page) -> list[str]:
    return page.locator("table.accounts-table tbody tr td:nth-child(2)").all_inner_texts()


def test_a_customer_without_accounts_is_offered_to_create_one(
    page: Page, factory: Factory, person: Callable[..., Person]
) -> None:
    customer = factory.customer(None, "Trattoria Verde")
    person(customer, "owner@verde.example").log_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    expect(page.get_by_text("No delivery accounts yet")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
    expect(page.locator(".page-actions").get_by_role("link", name="Account")).to_have_count(0)
    screenshot(page, "accounts-empty")
    page.get_by_role("link", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/accounts/new$"))
    expect(page.get_by_text("Step 1 of 4")).to_be_visible()


def _fill(db: Database, factory: Factory) -> None:
    hotel = factory.customer(None, "Hotel Bella Vista")
    pizzeria = factory.customer(None, "Pizzeria Da Mario")
    with db.session() as session:
        for number in range(1, 19):
            make_account(
                session,
                org_id=hotel.org_id,
                description=f"Booking mail {number:02d}",
                remaining=number * 1000,
            )
        make_account(
            session,
            org_id=pizzeria.org_id,
            description="Pizza orders",
            plan="prepaid",
            remaining=50_000,
            status=AccountStatus.awaiting_payment,
        )
        news = make_account(
            session,
            org_id=pizzeria.org_id,
            description="Pizza newsletter",
            plan="prepaid",
            remaining=7_500,
        )
        news.type = AccountType.promotional
        make_account(
            session,
            org_id=pizzeria.org_id,
            description="Old <b>shop</b>",
            status=AccountStatus.disabled,
            remaining=0,
        )
        make_account(
            session, org_id=hotel.org_id, description="Spam trap", status=AccountStatus.blocked
        )


def test_quick_filter_advanced_filter_search_sort_and_pages(
    page: Page, db: Database, factory: Factory, operator_admin: Person
) -> None:
    _fill(db, factory)
    operator_admin.log_in(page)
    page.goto("/accounts")
    quick = page.get_by_role("navigation", name="Filter by status")
    expect(quick.get_by_role("link", name="All 22")).to_have_attribute("aria-current", "true")
    for label in ("Enabled 19", "Awaiting payment 1", "Disabled 1", "Blocked 1"):
        expect(quick.get_by_role("link", name=label)).to_be_visible()
    expect(page.locator(".page-actions").get_by_role("link", name="Account")).to_be_visible()
    headers = page.locator("table.accounts-table thead th")
    columns = ["Status", "Account", "Username", "Domains", "Remaining", "Type", "Plan · customer"]
    expect(headers).to_have_text([re.compile(rf"^\s*{name}") for name in columns])
    # The description is text, never markup.
    expect(page.get_by_role("link", name="Old <b>shop</b>")).to_be_visible()
    expect(page.locator("table.accounts-table tbody tr")).to_have_count(20)
    assert page.evaluate(LOW_CONTRAST) == []
    screenshot(page, "accounts-list")

    # Paging.
    expect(page.get_by_text("Page 1 of 2 · 22 in all")).to_be_visible()
    page.get_by_role("link", name="Next").click()
    expect(page.locator("table.accounts-table tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Previous").click()

    # Quick filter.
    quick.get_by_role("link", name="Awaiting payment 1").click()
    assert _rows(page) == ["Pizza orders"]
    row = page.locator("table.accounts-table tbody tr").first
    expect(row).to_contain_text("Awaiting payment")
    expect(row).to_contain_text("Pizzeria Da Mario")
    expect(row).to_contain_text("Prepaid package")
    quick.get_by_role("link", name=re.compile("^All")).click()

    # Advanced filter: type, plan, remaining range.
    page.locator("summary", has_text="Filter").click()
    page.get_by_label("Plan").select_option("prepaid")
    page.get_by_role("button", name="Apply filters").click()
    assert sorted(_rows(page)) == ["Pizza newsletter", "Pizza orders"]
    expect(quick.get_by_role("link", name="All 2")).to_be_visible()
    expect(page.get_by_text("Plan: Prepaid package")).to_be_visible()
    page.locator("summary", has_text="Filter").click()
    page.get_by_label("Type").select_option("promotional")
    page.get_by_role("button", name="Apply filters").click()
    assert _rows(page) == ["Pizza newsletter"]
    page.get_by_role("link", name="Clear filters").click()
    page.locator("summary", has_text="Filter").click()
    page.get_by_label("Remaining messages from").fill("5000")
    page.get_by_label("Remaining messages to").fill("8000")
    page.get_by_role("button", name="Apply filters").click()
    assert sorted(_rows(page)) == [
        "Booking mail 05",
        "Booking mail 06",
        "Booking mail 07",
        "Booking mail 08",
        "Pizza newsletter",
    ]

    # Sorting by a header link, with aria-sort, keeping the filter.
    remaining = page.locator("th", has_text="Remaining")
    expect(remaining).to_have_attribute("aria-sort", "none")
    remaining.get_by_role("link").click()
    expect(remaining).to_have_attribute("aria-sort", "ascending")
    assert _rows(page)[:2] == ["Booking mail 05", "Booking mail 06"]
    remaining.get_by_role("link").click()
    expect(remaining).to_have_attribute("aria-sort", "descending")
    assert _rows(page)[:2] == ["Booking mail 08", "Pizza newsletter"]

    # Text search on description or username, with the filters cleared.
    page.goto("/accounts")
    page.get_by_label("Search accounts by description or username").fill("pizza")
    page.get_by_role("button", name="Search").click()
    assert sorted(_rows(page)) == ["Pizza newsletter", "Pizza orders"]
    page.get_by_label("Search accounts by description or username").fill("nothing-like-this")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No accounts match")).to_be_visible()


def test_a_read_only_user_sees_the_list_without_the_create_button(
    page: Page, db: Database, factory: Factory, person: Callable[..., Person]
) -> None:
    customer = factory.customer(None, "Read Only Ltd")
    with db.session() as session:
        make_account(session, org_id=customer.org_id, description="Their account")
    person(customer, "viewer@readonly.example", Role.read_only).log_in(page)
    page.goto("/accounts")
    expect(page.get_by_role("link", name="Their account")).to_be_visible()
    expect(page.locator(".page-actions").get_by_role("link", name="Account")).to_have_count(0)
    # Customers are not shown their own name in every row.
    expect(page.locator("th", has_text="customer")).to_have_count(0)
    expect(page.locator("td .cell-sub")).to_have_count(0)
