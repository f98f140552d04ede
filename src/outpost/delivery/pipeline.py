"""The outbound pipeline for one claimed batch, as a list of small named steps.

Like Postal's outgoing message processor, each step may decide some recipients' outcomes
(suppressed, unusable message, no route, the remote reply); the last step records them
all. An unexpected error in a step parks the recipients still undecided: they are kept,
retried much later, and the error is logged (Mailman's "bad" queue, without a file).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from outpost.config import Settings
from outpost.db import Database, utcnow
from outpost.delivery.batch import Batch, MessageInfo
from outpost.delivery.dkim import DkimSigner, UnsignedMessage
from outpost.delivery.mx import MxResolver, Route, RouteFailure
from outpost.delivery.outcome import (
    REPLY_NO_CONTENT,
    DeliveryOutcome,
    from_fixed_reply,
    from_reply,
    parked,
    suppressed,
)
from outpost.delivery.prepare import MessageUnusable, SignerCache, message_bytes, sign_all
from outpost.delivery.queue import ClaimedRecipient, by_domain
from outpost.delivery.recording import MessageContext, record_outcomes, settle
from outpost.delivery.smtp_client import Envelope, SmtpClient
from outpost.delivery.verp import verp_address
from outpost.sending.models import MessageSource

log = logging.getLogger(__name__)

# Below this many recipients a destination gets no extra connection within a batch.
MIN_RECIPIENTS_PER_CONNECTION = 10
# Messages composed between two yields to the event loop: well under a millisecond of
# work, so SMTP sessions wait little, without a loop iteration per message.
PREPARED_PER_SLICE = 8

Step = Callable[[Batch], Awaitable[None]]


class ConnectionLimits:
    """Caps on simultaneous SMTP connections: per destination and for the whole worker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._overall = asyncio.Semaphore(settings.delivery_concurrency)
        self._per_domain: dict[str, asyncio.Semaphore] = {}

    def limit_for(self, domain: str) -> int:
        """The connection limit of one destination domain."""
        return max(
            1,
            self.settings.delivery_domain_limits.get(
                domain, self.settings.delivery_domain_concurrency
            ),
        )

    @asynccontextmanager
    async def slot(self, domain: str) -> AsyncIterator[None]:
        """Hold one connection slot for ``domain``."""
        semaphore = self._per_domain.get(domain)
        if semaphore is None:
            semaphore = self._per_domain[domain] = asyncio.Semaphore(self.limit_for(domain))
        async with semaphore, self._overall:
            yield


