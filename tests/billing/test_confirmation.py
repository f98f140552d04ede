"""Placing an order queues its confirmation with the payment instructions to the customer."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from outpost.db import Database
from outpost.sending.models import Message, MessageBody, MessageSource, Recipient
from outpost.tenancy.models import Organization
from tests.accounts.helpers import BILLING, billed_customer, create_account, paid_account
from tests.factories import Factory


def _notices(db: Database) -> list[tuple[str, str, dict[str, str]]]:
    with db.session() as session:
        rows = session.execute(
            select(Recipient.address, Message.tags, MessageBody.content)
            .join(Message, Message.id == Recipient.message_id)
            .join(MessageBody, MessageBody.message_id == Message.id)
            .where(Message.source == MessageSource.system)
            .order_by(Message.id)
        ).all()
    return [(address, tags[0], json.loads(content)) for address, tags, content in rows]


def test_a_paid_account_order_mails_the_billing_address_how_to_pay(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = billed_customer(factory)
    with db.session() as session:
        org = session.get_one(Organization, customer.org_id)
        org.billing = {**BILLING, "email_address": "billing@hotel.test"}
    account = create_account(
        client, customer, plan="monthly", messages=50_000, payment_method="paypal_manual"
    )
    order = account["order"]
    [(to, tag, mail)] = _notices(db)
    assert (to, tag) == ("billing@hotel.test", "order-confirmation")
    assert mail["subject"] == f"Order {order['id']} confirmed: 35.00 EUR to pay"
    assert f"Send 35.00 EUR by PayPal, quoting order number {order['id']}." in mail["text_body"]
    assert "The account is enabled as soon as the payment is received." in mail["text_body"]


def test_without_a_billing_address_the_owner_is_mailed_and_extras_are_confirmed_too(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = billed_customer(factory)
    factory.user(customer.org_id, "owner@hotel.test", "owner-password-1")
    account = paid_account(client, customer)
    client.post(f"/api/v1/orders/{account['order']['id']}/pay", headers=factory.operator().headers)
    response = client.post(
        f"/api/v1/accounts/{account['id']}/extra-messages",
        headers=customer.headers,
        json={"messages": 5000},
    )
    assert response.status_code == 201, response.text
    mails = _notices(db)
    assert [to for to, _, _ in mails] == ["owner@hotel.test", "owner@hotel.test"]
    assert "Your card is charged 6.00 EUR automatically" in mails[1][2]["text_body"]
    assert "applied to the account as soon as the payment is received" in mails[1][2]["text_body"]


def test_a_free_account_sends_no_order_mail(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = factory.customer()
    factory.user(customer.org_id, "owner@free.test", "owner-password-1")
    create_account(client, customer)
    assert _notices(db) == []
