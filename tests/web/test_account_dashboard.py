"""An account's dashboard in a browser: details, quota bars, the month's chart; isolation."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outpost.accounts.models import DeliveryAccount
from outpost.db import Database, utcnow
from outpost.events.models import DailyStats
from tests.factories import Factory, make_account
from tests.web.conftest import Person, facts, screenshot
from tests.web.test_accessibility import LOW_CONTRAST

pytestmark = pytest.mark.browser


def _account_with_traffic(db: Database, org_id: int) -> int:
    now = utcnow()
    with db.session() as session:
        account = make_account(
            session, org_id=org_id, description="Booking confirmations", remaining=11_500
        )
        account.used, account.plan_messages = 2_500, 10_000
        account.extra_messages, account.extra_used = 5_000, 1_000
        account.period_start, account.period_end = now - timedelta(days=3), now + timedelta(days=27)
        account.extra_expires_at = now + timedelta(days=200)
        today = now.date()
        session.add(
            DailyStats(
                account_id=account.id, day=today, sent=120, delivered=110, bounced=6, suppressed=4
            )
        )
        if today.day > 1:
            session.add(
                DailyStats(
                    account_id=account.id,
                    day=today.replace(day=1),
                    sent=40,
                    delivered=39,
                    bounced=1,
                    suppressed=0,
                )
            )
        return account.id


def test_the_dashboard_shows_details_quota_and_the_month_chart(
    page: Page, db: Database, factory: Factory, person: Callable[..., Person]
) -> None:
    customer = factory.customer(None, "Hotel Bella Vista")
    account_id = _account_with_traffic(db, customer.org_id)
    person(customer, "owner@bellavista.example").log_in(page)
    page.goto("/accounts")
    page.get_by_role("link", name="Booking confirmations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Booking confirmations")
    nav = page.get_by_role("navigation", name="Account")
    expect(nav.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")

    details = facts(
        page.locator("section", has=page.get_by_role("heading", name="Account details"))
    )
    assert details["Plan"] == "Monthly subscription"
    assert details["Status"] == "Enabled"
    assert details["Domains"] == "0 of 250"

    usage = page.locator("section", has=page.get_by_role("heading", name="Messages"))
    expect(usage).to_contain_text("11,500 left in all")
    expect(usage).to_contain_text("2,500 of 10,000 used")
    expect(usage).to_contain_text("1,000 of 5,000 used")
    bars = usage.locator("progress")
    expect(bars.nth(0)).to_have_attribute("value", "2500")
    expect(bars.nth(0)).to_have_attribute("max", "10000")
    expect(bars.nth(1)).to_have_attribute("value", "1000")
    expect(usage).to_contain_text("valid until")

    month = utcnow().strftime("%B %Y")
    chart = page.get_by_role("img", name=f"Messages per day in {month}")
    expect(chart).to_be_visible()
    expect(chart.locator("polyline")).to_have_count(4)
    legend = page.get_by_role("list", name="Series")
    sent_total = 160 if utcnow().day > 1 else 120
    expect(legend).to_contain_text(f"Sent {sent_total}")
    expect(legend).to_contain_text("Bounced")
    expect(legend).to_contain_text("Suppressed 4")
    table = page.locator("table", has=page.locator("caption", has_text="Messages per day"))
    expect(table.locator("tbody tr")).to_have_count(utcnow().day)
    expect(table.locator("tbody tr").last).to_contain_text("120")

    expect(page.get_by_role("link", name="Change plan")).to_have_attribute(
        "href", f"/accounts/{account_id}/service#change-plan"
    )
    page.get_by_role("link", name="Purchase extra messages").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{account_id}/service#extra-messages$"))
    page.goto(f"/accounts/{account_id}")
    assert page.evaluate(LOW_CONTRAST) == []
    screenshot(page, "account-dashboard")


def test_another_customer_gets_the_404_page_and_cannot_terminate(
    page: Page, db: Database, factory: Factory, person: Callable[..., Person]
) -> None:
    owner = factory.customer(None, "Hotel Bella Vista")
    account_id = _account_with_traffic(db, owner.org_id)
    stranger = factory.customer(None, "Someone Else")
    person(stranger, "admin@else.example").log_in(page)
    for path in (f"/accounts/{account_id}", f"/accounts/{account_id}/service"):
        response = page.goto(path)
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    page.goto("/accounts")
    expect(page.get_by_text("No delivery accounts yet")).to_be_visible()
    token = page.locator('input[name="csrf_token"]').first.input_value()
    with db.session() as session:
        username = session.get_one(DeliveryAccount, account_id).username
    status = page.evaluate(
        """async ([url, token, username]) => {
            const body = new URLSearchParams({csrf_token: token, confirm_username: username});
            const response = await fetch(url, {method: "POST", body});
            return response.status;
        }""",
        [f"/accounts/{account_id}/service/terminate", token, username],
    )
    assert status == 404
    with db.session() as session:
        assert session.scalar(select(DeliveryAccount.id).where(DeliveryAccount.id == account_id))
