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
      "headers": {"X-Name": "v" | 1 | true | ["a", "b"]}  # optional; arrays joined by ", "
               | [["X-Name", "v"], ...],              # or name/value pairs (the send path's form)
      "attachments": [                    # optional
        {"filename": "a.pdf", "content_type": "application/pdf",
         "content": "<base64>",
         "disposition": "attachment" | "inline",   # default inline when content_id is set
         "content_id": "logo@example"}             # referenced from HTML as cid:logo@example
      ],
      "message_id": "uuid@example.com",   # Message-ID value, angle brackets optional
      "date": "2026-04-16T08:41:13.225Z"  # ISO 8601 with a zone, or an RFC 5322 date
    }

Address lists may be empty and bodies null (``sending.api_messages`` writes every key).

AddressList is one mailbox string, a comma-separated string of mailboxes, one
``{"address", "name"}`` object, or an array mixing strings and objects. Other fields
(``tags``, ``metadata``, ...) may be present and are ignored here.

Structure: text and HTML → multipart/alternative; inline parts (with ``content_id``) go in a
multipart/related around the HTML; attachments make the whole a multipart/mixed.

Written out as bytes directly (headers by hand, bodies through ``binascii``'s C encoders):
the ``email`` package's classes and generator cost several times the DKIM signature.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime, formataddr, getaddresses, parsedate_to_datetime
from typing import Any

# Non-ASCII text goes quoted-printable (headers as RFC 2047 Q/B words): 7bit on the wire,
# so no remote server needs 8BITMIME for our mail.

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

Mailbox = tuple[str, str]  # (display name, address)

# A bare dot-atom address, which getaddresses returns unchanged with an empty name.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ZERO = timedelta(0)


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
    head = "".join(_header_line(name, value) for name, value in message_headers(data))
    return head.encode("ascii") + b"MIME-Version: 1.0\r\n" + _body(data)


def message_headers(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The top-level header fields (before the MIME ones), values unfolded."""
    headers = [("From", _format_addresses([_one_address(data.get("from"))]))]
    for field, name in (("to", "To"), ("cc", "Cc"), ("reply_to", "Reply-To")):
        addresses = parse_address_list(data.get(field))
        if addresses:
            headers.append((name, _format_addresses(addresses)))
    headers.append(("Subject", _clean(str(data.get("subject") or ""))))
    headers.append(("Date", _date_header(data.get("date"))))
    headers.append(("Message-ID", _message_id_header(data.get("message_id"))))
    headers += _custom_headers(data.get("headers"), skip_reply_to=bool(data.get("reply_to")))
    return headers


def _header_line(name: str, value: str) -> str:
    """One field, RFC 2047-encoded when not ASCII, folded at spaces near 78 columns.

    Written by hand: compat32 would run every field through ``Header`` folding, which cost
    more than the rest of composing.
    """
    if not value.isascii():
        encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
        return f"{name}: {encoded}\r\n"
    line = f"{name}: {value}"
    if len(line) <= 78:
        return line + "\r\n"
    lines, current = [], f"{name}:"
    for word in value.split(" "):
        if len(current) + 1 + len(word) > 78 and current != f"{name}:":
            lines.append(current)
            current = " " + word
        else:
            current += " " + word
    lines.append(current)
    return "\r\n".join(lines) + "\r\n"


def parse_address_list(value: Any) -> list[Mailbox]:
    """Every mailbox of an AddressList value (string, object, or array of either)."""
    if value is None or value == "" or value == []:
        return []
    items: Iterable[Any] = value if isinstance(value, list) else [value]
    out: list[Mailbox] = []
    for item in items:
        if isinstance(item, dict):
            out.append(_one_address(item))
        elif isinstance(item, str) and _PLAIN_ADDRESS.fullmatch(item):
            out.append(("", item))  # what getaddresses gives for it, at a fraction of the cost
        elif isinstance(item, str):
            for name, addr in getaddresses([_clean(item)]):
                if addr:
                    out.append(_address(name, addr))
        else:
            raise CompositionError(f"not an address: {item!r}")
    return out


def _one_address(value: Any) -> Mailbox:
    if isinstance(value, dict):
        addr = value.get("address")
        if not isinstance(addr, str) or not addr:
            raise CompositionError("address object without an address")
        return _address(str(value.get("name") or ""), addr)
    parsed = parse_address_list(value)
    if len(parsed) != 1:
        raise CompositionError(f"expected one address, got {value!r}")
    return parsed[0]


def _address(name: str, addr: str) -> Mailbox:
    addr = _clean(addr)
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or not addr.isascii() or " " in addr:
        raise CompositionError(f"invalid address {addr!r}")
    return _clean(name), addr


def _format_addresses(addresses: list[Mailbox]) -> str:
    return ", ".join(formataddr(a, charset="utf-8") for a in addresses)


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
        return _rfc5322_date(when)
    return _rfc5322_date(datetime.now(UTC))


def _rfc5322_date(when: datetime) -> str:
    """``format_datetime(when)``, written out directly for UTC (the usual case)."""
    if when.utcoffset() != _ZERO:
        return format_datetime(when)
    return (
        f"{_DAYS[when.weekday()]}, {when.day:02d} {_MONTHS[when.month - 1]} {when.year:04d} "
        f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} +0000"
    )


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


def _custom_headers(headers: Any, *, skip_reply_to: bool) -> list[tuple[str, str]]:
    if isinstance(headers, dict):
        pairs = list(headers.items())
    elif isinstance(headers, list):
        if not all(isinstance(p, list | tuple) and len(p) == 2 for p in headers):
            raise CompositionError("headers must be an object or [name, value] pairs")
        pairs = [(p[0], p[1]) for p in headers]
    else:
        return []
    out = []
    for name, value in pairs:
        name = str(name).strip()
        lowered = name.lower()
        if not name or lowered in _RESERVED_HEADERS or (skip_reply_to and lowered == "reply-to"):
            continue
        if any(c in name for c in ": \t\r\n") or not name.isascii():
            raise CompositionError(f"invalid header name {name!r}")
        out.append((name, _header_value(value)))
    return out


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _text_part(text: str, subtype: str) -> bytes:
    """A text part: 7bit when it can be, else UTF-8 quoted-printable."""
    text = _crlf(text)
    if text.isascii() and all(len(line) <= 998 for line in text.split("\r\n")):
        return (
            f'Content-Type: text/{subtype}; charset="us-ascii"\r\n'
            "Content-Transfer-Encoding: 7bit\r\n\r\n" + text
        ).encode("ascii")
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode(), istext=True)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode() + encoded.replace(b"\n", b"\r\n")


def _multipart(subtype: str, parts: list[bytes], params: str = "") -> bytes:
    """A multipart part around ``parts`` with a random boundary (no scan of the parts)."""
    boundary = ("=_" + secrets.token_hex(16)).encode()
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary.decode()}"{params}\r\n\r\n'
    inner = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return head.encode() + inner + b"--" + boundary + b"--\r\n"


def _body(data: dict[str, Any]) -> bytes:
    """The MIME entity under the top-level headers (its own Content-* fields first)."""
    text, html = data.get("text_body"), data.get("html_body")
    if not text and not html:
        raise CompositionError("message has neither text_body nor html_body")
    attachments = [_attachment(a) for a in data.get("attachments") or []]
    inline = [a for a in attachments if a.inline and html]
    regular = [a for a in attachments if not (a.inline and html)]
    html_part = _text_part(str(html), "html") if html else None
    if html_part is not None and inline:
        html_part = _multipart(
            "related", [html_part, *(a.part() for a in inline)], '; type="text/html"'
        )
    if text and html_part is not None:
        body = _multipart("alternative", [_text_part(str(text), "plain"), html_part])
    else:
        body = html_part or _text_part(str(text), "plain")
    if regular:
        body = _multipart("mixed", [body, *(a.part() for a in regular)])
    return body


@dataclass(frozen=True)
class _Attachment:
    """One decoded attachment."""

    filename: str
    maintype: str
    subtype: str
    data: bytes
    content_id: str | None
    inline: bool

    def part(self) -> bytes:
        """The MIME part, base64-encoded."""
        if self.filename.isascii():
            quoted = self.filename.replace("\\", "\\\\").replace('"', '\\"')
            filename = f'filename="{quoted}"'
        else:
            filename = "filename*=utf-8''" + urllib.parse.quote(self.filename, safe="")
        lines = [
            f"Content-Type: {self.maintype}/{self.subtype}",
            "Content-Transfer-Encoding: base64",
            f"Content-Disposition: {'inline' if self.inline else 'attachment'}; {filename}",
        ]
        if self.content_id:
            lines.append(f"Content-ID: <{self.content_id}>")
        head = "\r\n".join(lines).encode("ascii") + b"\r\n\r\n"
        return head + base64.encodebytes(self.data).replace(b"\n", b"\r\n")


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
