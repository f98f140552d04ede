"""An account's Send API tokens in the browser: shown once, listed masked, IP list, delete."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outpost.db import Database
from outpost.tenancy.models import Role
from outpost.tokens.models import SendToken
from tests.factories import Factory
from tests.web.account_areas import csrf_token, customer_account, expect_not_found
from tests.web.conftest import Person, screenshot

pytestmark = pytest.mark.browser


def _tokens(db: Database, account_id: int) -> list[SendToken]:
    with db.session() as session:
        rows = list(session.scalars(select(SendToken).where(SendToken.account_id == account_id)))
        session.expunge_all()
        return rows


def test_create_a_token_shown_once_then_masked(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    setup = customer_account(factory, db, person)
    setup.owner.log_in(page)
    page.goto(f"/accounts/{setup.account_id}/tokens")
    expect(page.get_by_text("No API tokens yet")).to_be_visible()
    page.get_by_role("link", name="Create new token").click()
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".field-error")).to_have_text("Is required")
    page.get_by_label("Name").fill("Web <shop>")
    page.get_by_role("button", name="Create token").click()

    value = page.get_by_label("Your new API token").input_value()
    assert re.fullmatch(r"ops_[A-Za-z0-9_-]{40,}", value)
    expect(page.get_by_text("It will not be shown again.")).to_be_visible()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied!")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == value
    screenshot(page, "account-token-created")
    [stored] = _tokens(db, setup.account_id)
    assert stored.name == "Web <shop>"

    page.get_by_role("link", name="I have copied the token").click()
    row = page.get_by_role("row", name=re.compile("Web <shop>"))
    expect(row).to_contain_text(stored.preview)
    expect(row).to_contain_text("Never")
    expect(row).to_contain_text("Any")
    assert value not in page.content()
    page.get_by_role("link", name="Create new token").click()
    page.get_by_label("Name").fill("Billing")
    page.get_by_role("button", name="Create token").click()
    page.get_by_role("link", name="I have copied the token").click()
    expect(page.get_by_role("row")).to_have_count(3)
    screenshot(page, "account-tokens")


def test_edit_a_token_and_delete_it(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    setup = customer_account(factory, db, person)
    setup.owner.log_in(page)
    page.goto(f"/accounts/{setup.account_id}/tokens/new")
    page.get_by_label("Name").fill("Web shop")
    page.get_by_role("button", name="Create token").click()
    page.get_by_role("link", name="Limit it to some IP addresses").click()
    [token] = _tokens(db, setup.account_id)
    expect(page).to_have_url(re.compile(f"/accounts/{setup.account_id}/tokens/{token.id}$"))
    expect(page.get_by_text("No restriction: any address may connect.")).to_be_visible()

    name = page.get_by_label("Name")
    name.fill("")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator(".field-error")).to_have_text("Is required")
    name.fill("Web shop (production)")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("status")).to_contain_text("now called “Web shop (production)”")

    ips = page.get_by_role("region", name="Allowed IP addresses")
    field = ips.get_by_label("Add an address or range")
    field.fill("10.0.0.0/33")
    ips.get_by_role("button", name="Add").click()
    expect(ips.locator(".field-error")).to_have_text(
        "'10.0.0.0/33' is not an IP address or CIDR range"
    )
    for entry in ("192.0.2.10", "2001:db8:1::/48"):
        field.fill(entry)
        ips.get_by_role("button", name="Add").click()
        expect(page.get_by_role("status")).to_contain_text(f"{entry} may now use the token")
    screenshot(page, "account-token-edit")
    [token] = _tokens(db, setup.account_id)
    assert token.name == "Web shop (production)"
    assert token.ip_allowlist == ["192.0.2.10", "2001:db8:1::/48"]
    ips.get_by_role("button", name="Remove 192.0.2.10").click()
    expect(page.get_by_role("status")).to_contain_text("192.0.2.10 was removed")
    assert _tokens(db, setup.account_id)[0].ip_allowlist == ["2001:db8:1::/48"]

    page.get_by_role("link", name="Delete token").click()
    expect(
        page.get_by_role("heading", name="Delete the token “Web shop (production)”?")
    ).to_be_visible()
    page.get_by_role("button", name="Delete token").click()
    expect(page.get_by_role("status")).to_contain_text(
        "The token “Web shop (production)” was deleted"
    )
    expect(page.get_by_text("No API tokens yet")).to_be_visible()
    assert _tokens(db, setup.account_id) == []


def test_another_customer_cannot_see_or_change_the_tokens(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    victim = customer_account(factory, db, person)
    intruder = customer_account(
        factory, db, person, name="Pizzeria Da Mario", email="mario@mario.example"
    )
    intruder.owner.log_in(page)
    page.goto(f"/accounts/{intruder.account_id}/tokens/new")
    page.get_by_label("Name").fill("Mario's token")
    page.get_by_role("button", name="Create token").click()
    [own] = _tokens(db, intruder.account_id)
    page.get_by_role("button", name="Log out").click()

    victim.owner.log_in(page)
    page.goto(f"/accounts/{victim.account_id}/tokens/new")
    page.get_by_label("Name").fill("Victim's token")
    page.get_by_role("button", name="Create token").click()
    [theirs] = _tokens(db, victim.account_id)
    page.get_by_role("button", name="Log out").click()

    intruder.owner.log_in(page)
    victim_base = f"/accounts/{victim.account_id}/tokens"
    for path in [
        victim_base,
        f"{victim_base}/new",
        f"{victim_base}/{theirs.id}",
        f"{victim_base}/{theirs.id}/delete",
        # The victim's token under the intruder's own account.
        f"/accounts/{intruder.account_id}/tokens/{theirs.id}",
    ]:
        expect_not_found(page, path)
    token = csrf_token(page)
    own_base = f"/accounts/{intruder.account_id}/tokens"
    for path, form in [
        (f"{victim_base}/new", {"name": "Planted"}),
        (f"{victim_base}/{theirs.id}", {"name": "Renamed"}),
        (f"{victim_base}/{theirs.id}/ip-access", {"address": "192.0.2.1"}),
        (f"{victim_base}/{theirs.id}/delete", {}),
        (f"{own_base}/{theirs.id}", {"name": "Renamed"}),
        (f"{own_base}/{theirs.id}/ip-access", {"address": "192.0.2.1"}),
        (f"{own_base}/{theirs.id}/delete", {}),
        # The intruder's own token under the victim's account.
        (f"{victim_base}/{own.id}/delete", {}),
    ]:
        response = page.request.post(path, form={"csrf_token": token, **form})
        assert response.status == 404, path
    [after] = _tokens(db, victim.account_id)
    assert (after.id, after.name, after.ip_allowlist) == (theirs.id, "Victim's token", [])
    assert [t.id for t in _tokens(db, intruder.account_id)] == [own.id]


def test_a_read_only_user_sees_no_write_controls(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    setup = customer_account(factory, db, person)
    setup.owner.log_in(page)
    page.goto(f"/accounts/{setup.account_id}/tokens/new")
    page.get_by_label("Name").fill("Web shop")
    page.get_by_role("button", name="Create token").click()
    [token] = _tokens(db, setup.account_id)
    page.get_by_role("button", name="Log out").click()

    person(setup.customer, "auditor@verde.example", Role.read_only).log_in(page)
    page.goto(f"/accounts/{setup.account_id}/tokens")
    main = page.locator("main")
    expect(main.get_by_role("link", name="Web shop")).to_be_visible()
    expect(main.get_by_role("link", name=re.compile("Create|Delete"))).to_have_count(0)
    page.goto(f"/accounts/{setup.account_id}/tokens/{token.id}")
    expect(main.get_by_role("button")).to_have_count(0)
    expect(main.get_by_role("textbox")).to_have_count(0)
    expect(main.get_by_role("link", name="Delete token")).to_have_count(0)
    csrf = csrf_token(page)
    base = f"/accounts/{setup.account_id}/tokens"
    for path, form in [
        (f"{base}/new", {"name": "Mine"}),
        (f"{base}/{token.id}", {"name": "Renamed"}),
        (f"{base}/{token.id}/ip-access", {"address": "192.0.2.1"}),
        (f"{base}/{token.id}/delete", {}),
    ]:
        response = page.request.post(path, form={"csrf_token": csrf, **form})
        assert response.status == 403, path
    [after] = _tokens(db, setup.account_id)
    assert (after.name, after.ip_allowlist) == ("Web shop", [])
