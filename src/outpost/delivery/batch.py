"""Everything one claimed batch needs from the database, loaded in a few queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from outpost.delivery import sql
from outpost.delivery.outcome import DeliveryOutcome
from outpost.delivery.queue import ClaimedRecipient
from outpost.fastsql import Driver
from outpost.sending import sql as sending_sql
from outpost.sending.models import BodyFormat, MessageSource


@dataclass(frozen=True)
class MessageInfo:
    """A claimed recipient's message: who sent it, how, and its stored content."""

    id: int
    account_id: int
    source: MessageSource
    message_id: str
    mail_from: str
    sender_domain_id: int | None
    body_format: BodyFormat | None
    content: bytes | None


@dataclass(frozen=True)
class AccountInfo:
    """What delivery needs to know about an account."""

    id: int
    suppression_enabled: bool
    bounce_alert_email: str | None


@dataclass(frozen=True)
class DomainInfo:
    """A sending domain: where its bounces go and its (encrypted) DKIM keys."""

    id: int
    name: str
    return_path_host: str
    dkim_selector: str
    dkim_private_key: str
    dkim_ed25519_selector: str | None
    dkim_ed25519_private_key: str | None


@dataclass
class Batch:
    """One claim's recipients, their context, and the outcomes the steps decide."""

    worker_id: str
    recipients: list[ClaimedRecipient]
    messages: dict[int, MessageInfo] = field(default_factory=dict)
    accounts: dict[int, AccountInfo] = field(default_factory=dict)
    domains: dict[int, DomainInfo] = field(default_factory=dict)
    suppressed: set[tuple[int, str]] = field(default_factory=set)
    outcomes: dict[int, DeliveryOutcome] = field(default_factory=dict)
    # Signed wire bytes per message id, made once per batch.
    prepared: dict[int, bytes] = field(default_factory=dict)

    def pending(self) -> list[ClaimedRecipient]:
        """Recipients no step has decided yet."""
        return [r for r in self.recipients if r.id not in self.outcomes]

    def decide(self, recipients: Sequence[ClaimedRecipient], outcome: DeliveryOutcome) -> None:
        """Give every recipient in ``recipients`` the same outcome."""
        for recipient in recipients:
            self.outcomes[recipient.id] = outcome


def load_batch(*, session: Session, batch: Batch) -> None:
    """Fill in messages, bodies, accounts, sending domains and suppressed addresses."""
    driver = Driver(session.connection())
    message_ids = driver.array({r.message_id for r in batch.recipients})
    batch.messages = {
        row[0]: MessageInfo(
            id=row[0],
            account_id=row[1],
            source=MessageSource(row[2]),
            message_id=row[3],
            mail_from=row[4],
            sender_domain_id=row[5],
            body_format=BodyFormat(row[6]) if row[6] is not None else None,
            content=bytes(row[7]) if row[7] is not None else None,
        )
        for row in driver.execute(sql.MESSAGES, {"ids": message_ids})
    }
    # A message deleted since the claim took its recipients with it: nothing to do for them.
    batch.recipients = [r for r in batch.recipients if r.message_id in batch.messages]
    account_ids = driver.array({r.account_id for r in batch.recipients})
    batch.accounts = {
        row[0]: AccountInfo(id=row[0], suppression_enabled=bool(row[1]), bounce_alert_email=row[2])
        for row in driver.execute(sql.ACCOUNTS, {"ids": account_ids})
    }
    domain_ids = {m.sender_domain_id for m in batch.messages.values() if m.sender_domain_id}
    if domain_ids:
        batch.domains = {
            row[0]: DomainInfo(*row)
            for row in driver.execute(sql.DOMAINS, {"ids": driver.array(domain_ids)})
        }
    batch.suppressed = _suppressed(driver, batch)


def _suppressed(driver: Driver, batch: Batch) -> set[tuple[int, str]]:
    # The authoritative suppression check is at delivery: an address may have bounced
    # since its message was accepted. Notices Outpost sends itself are never suppressed.
    wanted: dict[int, set[str]] = defaultdict(set)
    for recipient in batch.recipients:
        account = batch.accounts.get(recipient.account_id)
        message = batch.messages.get(recipient.message_id)
        if account is None or not account.suppression_enabled:
            continue
        if message is not None and message.source is MessageSource.system:
            continue
        wanted[recipient.account_id].add(recipient.address.lower())
    found: set[tuple[int, str]] = set()
    for account_id, addresses in wanted.items():
        rows = driver.execute(
            sending_sql.SUPPRESSED,
            {"account_id": account_id, "addresses": driver.array(addresses)},
        )
        found.update((account_id, address) for (address,) in rows)
    return found
