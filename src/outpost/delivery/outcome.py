"""Typed delivery results: what one attempt at one recipient came to.

Like Postal's ``SendResult`` and Mailman's temporary/permanent failures, every attempt ends
in exactly one :class:`DeliveryOutcome`; the recorder turns it into a status, an event and a
counter.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from outpost.sending.models import RecipientStatus


class OutcomeKind(enum.StrEnum):
    """How an attempt ended."""

    delivered = "delivered"
    deferred = "deferred"
    bounced = "bounced"
    expired = "expired"
    suppressed = "suppressed"
    parked = "parked"


class BounceKind(enum.StrEnum):
    """A hard bounce suppresses the address; a soft one does not."""

    hard = "hard"
    soft = "soft"


# Named replies Outpost itself writes into outcomes (Mailman keeps its replies as constants).
REPLY_NULL_MX = "556 5.1.10 Recipient domain has a null MX: it accepts no mail"
REPLY_NO_DOMAIN = "550 5.1.2 Recipient domain does not exist"
REPLY_NO_MAIL_HOST = "550 5.1.2 Recipient domain has no mail host"
REPLY_DNS_FAILURE = "451 4.4.3 Temporary DNS failure looking up the mail host"
REPLY_NO_CONNECTION = "421 4.4.1 No answer from any mail host"
REPLY_SUPPRESSED = "550 5.7.1 Address is on the account's suppression list"
REPLY_NO_CONTENT = "554 5.6.0 Message content is no longer stored"

_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
# Enhanced status subjects (RFC 3463 §3) that say nothing bad about the address itself:
# mailbox full (2), mail system (3), network (4), content (6), policy (7).
_SOFT_SUBJECTS = frozenset({"2", "3", "4", "6", "7"})
_HARD_CODES = frozenset({"5.2.1"})  # mailbox disabled


def enhanced_code_of(text: str) -> str | None:
    """The RFC 3463 status code a reply text starts with, e.g. ``5.1.1``."""
    match = _ENHANCED.match(text)
    return ".".join(match.groups()) if match else None


def bounce_kind_for(smtp_code: int, enhanced_code: str | None) -> BounceKind:
    """Whether a permanent failure condemns the address (hard) or only this message (soft)."""
    if smtp_code < 500:
        return BounceKind.soft
    if enhanced_code is None or enhanced_code in _HARD_CODES:
        return BounceKind.hard
    subject = enhanced_code.split(".")[1]
    return BounceKind.soft if subject in _SOFT_SUBJECTS else BounceKind.hard


@dataclass(frozen=True)
class DeliveryOutcome:
    """The result of one attempt: the kind, and the remote side's words for it."""

    kind: OutcomeKind
    reply: str
    smtp_code: int | None = None
    enhanced_code: str | None = None
    remote_host: str | None = None
    bounce_kind: BounceKind | None = None

    @property
    def status(self) -> RecipientStatus:
        """The recipient status this outcome leaves behind (parked stays deferred)."""
        if self.kind in (OutcomeKind.deferred, OutcomeKind.parked):
            return RecipientStatus.deferred
        return RecipientStatus(self.kind.value)

    @property
    def is_final(self) -> bool:
        """Whether the recipient is done (no further attempt)."""
        return self.kind not in (OutcomeKind.deferred, OutcomeKind.parked)


def from_reply(code: int, message: str, *, remote_host: str | None) -> DeliveryOutcome:
    """The outcome an SMTP reply means: 2xx delivered, 4xx deferred, 5xx bounced."""
    text = " ".join(message.split())
    enhanced = enhanced_code_of(text)
    reply = f"{code} {text}".strip()
    if 200 <= code < 300:
        return DeliveryOutcome(OutcomeKind.delivered, reply, code, enhanced, remote_host)
    if code >= 500:
        return DeliveryOutcome(
            OutcomeKind.bounced,
            reply,
            code,
            enhanced,
            remote_host,
            bounce_kind_for(code, enhanced),
        )
    return DeliveryOutcome(
        OutcomeKind.deferred, reply, code, enhanced, remote_host, BounceKind.soft
    )


def from_fixed_reply(reply: str, *, remote_host: str | None = None) -> DeliveryOutcome:
    """The outcome of one of the named replies above."""
    code = int(reply[:3])
    return from_reply(code, reply[4:], remote_host=remote_host)


def temporary(reason: str, *, remote_host: str | None = None) -> DeliveryOutcome:
    """A network-level failure: deferred, no SMTP code from the other side."""
    return DeliveryOutcome(OutcomeKind.deferred, reason, None, None, remote_host, BounceKind.soft)


def suppressed() -> DeliveryOutcome:
    """The address was suppressed after acceptance; not attempted."""
    return DeliveryOutcome(OutcomeKind.suppressed, REPLY_SUPPRESSED, 550, "5.7.1")


def parked(reason: str) -> DeliveryOutcome:
    """An internal error: kept, retried much later, never hot-looping."""
    return DeliveryOutcome(OutcomeKind.parked, f"outpost internal error: {reason}")


def expired(last: DeliveryOutcome) -> DeliveryOutcome:
    """A temporary failure past the deadline: the recipient gives up (a soft bounce)."""
    return DeliveryOutcome(
        OutcomeKind.expired,
        last.reply,
        last.smtp_code,
        last.enhanced_code,
        last.remote_host,
        BounceKind.soft,
    )
