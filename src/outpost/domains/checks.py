"""Recording check results on a domain, its status transitions and its re-check schedule.

``pending`` (never fully verified) → ``verified`` (every required record ok) → ``failing``
(a required record broke after verification) → back to ``verified`` when fixed. A domain
failing for longer than ``FAILING_GRACE`` loses its verification (``pending`` again), as
SES does after 72 hours: a name whose records are gone is no longer the customer's to send
for. Look-ups that got no answer (timeout, SERVFAIL) never change the status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from outpost.domains.dns_records import DnsRecord, Purpose
from outpost.domains.models import Domain, DomainStatus
from outpost.domains.verification import RecordCheck

FAILING_GRACE = timedelta(hours=72)
NAME_TAKEN = "the name is already verified by another customer"

# How often the scheduler looks at a domain again, by status.
NEW_DOMAIN_WINDOW = timedelta(days=2)
RECHECK_NEW_PENDING = timedelta(minutes=10)
RECHECK_OLD_PENDING = timedelta(hours=6)
RECHECK_FAILING = timedelta(minutes=30)
RECHECK_VERIFIED = timedelta(hours=4)


def _stored(
    previous: Mapping[str, Any] | None, check: RecordCheck, now: datetime
) -> dict[str, Any]:
    since = now.isoformat()
    if previous and previous.get("ok") == check.ok and previous.get("since"):
        since = str(previous["since"])
    return {
        "ok": check.ok,
        "checked_at": now.isoformat(),
        "found": list(check.found),
        "error": check.error,
        "temporary": check.temporary,
        "since": since,
    }


def _failing_since(checks: Mapping[str, Any], required: Sequence[Purpose]) -> datetime | None:
    times = [
        datetime.fromisoformat(checks[p]["since"])
        for p in required
        if p in checks and not checks[p]["ok"] and not checks[p]["temporary"]
    ]
    return min(times) if times else None


def apply_checks(
    domain: Domain,
    records: Sequence[DnsRecord],
    results: Mapping[Purpose, RecordCheck],
    *,
    now: datetime,
    name_taken: bool,
) -> None:
    """Store ``results`` on ``domain`` and move its status; ``name_taken`` blocks verifying."""
    if name_taken and domain.verified_at is None and Purpose.ownership in results:
        found = results[Purpose.ownership].found
        results = {**results, Purpose.ownership: RecordCheck(False, found, NAME_TAKEN)}
    checks = {p.value: _stored(domain.checks.get(p.value), r, now) for p, r in results.items()}
    domain.checks = checks
    domain.last_checked_at = now
    required = [r.purpose for r in records if r.required]
    if all(checks[p]["ok"] for p in required):
        domain.status = DomainStatus.verified
        domain.verified_at = domain.verified_at or now
        return
    if domain.verified_at is None:
        domain.status = DomainStatus.pending
        return
    broken_since = _failing_since(checks, required)
    if broken_since is None:
        return  # Only look-ups without an answer: nothing is known to have changed.
    if now - broken_since >= FAILING_GRACE:
        domain.status, domain.verified_at = DomainStatus.pending, None
    else:
        domain.status = DomainStatus.failing


def due_for_check(now: datetime) -> ColumnElement[bool]:
    """Domains whose next scheduled check has come."""
    checked = Domain.last_checked_at
    return or_(
        checked.is_(None),
        and_(Domain.status == DomainStatus.verified, checked < now - RECHECK_VERIFIED),
        and_(Domain.status == DomainStatus.failing, checked < now - RECHECK_FAILING),
        and_(
            Domain.status == DomainStatus.pending,
            Domain.created_at >= now - NEW_DOMAIN_WINDOW,
            checked < now - RECHECK_NEW_PENDING,
        ),
        and_(Domain.status == DomainStatus.pending, checked < now - RECHECK_OLD_PENDING),
    )
