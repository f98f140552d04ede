"""Orders in the browser: customers see how to pay, the operator marks them paid."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Page, expect

from outpost.accounts.models import AccountStatus, DeliveryAccount
from outpost.billing.models import Order, OrderStatus
from outpost.db import Database
from outpost.tenancy.models import Role
from tests.accounts.helpers import give_billing
from tests.factories import Factory, Tenant
from tests.web.conftest import LiveServer, Person, screenshot, sidebar

pytestmark = pytest.mark.browser


def _paid_account(
    server: LiveServer, tenant: Tenant, description: str, plan: str = "monthly"
) -> dict[str, Any]:
    """A paid account awaiting payment, made through the Management API like the wizard does."""
    response = httpx2.post(
        f"{server.url}/api/v1/accounts",
        headers=tenant.headers,
        json={
            "description": description,
            "type": "transactional",
            "plan": plan,
            "messages": 10_000,
            "payment_method": "paypal_manual",
        },
    )
    assert response.status_code == 201, response.text
    account: dict[str, Any] = response.json()["resources"][0]
    assert account["status"] == "awaiting_payment" and account["order"] is not None
    return account


def _customer(factory: Factory, name: str, parent: Tenant | None = None) -> Tenant:
    customer = factory.customer(parent, name)
    give_billing(factory.db, customer.org_id)
    return customer


def _state(db: Database, account_id: int, order_id: int) -> tuple[AccountStatus, OrderStatus]:
    with db.session() as session:
        account = session.get_one(DeliveryAccount, account_id)
        order = session.get_one(Order, order_id)
        return account.status, order.status


def _order_numbers(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("tbody tr td:first-child a").all_inner_texts()]


def test_customer_sees_how_to_pay_and_the_operator_marks_the_order_paid(
    page: Page,
    factory: Factory,
    person: Callable[..., Person],
    operator_admin: Person,
    live_server: LiveServer,
    db: Database,
) -> None:
    customer = _customer(factory, "Hotel Bella Vista")
    account = _paid_account(live_server, customer, "Hotel newsletter")
    order_id = account["order"]["id"]
    amount = f"{account['order']['amount']} {account['order']['currency']}"

    person(customer, "owner@bella.example").log_in(page)
    sidebar(page, "Orders").click()
    expect(page.get_by_role("note")).to_contain_text("1 order is awaiting payment")
    row = page.get_by_role("row", name=re.compile(f"#{order_id}"))
    for text in [
        "Hotel newsletter",
        "New account",
        "Monthly subscription",
        amount,
        "Awaiting payment",
    ]:
        expect(row).to_contain_text(text)
    expect(page.get_by_role("link", name=re.compile("Mark paid"))).to_have_count(0)
    row.get_by_role("link", name=re.compile("How to pay")).click()
    instructions = page.locator("section", has=page.get_by_role("heading", name="How to pay"))
    expect(instructions).to_contain_text(f"Send {amount} by PayPal")
    expect(instructions).to_contain_text(f"order #{order_id}")
    expect(page.get_by_role("link", name="Mark paid")).to_have_count(0)
    screenshot(page, "order-how-to-pay")

    token = page.locator("input[name=csrf_token]").first.input_value()
    refused = page.request.post(f"/orders/{order_id}/pay", form={"csrf_token": token})
    assert refused.status == 403
    assert _state(db, account["id"], order_id) == (
        AccountStatus.awaiting_payment,
        OrderStatus.pending,
    )
    page.get_by_role("button", name="Log out").click()

    operator_admin.log_in(page)
    sidebar(page, "Orders").click()
    row = page.get_by_role("row", name=re.compile(f"#{order_id}"))
    expect(row).to_contain_text("Hotel Bella Vista")
    screenshot(page, "orders-list")
    row.get_by_role("link", name=re.compile("Mark paid")).click()
    expect(
        page.get_by_role("heading", name=f"Record the payment of order #{order_id}?")
    ).to_be_visible()
    page.get_by_role("button", name="Mark paid").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Order #{order_id} was marked paid. The account “Hotel newsletter” is enabled."
    )
    expect(page.locator(".subtitle")).to_contain_text("Paid")
    assert _state(db, account["id"], order_id) == (AccountStatus.enabled, OrderStatus.paid)

    page.goto("/orders?status=paid")
    assert _order_numbers(page) == [f"#{order_id}"]
    page.get_by_role("link", name="Awaiting payment").click()
    expect(page.get_by_text("No orders awaiting payment")).to_be_visible()


def test_pending_orders_are_cancelled_by_the_customer_or_the_operator(
    page: Page,
    factory: Factory,
    person: Callable[..., Person],
    operator_admin: Person,
    live_server: LiveServer,
    db: Database,
) -> None:
    customer = _customer(factory, "Pizzeria Da Mario")
    first = _paid_account(live_server, customer, "Menu mailing")
    second = _paid_account(live_server, customer, "Receipts", plan="prepaid")
    person(customer, "owner@mario.example", Role.admin).log_in(page)
    page.goto(f"/orders/{first['order']['id']}")
    page.get_by_role("link", name="Cancel order").click()
    page.get_by_role("button", name="Cancel order").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Order #{first['order']['id']} was cancelled."
    )
    expect(page.get_by_role("link", name="Cancel order")).to_have_count(0)
    expect(page.get_by_role("heading", name="How to pay")).to_have_count(0)
    page.get_by_role("button", name="Log out").click()

    operator_admin.log_in(page)
    page.goto("/orders")
    page.get_by_role("row", name=re.compile(f"#{second['order']['id']}")).get_by_role(
        "link", name=re.compile("Cancel")
    ).click()
    page.get_by_role("button", name="Cancel order").click()
    expect(page.get_by_role("status")).to_contain_text("was cancelled")
    token = page.locator("input[name=csrf_token]").first.input_value()
    again = page.request.post(f"/orders/{second['order']['id']}/pay", form={"csrf_token": token})
    assert again.url.endswith(f"/orders/{second['order']['id']}")
    assert "The order is cancelled; only pending orders can change." in again.text()
    assert _state(db, second["id"], second["order"]["id"]) == (
        AccountStatus.awaiting_payment,
        OrderStatus.cancelled,
    )


def test_scopes_and_another_customer(
    page: Page,
    factory: Factory,
    person: Callable[..., Person],
    live_server: LiveServer,
    db: Database,
) -> None:
    reseller = factory.reseller("Acme Hosting")
    theirs = _customer(factory, "Studio Rossi", reseller)
    direct = _customer(factory, "Direct Ltd")
    their_account = _paid_account(live_server, theirs, "Studio news")
    direct_account = _paid_account(live_server, direct, "Direct news")
    their_order, direct_order = their_account["order"]["id"], direct_account["order"]["id"]

    person(reseller, "boss@acme.example").log_in(page)
    page.goto("/orders")
    assert _order_numbers(page) == [f"#{their_order}"]
    expect(page.get_by_role("row", name=re.compile(f"#{their_order}"))).to_contain_text(
        "Studio Rossi"
    )
    expect(page.get_by_role("link", name=re.compile("Mark paid"))).to_have_count(0)
    page.get_by_role("button", name="Log out").click()

    person(direct, "owner@direct.example").log_in(page)
    page.goto("/orders")
    assert _order_numbers(page) == [f"#{direct_order}"]
    for path in [
        f"/orders/{their_order}",
        f"/orders/{their_order}/pay",
        f"/orders/{their_order}/cancel",
    ]:
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    token = page.locator("input[name=csrf_token]").first.input_value()
    for action in ("pay", "cancel"):
        response = page.request.post(f"/orders/{their_order}/{action}", form={"csrf_token": token})
        assert response.status == 404, action
    assert _state(db, their_account["id"], their_order) == (
        AccountStatus.awaiting_payment,
        OrderStatus.pending,
    )
