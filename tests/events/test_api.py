"""The message log, daily statistics and webhooks over the Management API."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outpost.app import create_app
from outpost.config import Settings
from outpost.db import Database, utcnow
from outpost.events.models import EventType
from outpost.events.recording import add_events, count_daily
from outpost.events.webhooks import WebhookSender
from outpost.tenancy.models import Role
from tests.delivery.support import queue_message
from tests.factories import Factory, Tenant, make_account


def _account(db: Database, tenant: Tenant) -> int:
    with db.session() as session:
        return make_account(session, org_id=tenant.org_id).id


def _events(db: Database, account_id: int) -> str:
    with db.session() as session:
        queued = queue_message(session, account_id=account_id, to=["a@dest.test", "b@dest.test"])
        ids = queued.recipients
        now = utcnow()
        add_events(
            session,
            [
                {
                    "account_id": account_id,
                    "message_id": queued.message_id,
                    "recipient_id": ids["a@dest.test"],
                    "type": EventType.delivered,
                    "address": "a@dest.test",
                    "details": {"code": 250},
                    "created_at": now,
                },
                {
                    "account_id": account_id,
                    "message_id": queued.message_id,
                    "recipient_id": ids["b@dest.test"],
                    "type": EventType.bounced,
                    "address": "b@dest.test",
                    "details": {"code": 550},
                    "created_at": now - timedelta(days=2),
                },
            ],
        )
        return queued.message_id_header


def test_message_log_filters(client: TestClient, factory: Factory, db: Database) -> None:
    customer = factory.customer()
    account_id = _account(db, customer)
    message_id = _events(db, account_id)
    url = f"/api/v1/accounts/{account_id}/events"

    every = client.get(url, headers=customer.headers).json()
    assert [e["type"] for e in every["resources"]] == ["delivered", "bounced"]
    assert every["pagination"]["total_records"] == 2
    assert every["resources"][0]["message_id"] == message_id

    def types(**params: str) -> list[str]:
        answer = client.get(url, headers=customer.headers, params=params)
        assert answer.status_code == 200, answer.text
        return [e["type"] for e in answer.json()["resources"]]

    assert types(type="bounced") == ["bounced"]
    assert types(recipient="A@dest.test") == ["delivered"]
    assert types(message_id=f"<{message_id}>") == ["delivered", "bounced"]
    assert types(message_id="other@x") == []
    since = (utcnow() - timedelta(days=1)).isoformat()
    assert types(**{"from": since}) == ["delivered"]
    assert types(**{"to": since}) == ["bounced"]
    assert (
        len(client.get(url, headers=customer.headers, params={"per": 1}).json()["resources"]) == 1
    )


def test_daily_stats_are_zero_filled(client: TestClient, factory: Factory, db: Database) -> None:
    customer = factory.customer()
    account_id = _account(db, customer)
    with db.session() as session:
        count_daily(session, {(account_id, date(2026, 11, 20)): Counter(delivered=5, bounced=1)})
    answer = client.get(
        f"/api/v1/accounts/{account_id}/stats",
        headers=customer.headers,
        params={"from": "2026-11-19", "to": "2026-11-21"},
    ).json()
    assert [d["day"] for d in answer["resources"]] == ["2026-11-19", "2026-11-20", "2026-11-21"]
    assert [d["delivered"] for d in answer["resources"]] == [0, 5, 0]
    assert answer["totals"]["bounced"] == 1
    bad = client.get(
        f"/api/v1/accounts/{account_id}/stats",
        headers=customer.headers,
        params={"from": "2026-11-21", "to": "2026-11-19"},
    )
    assert bad.status_code == 422


def test_other_tenants_see_nothing(client: TestClient, factory: Factory, db: Database) -> None:
    reseller = factory.reseller()
    customer = factory.customer(parent=reseller)
    account_id = _account(db, customer)
    created = client.post(
        f"/api/v1/accounts/{account_id}/webhooks",
        headers=customer.headers,
        json={"url": "http://127.0.0.1:9/hook"},
    )
    assert created.status_code == 201
    hook_id = created.json()["resources"][0]["id"]
    paths = [
        f"/api/v1/accounts/{account_id}/events",
        f"/api/v1/accounts/{account_id}/stats",
        f"/api/v1/accounts/{account_id}/webhooks",
        f"/api/v1/accounts/{account_id}/webhooks/{hook_id}",
        f"/api/v1/accounts/{account_id}/webhooks/{hook_id}/deliveries",
    ]
    outsiders = [
        factory.customer(),
        factory.reseller(),
        factory.customer(parent=factory.reseller()),
    ]
    for outsider in outsiders:
        for path in paths:
            assert client.get(path, headers=outsider.headers).status_code == 404, path
        assert client.delete(paths[3], headers=outsider.headers).status_code == 404, (
            "delete must not leak"
        )
    for insider in (customer, reseller, factory.operator()):
        for path in paths:
            assert client.get(path, headers=insider.headers).status_code == 200, path
    # Another account's webhook id under this account is just as unknown.
    other_account = _account(db, customer)
    assert (
        client.get(
            f"/api/v1/accounts/{other_account}/webhooks/{hook_id}", headers=customer.headers
        ).status_code
        == 404
    )
    read_only = factory.key(customer.org_id, Role.read_only)
    assert (
        client.post(
            f"/api/v1/accounts/{account_id}/webhooks",
            headers=read_only,
            json={"url": "http://127.0.0.1:9/x"},
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:5432/", "127.0.0.1 (loopback)"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 (link-local)"),
        ("https://10.0.0.5/hook", "10.0.0.5 (private)"),
        ("https://100.64.0.1/hook", "100.64.0.1 (shared CGNAT)"),
        ("http://[::1]:8080/hook", "::1 (loopback)"),
        ("http://[fd00::5]/hook", "fd00::5 (private)"),
        ("http://[::ffff:192.168.0.1]/hook", "::ffff:c0a8:1 (private)"),
    ],
)
def test_a_private_ip_url_is_refused_when_private_addresses_are_not_allowed(
    factory: Factory, db: Database, settings: Settings, url: str, address: str
) -> None:
    guarded = create_app(settings.model_copy(update={"webhook_allow_private_addresses": False}), db)
    customer = factory.customer()
    base = f"/api/v1/accounts/{_account(db, customer)}/webhooks"
    refused = {
        "message": "Validation failed",
        "errors": [
            {
                "field": "url",
                "description": f"points to a non-public address {address}; "
                "only public addresses may receive webhooks",
            }
        ],
    }
    with TestClient(guarded) as client:
        created = client.post(base, headers=customer.headers, json={"url": url})
        assert (created.status_code, created.json()) == (422, refused)
        # Host names are vetted at each POST; creating one sends nothing.
        public = client.post(
            base, headers=customer.headers, json={"url": "https://hooks.example.com/in"}
        )
        assert public.status_code == 201
        hook = f"{base}/{public.json()['resources'][0]['id']}"
        updated = client.put(hook, headers=customer.headers, json={"url": url})
        assert (updated.status_code, updated.json()) == (422, refused)
        stored = client.get(hook, headers=customer.headers).json()["resources"][0]
        assert stored["url"] == "https://hooks.example.com/in"


@pytest.mark.parametrize(
    ("url", "description"),
    [
        ("ftp://hooks.example.com/", "Value error, must be an http:// or https:// URL"),
        ("http:///hook", "Value error, must name a host"),
        ("http://hooks.example.com:99999/", "Value error, is not a valid URL: "),
    ],
)
def test_a_webhook_url_must_name_an_http_host(
    client: TestClient, factory: Factory, db: Database, url: str, description: str
) -> None:
    customer = factory.customer()
    base = f"/api/v1/accounts/{_account(db, customer)}/webhooks"
    answer = client.post(base, headers=customer.headers, json={"url": url})
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "url"
    assert error["description"].startswith(description)


class _Receiver(BaseHTTPRequestHandler):
    """An endpoint that fails its first request, then accepts."""

    calls: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls.append((dict(self.headers), body))
        status = 500 if len(type(self).calls) == 1 else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"nope" if status == 500 else b"thanks")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[ThreadingHTTPServer]:
    _Receiver.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhooks_are_signed_retried_and_logged(
    client: TestClient,
    factory: Factory,
    db: Database,
    settings: Settings,
    receiver: ThreadingHTTPServer,
) -> None:
    customer = factory.customer()
    account_id = _account(db, customer)
    base = f"/api/v1/accounts/{account_id}/webhooks"
    created = client.post(
        base,
        headers=customer.headers,
        json={
            "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
            "event_types": ["bounced"],
        },
    ).json()["resources"][0]
    secret = created["secret"]
    assert secret.startswith("whsec_")
    hook_id = created["id"]
    assert (
        "secret"
        not in client.get(f"{base}/{hook_id}", headers=customer.headers).json()["resources"][0]
    )

    _events(db, account_id)  # one delivered, one bounced: only the bounce is subscribed
    sender = WebhookSender(db, settings.model_copy(update={"webhook_retry_base_seconds": 0}))
    asyncio.run(sender.drain())

    assert len(_Receiver.calls) == 2  # failed once, retried once
    headers, body = _Receiver.calls[-1]
    payload = json.loads(body)
    assert (payload["type"], payload["recipient"]) == ("bounced", "b@dest.test")
    stamp = headers["X-Outpost-Timestamp"]
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["X-Outpost-Signature"] == f"sha256={expected}"

    log = client.get(f"{base}/{hook_id}/deliveries", headers=customer.headers).json()
    [entry] = log["resources"]
    assert (entry["status"], entry["attempts"], entry["response_status"]) == ("delivered", 2, 200)
    assert entry["event_type"] == "bounced"

    updated = client.put(
        f"{base}/{hook_id}", headers=customer.headers, json={"enabled": False}
    ).json()["resources"][0]
    assert updated["enabled"] is False
    assert client.delete(f"{base}/{hook_id}", headers=customer.headers).status_code == 204
    assert client.get(base, headers=customer.headers).json()["resources"] == []
