"""The panel's defences seen from the browser: roles, CSRF, escaping, tenant isolation."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from outpost.db import Database
from outpost.tenancy.models import ApiKey, Organization, Role
from tests.factories import Factory
from tests.web.conftest import LiveServer, Person, screenshot

pytestmark = pytest.mark.browser


def _csrf_token(page: Page) -> str:
    return page.locator("input[name=csrf_token]").first.input_value()


def _organization_count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count(Organization.id))) or 0)


def test_a_read_only_user_sees_no_write_buttons_and_a_forged_post_is_refused(
    page: Page, factory: Factory, person: Callable[..., Person], db: Database
) -> None:
    reseller = factory.reseller("Acme Hosting")
    customer = factory.customer(reseller, "Hotel Bella Vista")
    factory.user(reseller.org_id, "colleague@acme.example", "colleague-password", Role.member)
    person(reseller, "auditor@acme.example", Role.read_only).log_in(page)

    write_controls = re.compile(r"^(New|Create|Add|Edit|Delete|Remove|Save|Deactivate)")
    for path in ["/", "/organizations", f"/organizations/{customer.org_id}", "/users", "/plans"]:
        page.goto(path)
        main = page.locator("main")
        expect(main.get_by_role("link", name=write_controls)).to_have_count(0)
        expect(main.get_by_role("button", name=write_controls)).to_have_count(0)
    page.goto("/api-keys")
    expect(page.get_by_role("link", name="Create key")).to_have_count(0)
    screenshot(page, "read-only-api-keys")

    # The pages behind the buttons refuse, and so does a form posted with a valid token.
    page.goto("/organizations/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Access denied")
    token = _csrf_token(page)
    before = _organization_count(db)
    response = page.request.post(
        "/organizations/new", form={"csrf_token": token, "name": "Sneaky Customer"}
    )
    assert response.status == 403
    assert "Only an owner or admin may do this." in response.text()
    response = page.request.post(
        f"/organizations/{customer.org_id}/delete", form={"csrf_token": token}
    )
    assert response.status == 403
    response = page.request.post("/api-keys/new", form={"csrf_token": token, "name": "mine"})
    assert response.status == 403
    assert _organization_count(db) == before
    with db.session() as session:
        assert session.scalar(select(func.count(ApiKey.id)).where(ApiKey.name == "mine")) == 0


def test_posts_without_the_csrf_token_or_with_a_wrong_one_are_refused(
    page: Page, operator_admin: Person, db: Database
) -> None:
    operator_admin.log_in(page)
    before = _organization_count(db)
    for form in [{"name": "No Token Ltd"}, {"name": "Bad Token Ltd", "csrf_token": "forged"}]:
        response = page.request.post("/organizations/new", form=form)
        assert response.status == 403
        assert "This form has expired or was not sent from the panel." in response.text()
    response = page.request.post("/logout", form={})
    assert response.status == 403
    assert _organization_count(db) == before
    # Still logged in: the refused logout did nothing.
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def test_a_form_on_another_site_cannot_act_for_a_logged_in_user(
    page: Page, operator_admin: Person, live_server: LiveServer, db: Database
) -> None:
    operator_admin.log_in(page)
    before = _organization_count(db)
    # A page on another origin (about:blank) submits a form to the panel.
    page.goto("about:blank")
    page.set_content(
        f'<form method="post" action="{live_server.url}/organizations/new">'
        '<input name="name" value="Evil Corp"><button>Go</button></form>'
    )
    page.get_by_role("button", name="Go").click()
    page.wait_for_load_state()
    assert _organization_count(db) == before


def test_names_are_shown_as_text_never_run(
    page: Page, operator_admin: Person, factory: Factory
) -> None:
    script = "<script>alert(1)</script>"
    image = '"><img src=x onerror=alert(2)>'
    operator_admin.log_in(page)
    page.goto("/organizations/new")
    page.get_by_label("Customer name").fill(script)
    page.get_by_label("Company name").fill(image)
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(script)
    expect(page.get_by_role("region", name="Billing data")).to_contain_text(image)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.content()
    expect(page.locator("main script, main img")).to_have_count(0)

    page.goto("/organizations?q=" + "%3Cscript%3E")
    expect(page.get_by_role("link", name=script)).to_be_visible()
    expect(page.get_by_label("Search customers by name")).to_have_value("<script>")
    page.goto("/organizations/new")
    page.get_by_label("Customer name").fill(image)
    page.get_by_label("Billing e-mail").fill("bad")
    page.get_by_role("button", name="Create customer").click()
    # Re-filled values stay inside their attribute.
    expect(page.get_by_label("Customer name")).to_have_value(image)
    screenshot(page, "escaping")


def test_a_customer_cannot_open_another_customers_pages(
    page: Page, factory: Factory, person: Callable[..., Person]
) -> None:
    mine = factory.customer(None, "My Shop")
    theirs = factory.customer(None, "Their Shop")
    their_user = factory.user(theirs.org_id, "them@their.example", "their-password-1")
    person(mine, "me@my.example").log_in(page)
    for path in [
        f"/organizations/{theirs.org_id}",
        f"/organizations/{theirs.org_id}/edit",
        f"/organizations/{theirs.org_id}/delete",
        f"/users/{their_user}/delete",
    ]:
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
        expect(page.get_by_text("Their Shop")).to_have_count(0)
    screenshot(page, "tenant-isolation-404")
    response = page.request.post(
        f"/organizations/{theirs.org_id}/edit",
        form={"csrf_token": _csrf_token(page), "name": "pwned"},
    )
    assert response.status == 404


def test_a_reseller_cannot_open_another_resellers_customers(
    page: Page, factory: Factory, person: Callable[..., Person], db: Database
) -> None:
    north, south = factory.reseller("North"), factory.reseller("South")
    north_customer = factory.customer(north, "North Customer")
    south_customer = factory.customer(south, "South Customer")
    person(north, "admin@north.example").log_in(page)
    page.goto("/organizations")
    expect(page.get_by_role("link", name="North Customer")).to_be_visible()
    expect(page.get_by_text("South Customer")).to_have_count(0)
    page.get_by_label("Search customers by name").fill("South")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No customers match “South”")).to_be_visible()
    for org_id in (south_customer.org_id, south.org_id):
        response = page.goto(f"/organizations/{org_id}")
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    response = page.request.post(
        f"/organizations/{south_customer.org_id}/delete", form={"csrf_token": _csrf_token(page)}
    )
    assert response.status == 404
    with db.session() as session:
        assert session.get(Organization, south_customer.org_id) is not None
    page.goto(f"/organizations/{north_customer.org_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("North Customer")
