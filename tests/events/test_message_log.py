"""The message log as the panel reads it: subjects of the messages, part-of-address search."""

from __future__ import annotations

from outpost.db import Database, utcnow
from outpost.events.models import EventType
from outpost.events.recording import add_events
from outpost.events.service import EventFilter, MessageRef, list_events
from outpost.pagination import PageParams
from outpost.tenancy.models import OrgKind, Role
from outpost.tenancy.scope import Caller
from tests.delivery.support import queue_message
from tests.factories import Factory, make_account


def test_events_come_with_their_message_and_search_by_part_of_the_address(
    db: Database, factory: Factory
) -> None:
    customer = factory.customer()
    caller = Caller(org_id=customer.org_id, org_kind=OrgKind.customer, role=Role.owner)
    with db.session() as session:
        account = make_account(session, org_id=customer.org_id)
        queued = queue_message(
            session, account_id=account.id, to=["Ana@Dest.test", "bob@other.test"], subject="Hi"
        )
        add_events(
            session,
            [
                {
                    "account_id": account.id,
                    "message_id": queued.message_id,
                    "recipient_id": queued.recipients[address],
                    "type": EventType.accepted,
                    "address": address,
                    "details": {},
                    "created_at": utcnow(),
                }
                for address in ("Ana@Dest.test", "bob@other.test")
            ],
        )
        account_id = account.id

    with db.session() as session:
        page, messages = list_events(
            session=session,
            caller=caller,
            account_id=account_id,
            params=PageParams(),
            filters=EventFilter(recipient_contains="ana@dest"),
        )
        assert [e.address for e in page.items] == ["Ana@Dest.test"]
        assert messages == {queued.message_id: MessageRef(queued.message_id_header, "Hi")}
        page, _ = list_events(
            session=session,
            caller=caller,
            account_id=account_id,
            params=PageParams(),
            filters=EventFilter(recipient_contains="%"),
        )
        assert page.items == []
