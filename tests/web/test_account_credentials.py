"""An account's details and credentials in the browser: description, SMTP, password, status."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from outpost.accounts.models import AccountStatus, DeliveryAccount
from outpost.db import Database
from outpost.security import verify_password
from outpost.tenancy.models import Role
from tests.factories import Factory
from tests.web.account_areas import csrf_token, customer_account, expect_not_found
from tests.web.conftest import Person, facts, screenshot

pytestmark = pytest.mark.browser

OLD_PASSWORD = "old-smtp-password-123"


def _account(db: Database, account_id: int) -> DeliveryAccount:
    with db.session() as session:
        account = session.get_one(DeliveryAccount, account_id)
        session.expunge(account)
        return account


def test_edit_the_description_and_read_the_smtp_settings(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    setup = customer_account(factory, db, person)
    username = _account(db, setup.account_id).username
    setup.owner.log_in(page)
    page.goto(f"/accounts/{setup.account_id}/credentials")
    smtp = page.get_by_role("region", name="SMTP connection")
    assert facts(smtp) == {
        "Host": "outpost.test",
        "Port (STARTTLS)": "2587 · submission, upgraded with STARTTLS",
        "Port (TLS)": "2465 · SMTPS, implicit TLS from the first byte",
        "Username": f"{username}\nCopy",
        "Password": "Shown only when the account is created or the password is reset.",
    }
    smtp.get_by_role("button", name="Copy").click()
    expect(smtp.get_by_role("button", name="Copied!")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == username
    screenshot(page, "account-credentials")

    description = page.get_by_label("Description")
    description.fill("")
    page.get_by_role("button", name="Save description").click()
    expect(page.locator(".field-error")).to_have_text("Is required")
    expect(description).to_have_attribute("aria-invalid", "true")
    description.fill("Shop <receipts>")
    page.get_by_role("button", name="Save description").click()
    expect(page.get_by_role("status")).to_contain_text("The description was saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Shop <receipts>")
    assert _account(db, setup.account_id).description == "Shop <receipts>"


def test_reset_the_password_shows_a_new_one_once(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    setup = customer_account(factory, db, person, smtp_password=OLD_PASSWORD)
    setup.owner.log_in(page)
    page.goto(f"/accounts/{setup.account_id}/credentials")
    page.get_by_role("link", name="Reset password").click()
    expect(page.get_by_role("heading", name=re.compile("Reset the SMTP password"))).to_be_visible()
    # Opening the confirmation changes nothing.
    assert verify_password(_account(db, setup.account_id).smtp_password_hash, OLD_PASSWORD)
    page.get_by_role("button", name="Reset password").click()

    field = page.get_by_label("New SMTP password")
    password = field.input_value()
    assert len(password) >= 16 and password != OLD_PASSWORD
    expect(page.get_by_text("This is the only time it is shown.")).to_be_visible()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied!")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == password
    screenshot(page, "account-password-reset")
    # What SMTP AUTH checks: the new password works, the old one no longer does.
    stored = _account(db, setup.account_id).smtp_password_hash
    assert verify_password(stored, password)
    assert not verify_password(stored, OLD_PASSWORD)

    page.get_by_role("link", name="I have copied the password").click()
    expect(page).to_have_url(re.compile(f"/accounts/{setup.account_id}/credentials$"))
    assert password not in page.content()


def test_the_customer_disables_and_enables_and_only_the_operator_blocks(
    page: Page,
    factory: Factory,
    db: Database,
    person: Callable[..., Person],
    operator_admin: Person,
) -> None:
    setup = customer_account(factory, db, person)
    path = f"/accounts/{setup.account_id}/credentials"
    status_card = page.get_by_role("region", name="Status")
    setup.owner.log_in(page)
    page.goto(path)
    expect(status_card.get_by_role("button", name="Block account")).to_have_count(0)
    status_card.get_by_role("button", name="Disable account").click()
    expect(page.get_by_role("status")).to_contain_text("The account is disabled")
    expect(status_card).to_contain_text("Disabled")
    assert _account(db, setup.account_id).status is AccountStatus.disabled
    status_card.get_by_role("button", name="Enable account").click()
    expect(page.get_by_role("status")).to_contain_text("The account is enabled")
    assert _account(db, setup.account_id).status is AccountStatus.enabled
    page.get_by_role("button", name="Log out").click()

    operator_admin.log_in(page)
    page.goto(path)
    status_card.get_by_role("button", name="Block account").click()
    expect(page.get_by_role("status")).to_contain_text("The account is blocked")
    expect(status_card.get_by_role("button", name="Unblock account")).to_be_visible()
    assert _account(db, setup.account_id).status is AccountStatus.blocked
    page.get_by_role("button", name="Log out").click()

    setup.owner.log_in(page)
    page.goto(path)
    expect(status_card).to_contain_text("Blocked by your provider")
    expect(status_card).to_contain_text("you cannot enable the account yourself")
    expect(status_card.get_by_role("button")).to_have_count(0)
    screenshot(page, "account-credentials-blocked")
    token = csrf_token(page)
    enable = page.request.post(
        f"/accounts/{setup.account_id}/status", form={"csrf_token": token, "status": "enabled"}
    )
    # Redirected back to the page, with the reason as an error message.
    assert "The account is blocked; the operator" in enable.text()
    unblock = page.request.post(
        f"/accounts/{setup.account_id}/status", form={"csrf_token": token, "status": "unblocked"}
    )
    assert unblock.status == 403
    assert _account(db, setup.account_id).status is AccountStatus.blocked
    page.get_by_role("button", name="Log out").click()

    operator_admin.log_in(page)
    page.goto(path)
    status_card.get_by_role("button", name="Unblock account").click()
    expect(page.get_by_role("status")).to_contain_text("The block was lifted")
    assert _account(db, setup.account_id).status is AccountStatus.enabled


def test_another_customer_cannot_see_or_change_the_credentials(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    victim = customer_account(factory, db, person, smtp_password=OLD_PASSWORD)
    intruder = customer_account(
        factory, db, person, name="Pizzeria Da Mario", email="mario@mario.example"
    )
    intruder.owner.log_in(page)
    for area in ("credentials", "password"):
        expect_not_found(page, f"/accounts/{victim.account_id}/{area}")
    token = csrf_token(page)
    for area, form in [
        ("credentials", {"description": "Hijacked"}),
        ("password", {}),
        ("status", {"status": "disabled"}),
    ]:
        response = page.request.post(
            f"/accounts/{victim.account_id}/{area}", form={"csrf_token": token, **form}
        )
        assert response.status == 404, area
    account = _account(db, victim.account_id)
    assert account.description == "Order confirmations"
    assert account.status is AccountStatus.enabled
    assert verify_password(account.smtp_password_hash, OLD_PASSWORD)


def test_a_read_only_user_sees_no_write_controls(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    setup = customer_account(factory, db, person)
    person(setup.customer, "auditor@verde.example", Role.read_only).log_in(page)
    page.goto(f"/accounts/{setup.account_id}/credentials")
    main = page.locator("main")
    expect(main.get_by_role("textbox")).to_have_count(0)
    expect(main.get_by_role("button", name=re.compile("Save|Reset|Disable|Block"))).to_have_count(0)
    expect(main.get_by_role("link", name="Reset password")).to_have_count(0)
    # The username can still be copied.
    expect(main.get_by_role("button", name="Copy")).to_be_visible()
    token = csrf_token(page)
    for area, form in [("credentials", {"description": "Renamed"}), ("password", {})]:
        response = page.request.post(
            f"/accounts/{setup.account_id}/{area}", form={"csrf_token": token, **form}
        )
        assert response.status == 403, area
    assert _account(db, setup.account_id).description == "Order confirmations"
