"""Notices Outpost sends itself (bounce alerts, order confirmations), queued as messages.

A notice is an ordinary queued message of an account with the ``system`` source: the
delivery workers send it like any other, it never counts against the account's quota
or statistics, is never suppressed and goes out with the null reverse-path.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.addresses import domain_of
from outpost.config import Settings
from outpost.db import utcnow
from outpost.domains.models import Domain
from outpost.message_ids import new_message_id
from outpost.sending.models import (
    BodyFormat,
    Message,
    MessageBody,
    MessageSource,
    Recipient,
    RecipientStatus,
)


def queue_notice(
    *,
    session: Session,
    settings: Settings,
    account_id: int,
    to: str,
    subject: str,
    text: str,
    tag: str,
) -> Message:
    """Queue a plain-text notice to ``to`` about account ``account_id``."""
    sender = settings.resolved_system_sender()
    sender_domain = session.scalar(
        select(Domain.id).where(Domain.name == domain_of(sender), Domain.verified_at.is_not(None))
    )
    now = utcnow()
    message_id = new_message_id(settings.hostname)
    body = {
        "from": {"address": sender, "name": "Outpost"},
        "to": to,
        "subject": subject,
        "text_body": text,
        "headers": {"Auto-Submitted": "auto-generated"},
        "message_id": message_id,
        "date": now.isoformat(),
    }
    content = json.dumps(body).encode()
    message = Message(
        account_id=account_id,
        source=MessageSource.system,
        request_id=str(uuid.uuid4()),
        message_id=message_id,
        mail_from=sender,
        sender_domain_id=sender_domain,
        subject=subject,
        size=len(content),
        tags=[tag],
        meta={},
        created_at=now,
    )
    session.add(message)
    session.flush()
    session.add(MessageBody(message_id=message.id, format=BodyFormat.api_json, content=content))
    session.add(
        Recipient(
            message_id=message.id,
            account_id=account_id,
            address=to,
            domain=domain_of(to),
            status=RecipientStatus.queued,
            next_attempt_at=now,
            created_at=now,
        )
    )
    session.flush()
    return message
