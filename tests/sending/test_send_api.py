"""The Send API over a real socket: what an application sees, and what gets stored."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outpost.accounts.models import AccountStatus, DeliveryAccount
from outpost.config import Settings
from outpost.db import Database, utcnow
from outpost.domains.models import Domain, DomainStatus
from outpost.events.models import DailyStats, Event
from outpost.sending.models import (
    BodyFormat,
    IdempotencyRecord,
    Message,
    MessageBody,
    Recipient,
)
from outpost.suppression.models import SuppressionReason
from outpost.suppression.service import add_suppression
from outpost.tokens.models import SendToken
from tests.factories import Factory
from tests.sending.conftest import Sender, make_sender, stored


def simple(**overrides: object) -> dict[str, object]:
    message: dict[str, object] = {
        "from": "Shop <shop@example.test>",
        "to": "alice@dest.test",
        "subject": "Your order",
        "text_body": "Thanks!",
    }
    message.update(overrides)
    return message


def test_single_message_is_queued_and_stored(
    http: httpx.Client, sender: Sender, session: Session
) -> None:
    response = http.post("/v1/send", headers=sender.headers, json={"messages": [simple()]})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["error_code"] == 0 and body["message"] == "OK"
    assert re.fullmatch(r"[0-9a-f-]{36}", body["request_id"])
    assert body["queued_messages"] == 1
    [item] = body["messages"]
    assert item["error_code"] == 0 and item["request_id"] == body["request_id"]
    assert item["message_id"].endswith("@example.test")
    assert item["to"] == "alice@dest.test"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", item["submitted_at"])
    assert body["suppression_summary"]["status"] == "checked"

    assert stored(session, sender.account_id) == (1, 1, 999)
    message = session.scalars(select(Message).where(Message.account_id == sender.account_id)).one()
    assert message.message_id == item["message_id"] and message.subject == "Your order"
    content = session.get_one(MessageBody, message.id)
    assert content.format is BodyFormat.api_json
    document = orjson.loads(content.content)
    assert document["from"] == {"address": "shop@example.test", "name": "Shop"}
    assert document["to"] == [{"address": "alice@dest.test", "name": ""}]
    recipient = session.scalars(select(Recipient).where(Recipient.message_id == message.id)).one()
    assert (recipient.address, recipient.domain, recipient.status) == (
        "alice@dest.test",
        "dest.test",
        "queued",
    )
    events = session.scalars(select(Event).where(Event.message_id == message.id)).all()
    assert [e.type for e in events] == ["accepted"]
    stats = session.scalars(
        select(DailyStats).where(DailyStats.account_id == sender.account_id)
    ).one()
    assert stats.sent == 1 and stats.day == datetime.now(UTC).date()


def test_batch_and_every_address_form(http: httpx.Client, sender: Sender, session: Session) -> None:
    messages = [
        simple(to='"Doe, John" <john@dest.test>, mary@dest.test'),
        simple(to={"address": "obj@dest.test", "name": "Obj"}, cc="cc@dest.test"),
        simple(
            to=["a@dest.test", {"address": "b@dest.test"}],
            bcc=["hidden@dest.test"],
            reply_to="support@example.test",
        ),
        simple(to="A@Dest.test", cc="a@dest.test"),  # the same mailbox twice counts once
    ]
    response = http.post("/v1/send", headers=sender.headers, json={"messages": messages})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["queued_messages"] == 4
    assert [m["to"] for m in body["messages"]] == [
        '"Doe, John" <john@dest.test>, mary@dest.test',
        "Obj <obj@dest.test>",
        "a@dest.test, b@dest.test",
        "A@dest.test",
    ]
    assert stored(session, sender.account_id) == (4, 8, 992)


def test_suppressed_recipients_are_not_queued_nor_counted(
    http: httpx.Client, sender: Sender, db: Database, session: Session
) -> None:
    with db.session() as s:
        add_suppression(
            session=s,
            account_id=sender.account_id,
            address="gone@dest.test",
            reason=SuppressionReason.hard_bounce,
        )
    response = http.post(
        "/v1/send",
        headers=sender.headers,
        json={"messages": [simple(to="Gone@dest.test, ok@dest.test")]},
    )
    body = response.json()
    assert response.status_code == 202
    assert body["suppression_summary"]["suppressed"] == ["Gone@dest.test"]
    assert body["messages"][0]["suppressed_recipients"] == ["Gone@dest.test"]
    assert stored(session, sender.account_id) == (1, 1, 999)
    types = sorted(e.type for e in session.scalars(select(Event)).all())
    assert types == ["accepted", "suppressed"]


def test_ignored_suppression_list_sends_anyway(
    http: httpx.Client, sender: Sender, db: Database, session: Session
) -> None:
    with db.session() as s:
        add_suppression(
            session=s, account_id=sender.account_id, address="gone@dest.test",
            reason=SuppressionReason.manual,
        )  # fmt: skip
        s.get_one(DeliveryAccount, sender.account_id).suppression_enabled = False
    response = http.post(
        "/v1/send", headers=sender.headers, json={"messages": [simple(to="gone@dest.test")]}
    )
    assert response.json()["suppression_summary"]["status"] == "ignored"
    assert stored(session, sender.account_id) == (1, 1, 999)


def _error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == status
    assert body["error"] == code
    assert re.fullmatch(r"[0-9a-f-]{36}", str(body["request_id"]))
    return dict(body)


@pytest.mark.parametrize(
    ("payload", "code", "needle"),
    [
        (b'{"messages": [', "invalid_json", "not valid JSON"),
        (b"{}", "missing_send_payload", "non-empty `messages` array"),
        (b'{"messages": []}', "missing_send_payload", "non-empty `messages` array"),
        (b'{"messages": null}', "missing_send_payload", "non-empty `messages` array"),
        (orjson.dumps({"messages": [simple(to="bob@")]}), "invalid_message", "messages.0.to"),
        (orjson.dumps({"messages": [simple(**{"from": None})]}), "invalid_message", "from"),
        (
            orjson.dumps({"messages": [simple(subject="Hi\r\nBcc: victim@x.test")]}),
            "invalid_message",
            "messages.0.subject",
        ),
        (
            orjson.dumps({"messages": [simple(headers={"X-Tag": "a\nb"})]}),
            "invalid_message",
            "line breaks",
        ),
        (
            orjson.dumps({"messages": [simple(headers={"From": "evil@x.test"})]}),
            "invalid_message",
            "cannot be overridden",
        ),
        (
            orjson.dumps({"messages": [simple(to='"Bad\r\nName" <a@dest.test>')]}),
            "invalid_message",
            "messages.0.to",
        ),
        (
            orjson.dumps({"messages": [simple(text_body=None)]}),
            "invalid_message",
            "text_body or html_body",
        ),
        (orjson.dumps({"messages": [simple(to=[])]}), "invalid_message", "at least one recipient"),
        (
            orjson.dumps(
                {
                    "messages": [
                        simple(
                            attachments=[
                                {
                                    "filename": "a.pdf",
                                    "content_type": "application/pdf",
                                    "content": "%%%",
                                }
                            ]
                        )
                    ]
                }
            ),
            "invalid_message",
            "base64",
        ),
        (
            orjson.dumps(
                {
                    "messages": [
                        simple(
                            attachments=[
                                {
                                    "filename": "logo.png",
                                    "content_type": "image/png",
                                    "content": "aGk=",
                                    "disposition": "inline",
                                }
                            ]
                        )
                    ]
                }
            ),
            "invalid_message",
            "content_id",
        ),
        (
            orjson.dumps({"messages": [simple(to=[f"r{i}@dest.test" for i in range(51)])]}),
            "too_many_recipients",
            "limit is 50",
        ),
        (orjson.dumps({"messages": [simple()] * 501}), "invalid_message", "messages"),
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(
    http: httpx.Client, sender: Sender, session: Session, payload: bytes, code: str, needle: str
) -> None:
    response = http.post(
        "/v1/send",
        headers={**sender.headers, "Content-Type": "application/json"},
        content=payload,
    )
    body = _error(response, 400, code)
    assert needle in str(body["message"])
    assert stored(session, sender.account_id) == (0, 0, 1000)


def test_credentials_errors(http: httpx.Client, sender: Sender, factory: Factory) -> None:
    payload = {"messages": [simple()]}
    _error(http.post("/v1/send", json=payload), 401, "missing_token")
    _error(
        http.post("/v1/send", json=payload, headers={"Authorization": "Basic x"}),
        401,
        "missing_token",
    )
    _error(
        http.post("/v1/send", json=payload, headers={"Authorization": "Bearer ops_unknown"}),
        401,
        "invalid_token",
    )
    management = factory.operator().headers["X-Api-Token"]
    body = _error(
        http.post("/v1/send", json=payload, headers={"Authorization": f"Bearer {management}"}),
        401,
        "invalid_token",
    )
    assert "Management API key" in str(body["message"])
    # A bad token wins over a bad payload.
    _error(
        http.post("/v1/send", content=b"{", headers={"Authorization": "Bearer ops_unknown"}),
        401,
        "invalid_token",
    )


def test_a_deleted_token_is_refused_at_once(
    http: httpx.Client, sender: Sender, db: Database, session: Session
) -> None:
    payload = {"messages": [simple()]}
    assert http.post("/v1/send", headers=sender.headers, json=payload).status_code == 202
    with db.session() as s:
        s.delete(s.scalars(select(SendToken)).one())
    _error(http.post("/v1/send", headers=sender.headers, json=payload), 401, "invalid_token")
    assert stored(session, sender.account_id) == (1, 1, 999)


def test_a_batch_of_500_is_accepted_whole(
    http: httpx.Client, sender: Sender, session: Session
) -> None:
    messages = [simple(to=f"r{i}@dest.test") for i in range(500)]
    response = http.post("/v1/send", headers=sender.headers, json={"messages": messages})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["queued_messages"] == len(body["messages"]) == 500
    assert len({m["message_id"] for m in body["messages"]}) == 500
    assert stored(session, sender.account_id) == (500, 500, 500)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (AccountStatus.disabled, "account_disabled"),
        (AccountStatus.blocked, "account_blocked"),
        (AccountStatus.awaiting_payment, "account_awaiting_payment"),
    ],
)
def test_account_that_may_not_send_is_a_403(
    http: httpx.Client,
    sender: Sender,
    db: Database,
    session: Session,
    status: AccountStatus,
    code: str,
) -> None:
    with db.session() as s:
        s.get_one(DeliveryAccount, sender.account_id).status = status
    _error(http.post("/v1/send", headers=sender.headers, json={"messages": [simple()]}), 403, code)
    assert stored(session, sender.account_id) == (0, 0, 1000)


def test_ip_access_control_of_account_then_token(
    http: httpx.Client, sender: Sender, db: Database, session: Session
) -> None:
    payload = {"messages": [simple()]}
    with db.session() as s:
        s.get_one(DeliveryAccount, sender.account_id).ip_allowlist = ["192.0.2.0/24"]
    body = _error(
        http.post("/v1/send", headers=sender.headers, json=payload), 403, "ip_not_allowed"
    )
    assert "account" in str(body["message"])
    # The IP policy also wins over a bad payload.
    _error(http.post("/v1/send", headers=sender.headers, content=b"{"), 403, "ip_not_allowed")
    with db.session() as s:
        s.get_one(DeliveryAccount, sender.account_id).ip_allowlist = ["127.0.0.0/8", "::1"]
        s.scalars(select(SendToken)).one().ip_allowlist = ["2001:db8::/32"]
    body = _error(
        http.post("/v1/send", headers=sender.headers, json=payload), 403, "ip_not_allowed"
    )
    assert "token" in str(body["message"])
    assert stored(session, sender.account_id) == (0, 0, 1000)


def test_sender_domain_must_be_associated_and_verified(
    http: httpx.Client, sender: Sender, db: Database, factory: Factory, session: Session
) -> None:
    other = make_sender(db, factory, domain="other.test")
    for from_, code in [
        ("x@unknown.test", "sender_domain_not_associated"),
        ("x@other.test", "sender_domain_not_associated"),  # another customer's domain
    ]:
        response = http.post(
            "/v1/send", headers=sender.headers, json={"messages": [simple(**{"from": from_})]}
        )
        _error(response, 422, code)
    with db.session() as s:
        domain = s.scalars(select(Domain).where(Domain.name == "example.test")).one()
        domain.status = DomainStatus.pending
    _error(
        http.post("/v1/send", headers=sender.headers, json={"messages": [simple()]}),
        422,
        "sender_domain_not_verified",
    )
    assert stored(session, sender.account_id) == (0, 0, 1000)
    assert stored(session, other.account_id) == (0, 0, 1000)


def test_quota_is_all_or_nothing(
    http: httpx.Client, db: Database, factory: Factory, session: Session
) -> None:
    sender = make_sender(db, factory, remaining=3)
    many = {
        "messages": [
            simple(to=["a@dest.test", "b@dest.test"]),
            simple(to="c@dest.test, d@dest.test"),
        ]
    }
    body = _error(http.post("/v1/send", headers=sender.headers, json=many), 429, "over_quota")
    assert "needs 4" in str(body["message"]) and "has 3" in str(body["message"])
    assert stored(session, sender.account_id) == (0, 0, 3)
    ok = http.post(
        "/v1/send",
        headers=sender.headers,
        json={"messages": [simple(to="a@dest.test, b@dest.test, c@dest.test")]},
    )
    assert ok.status_code == 202
    assert stored(session, sender.account_id) == (1, 3, 0)


def test_plan_messages_are_used_before_extra_messages(
    http: httpx.Client, sender: Sender, db: Database, session: Session
) -> None:
    with db.session() as s:
        account = s.get_one(DeliveryAccount, sender.account_id)
        account.plan_messages, account.used = 10, 8
        account.extra_messages, account.extra_used = 5, 0
        account.remaining = 7
    response = http.post(
        "/v1/send",
        headers=sender.headers,
        json={"messages": [simple(to=[f"r{i}@dest.test" for i in range(4)])]},
    )
    assert response.status_code == 202
    session.expire_all()
    account = session.get_one(DeliveryAccount, sender.account_id)
    assert (account.used, account.extra_used, account.remaining) == (10, 2, 3)


def test_oversized_bodies_are_a_413(
    http: httpx.Client, sender: Sender, app_settings_limits: None, session: Session
) -> None:
    big = base64.b64encode(b"x" * 40_000).decode()
    payload = {
        "messages": [
            simple(
                attachments=[
                    {
                        "filename": "a.bin",
                        "content_type": "application/octet-stream",
                        "content": big,
                    }
                ]
            )
        ]
    }
    _error(http.post("/v1/send", headers=sender.headers, json=payload), 413, "message_too_large")
    _error(
        http.post("/v1/send", headers=sender.headers, content=b"x" * 200_001),
        413,
        "payload_too_large",
    )
    assert stored(session, sender.account_id) == (0, 0, 1000)


def test_idempotency_key_replays_the_first_answer(
    http: httpx.Client, sender: Sender, session: Session
) -> None:
    headers = {**sender.headers, "Idempotency-Key": "order-42"}
    payload = {"messages": [simple()]}
    first = http.post("/v1/send", headers=headers, json=payload)
    again = http.post("/v1/send", headers=headers, json=payload)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert stored(session, sender.account_id) == (1, 1, 999)
    conflict = http.post("/v1/send", headers=headers, json={"messages": [simple(subject="Other")]})
    _error(conflict, 409, "idempotency_key_reused")
    assert stored(session, sender.account_id) == (1, 1, 999)
    # After 24 hours the key is new again.
    session.execute(
        update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=24, minutes=1))
    )
    session.commit()
    later = http.post("/v1/send", headers=headers, json={"messages": [simple(subject="Other")]})
    assert later.status_code == 202
    assert later.json()["request_id"] != first.json()["request_id"]
    assert stored(session, sender.account_id) == (2, 2, 998)


def test_rate_limit_is_a_429_with_retry_after(
    http: httpx.Client,
    sender: Sender,
    settings: Settings,
    db: Database,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A slow rate, so a loaded machine cannot send slower than the bucket refills.
    monkeypatch.setattr(settings, "send_api_rate_limit", 0.1)
    monkeypatch.setattr(settings, "send_api_rate_burst", 5)
    payload = {"messages": [simple()]}
    statuses = [
        http.post("/v1/send", headers=sender.headers, json=payload).status_code for _ in range(8)
    ]
    assert statuses == [202] * 5 + [429] * 3
    response = http.post("/v1/send", headers=sender.headers, json=payload)
    assert int(response.headers["Retry-After"]) >= 1
    _error(response, 429, "rate_limited")
    # The reference's order: token, IP, payload, then the rate limit.
    _error(http.post("/v1/send", headers=sender.headers, content=b"{"), 400, "invalid_json")
    with db.session() as s:
        s.get_one(DeliveryAccount, sender.account_id).ip_allowlist = ["192.0.2.0/24"]
    _error(http.post("/v1/send", headers=sender.headers, json=payload), 403, "ip_not_allowed")
    assert stored(session, sender.account_id) == (5, 5, 995)


def test_limits_come_after_the_account_ip_and_sender_domain(
    http: httpx.Client,
    sender: Sender,
    db: Database,
    session: Session,
    app_settings_limits: None,
) -> None:
    """A request refused for several reasons is refused for the first in acceptance order."""
    crowded = {"messages": [simple(to=[f"r{i}@dest.test" for i in range(51)])]}
    too_big = {"messages": [simple(text_body="x" * 40_000)]}
    _error(http.post("/v1/send", headers=sender.headers, json=crowded), 400, "too_many_recipients")
    foreign = {"messages": [simple(**{"from": "x@unknown.test"}, text_body="x" * 40_000)]}
    _error(
        http.post("/v1/send", headers=sender.headers, json=foreign),
        422,
        "sender_domain_not_associated",
    )
    with db.session() as s:
        s.get_one(DeliveryAccount, sender.account_id).ip_allowlist = ["192.0.2.0/24"]
    _error(http.post("/v1/send", headers=sender.headers, json=too_big), 403, "ip_not_allowed")
    _error(
        http.post("/v1/send", headers=sender.headers, content=b"x" * 200_001),
        403,
        "ip_not_allowed",
    )
    with db.session() as s:
        s.get_one(DeliveryAccount, sender.account_id).status = AccountStatus.disabled
    _error(http.post("/v1/send", headers=sender.headers, json=crowded), 403, "account_disabled")
    unknown = {"Authorization": "Bearer ops_unknown"}
    _error(http.post("/v1/send", headers=unknown, content=b"x" * 200_001), 401, "invalid_token")
    _error(http.post("/v1/send", headers=unknown, json=too_big), 401, "invalid_token")
    assert stored(session, sender.account_id) == (0, 0, 1000)


def test_error_code_is_the_http_status_of_every_error(
    http: httpx.Client, sender: Sender, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    _error(http.get("/v1/send", headers=sender.headers), 405, "method_not_allowed")

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the writer is broken")

    monkeypatch.setattr(app.state.sending, "accept", broken)
    body = _error(
        http.post("/v1/send", headers=sender.headers, json={"messages": [simple()]}),
        500,
        "internal_error",
    )
    assert "nothing was accepted" in str(body["message"])


def test_openapi_documents_the_send_bodies(http: httpx.Client) -> None:
    schema = http.get("/api/openapi.json").json()
    body = schema["paths"]["/v1/send"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/SendRequest"}
    assert "SendMessage" in schema["components"]["schemas"]


def test_expired_messages_cannot_be_used_before_the_expiry_job_runs(
    http: httpx.Client, sender: Sender, db: Database, session: Session
) -> None:
    with db.session() as s:
        account = s.get_one(DeliveryAccount, sender.account_id)
        account.plan_messages, account.used = 100, 0
        account.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        account.extra_messages, account.extra_used = 1, 0
        account.remaining = 101
    two = {"messages": [simple(to="a@dest.test, b@dest.test")]}
    body = _error(http.post("/v1/send", headers=sender.headers, json=two), 429, "over_quota")
    assert "has 1" in str(body["message"])
    one = {"messages": [simple(to="a@dest.test")]}
    assert http.post("/v1/send", headers=sender.headers, json=one).status_code == 202
    session.expire_all()
    account = session.get_one(DeliveryAccount, sender.account_id)
    assert (account.used, account.extra_used) == (0, 1)
