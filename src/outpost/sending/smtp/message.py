"""Checks and fixes an SMTP-submitted message needs before it is stored (RFC 5322, RFC 6409)."""

from __future__ import annotations

import re
from email.header import decode_header, make_header

from outpost.addresses import parse_mailboxes, unique_addresses
from outpost.db import utcnow
from outpost.message_ids import new_message_id
from outpost.sending.dates import rfc5322_date
from outpost.sending.models import BodyFormat
from outpost.sending.submission import OutgoingMessage

_HEADER_NAME = re.compile(rb"^[!-9;-~]+:")
_MESSAGE_ID = re.compile(r"^\s*<([^<>\s]+@[^<>\s]+)>\s*$")
MAX_LINE = 998


class MalformedMessage(Exception):
    """The message breaks RFC 5322 in a way that stops us from storing it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def has_bare_line_ending(content: bytes) -> bool:
    """Whether a line ends in a bare CR or a bare LF instead of CRLF."""
    # Three C-speed counts instead of a regex scan: every CR and every LF must be a CRLF.
    pairs = content.count(b"\r\n")
    return content.count(b"\r") != pairs or content.count(b"\n") != pairs


def _split(content: bytes) -> tuple[list[bytes], bytes]:
    head, separator, body = content.partition(b"\r\n\r\n")
    if not separator:
        if content.endswith(b"\r\n") and b"\r\n\r\n" not in content:
            head, body = content[:-2], b""
        else:
            raise MalformedMessage("there is no empty line between the headers and the body")
    return head.split(b"\r\n"), body


def _unfold(lines: list[bytes]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE:
            raise MalformedMessage(f"header line {number} is longer than {MAX_LINE} characters")
        if line[:1] in (b" ", b"\t"):
            if not headers:
                raise MalformedMessage("the first header line is a continuation line")
            name, value = headers[-1]
            headers[-1] = (name, value + "\r\n" + line.decode("utf-8", "surrogateescape"))
            continue
        if not _HEADER_NAME.match(line):
            raise MalformedMessage(f"header line {number} is not of the form `Name: value`")
        name, _, value = line.decode("utf-8", "surrogateescape").partition(":")
        headers.append((name, value.strip()))
    return headers


def _by_name(headers: list[tuple[str, str]]) -> dict[str, list[str]]:
    named: dict[str, list[str]] = {}
    for name, value in headers:
        named.setdefault(name.lower(), []).append(value)
    return named


def _one(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    if values is None:
        return None
    if len(values) > 1:
        raise MalformedMessage(f"it has {len(values)} {name.title()} headers; one is allowed")
    return values[0]


def _decoded(value: str) -> str:
    unfolded = value.replace("\r\n", "")
    if "=?" not in unfolded:  # no encoded words (RFC 2047): nothing to decode
        return unfolded
    try:
        return str(make_header(decode_header(unfolded)))
    except (ValueError, LookupError):
        return unfolded


def _without_header(content: bytes, lines: list[bytes], name: bytes) -> bytes:
    """``content`` without the header ``name`` (lower-case), continuation lines and all."""
    kept: list[bytes] = []
    dropping = False
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        dropping = line.split(b":", 1)[0].strip().lower() == name
        if not dropping:
            kept.append(line)
    head_size = sum(len(line) + 2 for line in lines)  # each line and its CRLF
    return b"".join(line + b"\r\n" for line in kept) + content[head_size:]


def prepare_message(
    content: bytes, recipients: list[str], *, international: bool = False
) -> OutgoingMessage:
    """The stored form of a submitted message; adds Message-ID and Date when missing, and
    replaces a Message-ID that is not ``<left@right>``, so the header and the stored id
    agree. ``international``: the message came with SMTPUTF8, UTF-8 addresses and all."""
    lines, _body = _split(content)
    headers = _by_name(_unfold(lines))
    from_value = _one(headers, "from")
    if from_value is None:
        raise MalformedMessage("it has no From header")
    try:
        mailboxes = parse_mailboxes(_decoded(from_value), international=international)
    except ValueError as exc:
        raise MalformedMessage(f"the From header is not valid: {exc}") from exc
    if len(mailboxes) != 1:
        raise MalformedMessage("the From header must hold exactly one address")
    sender = mailboxes[0]
    sender_domain = sender.address.rpartition("@")[2]
    added = []
    message_id_value = _one(headers, "message-id")
    match = _MESSAGE_ID.match(message_id_value or "")
    if match and len(match.group(1)) <= 255:
        message_id = match.group(1)
    else:
        message_id = new_message_id(sender_domain)
        added.append(f"Message-ID: <{message_id}>\r\n".encode())
        if message_id_value is not None:
            content = _without_header(content, lines, b"message-id")
    if _one(headers, "date") is None:
        added.append(f"Date: {rfc5322_date(utcnow())}\r\n".encode())
    subject = _decoded(_one(headers, "subject") or "")
    return OutgoingMessage(
        message_id=message_id,
        mail_from=sender.address,
        sender_domain=sender_domain,
        recipients=unique_addresses(recipients),
        subject=subject,
        content=b"".join(added) + content,
        body_format=BodyFormat.mime,
        display_to=", ".join(recipients),
    )
