"""An account's message log in the browser: filters, paging and the detail of a bounce."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from outpost.db import Database, utcnow
from outpost.events.models import EventType
from outpost.events.recording import add_events
from tests.delivery.support import queue_message
from tests.factories import Factory, Tenant, make_account
from tests.web.conftest import Person, screenshot

pytestmark = pytest.mark.browser

BOUNCE_REPLY = "550 5.1.1 <gone@dest.test>: Recipient address rejected: User unknown"


def _log(db: Database, tenant: Tenant, *, extra_accepted: int = 0) -> tuple[int, str]:
    """An account with a message to three recipients: delivered, bounced (2 days ago), deferred.

    The events are placed around midday today, so no run near midnight sees the
    delivery and the deferral fall on different dates.
    """
    with db.session() as session:
        account = make_account(session, org_id=tenant.org_id, description="Shop receipts")
        queued = queue_message(
            session,
            account_id=account.id,
            to=["ana@dest.test", "gone@dest.test", "slow@later.test"],
            subject="Your receipt <#1042>",
        )
        now = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)

        def event(address: str, type_: EventType, at: Any, **details: Any) -> dict[str, Any]:
            return {
                "account_id": account.id,
                "message_id": queued.message_id,
                "recipient_id": queued.recipients[address],
                "type": type_,
                "address": address,
                "details": {"message_id": queued.message_id_header, **details},
                "created_at": at,
            }

        rows = [
            event(
                "ana@dest.test",
                EventType.delivered,
                now,
                reply="250 2.0.0 Ok: queued as 4F2",
                code=250,
            ),
            event(
                "gone@dest.test",
                EventType.bounced,
                now - timedelta(days=2),
                reply=BOUNCE_REPLY,
                code=550,
                enhanced_code="5.1.1",
                remote_host="mx.dest.test",
                bounce_kind="hard",
            ),
            event(
                "slow@later.test",
                EventType.deferred,
                now - timedelta(minutes=5),
                reply="451 4.7.1 Greylisted, try again later",
                code=451,
            ),
        ]
        rows += [
            event(
                "ana@dest.test",
                EventType.accepted,
                now - timedelta(days=3, minutes=i),
                source="api",
            )
            for i in range(extra_accepted)
        ]
        add_events(session, rows)
        return account.id, queued.message_id_header


def _recipients(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("tbody tr td:nth-child(3)").all_inner_texts()]


def test_filters_and_the_detail_of_a_bounce(
    page: Page, factory: Factory, person: Callable[..., Person], db: Database
) -> None:
    customer = factory.customer(name="Shop Srl")
    account_id, message_id = _log(db, customer)
    person(customer, "owner@shop.example").log_in(page)
    page.goto(f"/accounts/{account_id}/messages")
    expect(page.get_by_role("heading", name="Message log")).to_be_visible()
    assert _recipients(page) == ["ana@dest.test", "slow@later.test", "gone@dest.test"]

    bounce = page.get_by_role("row", name=re.compile("gone@dest.test"))
    expect(bounce).to_contain_text("Bounced")
    expect(bounce).to_contain_text("Your receipt <#1042>")
    expect(bounce).to_contain_text(f"Hard bounce: {BOUNCE_REPLY}")
    details = bounce.locator("details")
    expect(details.get_by_text(message_id)).to_be_hidden()
    details.get_by_text("Full detail").click()
    expect(details.get_by_text(message_id)).to_be_visible()
    expect(details).to_contain_text("Remote server")
    expect(details).to_contain_text("mx.dest.test")
    expect(details).to_contain_text("Enhanced status")
    screenshot(page, "account-messages")

    page.get_by_label("Event type").select_option(label="Bounced")
    page.get_by_role("button", name="Apply").click()
    assert _recipients(page) == ["gone@dest.test"]

    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Search by recipient").fill("LATER.test")
    page.get_by_role("button", name="Apply").click()
    assert _recipients(page) == ["slow@later.test"]
    expect(page.get_by_role("row", name=re.compile("slow@later.test"))).to_contain_text(
        "451 4.7.1 Greylisted"
    )

    page.get_by_role("link", name="Clear").click()
    today = utcnow().date()
    page.get_by_label("From").fill((today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Apply").click()
    assert _recipients(page) == ["ana@dest.test", "slow@later.test"]
    page.get_by_label("From").fill("")
    page.get_by_label("To").fill((today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Apply").click()
    assert _recipients(page) == ["gone@dest.test"]

    page.goto(f"/accounts/{account_id}/messages?q=nobody")
    expect(page.get_by_text("No events match")).to_be_visible()
    response = page.goto(f"/accounts/{account_id}/messages?start=2025-02-30")
    assert response is not None and response.status == 422
    expect(page.get_by_role("alert")).to_contain_text("From: Is not a date")


def test_the_log_is_paged_newest_first(
    page: Page, factory: Factory, person: Callable[..., Person], db: Database
) -> None:
    customer = factory.customer()
    account_id, _ = _log(db, customer, extra_accepted=40)
    person(customer, "owner@paged.example").log_in(page)
    page.goto(f"/accounts/{account_id}/messages")
    expect(page.get_by_text("Page 1 of 2 · 43 in all")).to_be_visible()
    assert page.locator("tbody tr").count() == 30
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    assert page.locator("tbody tr").count() == 13
    expect(page.locator("tbody tr").last).to_contain_text("Accepted")


def test_an_empty_log_and_another_customer(
    page: Page, factory: Factory, person: Callable[..., Person], db: Database
) -> None:
    owner = factory.customer()
    account_id, _ = _log(db, owner)
    with db.session() as session:
        empty_id = make_account(session, org_id=owner.org_id).id
    person(owner, "owner@empty.example").log_in(page)
    page.goto(f"/accounts/{empty_id}/messages")
    expect(page.get_by_text("No messages yet")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    intruder = factory.customer()
    person(intruder, "owner@intruder.example").log_in(page)
    for path in [f"/accounts/{account_id}/messages", f"/accounts/{account_id}/messages?q=ana"]:
        response = page.goto(path)
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
        expect(page.locator("main")).not_to_contain_text("ana@dest.test")
