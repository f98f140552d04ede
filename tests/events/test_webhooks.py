"""The webhook sender's guard against internal addresses and redirects.

Receivers listen on loopback only: with ``webhook_allow_private_addresses`` off they are
exactly what a customer must not reach, and nothing here sends traffic anywhere else.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outpost.config import Settings
from outpost.db import Database, utcnow
from outpost.events.models import EventType
from outpost.events.recording import add_events
from outpost.events.webhooks import WebhookSender
from tests.delivery.support import queue_message
from tests.factories import Factory, Tenant, make_account


class _Endpoint(ThreadingHTTPServer):
    """A loopback receiver answering every POST with one status (and Location)."""

    def __init__(self, status: int, location: str | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = status
        self.location = location
        self.calls: list[str] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: _Endpoint

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.calls.append(self.path)
        self.send_response(self.server.status)
        if self.server.location:
            self.send_header("Location", self.server.location)
        self.end_headers()
        self.wfile.write(b"answer")

    def log_message(self, *args: Any) -> None:
        pass


Endpoints = Callable[..., _Endpoint]


@pytest.fixture
def endpoints() -> Iterator[Endpoints]:
    started: list[_Endpoint] = []

    def start(status: int = 200, location: str | None = None) -> _Endpoint:
        server = _Endpoint(status, location)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def _webhook(client: TestClient, db: Database, customer: Tenant, url: str) -> str:
    """A webhook of a new account, with one bounce queued for it; its deliveries' path."""
    with db.session() as session:
        account_id = make_account(session, org_id=customer.org_id).id
    base = f"/api/v1/accounts/{account_id}/webhooks"
    created = client.post(base, headers=customer.headers, json={"url": url})
    assert created.status_code == 201, created.text
    with db.session() as session:
        queued = queue_message(session, account_id=account_id, to=["b@dest.test"])
        add_events(
            session,
            [
                {
                    "account_id": account_id,
                    "message_id": queued.message_id,
                    "recipient_id": queued.recipients["b@dest.test"],
                    "type": EventType.bounced,
                    "address": "b@dest.test",
                    "details": {"code": 550},
                    "created_at": utcnow(),
                }
            ],
        )
    return f"{base}/{created.json()['resources'][0]['id']}/deliveries"


def _drain(db: Database, settings: Settings, **changes: Any) -> None:
    quick = {"webhook_retry_base_seconds": 0, "webhook_max_attempts": 2} | changes
    asyncio.run(WebhookSender(db, settings.model_copy(update=quick)).drain())


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_a_webhook_to_a_loopback_host_is_refused_and_logged(
    client: TestClient,
    factory: Factory,
    db: Database,
    settings: Settings,
    endpoints: Endpoints,
    host: str,
) -> None:
    receiver = endpoints()
    customer = factory.customer()
    # Created while private addresses were allowed (the IP literal would be a 422 now).
    log = _webhook(client, db, customer, f"http://{host}:{receiver.port}/hook")

    _drain(db, settings, webhook_allow_private_addresses=False)

    assert receiver.calls == []
    [entry] = client.get(log, headers=customer.headers).json()["resources"]
    assert (entry["status"], entry["attempts"], entry["response_status"]) == ("failed", 2, None)
    assert entry["response_body"] == (
        "refused: webhook host resolves to a non-public address 127.0.0.1 (loopback); "
        "only public addresses may receive webhooks"
    )


def test_a_refused_webhook_is_retried_later_like_a_network_error(
    client: TestClient,
    factory: Factory,
    db: Database,
    settings: Settings,
    endpoints: Endpoints,
) -> None:
    receiver = endpoints()
    customer = factory.customer()
    log = _webhook(client, db, customer, f"http://localhost:{receiver.port}/hook")

    _drain(db, settings, webhook_allow_private_addresses=False, webhook_retry_base_seconds=60)

    [entry] = client.get(log, headers=customer.headers).json()["resources"]
    assert (entry["status"], entry["attempts"]) == ("pending", 1)
    assert entry["response_body"].startswith("refused: ")
    assert receiver.calls == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_the_answer_and_is_not_followed(
    client: TestClient,
    factory: Factory,
    db: Database,
    settings: Settings,
    endpoints: Endpoints,
    status: int,
) -> None:
    assert settings.webhook_allow_private_addresses  # loopback receivers are allowed here
    elsewhere = endpoints()
    redirecting = endpoints(status, location=f"http://127.0.0.1:{elsewhere.port}/elsewhere")
    customer = factory.customer()
    log = _webhook(client, db, customer, f"http://127.0.0.1:{redirecting.port}/hook")

    _drain(db, settings)

    assert redirecting.calls == ["/hook", "/hook"]  # not a 2xx: retried, then failed
    assert elsewhere.calls == []
    [entry] = client.get(log, headers=customer.headers).json()["resources"]
    assert (entry["status"], entry["attempts"], entry["response_status"]) == (
        "failed",
        2,
        status,
    )


def test_private_addresses_are_refused_unless_the_operator_allows_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTPOST_CONFIG", str(tmp_path / "missing.toml"))
    monkeypatch.delenv("OUTPOST_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", raising=False)
    assert Settings().webhook_allow_private_addresses is False
    monkeypatch.setenv("OUTPOST_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "true")
    assert Settings().webhook_allow_private_addresses is True
