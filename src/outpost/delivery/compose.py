"""Build the MIME message a Send API request described, in the worker, off the accept path.

The contract with the send path: ``MessageBody(format=api_json).content`` is the UTF-8 JSON
of one Send API message (Qboxmail §1.2-1.4) plus two fields set at acceptance::

    {
      "from": "Name <sender@example.com>" | {"address": "sender@example.com", "name": "Name"},
      "to":       AddressList,            # optional; see below
      "cc":       AddressList,            # optional
      "bcc":      AddressList,            # optional; never written into the message
      "reply_to": AddressList,            # optional
      "subject":  "text",
      "text_body": "text",                # at least one of text_body / html_body
      "html_body": "<p>html</p>",
      "headers": {"X-Name": "v" | 1 | true | ["a", "b"]},  # optional; arrays joined by ", "
      "attachments": [                    # optional
        {"filename": "a.pdf", "content_type": "application/pdf",
         "content": "<base64>",
         "disposition": "attachment" | "inline",   # default inline when content_id is set
         "content_id": "logo@example"}             # referenced from HTML as cid:logo@example
      ],
      "message_id": "uuid@example.com",   # Message-ID value, angle brackets optional
      "date": "2026-04-16T08:41:13.225Z"  # ISO 8601 with a zone (or an RFC 5322 date)
    }

AddressList is one mailbox string, a comma-separated string of mailboxes, one
``{"address", "name"}`` object, or an array mixing strings and objects. Other fields
(``tags``, ``metadata``, ...) may be present and are ignored here.

Structure: text and HTML → multipart/alternative; inline parts (with ``content_id``) go in a
multipart/related around the HTML; attachments make the whole a multipart/mixed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, parsedate_to_datetime
from typing import Any

# 7bit transfer encodings everywhere: no remote server needs 8BITMIME for our mail.
POLICY = SMTP.clone(cte_type="7bit", max_line_length=78)

# Header names the composer writes itself; custom headers cannot replace them.
_RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "dkim-signature",
        "return-path",
        "received",
    }
)


class CompositionError(ValueError):
    """The stored JSON cannot make a message (a permanent failure of that message)."""


def compose(content: bytes) -> bytes:
    """The CRLF MIME bytes for a stored ``api_json`` body."""
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise CompositionError(f"stored message is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CompositionError("stored message is not a JSON object")
    msg = build_message(data)
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]  # the email package repeats it on every part
    return msg.as_bytes(policy=POLICY)


def build_message(data: dict[str, Any]) -> EmailMessage:
    """The message for one Send API message object."""
    msg = EmailMessage(policy=POLICY)
    _set_addresses(msg, "From", [_one_address(data.get("from"))])
    for field, header in (("to", "To"), ("cc", "Cc"), ("reply_to", "Reply-To")):
        addresses = parse_address_list(data.get(field))
        if addresses:
            _set_addresses(msg, header, addresses)
    msg["Subject"] = _clean(str(data.get("subject") or ""))
    msg["Date"] = _date_header(data.get("date"))
    msg["Message-ID"] = _message_id_header(data.get("message_id"))
    _add_custom_headers(msg, data.get("headers"), skip_reply_to="reply_to" in data)
    _set_body(msg, data)
    return msg


def parse_address_list(value: Any) -> list[Address]:
    """Every mailbox of an AddressList value (string, object, or array of either)."""
    if value is None or value == "" or value == []:
        return []
    items: Iterable[Any] = value if isinstance(value, list) else [value]
    out: list[Address] = []
    for item in items:
        if isinstance(item, dict):
            out.append(_one_address(item))
        elif isinstance(item, str):
            for name, addr in getaddresses([_clean(item)]):
                if addr:
                    out.append(_address(name, addr))
        else:
            raise CompositionError(f"not an address: {item!r}")
    return out


def _one_address(value: Any) -> Address:
    if isinstance(value, dict):
        addr = value.get("address")
        if not isinstance(addr, str) or not addr:
            raise CompositionError("address object without an address")
        return _address(str(value.get("name") or ""), addr)
    parsed = parse_address_list(value)
    if len(parsed) != 1:
        raise CompositionError(f"expected one address, got {value!r}")
    return parsed[0]


def _address(name: str, addr: str) -> Address:
    try:
        return Address(display_name=_clean(name), addr_spec=_clean(addr))
    except (ValueError, IndexError) as exc:
        raise CompositionError(f"invalid address {addr!r}") from exc


def _set_addresses(msg: EmailMessage, header: str, addresses: list[Address]) -> None:
    msg[header] = addresses  # the header registry takes Address lists


def _clean(text: str) -> str:
    # No header injection: a value never spans lines.
    return " ".join(text.replace("\r", " ").replace("\n", " ").split()) if text else text


def _date_header(value: Any) -> str:
    if isinstance(value, str) and value:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError) as exc:
                raise CompositionError(f"invalid date {value!r}") from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return format_datetime(when)
    return format_datetime(datetime.now(UTC))


def _message_id_header(value: Any) -> str:
    if not isinstance(value, str) or "@" not in value:
        raise CompositionError("stored message has no message_id")
    return f"<{_clean(value).strip('<>')}>"


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_header_value(v) for v in value)
    return _clean(str(value))


def _add_custom_headers(msg: EmailMessage, headers: Any, *, skip_reply_to: bool) -> None:
    if not isinstance(headers, dict):
        return
    for name, value in headers.items():
        name = str(name).strip()
        lowered = name.lower()
        if not name or lowered in _RESERVED_HEADERS or (skip_reply_to and lowered == "reply-to"):
            continue
        if any(c in name for c in ": \t\r\n") or not name.isascii():
            raise CompositionError(f"invalid header name {name!r}")
        msg[name] = _header_value(value)


def _set_body(msg: EmailMessage, data: dict[str, Any]) -> None:
    text, html = data.get("text_body"), data.get("html_body")
    if not text and not html:
        raise CompositionError("message has neither text_body nor html_body")
    attachments = [_attachment(a) for a in data.get("attachments") or []]
    inline = [a for a in attachments if a.inline and html]
    regular = [a for a in attachments if not (a.inline and html)]
    if text:
        msg.set_content(str(text), subtype="plain", charset="utf-8")
        if html:
            msg.add_alternative(str(html), subtype="html", charset="utf-8")
    else:
        msg.set_content(str(html), subtype="html", charset="utf-8")
    if inline:
        html_part = msg if not text else _html_part(msg)
        for part in inline:
            html_part.add_related(
                part.data,
                part.maintype,
                part.subtype,
                cid=f"<{part.content_id}>",
                disposition="inline",
                filename=part.filename,
            )
    for part in regular:
        msg.add_attachment(
            part.data,
            part.maintype,
            part.subtype,
            disposition="inline" if part.inline else "attachment",
            filename=part.filename,
            cid=f"<{part.content_id}>" if part.content_id else None,
        )


def _html_part(msg: EmailMessage) -> EmailMessage:
    for part in msg.iter_parts():
        if isinstance(part, EmailMessage) and part.get_content_type() == "text/html":
            return part
    raise CompositionError("no HTML part to relate inline parts to")  # pragma: no cover


@dataclass(frozen=True)
class _Attachment:
    """One decoded attachment."""

    filename: str
    maintype: str
    subtype: str
    data: bytes
    content_id: str | None
    inline: bool


def _attachment(value: Any) -> _Attachment:
    if not isinstance(value, dict):
        raise CompositionError("attachment is not an object")
    content_type = str(value.get("content_type") or "application/octet-stream").strip().lower()
    maintype, _, subtype = content_type.partition("/")
    # multipart/* and message/* cannot carry base64; they travel as opaque files.
    if not maintype or not subtype or maintype in ("multipart", "message"):
        maintype, subtype = "application", "octet-stream"
    try:
        data = base64.b64decode(str(value.get("content") or ""), validate=False)
    except (binascii.Error, ValueError) as exc:
        raise CompositionError("attachment content is not base64") from exc
    content_id = _clean(str(value.get("content_id") or "")).strip("<>") or None
    disposition = value.get("disposition") or ("inline" if content_id else "attachment")
    return _Attachment(
        filename=_clean(str(value.get("filename") or "attachment")),
        maintype=maintype,
        subtype=subtype,
        data=data,
        content_id=content_id,
        inline=disposition == "inline",
    )
