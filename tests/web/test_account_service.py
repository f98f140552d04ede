"""Service management in a browser: change plan, buy extra messages, terminate."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outpost.accounts.models import DeliveryAccount
from outpost.billing.models import Order, OrderKind, OrderStatus
from outpost.db import Database
from outpost.plans.models import Plan
from tests.accounts.helpers import give_billing
from tests.factories import Factory, make_account
from tests.web.conftest import Person, screenshot
from tests.web.test_accessibility import LOW_CONTRAST, UNLABELLED

pytestmark = pytest.mark.browser


def _orders(db: Database, account_id: int) -> list[tuple[OrderKind, int, int]]:
    with db.session() as session:
        return [
            (o.kind, o.messages, o.amount_cents)
            for o in session.scalars(
                select(Order)
                .where(Order.account_id == account_id, Order.status == OrderStatus.pending)
                .order_by(Order.id)
            )
        ]


def test_extra_messages_and_a_plan_change_are_ordered(
    page: Page, db: Database, factory: Factory, person: Callable[..., Person]
) -> None:
    customer = factory.customer(None, "Hotel Bella Vista")
    give_billing(db, customer.org_id)
    with db.session() as session:
        account = make_account(session, org_id=customer.org_id, description="Bookings")
        account_id = account.id
    person(customer, "owner@bellavista.example").log_in(page)
    page.goto(f"/accounts/{account_id}")
    page.get_by_role("navigation", name="Account").get_by_role(
        "link", name="Service management"
    ).click()
    expect(page.get_by_text("Unused messages are lost", exact=True)).to_be_visible()

    extra = page.locator("#extra-messages")
    extra.get_by_label("Package").select_option(label="5,000 messages — 6.00 EUR")
    extra.get_by_text("Card, charged automatically").click()
    extra.get_by_role("button", name="Order extra messages").click()
    expect(page.locator(".alert-success")).to_contain_text("was placed: 6.00 EUR to pay")
    assert _orders(db, account_id) == [(OrderKind.extra_messages, 5_000, 600)]
    expect(
        page.get_by_role("heading", name=re.compile(r"Order \d+ waits for payment"))
    ).to_have_count(1)
    expect(page.get_by_text("Your card is charged 6.00 EUR automatically")).to_be_visible()

    plan = page.locator("#change-plan")
    monthly = plan.locator("[data-plan-option=monthly]")
    expect(monthly.get_by_role("radio")).to_be_checked()  # the current plan
    slider = monthly.get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")
    expect(monthly.locator("output")).to_have_text("35.00 EUR per month")
    plan.get_by_text("PayPal, paid manually").click()
    plan.get_by_role("button", name="Change plan").click()
    expect(page.locator(".alert-success")).to_contain_text("was placed: 35.00 EUR to pay")
    assert _orders(db, account_id)[1] == (OrderKind.plan_change, 50_000, 3500)
    expect(page.get_by_text("Send 35.00 EUR by PayPal, quoting order number")).to_be_visible()
    with db.session() as session:
        # Nothing changes until the order is paid.
        assert session.get_one(DeliveryAccount, account_id).plan_messages == 10_000
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(LOW_CONTRAST) == []
    screenshot(page, "account-service")

    # A second plan change waits for the first order.
    page.locator("#change-plan").get_by_role("button", name="Change plan").click()
    expect(page.get_by_role("alert")).to_contain_text("is waiting for payment for this account")
    assert len(_orders(db, account_id)) == 2


def test_moving_to_the_free_plan_happens_at_once(
    page: Page, db: Database, factory: Factory, person: Callable[..., Person]
) -> None:
    customer = factory.customer(None, "Pizzeria Da Mario")
    with db.session() as session:
        account_id = make_account(session, org_id=customer.org_id, description="Orders").id
    person(customer, "owner@pizzeria.example").log_in(page)
    page.goto(f"/accounts/{account_id}/service")
    # Without billing data the page says what paid plans need.
    expect(page.get_by_text("Paid plans need the customer's billing data")).to_be_visible()
    page.locator("[data-plan-option=free]").get_by_role("radio").check()
    page.get_by_role("button", name="Change plan").click()
    expect(page.locator(".alert-success")).to_contain_text("The account is now on the Free plan.")
    expect(page).to_have_url(re.compile(rf"/accounts/{account_id}$"))
    with db.session() as session:
        account = session.get_one(DeliveryAccount, account_id)
        assert session.get_one(Plan, account.plan_id).code == "free"
        assert account.plan_messages == 3000
    # Free plans cannot buy extra messages.
    page.goto(f"/accounts/{account_id}/service")
    expect(page.locator("#extra-messages")).to_contain_text("cannot buy extra messages")
    expect(page.get_by_role("button", name="Order extra messages")).to_have_count(0)


def test_terminating_asks_for_the_username_and_offers_the_export_first(
    page: Page, db: Database, factory: Factory, person: Callable[..., Person]
) -> None:
    customer = factory.customer(None, "Studio Rossi")
    with db.session() as session:
        account = make_account(session, org_id=customer.org_id, description="Invoices")
        account_id, username = account.id, account.username
    person(customer, "owner@rossi.example").log_in(page)
    page.goto(f"/accounts/{account_id}/service")
    terminate = page.locator("#terminate")
    expect(terminate).to_contain_text("Domains stay")
    expect(terminate).to_contain_text("The suppression list is deleted")
    expect(
        terminate.get_by_role("link", name="Export the suppression list (CSV)")
    ).to_have_attribute("href", f"/accounts/{account_id}/suppression/export.csv")
    terminate.get_by_role("link", name="Terminate service…").click()
    field = page.get_by_label(f"Type the username {username} to confirm")
    field.fill("not-the-username")
    page.get_by_role("button", name="Terminate service").click()
    expect(page.get_by_role("alert")).to_contain_text("Type the account's username exactly")
    with db.session() as session:
        assert session.get(DeliveryAccount, account_id) is not None
    page.get_by_label(f"Type the username {username} to confirm").fill(username)
    page.get_by_role("button", name="Terminate service").click()
    expect(page).to_have_url(re.compile(r"/accounts$"))
    expect(page.locator(".alert-success")).to_contain_text(
        "The service of “Invoices” was terminated. Its domains are still yours."
    )
    with db.session() as session:
        assert session.get(DeliveryAccount, account_id) is None


def test_read_only_users_see_the_service_but_cannot_change_it(
    page: Page, db: Database, factory: Factory, person: Callable[..., Person]
) -> None:
    from outpost.tenancy.models import Role

    customer = factory.customer(None, "Read Only Ltd")
    with db.session() as session:
        account_id = make_account(session, org_id=customer.org_id).id
    person(customer, "viewer@readonly.example", Role.read_only).log_in(page)
    page.goto(f"/accounts/{account_id}/service")
    expect(page.get_by_text("Your role can see this account's service")).to_be_visible()
    expect(page.get_by_role("button")).not_to_contain_text(["Change plan"])
    expect(page.locator("#terminate")).to_have_count(0)
