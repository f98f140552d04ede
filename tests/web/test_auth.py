"""Logging in and out of the panel in the browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import LiveServer, Person

pytestmark = pytest.mark.browser


def test_wrong_password_shows_a_message_and_keeps_the_email(
    page: Page, operator_admin: Person
) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(operator_admin.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    expect(page.get_by_label("E-mail")).to_have_value(operator_admin.email)
    expect(page.get_by_label("Password")).to_have_value("")


def test_log_in_then_log_out(page: Page, operator_admin: Person) -> None:
    operator_admin.log_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Administrator")
    cookie = next(c for c in page.context.cookies() if c["name"] == "outpost_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert not cookie["secure"]  # the test installation is served over plain http

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_contain_text("You have been logged out.")
    assert not [c for c in page.context.cookies() if c["name"] == "outpost_session"]
    page.goto("/api-keys")
    expect(page).to_have_url(re.compile(r"/login\?next=/api-keys$"))


def test_login_returns_to_the_page_asked_for(page: Page, operator_admin: Person) -> None:
    page.goto("/plans")
    expect(page).to_have_url(re.compile(r"/login\?next=/plans$"))
    page.get_by_label("E-mail").fill(operator_admin.email)
    page.get_by_label("Password").fill(operator_admin.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/plans$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Plans")


def test_login_never_redirects_to_another_site(
    page: Page, operator_admin: Person, live_server: LiveServer
) -> None:
    page.goto("/login?next=//evil.example/")
    page.get_by_label("E-mail").fill(operator_admin.email)
    page.get_by_label("Password").fill(operator_admin.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    assert page.url == f"{live_server.url}/"
