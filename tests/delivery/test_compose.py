"""Send API messages become well-formed MIME (checked by parsing them back)."""

from __future__ import annotations

import base64
import json
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from outpost.delivery.compose import CompositionError, compose

PNG = b"\x89PNG\r\n\x1a\nfake image bytes"
PDF = b"%PDF-1.4 fake"


def _compose(**fields: Any) -> tuple[bytes, EmailMessage]:
    data: dict[str, Any] = {
        "from": "Shop <shop@sender.test>",
        "to": "a@dest.test",
        "subject": "Hello",
        "text_body": "Plain text.\n",
        "message_id": "m1@sender.test",
        "date": "2026-04-16T08:41:13.225Z",
    }
    data.update(fields)
    raw = compose(json.dumps(data).encode())
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return raw, parsed


def _shape(part: EmailMessage) -> Any:
    if part.is_multipart():
        return (part.get_content_type(), [_shape(p) for p in part.iter_parts()])  # type: ignore[arg-type]
    return part.get_content_type()


def test_headers_and_text_only() -> None:
    raw, msg = _compose(
        to=["A <a@dest.test>", {"address": "b@dest.test", "name": "Bé"}],
        cc="c@dest.test, D <d@dest.test>",
        bcc=["hidden@dest.test"],
        reply_to=[{"address": "help@sender.test"}],
        headers={"X-Campaign": "spring", "X-Flags": ["a", 1, True], "Bcc": "x@evil.test"},
    )
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert raw.isascii()
    assert msg["From"] == "Shop <shop@sender.test>"
    assert [a.addr_spec for a in msg["To"].addresses] == ["a@dest.test", "b@dest.test"]
    assert msg["To"].addresses[1].display_name == "Bé"
    assert [a.addr_spec for a in msg["Cc"].addresses] == ["c@dest.test", "d@dest.test"]
    assert msg["Reply-To"] == "help@sender.test"
    assert msg["Bcc"] is None and b"hidden@dest.test" not in raw and b"evil" not in raw
    assert msg["Message-ID"] == "<m1@sender.test>"
    assert msg["Date"] == "Thu, 16 Apr 2026 08:41:13 +0000"
    assert (msg["X-Campaign"], msg["X-Flags"]) == ("spring", "a, 1, true")
    assert msg["MIME-Version"] == "1.0"
    assert _shape(msg) == "text/plain"
    assert msg.get_content().replace("\r\n", "\n") == "Plain text.\n"


def test_alternative_related_and_mixed() -> None:
    _, msg = _compose(
        html_body='<p>Hi <img src="cid:logo@sender.test"></p>',
        attachments=[
            {
                "filename": "logo.png",
                "content_type": "image/png",
                "content": base64.b64encode(PNG).decode(),
                "content_id": "logo@sender.test",
            },
            {
                "filename": "invoice.pdf",
                "content_type": "application/pdf",
                "content": base64.b64encode(PDF).decode(),
            },
        ],
    )
    assert _shape(msg) == (
        "multipart/mixed",
        [
            (
                "multipart/alternative",
                ["text/plain", ("multipart/related", ["text/html", "image/png"])],
            ),
            "application/pdf",
        ],
    )
    parts = list(msg.walk())
    image = next(p for p in parts if p.get_content_type() == "image/png")
    assert image["Content-ID"] == "<logo@sender.test>"
    assert image.get_content_disposition() == "inline"
    assert image.get_payload(decode=True) == PNG
    pdf = next(p for p in parts if p.get_content_type() == "application/pdf")
    assert (pdf.get_content_disposition(), pdf.get_filename()) == ("attachment", "invoice.pdf")
    assert pdf.get_payload(decode=True) == PDF
    assert all(p["MIME-Version"] is None for p in parts[1:])


def test_html_only_with_attachment_and_unicode() -> None:
    _, msg = _compose(
        text_body=None,
        html_body="<p>Grüße, 世界</p>",
        subject="Grüße aus Köln — 世界",
        attachments=[
            {
                "filename": "résumé.txt",
                "content_type": "text/plain",
                "content": base64.b64encode(b"cv").decode(),
                "disposition": "attachment",
            }
        ],
    )
    assert _shape(msg) == ("multipart/mixed", ["text/html", "text/plain"])
    assert msg["Subject"] == "Grüße aus Köln — 世界"
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html")
    assert html.get_content() == "<p>Grüße, 世界</p>"  # type: ignore[attr-defined]
    attachment = next(p for p in msg.walk() if p.get_filename())
    assert attachment.get_filename() == "résumé.txt"


def test_header_injection_is_neutralised() -> None:
    _raw, msg = _compose(subject="Hi\r\nBcc: victim@x.test", headers={"X-A": "1\r\nX-B: 2"})
    assert msg["Bcc"] is None and msg["X-B"] is None
    assert msg["Subject"] == "Hi Bcc: victim@x.test"


@pytest.mark.parametrize(
    "fields",
    [
        {"text_body": None},
        {"from": "not an address"},
        {"message_id": None},
        {"headers": {"Bad Name": "x"}},
        {"to": [42]},
    ],
)
def test_unusable_messages_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(CompositionError):
        _compose(**fields)
    with pytest.raises(CompositionError):
        compose(b"not json")


def test_long_headers_are_folded_and_read_back_whole() -> None:
    many = [f"Person {i} <person{i}@dest.test>" for i in range(30)]
    subject = "A fairly long subject line " * 6
    raw, msg = _compose(to=many, subject=subject, headers={"X-Long": "word " * 40})
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    assert len(msg["To"].addresses) == 30
    assert msg["Subject"] == subject.strip()
    assert msg["X-Long"] == ("word " * 40).strip()


def test_the_send_paths_stored_document() -> None:
    """The exact shape ``sending.api_messages`` stores: every key, pairs, RFC 5322 date."""
    document = {
        "message_id": "6d1f@sender.test",
        "date": "Mon, 23 Nov 2026 10:00:00 +0000",
        "from": {"address": "shop@sender.test", "name": "Shop"},
        "to": [{"address": "a@dest.test", "name": None}, {"address": "b@dest.test", "name": "B"}],
        "cc": [],
        "bcc": [{"address": "secret@dest.test", "name": None}],
        "reply_to": [],
        "subject": "Order",
        "text_body": "Thanks.",
        "html_body": None,
        "headers": [["X-Order", "42"], ["Reply-To", "help@sender.test"], ["X-Order", "43"]],
        "attachments": [],
    }
    raw = compose(json.dumps(document).encode())
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["From"] == "Shop <shop@sender.test>"
    assert msg["To"] == "a@dest.test, B <b@dest.test>"
    assert msg["Cc"] is None and msg["Bcc"] is None and b"secret" not in raw
    assert msg["Reply-To"] == "help@sender.test"  # from headers, since reply_to is empty
    assert msg.get_all("X-Order") == ["42", "43"]
    assert msg["Date"] == "Mon, 23 Nov 2026 10:00:00 +0000"
    assert _shape(msg) == "text/plain"  # type: ignore[arg-type]
