"""What SMTP submission reads off a message's headers, and what it adds."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest

from outpost.sending.smtp.message import MalformedMessage, prepare_message


def _message(*headers: bytes) -> bytes:
    return b"\r\n".join(headers) + b"\r\n\r\nhello\r\n"


@pytest.mark.parametrize(
    ("header", "subject"),
    [
        (b"Subject: Your order", "Your order"),
        (b"Subject: =?utf-8?q?caf=C3=A9?= au lait", "café au lait"),
        (b"Subject: a long\r\n subject", "a long subject"),
        (b"Subject: =?utf-8?b?w7w=?=\r\n folded", "ü folded"),
        (b"Subject: not =?encoded", "not =?encoded"),
    ],
)
def test_the_subject_is_decoded_and_unfolded(header: bytes, subject: str) -> None:
    message = prepare_message(_message(b"From: shop@example.test", header), ["a@dest.test"])
    assert message.subject == subject


def test_a_message_without_date_and_message_id_gets_both() -> None:
    message = prepare_message(_message(b"From: Shop <shop@Example.test>"), ["a@dest.test"])
    head = message.content.split(b"\r\n\r\n")[0].decode()
    assert f"Message-ID: <{message.message_id}>" in head
    assert message.message_id.endswith("@example.test")
    date = next(line for line in head.split("\r\n") if line.startswith("Date: "))
    assert parsedate_to_datetime(date.removeprefix("Date: ")).tzinfo is not None


def test_header_names_are_matched_whatever_their_case() -> None:
    with pytest.raises(MalformedMessage, match="2 From headers"):
        prepare_message(_message(b"From: a@example.test", b"FROM: b@example.test"), ["x@d.test"])
    message = prepare_message(
        _message(b"from: a@example.test", b"message-id: <kept@example.test>"), ["x@d.test"]
    )
    assert message.message_id == "kept@example.test"


@pytest.mark.parametrize(
    "value",
    [b"Message-ID: not-an-id", b"Message-ID: <no-at-sign>", b"Message-Id: <a@b>\r\n  <c@d>"],
)
def test_a_malformed_message_id_is_replaced(value: bytes) -> None:
    """The header the recipient sees and the id Outpost stores and reports are the same."""
    content = _message(b"From: shop@example.test", value, b"Subject: kept")
    message = prepare_message(content, ["a@dest.test"])
    head, _, body = message.content.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert [line for line in lines if line.lower().startswith(b"message-id")] == [
        f"Message-ID: <{message.message_id}>".encode()
    ]
    assert b"Subject: kept" in lines and b"From: shop@example.test" in lines
    assert not any(line.startswith((b" ", b"\t")) for line in lines)
    assert body == b"hello\r\n"


def test_utf8_addresses_need_smtputf8() -> None:
    content = _message("From: José <josé@exämple.test>".encode())
    with pytest.raises(MalformedMessage, match="From header is not valid"):
        prepare_message(content, ["a@dest.test"])
    message = prepare_message(content, ["a@dest.test"], international=True)
    assert message.mail_from == "josé@xn--exmple-cua.test"
    assert message.sender_domain == "xn--exmple-cua.test"
