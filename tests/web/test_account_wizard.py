"""The new-account wizard in a browser: free → Activate, paid → Order, errors on their step."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outpost.accounts.models import AccountStatus, DeliveryAccount
from outpost.billing.models import Order, OrderStatus
from outpost.db import Database
from outpost.sending.models import Message, MessageBody, MessageSource, Recipient
from outpost.tenancy.models import Organization
from tests.factories import Factory
from tests.web.conftest import Person, screenshot
from tests.web.test_accessibility import LOW_CONTRAST, UNLABELLED
from tests.web.test_panel_http import log_in

pytestmark = pytest.mark.browser


def _continue(page: Page) -> None:
    page.get_by_role("button", name="Continue").click()


def test_a_free_account_is_activated_at_once_and_shows_its_password_once(
    page: Page, db: Database, factory: Factory, person: Callable[..., Person]
) -> None:
    customer = factory.customer(None, "Trattoria Verde")
    person(customer, "owner@verde.example").log_in(page)
    page.goto("/accounts/new")
    expect(page.get_by_text("Step 1 of 4: Account")).to_be_visible()
    # Providers pick a customer; a customer does not.
    expect(page.get_by_label("Customer")).to_have_count(0)
    page.get_by_label("Description").fill("   ")
    _continue(page)
    expect(page.get_by_role("alert")).to_contain_text("Description: Is required")
    page.get_by_label("Description").fill("Table bookings")
    page.get_by_text("Promotional", exact=True).click()
    _continue(page)

    expect(page.get_by_text("Step 2 of 4: Plan")).to_be_visible()
    free = page.locator("[data-plan-option=free]")
    expect(free.get_by_role("radio")).to_be_checked()
    expect(free).to_contain_text("3,000 messages · Free")
    expect(free.get_by_role("slider")).to_have_count(0)  # a free plan's messages are fixed
    _continue(page)

    expect(page.get_by_text("Step 4 of 4: Summary")).to_be_visible()
    expect(page.get_by_role("list", name="Steps")).to_contain_text("Payment · not needed")
    expect(page.locator("[data-total]")).to_have_text("Free")
    page.get_by_role("button", name="Activate").click()

    expect(page.get_by_role("status")).to_contain_text(
        "“Table bookings” is enabled and can send now."
    )
    password = page.get_by_label("SMTP password").input_value()
    assert len(password) == 24
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied!")).to_be_visible()
    with db.session() as session:
        account = session.scalars(select(DeliveryAccount)).one()
        assert (account.status, account.type.value, account.org_id) == (
            AccountStatus.enabled,
            "promotional",
            customer.org_id,
        )
    screenshot(page, "wizard-created")
    page.get_by_role("link", name="Go to the account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Table bookings")

    # A second free account is refused on the plan step, which says why.
    page.goto("/accounts/new")
    page.get_by_label("Description").fill("Another free one")
    _continue(page)
    _continue(page)
    expect(page.get_by_text("Step 2 of 4: Plan")).to_be_visible()
    expect(page.locator(".plan-picker .field-error")).to_have_text(
        "A customer can have only one account on a free plan"
    )
    with db.session() as session:
        assert len(session.scalars(select(DeliveryAccount)).all()) == 1


def test_a_paid_account_is_ordered_with_billing_details_and_a_live_price(
    page: Page, db: Database, factory: Factory, operator_admin: Person
) -> None:
    customer = factory.customer(None, "Hotel Bella Vista")
    factory.customer(None, "Pizzeria Da Mario")
    operator_admin.log_in(page)
    page.goto("/accounts")
    page.get_by_role("link", name="Create account").click()
    expect(page.get_by_text("Step 1 of 4: Account")).to_be_visible()
    page.get_by_label("Description").fill("Booking confirmations")
    page.get_by_label("Customer").select_option(label="Hotel Bella Vista")
    screenshot(page, "wizard-step-1")
    _continue(page)

    monthly = page.locator("[data-plan-option=monthly]")
    monthly.get_by_text("Monthly subscription").click()
    slider = monthly.get_by_role("slider")
    price = monthly.locator("output")
    expect(price).to_have_text("10.00 EUR per month")
    slider.focus()
    slider.press("ArrowRight")
    expect(price).to_have_text("35.00 EUR per month")
    expect(monthly).to_contain_text("50,000 messages")
    expect(slider).to_have_attribute("aria-valuetext", "50,000 messages, 35.00 EUR per month")
    slider.press("ArrowRight")
    expect(price).to_have_text("60.00 EUR per month")
    slider.press("ArrowLeft")
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(LOW_CONTRAST) == []
    screenshot(page, "wizard-step-2")
    _continue(page)

    # The customer has no billing details yet: they come before the payment method.
    expect(page.get_by_text("Step 3 of 4: Payment")).to_be_visible()
    expect(page.get_by_role("heading", name="Billing details")).to_be_visible()
    page.get_by_text("PayPal, paid manually").click()
    page.get_by_label("Country (ISO code, e.g. IT)").fill("it")
    screenshot(page, "wizard-step-3")
    _continue(page)
    errors = page.get_by_role("alert")
    expect(errors).to_contain_text(
        "Last name: Is required: a first and last name, or a company name"
    )
    expect(errors).to_contain_text("Contract terms: Must be accepted")
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(LOW_CONTRAST) == []
    page.get_by_label("First name").fill("Giulia")
    page.get_by_label("Last name").fill("Bianchi")
    page.get_by_label("Billing e-mail").fill("billing@bellavista.example")
    page.get_by_label("I accept the contract terms of the service").check()
    _continue(page)

    expect(page.get_by_text("Step 4 of 4: Summary")).to_be_visible()
    expect(page.locator("[data-total]")).to_have_text("35.00 EUR per month")
    summary = page.locator(".summary-facts")
    expect(summary).to_contain_text("Hotel Bella Vista")
    expect(summary).to_contain_text("50,000 per month")
    expect(summary).to_contain_text("PayPal, paid manually")
    expect(page.get_by_text("e-mailed to billing@bellavista.example")).to_be_visible()
    assert page.evaluate(LOW_CONTRAST) == []
    screenshot(page, "wizard-step-4")
    page.get_by_role("button", name="Order").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Order placed")
    expect(page.get_by_text("Send 35.00 EUR by PayPal, quoting order number")).to_be_visible()
    expect(page.get_by_label("SMTP password")).to_have_value(re.compile(r"^\S{24}$"))
    with db.session() as session:
        account = session.scalars(select(DeliveryAccount)).one()
        order = session.scalars(select(Order)).one()
        assert account.status is AccountStatus.awaiting_payment
        assert (order.status, order.amount_cents, order.account_id) == (
            OrderStatus.pending,
            3500,
            account.id,
        )
        org = session.get_one(Organization, customer.org_id)
        assert org.billing["lastname"] == "Bianchi" and org.billing["country"] == "IT"
        assert org.contract_accepted_at is not None
        to, content = session.execute(
            select(Recipient.address, MessageBody.content)
            .join(Message, Message.id == Recipient.message_id)
            .join(MessageBody, MessageBody.message_id == Message.id)
            .where(Message.source == MessageSource.system)
        ).one()
    assert to == "billing@bellavista.example"
    assert f"quoting order number {order.id}" in json.loads(content)["text_body"]
    page.goto("/accounts")
    expect(page.locator("table.accounts-table tbody tr")).to_contain_text(["Awaiting payment"])


def test_back_keeps_the_answers(
    page: Page, factory: Factory, person: Callable[..., Person]
) -> None:
    customer = factory.customer(None, "Studio Rossi")
    person(customer, "owner@rossi.example").log_in(page)
    page.goto("/accounts/new")
    page.get_by_label("Description").fill("Invoices by mail")
    _continue(page)
    page.locator("[data-plan-option=prepaid]").get_by_text("Prepaid package").click()
    page.locator("[data-plan-option=prepaid]").get_by_role("slider").press("End")
    _continue(page)
    page.get_by_role("button", name="Back").click()
    expect(page.locator("[data-plan-option=prepaid] output")).to_have_text(
        "700.00 EUR for one year"
    )
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label("Description")).to_have_value("Invoices by mail")


def test_answers_carried_between_steps_are_escaped(client: TestClient, factory: Factory) -> None:
    customer = factory.customer(None, "Escaping Ltd")
    hostile = '"><script>alert(1)</script>'
    token = log_in(client)
    response = client.post(
        "/accounts/new",
        data={
            "csrf_token": token,
            "step": "1",
            "go": "next",
            "description": hostile,
            "type": "transactional",
            "org_id": str(customer.org_id),
        },
    )
    assert response.status_code == 200
    assert "Plan and messages" in response.text
    assert hostile not in response.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text
