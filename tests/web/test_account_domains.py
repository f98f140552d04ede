"""An account's domains in the browser: associate within the plan's limit, remove, isolation."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outpost.db import Database
from outpost.domains.models import AccountDomain, DomainStatus
from outpost.tenancy.models import Role
from tests.factories import Factory, make_domain
from tests.web.account_areas import csrf_token, customer_account, expect_not_found
from tests.web.conftest import Person, screenshot

pytestmark = pytest.mark.browser


def _linked(db: Database, account_id: int) -> list[int]:
    with db.session() as session:
        return list(
            session.scalars(
                select(AccountDomain.domain_id).where(AccountDomain.account_id == account_id)
            )
        )


def test_associate_up_to_the_plan_limit_then_remove(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    setup = customer_account(factory, db, person, plan="free")
    other = factory.customer(None, "Someone Else")
    with db.session() as session:
        shop = make_domain(session, org_id=setup.customer.org_id, name="shop.example").id
        make_domain(session, org_id=setup.customer.org_id, name="news.example")
        make_domain(
            session,
            org_id=setup.customer.org_id,
            name="draft.example",
            status=DomainStatus.pending,
        )
        make_domain(session, org_id=other.org_id, name="foreign.example")
    setup.owner.log_in(page)
    page.goto(f"/accounts/{setup.account_id}/domains")
    expect(page.get_by_role("navigation", name="Account").get_by_role("link", name="Domains"))
    expect(page.get_by_text("No domains yet")).to_be_visible()
    expect(page.get_by_text("0 of 1 used")).to_be_visible()
    choice = page.get_by_label("Domain to associate")
    options = choice.locator("option").all_inner_texts()
    assert options == [
        "Choose a domain…",
        "draft.example — not verified",
        "news.example",
        "shop.example",
    ]
    expect(choice.locator("option", has_text="draft.example")).to_be_disabled()
    expect(page.get_by_role("link", name="Add a new domain")).to_have_attribute(
        "href", "/domains/new"
    )

    page.get_by_role("button", name="Associate domain").click()
    expect(page.locator(".field-error")).to_have_text("Choose a domain")

    choice.select_option(label="shop.example")
    page.get_by_role("button", name="Associate domain").click()
    expect(page.get_by_role("status")).to_contain_text(
        "The account can now send from shop.example."
    )
    row = page.get_by_role("row", name=re.compile("shop.example"))
    expect(row).to_contain_text("Verified")
    expect(row.get_by_role("link", name="shop.example", exact=True)).to_have_attribute(
        "href", f"/domains/{shop}"
    )
    assert _linked(db, setup.account_id) == [shop]

    # The free plan allows one domain: the button is disabled and says why.
    expect(page.get_by_text("1 of 1 used")).to_be_visible()
    expect(page.get_by_role("button", name="Associate domain")).to_be_disabled()
    expect(page.get_by_label("Domain to associate")).to_be_disabled()
    expect(page.get_by_text("The account's plan allows at most 1 domain.")).to_be_visible()
    screenshot(page, "account-domains-limit")

    row.get_by_role("link", name="Remove").click()
    expect(
        page.get_by_role("heading", name="Remove shop.example from this account?")
    ).to_be_visible()
    page.get_by_role("button", name="Remove domain").click()
    expect(page.get_by_role("status")).to_contain_text("shop.example was removed from the account")
    expect(page.get_by_text("No domains yet")).to_be_visible()
    expect(page.get_by_role("button", name="Associate domain")).to_be_enabled()
    assert _linked(db, setup.account_id) == []


def test_the_domains_page(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    setup = customer_account(factory, db, person)
    with db.session() as session:
        for name, status in [
            ("trattoria-verde.example", DomainStatus.verified),
            ("news.trattoria-verde.example", DomainStatus.failing),
        ]:
            make_domain(
                session,
                org_id=setup.customer.org_id,
                name=name,
                status=status,
                account_id=setup.account_id,
            )
        make_domain(session, org_id=setup.customer.org_id, name="menu.example")
    setup.owner.log_in(page)
    page.goto(f"/accounts/{setup.account_id}/domains")
    expect(page.get_by_role("row", name=re.compile("news.trattoria-verde"))).to_contain_text(
        "Failing"
    )
    expect(page.get_by_text("2 of 250 used")).to_be_visible()
    expect(page.get_by_role("button", name="Associate domain")).to_be_enabled()
    screenshot(page, "account-domains")


def test_nothing_left_to_associate_disables_the_button(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    setup = customer_account(factory, db, person)
    setup.owner.log_in(page)
    page.goto(f"/accounts/{setup.account_id}/domains")
    expect(page.get_by_role("button", name="Associate domain")).to_be_disabled()
    expect(page.get_by_text("Add a domain and verify it first.")).to_be_visible()


def test_another_customer_cannot_see_or_change_the_domains(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    victim = customer_account(factory, db, person)
    intruder = customer_account(
        factory, db, person, name="Pizzeria Da Mario", email="mario@mario.example"
    )
    with db.session() as session:
        linked = make_domain(
            session,
            org_id=victim.customer.org_id,
            name="victim.example",
            account_id=victim.account_id,
        ).id
        own = make_domain(session, org_id=intruder.customer.org_id, name="mario.example").id
    intruder.owner.log_in(page)
    expect_not_found(page, f"/accounts/{victim.account_id}/domains")
    expect_not_found(page, f"/accounts/{victim.account_id}/domains/{linked}/remove")
    token = csrf_token(page)
    for path, form in [
        (f"/accounts/{victim.account_id}/domains", {"domain_id": str(own)}),
        (f"/accounts/{victim.account_id}/domains/{linked}/remove", {}),
        # Its own account with the victim's domain.
        (f"/accounts/{intruder.account_id}/domains", {"domain_id": str(linked)}),
    ]:
        response = page.request.post(path, form={"csrf_token": token, **form})
        assert response.status == 404, path
    assert _linked(db, victim.account_id) == [linked]
    assert _linked(db, intruder.account_id) == []


def test_a_read_only_user_sees_no_write_controls(
    page: Page, factory: Factory, db: Database, person: Callable[..., Person]
) -> None:
    setup = customer_account(factory, db, person)
    with db.session() as session:
        linked = make_domain(
            session,
            org_id=setup.customer.org_id,
            name="shop.example",
            account_id=setup.account_id,
        ).id
        make_domain(session, org_id=setup.customer.org_id, name="news.example")
    person(setup.customer, "auditor@verde.example", Role.read_only).log_in(page)
    page.goto(f"/accounts/{setup.account_id}/domains")
    expect(page.get_by_role("link", name="shop.example", exact=True)).to_be_visible()
    main = page.locator("main")
    expect(main.get_by_role("button")).to_have_count(0)
    expect(main.get_by_role("link", name=re.compile("Remove|Associate"))).to_have_count(0)
    response = page.request.post(
        f"/accounts/{setup.account_id}/domains/{linked}/remove",
        form={"csrf_token": csrf_token(page)},
    )
    assert response.status == 403
    assert _linked(db, setup.account_id) == [linked]
