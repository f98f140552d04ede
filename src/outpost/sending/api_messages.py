"""Turn Send API messages into stored messages: the normalized JSON the workers compose from.

Stored JSON (``BodyFormat.api_json``)::

    {"message_id": "<uuid>@<sender domain>", "date": "<RFC 5322 date>",
     "from": {"address", "name"}, "to": [...], "cc": [...], "bcc": [...], "reply_to": [...],
     "subject": str, "text_body": str | null, "html_body": str | null,
     "headers": [[name, value], ...],
     "attachments": [{"filename", "content_type", "content" (base64), "disposition",
                      "content_id"}]}

MIME is built from it by the delivery workers, off the acceptance path.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from outpost.addresses import Mailbox, unique_addresses
from outpost.message_ids import new_message_id
from outpost.sending.dates import rfc5322_date
from outpost.sending.models import BodyFormat
from outpost.sending.schemas import BulkMessage, SendMessage
from outpost.sending.submission import OutgoingMessage


def outgoing_message(
    message: SendMessage | BulkMessage, to: list[Mailbox], *, now: datetime
) -> OutgoingMessage:
    """The stored form of one Send API message addressed to ``to`` (plus its cc and bcc)."""
    sender_domain = message.from_.address.rpartition("@")[2]
    message_id = new_message_id(sender_domain)
    # orjson writes a Mailbox (a dataclass) as {"address", "name"} and a tuple as an array.
    document = {
        "message_id": message_id,
        "date": rfc5322_date(now),
        "from": message.from_,
        "to": to,
        "cc": message.cc,
        "bcc": message.bcc,
        "reply_to": message.reply_to,
        "subject": message.subject,
        "text_body": message.text_body,
        "html_body": message.html_body,
        "headers": message.headers,
        "attachments": [a.model_dump() for a in message.attachments],
    }
    return OutgoingMessage(
        message_id=message_id,
        mail_from=message.from_.address,
        sender_domain=sender_domain,
        recipients=unique_addresses(m.address for m in [*to, *message.cc, *message.bcc]),
        subject=message.subject,
        content=orjson.dumps(document),
        body_format=BodyFormat.api_json,
        display_to=", ".join(m.formatted() for m in to),
        tags=list(message.tags),
        meta=dict(message.metadata),
    )