class Pipeline:
    """Runs the named steps over a batch."""

    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        mx: MxResolver,
        smtp: SmtpClient,
        limits: ConnectionLimits,
    ) -> None:
        self.database = database
        self.settings = settings
        self.secret = settings.installation_secret()
        self.mx = mx
        self.smtp = smtp
        self.limits = limits
        self.signers = SignerCache(self.secret)
        # The batch arrives claimed with its context loaded (messages, bodies, accounts,
        # sending domains, suppressions: see DeliveryWorker.claim).
        self.steps: list[Step] = [
            self.skip_suppressed,
            self.prepare_messages,
            self.deliver,
        ]

    async def process(self, batch: Batch) -> None:
        """Run every step, then record the outcomes in one transaction."""
        for step in self.steps:
            try:
                await step(batch)
            except Exception as exc:
                log.exception("delivery step %s failed; parking its recipients", step.__name__)
                batch.decide(batch.pending(), parked(f"{step.__name__}: {type(exc).__name__}"))
                break
        await asyncio.to_thread(self.record, batch)

    async def skip_suppressed(self, batch: Batch) -> None:
        """Recipients whose address was suppressed after acceptance are not attempted."""
        hits = [r for r in batch.pending() if (r.account_id, r.address.lower()) in batch.suppressed]
        batch.decide(hits, suppressed())

    async def prepare_messages(self, batch: Batch) -> None:
        """Compose and DKIM-sign each message once; the signatures are made on other threads.

        Composing and canonicalizing hold the GIL, so they run here, yielding to the event
        loop every few messages to keep every SMTP session of the worker flowing; the
        private-key operations release it and go to the signing threads
        (:func:`outpost.delivery.prepare.sign_all`), one hand-over per chunk of the batch.
        """
        wanted = {r.message_id for r in batch.pending()} - batch.prepared.keys()
        failed: dict[int, DeliveryOutcome] = {}
        unsigned: dict[int, UnsignedMessage] = {}
        for count, message_id in enumerate(wanted, start=1):
            message = batch.messages[message_id]
            try:
                data = message_bytes(message)
                signer = self._signer(batch, message)
                if signer is None:
                    batch.prepared[message_id] = data
                else:
                    unsigned[message_id] = signer.canonicalize(data)
            except MessageUnusable as exc:
                failed[message_id] = _unusable(str(exc))
            except Exception as exc:
                log.exception("cannot prepare message %s; parking it", message.message_id)
                failed[message_id] = parked(f"prepare: {type(exc).__name__}")
            if count % PREPARED_PER_SLICE == 0:
                await asyncio.sleep(0)
        for message_id, signed in (await sign_all(unsigned)).items():
            if isinstance(signed, bytes):
                batch.prepared[message_id] = signed
                continue
            log.error(
                "cannot sign message %s; parking it",
                batch.messages[message_id].message_id,
                exc_info=signed,
            )
            failed[message_id] = parked(f"prepare: {type(signed).__name__}")
        for recipient in batch.pending():
            if recipient.message_id in failed:
                batch.outcomes[recipient.id] = failed[recipient.message_id]

    def _signer(self, batch: Batch, message: MessageInfo) -> DkimSigner | None:
        domain = batch.domains.get(message.sender_domain_id or 0)
        return self.signers.signer(domain) if domain is not None else None

    async def deliver(self, batch: Batch) -> None:
        """Route each destination domain and send its recipients over reused connections."""
        groups = by_domain(batch.pending())
        await asyncio.gather(
            *(self._deliver_domain(batch, domain, group) for domain, group in groups.items())
        )

    async def _deliver_domain(
        self, batch: Batch, domain: str, recipients: list[ClaimedRecipient]
    ) -> None:
        try:
            try:
                route = await self.mx.route(domain)
            except RouteFailure as failure:
                batch.decide(recipients, failure.outcome)
                return
            key = "*" if route.relay else domain
            connections = min(
                self.limits.limit_for(key),
                math.ceil(len(recipients) / MIN_RECIPIENTS_PER_CONNECTION),
            )
            size = math.ceil(len(recipients) / connections)
            chunks = [recipients[i : i + size] for i in range(0, len(recipients), size)]
            await asyncio.gather(*(self._send_chunk(batch, route, key, c) for c in chunks))
        except Exception as exc:
            log.exception("delivery to %s failed unexpectedly; parking its recipients", domain)
            undecided = [r for r in recipients if r.id not in batch.outcomes]
            batch.decide(undecided, parked(f"deliver: {type(exc).__name__}"))

    async def _send_chunk(
        self, batch: Batch, route: Route, key: str, recipients: list[ClaimedRecipient]
    ) -> None:
        envelopes = [
            Envelope(
                mail_from=self.envelope_sender(batch, batch.messages[r.message_id], r),
                rcpt_to=r.address,
                data=batch.prepared[r.message_id],
            )
            for r in recipients
        ]
        async with self.limits.slot(key), self.smtp.session(route) as session:
            outcomes = await session.send_all(envelopes)
        for recipient, outcome in zip(recipients, outcomes, strict=True):
            batch.outcomes[recipient.id] = outcome

    def envelope_sender(
        self, batch: Batch, message: MessageInfo, recipient: ClaimedRecipient
    ) -> str:
        """VERP on the sending domain's return-path host, so each bounce names its recipient."""
        domain = batch.domains.get(message.sender_domain_id or 0)
        if domain is not None and domain.return_path_host:
            return verp_address(
                secret=self.secret,
                recipient_id=recipient.id,
                return_path_host=domain.return_path_host,
            )
        if message.source is MessageSource.system:
            return ""  # notices use the null reverse-path, so they never bounce back
        return message.mail_from

    def record(self, batch: Batch) -> None:
        """One transaction for the whole batch: rows, events, counters, suppressions."""
        now = utcnow()
        settled = [
            settle(
                settings=self.settings,
                recipient=r,
                outcome=batch.outcomes.get(r.id) or parked("no outcome"),
                now=now,
            )
            for r in batch.recipients
        ]
        contexts = {
            m.id: MessageContext(
                id=m.id,
                source=m.source,
                message_id=m.message_id,
                bounce_alert_email=(
                    batch.accounts[m.account_id].bounce_alert_email
                    if m.account_id in batch.accounts
                    else None
                ),
            )
            for m in batch.messages.values()
        }
        with self.database.session() as session:
            record_outcomes(
                session=session,
                settings=self.settings,
                worker_id=batch.worker_id,
                settled=settled,
                messages=contexts,
                now=now,
            )


def _unusable(reason: str) -> DeliveryOutcome:
    # A broken message says nothing about the address: 5.6.0 is never a hard bounce.
    if reason.startswith("message content is no longer stored"):
        return from_fixed_reply(REPLY_NO_CONTENT)
    return from_reply(554, f"5.6.0 {reason}", remote_host=None)
