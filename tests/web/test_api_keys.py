"""Management API keys in the browser: shown once, then masked, usable, deletable."""

from __future__ import annotations

import re

import httpx2
import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import LiveServer, Person, screenshot, sidebar

pytestmark = pytest.mark.browser


def test_create_use_and_delete_a_key(
    page: Page, operator_admin: Person, live_server: LiveServer
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    operator_admin.log_in(page)
    sidebar(page, "API keys").click()
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    page.get_by_role("link", name="Create key").first.click()
    page.get_by_label("Name").fill("Billing system")
    page.get_by_text("Read-only", exact=True).click()
    page.get_by_role("button", name="Create key").click()

    token_field = page.get_by_label("Your new API key")
    token = token_field.input_value()
    assert re.fullmatch(r"opk_[A-Za-z0-9_-]{40,}", token)
    expect(page.get_by_text("This is the only time the full key is shown")).to_be_visible()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied!")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token
    screenshot(page, "api-key-created")

    page.get_by_role("link", name="I have copied the key").click()
    row = page.get_by_role("row", name=re.compile("Billing system"))
    expect(row).to_contain_text(token[:8] + "…")
    expect(row).to_contain_text("Read-only")
    expect(row).to_contain_text("Never")
    assert token not in page.content()

    me = httpx2.get(f"{live_server.url}/api/v1/me", headers={"X-Api-Token": token})
    assert me.status_code == 200
    assert me.json()["role"] == "read_only"
    assert me.json()["organization"]["kind"] == "operator"
    page.reload()
    expect(row).not_to_contain_text("Never")
    screenshot(page, "api-keys-list")

    row.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete the key “Billing system”?")).to_be_visible()
    page.get_by_role("button", name="Delete key").click()
    expect(page.get_by_role("status")).to_contain_text("The API key was deleted")
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    gone = httpx2.get(f"{live_server.url}/api/v1/me", headers={"X-Api-Token": token})
    assert gone.status_code == 401


def test_a_key_needs_a_name(page: Page, operator_admin: Person) -> None:
    operator_admin.log_in(page)
    page.goto("/api-keys/new")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator(".field-error")).to_have_text("Is required")
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
