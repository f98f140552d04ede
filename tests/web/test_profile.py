"""Changing one's own name and password in the browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from outpost.tenancy.models import Role
from tests.factories import Factory
from tests.web.conftest import LiveServer, Person, log_in, sidebar

pytestmark = pytest.mark.browser


def test_change_password_then_log_in_with_it(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    factory: Factory,
    person: Callable[..., Person],
) -> None:
    customer = factory.customer(None, "Careful Ltd")
    me = person(customer, "reader@careful.example", Role.read_only)
    elsewhere = browser.new_context(base_url=live_server.url)
    other_page = elsewhere.new_page()
    me.log_in(other_page)

    me.log_in(page)
    sidebar(page, "My profile").click()
    page.get_by_label("Current password").fill(me.password)
    page.get_by_label("New password").fill("a-new-password-42")
    page.get_by_label("Confirm password").fill("a-new-password-43")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#f-confirm_password-error")).to_have_text(
        "Does not match the new password"
    )
    page.get_by_label("Current password").fill("wrong password")
    page.get_by_label("New password").fill("a-new-password-42")
    page.get_by_label("Confirm password").fill("a-new-password-42")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#f-current_password-error")).to_have_text("Is not your current password")

    page.get_by_label("Current password").fill(me.password)
    page.get_by_label("New password").fill("a-new-password-42")
    page.get_by_label("Confirm password").fill("a-new-password-42")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password was changed.")

    # The other session ended; this one goes on.
    other_page.goto("/profile")
    expect(other_page.get_by_role("heading", name="Log in to your panel")).to_be_visible()
    elsewhere.close()
    page.get_by_label("Name", exact=True).fill("Rita Reader")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("status")).to_have_text("Your name was saved.")
    expect(page.locator(".me-name")).to_have_text("Rita Reader")

    page.get_by_role("button", name="Log out").click()
    log_in(page, me.email, "a-new-password-42")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Rita Reader")
