"""An account's suppression list in the browser: search, add, remove, import, export."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from outpost.accounts.models import DeliveryAccount
from outpost.db import Database
from outpost.suppression.models import Suppression, SuppressionReason
from outpost.suppression.service import add_suppression
from outpost.tenancy.models import Role
from tests.factories import Factory, Tenant, make_account
from tests.web.conftest import Person, screenshot

pytestmark = pytest.mark.browser


def _account(db: Database, tenant: Tenant, *, suppression_enabled: bool = True) -> int:
    with db.session() as session:
        account = make_account(session, org_id=tenant.org_id, description="Hotel newsletter")
        account.suppression_enabled = suppression_enabled
        entries = [
            (
                "bob@gone.test",
                SuppressionReason.hard_bounce,
                "550 5.1.1 <bob@gone.test>: no such user",
            ),
            ("carol@spam.test", SuppressionReason.complaint, "feedback loop report"),
            ("dave@example.test", SuppressionReason.manual, "asked by phone"),
        ]
        for address, reason, detail in entries:
            add_suppression(
                session=session,
                account_id=account.id,
                address=address,
                reason=reason,
                detail=detail,
            )
        return account.id


def _addresses(db: Database, account_id: int) -> set[str]:
    with db.session() as session:
        rows = session.scalars(
            select(Suppression.address).where(Suppression.account_id == account_id)
        )
        return set(rows)


def _table_addresses(page: Page) -> list[str]:
    return [a.strip() for a in page.locator("tbody tr td:first-child").all_inner_texts()]


def test_search_filter_add_and_remove(
    page: Page, factory: Factory, person: Callable[..., Person], db: Database
) -> None:
    customer = factory.customer(name="Hotel Bella Vista")
    account_id = _account(db, customer)
    person(customer, "owner@bella.example").log_in(page)
    page.goto(f"/accounts/{account_id}/suppression")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hotel newsletter")
    nav = page.get_by_role("navigation", name="Account")
    expect(nav.get_by_role("link", name="Suppression list")).to_have_attribute(
        "aria-current", "page"
    )
    assert sorted(_table_addresses(page)) == [
        "bob@gone.test",
        "carol@spam.test",
        "dave@example.test",
    ]
    bounce = page.get_by_role("row", name=re.compile("bob@gone.test"))
    expect(bounce).to_contain_text("Hard bounce")
    expect(bounce).to_contain_text("550 5.1.1 <bob@gone.test>: no such user")
    expect(page.get_by_text("This account ignores its suppression list")).to_have_count(0)
    screenshot(page, "account-suppression")

    page.get_by_label("Search addresses").fill("GONE")
    page.get_by_role("button", name="Search").click()
    assert _table_addresses(page) == ["bob@gone.test"]
    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Reason").select_option(label="Complaint")
    page.get_by_role("button", name="Search").click()
    assert _table_addresses(page) == ["carol@spam.test"]
    page.get_by_label("Search addresses").fill("nobody")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No addresses match")).to_be_visible()

    page.goto(f"/accounts/{account_id}/suppression")
    page.get_by_label("E-mail address").fill("not an address")
    page.get_by_role("button", name="Add address").click()
    expect(page.locator("#f-address-error")).to_contain_text("valid")
    expect(page.get_by_label("E-mail address")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("E-mail address").fill("Dave@Example.test")
    page.get_by_role("button", name="Add address").click()
    expect(page.locator("#f-address-error")).to_have_text("Already exists")
    page.get_by_label("E-mail address").fill("Erin@New.test")
    page.get_by_label("Note").fill("left <img src=x onerror=alert(1)>")
    page.get_by_role("button", name="Add address").click()
    expect(page.get_by_role("status")).to_contain_text("erin@new.test was added")
    erin = page.get_by_role("row", name=re.compile("erin@new.test"))
    expect(erin).to_contain_text("Added by hand")
    expect(erin).to_contain_text("left <img src=x onerror=alert(1)>")  # shown, not run
    assert "erin@new.test" in _addresses(db, account_id)

    page.get_by_role("row", name=re.compile("bob@gone.test")).get_by_role(
        "link", name="Remove"
    ).click()
    expect(page.get_by_role("heading", name="Remove bob@gone.test")).to_be_visible()
    page.get_by_role("button", name="Remove address").click()
    expect(page.get_by_role("status")).to_contain_text("bob@gone.test was removed")
    expect(page.get_by_role("row", name=re.compile("bob@gone.test"))).to_have_count(0)
    assert "bob@gone.test" not in _addresses(db, account_id)


def test_import_a_csv_file_and_export_the_list(
    page: Page, factory: Factory, person: Callable[..., Person], db: Database, tmp_path: Path
) -> None:
    customer = factory.customer()
    account_id = _account(db, customer)
    person(customer, "owner@import.example").log_in(page)
    page.goto(f"/accounts/{account_id}/suppression")

    token = page.locator("input[name=csrf_token]").first.input_value()
    no_file = page.request.post(
        f"/accounts/{account_id}/suppression/import", multipart={"csrf_token": token}
    )
    assert no_file.status == 422
    assert "Is required: choose a CSV file" in no_file.text()

    upload = tmp_path / "bounces.csv"
    upload.write_text(
        "email,reason,detail\n"
        "new1@list.test,hard_bounce,550 mailbox gone\n"
        "NEW2@list.test,unsubscribe,\n"
        "bob@gone.test,hard_bounce,already there\n"
        "new1@list.test,,listed twice\n"
        "not-an-address,manual,\n"
    )
    page.get_by_label("CSV file", exact=True).set_input_files(str(upload))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text(
        "bounces.csv was imported: 2 addresses added, 3 skipped."
    )
    expect(page.get_by_role("row", name=re.compile("not-an-address"))).to_contain_text(
        "Is not a valid email address"
    )
    assert {"new1@list.test", "new2@list.test"} <= _addresses(db, account_id)

    page.get_by_role("link", name="Back to the suppression list").click()
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x00\x01\x02")
    page.get_by_label("CSV file", exact=True).set_input_files(str(binary))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#f-file-error")).to_contain_text("nothing was imported")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert re.fullmatch(r"suppressions-.+\.csv", download.suggested_filename)
    lines = Path(download.path()).read_text().splitlines()
    assert lines[0] == "address,reason,detail,created_at"
    exported = {line.split(",")[0]: line.split(",")[1] for line in lines[1:]}
    assert exported == {
        "bob@gone.test": "hard_bounce",
        "carol@spam.test": "complaint",
        "dave@example.test": "manual",
        "new1@list.test": "hard_bounce",
        "new2@list.test": "unsubscribe",
    }


def test_an_account_ignoring_its_list_says_so(
    page: Page, factory: Factory, person: Callable[..., Person], db: Database
) -> None:
    customer = factory.customer()
    account_id = _account(db, customer, suppression_enabled=False)
    person(customer, "owner@ignore.example").log_in(page)
    page.goto(f"/accounts/{account_id}/suppression")
    notice = page.get_by_role("note")
    expect(notice).to_contain_text("This account ignores its suppression list")
    expect(notice.get_by_role("link", name="Protection and deliverability")).to_have_attribute(
        "href", f"/accounts/{account_id}/protection"
    )


def test_read_only_users_see_the_list_but_cannot_change_it(
    page: Page, factory: Factory, person: Callable[..., Person], db: Database
) -> None:
    customer = factory.customer()
    account_id = _account(db, customer)
    person(customer, "reader@ro.example", Role.read_only).log_in(page)
    page.goto(f"/accounts/{account_id}/suppression")
    expect(page.get_by_role("row", name=re.compile("bob@gone.test"))).to_be_visible()
    main = page.locator("main")
    expect(main.get_by_role("link", name="Remove")).to_have_count(0)
    expect(main.get_by_role("button", name=re.compile("Add|Import"))).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.input_value()
    response = page.request.post(
        f"/accounts/{account_id}/suppression/remove",
        form={"csrf_token": token, "address": "bob@gone.test"},
    )
    assert response.status == 403
    assert "bob@gone.test" in _addresses(db, account_id)


def test_another_customer_gets_not_found_and_changes_nothing(
    page: Page, factory: Factory, person: Callable[..., Person], db: Database
) -> None:
    victim = factory.customer()
    account_id = _account(db, victim)
    before = _addresses(db, account_id)
    intruder = factory.customer()
    person(intruder, "owner@intruder.example").log_in(page)
    base = f"/accounts/{account_id}/suppression"
    for path in [base, f"{base}/export.csv", f"{base}/remove?address=bob@gone.test"]:
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    token = page.locator("input[name=csrf_token]").first.input_value()
    posts = [
        (base, {"csrf_token": token, "address": "planted@evil.test"}),
        (f"{base}/remove", {"csrf_token": token, "address": "bob@gone.test"}),
    ]
    for path, form in posts:
        assert page.request.post(path, form=form).status == 404
    response = page.request.post(
        f"{base}/import",
        multipart={
            "csrf_token": token,
            "file": {"name": "x.csv", "mimeType": "text/csv", "buffer": b"planted@evil.test\n"},
        },
    )
    assert response.status == 404
    assert _addresses(db, account_id) == before
    with db.session() as session:
        assert session.get_one(DeliveryAccount, account_id).org_id == victim.org_id
