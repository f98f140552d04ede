"""Send API request bodies (wire-compatible with Qboxmail's /v1/send and /v1/send/bulk)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from outpost.addresses import Mailbox, has_line_break, make_mailbox, parse_mailboxes

MAX_MESSAGES_PER_REQUEST = 500
MAX_BULK_RECIPIENTS = 500

_HEADER_NAME = re.compile(r"^[!-9;-~]{1,76}$")
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*(\s*;.*)?$")
# Set from the message's own fields, or by Outpost; a custom header may not override them.
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        "From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date", "Message-ID", "Sender",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
        "DKIM-Signature", "Return-Path", "Received",
    )
)  # fmt: skip


def _address(value: Any) -> Mailbox:
    if isinstance(value, Mailbox):
        return value
    if isinstance(value, str):
        mailboxes = parse_mailboxes(value)
        if len(mailboxes) != 1:
            raise ValueError("must be a single address")
        return mailboxes[0]
    if isinstance(value, dict):
        address = value.get("address")
        name = value.get("name")
        if not isinstance(address, str):
            raise ValueError("needs an `address` string")
        if name is not None and not isinstance(name, str):
            raise ValueError("`name` must be a string")
        return make_mailbox(address, name)
    raise ValueError("must be an address string or an {address, name} object")


def _address_list(value: Any) -> list[Mailbox]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    mailboxes: list[Mailbox] = []
    for item in items:
        if isinstance(item, str):
            mailboxes.extend(parse_mailboxes(item))
        else:
            mailboxes.append(_address(item))
    return mailboxes


def _no_line_break(value: Any) -> Any:
    if isinstance(value, str) and has_line_break(value):
        raise ValueError("must not contain line breaks")
    return value


Address = Annotated[Mailbox, BeforeValidator(_address)]
AddressList = Annotated[list[Mailbox], BeforeValidator(_address_list)]
SingleLine = Annotated[str, BeforeValidator(_no_line_break)]
Primitive = str | int | float | bool


class Attachment(BaseModel):
    """A file attached to (or, with ``content_id``, inline in) a message."""

    model_config = ConfigDict(extra="ignore")

    filename: SingleLine = Field(min_length=1, max_length=255)
    content_type: SingleLine = Field(max_length=255)
    content: str
    disposition: Literal["attachment", "inline"] | None = None
    content_id: SingleLine | None = Field(default=None, max_length=255)

    @model_validator(mode="after")
    def _check(self) -> Attachment:
        if not _CONTENT_TYPE.match(self.content_type):
            raise ValueError(f"content_type {self.content_type!r} is not a MIME type")
        try:
            base64.b64decode(self.content, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("content must be base64") from exc
        if self.content_id is not None and self.disposition == "attachment":
            raise ValueError("an attachment with a content_id must have disposition inline")
        if self.disposition == "inline" and not self.content_id:
            raise ValueError("an inline attachment needs a content_id")
        if self.disposition is None:
            self.disposition = "inline" if self.content_id else "attachment"
        return self


def _headers(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise ValueError("must be an object of header names to values")
    pairs: list[tuple[str, str]] = []
    for name, raw in value.items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid header name")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"{name} is set from the message fields and cannot be overridden")
        for item in raw if isinstance(raw, list) else [raw]:
            if isinstance(item, bool):
                text = "true" if item else "false"
            elif isinstance(item, str | int | float):
                text = str(item)
            else:
                raise ValueError(f"header {name} must be a string, number, boolean or array")
            if has_line_break(text):
                raise ValueError(f"header {name} must not contain line breaks")
            pairs.append((name, text))
    return pairs


Headers = Annotated[list[tuple[str, str]], BeforeValidator(_headers)]
Tag = Annotated[SingleLine, Field(min_length=1, max_length=100)]


class _MessageFields(BaseModel):
    model_config = ConfigDict(extra="ignore")

    from_: Address = Field(alias="from")
    cc: AddressList = Field(default_factory=list)
    bcc: AddressList = Field(default_factory=list)
    reply_to: AddressList = Field(default_factory=list)
    subject: SingleLine = Field(max_length=2000)
    text_body: str | None = None
    html_body: str | None = None
    headers: Headers = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list, max_length=100)
    tags: list[Tag] = Field(default_factory=list, max_length=10)
    metadata: dict[str, Primitive | None] = Field(default_factory=dict, max_length=50)

    @model_validator(mode="after")
    def _needs_a_body(self) -> _MessageFields:
        if self.text_body is None and self.html_body is None:
            raise ValueError("needs text_body or html_body")
        return self


class SendMessage(_MessageFields):
    """One complete message of ``POST /v1/send``."""

    to: AddressList = Field(default_factory=list)

    @model_validator(mode="after")
    def _needs_a_recipient(self) -> SendMessage:
        if not (self.to or self.cc or self.bcc):
            raise ValueError("needs at least one recipient in to, cc or bcc")
        return self


class SendRequest(BaseModel):
    """The body of ``POST /v1/send``."""

    model_config = ConfigDict(extra="ignore")

    messages: list[SendMessage] = Field(max_length=MAX_MESSAGES_PER_REQUEST)


class BulkMessage(_MessageFields):
    """The template of ``POST /v1/send/bulk``: a message without ``to``."""


class BulkRecipient(BaseModel):
    """One recipient of a bulk send and the values of its template variables."""

    model_config = ConfigDict(extra="ignore")

    email: str
    substitutions: dict[str, Primitive | None] = Field(default_factory=dict)


class BulkOptions(BaseModel):
    """How a bulk send renders its template."""

    model_config = ConfigDict(extra="ignore")

    strict_substitutions: bool = True


class BulkRequest(BaseModel):
    """The body of ``POST /v1/send/bulk``."""

    model_config = ConfigDict(extra="ignore")

    message: dict[str, Any]
    recipients: list[BulkRecipient] = Field(min_length=1, max_length=MAX_BULK_RECIPIENTS)
    options: BulkOptions = Field(default_factory=BulkOptions)
