"""``/v1/send/bulk``: one template rendered per recipient."""

from __future__ import annotations

import httpx2 as httpx
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.sending.models import Message, MessageBody
from tests.sending.conftest import Sender, stored


def template(**overrides: object) -> dict[str, object]:
    message: dict[str, object] = {
        "from": "News <news@example.test>",
        "subject": "Welcome {{first_name}}",
        "html_body": "<p>Hello {{first_name}} ({{{badge}}})</p>",
        "text_body": "Hello {{first_name}}, this went to {{email}}",
        "headers": {"X-Campaign": "spring-{{ segment }}"},
        "tags": ["welcome", "{{segment}}"],
        "metadata": {"customer": "{{customer_id}}"},
    }
    message.update(overrides)
    return message


def documents(session: Session, account_id: int) -> list[dict[str, object]]:
    rows = session.scalars(
        select(MessageBody.content)
        .join(Message, Message.id == MessageBody.message_id)
        .where(Message.account_id == account_id)
        .order_by(Message.id)
    ).all()
    return [orjson.loads(content) for content in rows]


def test_each_recipient_gets_its_rendered_copy(
    http: httpx.Client, sender: Sender, session: Session
) -> None:
    payload = {
        "message": template(),
        "recipients": [
            {
                "email": "ann@dest.test",
                "substitutions": {
                    "first_name": "Ann <b>",
                    "badge": "<b>gold</b>",
                    "segment": "a",
                    "customer_id": 7,
                },
            },
            {
                "email": "bob@dest.test",
                "substitutions": {
                    "first_name": "Bob",
                    "badge": "",
                    "segment": "b",
                    "customer_id": 8,
                },
            },
        ],
    }
    response = http.post("/v1/send/bulk", headers=sender.headers, json=payload)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["queued_messages"] == 2
    assert [m["to"] for m in body["messages"]] == ["ann@dest.test", "bob@dest.test"]
    assert stored(session, sender.account_id) == (2, 2, 998)
    ann, bob = documents(session, sender.account_id)
    assert ann["subject"] == "Welcome Ann <b>"
    assert ann["html_body"] == "<p>Hello Ann &lt;b&gt; (<b>gold</b>)</p>"
    assert ann["text_body"] == "Hello Ann <b>, this went to ann@dest.test"
    assert ann["headers"] == [["X-Campaign", "spring-a"]]
    assert ann["to"] == [{"address": "ann@dest.test", "name": ""}]
    assert bob["subject"] == "Welcome Bob"
    messages = session.scalars(select(Message).order_by(Message.id)).all()
    assert [m.tags for m in messages] == [["welcome", "a"], ["welcome", "b"]]
    assert [m.meta for m in messages] == [{"customer": "7"}, {"customer": "8"}]
    assert {m.source for m in messages} == {"bulk"}


def test_strict_substitutions_refuse_a_missing_variable(
    http: httpx.Client, sender: Sender, session: Session
) -> None:
    payload = {
        "message": template(),
        "recipients": [
            {"email": "ann@dest.test", "substitutions": {"first_name": "Ann", "badge": "",
                                                          "segment": "a", "customer_id": 1}},
            {"email": "bob@dest.test", "substitutions": {"badge": "", "segment": "b",
                                                          "customer_id": 2}},
        ],
    }  # fmt: skip
    response = http.post("/v1/send/bulk", headers=sender.headers, json=payload)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "missing_substitution"
    assert "recipients.1.substitutions" in body["message"] and "{{first_name}}" in body["message"]
    assert stored(session, sender.account_id) == (0, 0, 1000)

    payload["options"] = {"strict_substitutions": False}
    response = http.post("/v1/send/bulk", headers=sender.headers, json=payload)
    assert response.status_code == 202
    assert documents(session, sender.account_id)[1]["subject"] == "Welcome "


def test_rendered_addresses_and_bad_recipients_are_checked(
    http: httpx.Client, sender: Sender, session: Session
) -> None:
    bad_email = {"message": template(), "recipients": [{"email": "nope"}]}
    response = http.post("/v1/send/bulk", headers=sender.headers, json=bad_email)
    assert response.status_code == 400 and "recipients.0.email" in response.json()["message"]
    injected = {
        "message": template(subject="Hi {{name}}"),
        "recipients": [{"email": "ann@dest.test", "substitutions": {"name": "x\r\nBcc: y@z.test"}}],
        "options": {"strict_substitutions": False},
    }
    response = http.post("/v1/send/bulk", headers=sender.headers, json=injected)
    assert response.status_code == 400 and "message.subject" in response.json()["message"]
    too_many = {
        "message": template(),
        "recipients": [{"email": f"r{i}@dest.test"} for i in range(501)],
    }
    response = http.post("/v1/send/bulk", headers=sender.headers, json=too_many)
    assert response.status_code == 400
    assert stored(session, sender.account_id) == (0, 0, 1000)
