"""What the browser tests of one delivery account's areas share: a customer with an account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from outpost.db import Database
from outpost.tenancy.models import Role
from tests.factories import Factory, Tenant, make_account
from tests.web.conftest import Person


@dataclass(frozen=True)
class CustomerAccount:
    """A customer organization, its owner (logged in by tests) and one delivery account."""

    customer: Tenant
    owner: Person
    account_id: int


def customer_account(
    factory: Factory,
    db: Database,
    person: Callable[..., Person],
    *,
    name: str = "Trattoria Verde",
    email: str = "owner@verde.example",
    plan: str = "monthly",
    description: str = "Order confirmations",
    smtp_password: str | None = None,
) -> CustomerAccount:
    """A customer of a reseller with an owner and one enabled account on ``plan``."""
    reseller = factory.reseller("Acme Hosting")
    customer = factory.customer(reseller, name)
    with db.session() as session:
        account = make_account(
            session,
            org_id=customer.org_id,
            plan=plan,
            description=description,
            smtp_password=smtp_password,
        )
    return CustomerAccount(customer, person(customer, email, Role.owner), account.id)


def expect_not_found(page: Page, path: str) -> None:
    """Opening ``path`` shows the panel's 404 page."""
    response = page.goto(path)
    assert response is not None and response.status == 404, path
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")


def csrf_token(page: Page) -> str:
    """The CSRF token of the logged-in session, read from the current page."""
    return page.locator("input[name=csrf_token]").first.input_value()
