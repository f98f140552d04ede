"""From the two doors to a remote mail server: accepted by the Send API and by SMTP
submission, delivered by a worker, DKIM-verified by dkimpy, visible in the message log."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email import message_from_bytes

import httpx2 as httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from outpost.app import create_app
from outpost.config import Settings
from outpost.db import Database
from outpost.domains.models import Domain
from outpost.events.models import DailyStats
from tests.delivery.conftest import drain
from tests.delivery.support import publish_dkim, publish_mx, verify_dkim
from tests.factories import Factory, associate, make_account, make_domain, make_send_token
from tests.support.dns_server import DNSServer
from tests.support.live import serve_app
from tests.support.smtp import run_submission
from tests.support.smtp_server import RemoteMX

PASSWORD = "submission-password-1"


def test_api_and_smtp_mail_is_delivered_signed_and_logged(
    db: Database,
    factory: Factory,
    dns_server: DNSServer,
    remote_mx: Callable[..., RemoteMX],
    delivery_settings: Callable[..., Settings],
) -> None:
    mx = remote_mx()
    publish_mx(dns_server.zone, "dest.test")
    customer = factory.customer()
    with db.session() as session:
        account = make_account(
            session, org_id=customer.org_id, remaining=10, smtp_password=PASSWORD
        )
        domain = make_domain(session, org_id=customer.org_id, name="shop.test")
        associate(session, account, domain)
        token = make_send_token(session, account)
        publish_dkim(dns_server.zone, session.get_one(Domain, domain.id))
    settings = delivery_settings(mx.port)

    with serve_app(create_app(settings, db)) as url, httpx.Client(base_url=url) as http:
        response = http.post(
            "/v1/send",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "messages": [
                    {
                        "from": "Shop <hello@shop.test>",
                        "to": "alice@dest.test",
                        "subject": "By API",
                        "text_body": "Sent through the Send API.",
                        "html_body": "<p>Sent through the <b>Send API</b>.</p>",
                    }
                ]
            },
        )
    assert response.status_code == 202, response.text
    api_message_id = response.json()["messages"][0]["message_id"]

    with run_submission(settings, db) as server:
        client = smtplib.SMTP(server.host, server.starttls_port, timeout=30)
        client.starttls(context=server.client_context)
        client.login(account.username, PASSWORD)
        client.sendmail(
            "hello@shop.test",
            ["bob@dest.test"],
            b"From: Shop <hello@shop.test>\r\nTo: bob@dest.test\r\nSubject: By SMTP\r\n\r\n"
            b"Sent through SMTP submission.\r\n",
        )
        client.quit()

    assert drain(db, settings) == 2

    [by_api] = mx.messages_for("alice@dest.test")
    [by_smtp] = mx.messages_for("bob@dest.test")
    for received in (by_api, by_smtp):
        assert verify_dkim(received.content, dns_server) == ["rsa-sha256", "ed25519-sha256"]
        assert received.mail_from.endswith("@" + domain.return_path_host)
    assert message_from_bytes(by_api.content)["Message-ID"] == f"<{api_message_id}>"
    assert message_from_bytes(by_smtp.content)["Subject"] == "By SMTP"

    headers = factory.key(customer.org_id)
    with TestClient(create_app(settings, db)) as api:
        events = api.get(f"/api/v1/accounts/{account.id}/events?per=50", headers=headers)
    assert events.status_code == 200, events.text
    kinds = sorted((e["type"], e["recipient"]) for e in events.json()["resources"])
    assert {e["message_id"] for e in events.json()["resources"]} >= {api_message_id}
    assert kinds == [
        ("accepted", "alice@dest.test"),
        ("accepted", "bob@dest.test"),
        ("delivered", "alice@dest.test"),
        ("delivered", "bob@dest.test"),
    ]
    with db.session() as session:
        stats = session.scalars(select(DailyStats).where(DailyStats.account_id == account.id)).one()
        assert (stats.sent, stats.delivered) == (2, 2)
