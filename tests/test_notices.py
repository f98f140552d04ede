"""Notices Outpost sends itself are queued like any message, from the system sender."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.config import Settings
from outpost.notices import queue_notice
from outpost.sending.models import MessageBody, MessageSource, Recipient, RecipientStatus
from tests.factories import make_account


def test_a_notice_is_a_queued_system_message_to_its_recipient(
    session: Session, settings: Settings
) -> None:
    account = make_account(session)
    message = queue_notice(
        session=session,
        settings=settings,
        account_id=account.id,
        to="Ops@Customer.test",
        subject="Something happened",
        text="Details.\n",
        tag="test-notice",
    )
    assert message.source is MessageSource.system
    assert (message.mail_from, message.tags) == (settings.resolved_system_sender(), ["test-notice"])
    [recipient] = session.scalars(select(Recipient).where(Recipient.message_id == message.id))
    assert (recipient.address, recipient.domain, recipient.status) == (
        "Ops@Customer.test",
        "customer.test",
        RecipientStatus.queued,
    )
    body = session.scalars(select(MessageBody).where(MessageBody.message_id == message.id)).one()
    content = json.loads(body.content)
    assert content["subject"] == "Something happened"
    assert content["text_body"] == "Details.\n"
    assert content["headers"] == {"Auto-Submitted": "auto-generated"}
    assert content["from"]["address"] == settings.resolved_system_sender()
