"""The transactional part of acceptance, for a batch of requests sharing one transaction.

Each step takes the connection and the live jobs (those not yet refused) and may refuse a
job with an ``OutpostError``; a refused job writes nothing. Steps that touch the database
do one query for the whole batch where they can.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, delete, insert, select, tuple_, update

from outpost.accounts.models import AccountStatus, DeliveryAccount
from outpost.db import utcnow
from outpost.domains.models import AccountDomain, Domain, DomainStatus
from outpost.errors import (
    Conflict,
    Forbidden,
    OutpostError,
    QuotaExceeded,
    Unauthorized,
    Unprocessable,
)
from outpost.events.models import EventType
from outpost.events.recording import add_events, count_daily
from outpost.netaccess import ip_allowed
from outpost.sending.models import (
    IdempotencyRecord,
    Message,
    MessageBody,
    Recipient,
    RecipientStatus,
)
from outpost.sending.submission import AcceptRequest, AcceptResult, MessageOutcome
from outpost.suppression.models import Suppression
from outpost.tenancy.models import Organization, OrgStatus
from outpost.tokens.models import SendToken

IDEMPOTENCY_WINDOW = timedelta(hours=24)
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
USABLE_DOMAIN_STATUSES = (DomainStatus.verified, DomainStatus.failing)

_STATUS_REFUSALS = {
    AccountStatus.disabled: ("account_disabled", "The delivery account is disabled."),
    AccountStatus.blocked: ("account_blocked", "The delivery account is blocked."),
    AccountStatus.awaiting_payment: (
        "account_awaiting_payment",
        "The delivery account is awaiting payment.",
    ),
}


@dataclass(slots=True)
class AccountRow:
    """What acceptance needs to know about an account."""

    id: int
    status: AccountStatus
    ip_allowlist: list[str]
    suppression_enabled: bool
    org_active: bool


@dataclass(slots=True)
class Job:
    """One request going through the pipeline, and what the steps learned about it."""

    request: AcceptRequest
    error: OutpostError | None = None
    result: AcceptResult | None = None
    requeue: bool = False
    account_id: int | None = None
    token_id: int | None = None
    token_ips: list[str] = field(default_factory=list)
    token_last_used: datetime | None = None
    account: AccountRow | None = None
    domain_ids: dict[str, int] = field(default_factory=dict)
    suppressed: set[str] = field(default_factory=set)

    @property
    def live(self) -> bool:
        """Still going: not refused, not answered from an earlier request, not put back."""
        return self.error is None and self.result is None and not self.requeue

    def refuse(self, error: OutpostError) -> None:
        """Stop this job with ``error``; nothing of it is written."""
        self.error = error


Step = Callable[[Connection, list[Job], datetime], None]


def _live(jobs: Iterable[Job]) -> list[Job]:
    return [job for job in jobs if job.live]


def resolve_credentials(conn: Connection, jobs: list[Job], now: datetime) -> None:
    """Send API jobs: find the token and its account; SMTP jobs already know their account."""
    hashes = {job.request.token_hash for job in _live(jobs) if job.request.token_hash}
    tokens = {}
    if hashes:
        rows = conn.execute(
            select(
                SendToken.token_hash,
                SendToken.id,
                SendToken.account_id,
                SendToken.ip_allowlist,
                SendToken.last_used_at,
            ).where(SendToken.token_hash.in_(hashes))
        )
        tokens = {row.token_hash: row for row in rows}
    for job in _live(jobs):
        if job.request.token_hash is None:
            job.account_id = job.request.account_id
            continue
        token = tokens.get(job.request.token_hash)
        if token is None:
            job.refuse(
                Unauthorized("The bearer token is missing or invalid.", code="invalid_token")
            )
            continue
        job.account_id = token.account_id
        job.token_id = token.id
        job.token_ips = list(token.ip_allowlist or [])
        job.token_last_used = token.last_used_at


def load_accounts(conn: Connection, jobs: list[Job], now: datetime) -> None:
    """Read each account's status, IP list and suppression switch once for the batch."""
    ids = {job.account_id for job in _live(jobs)}
    rows = conn.execute(
        select(
            DeliveryAccount.id,
            DeliveryAccount.status,
            DeliveryAccount.ip_allowlist,
            DeliveryAccount.suppression_enabled,
            Organization.status.label("org_status"),
        )
        .join(Organization, Organization.id == DeliveryAccount.org_id)
        .where(DeliveryAccount.id.in_(ids))
    )
    accounts = {
        row.id: AccountRow(
            id=row.id,
            status=row.status,
            ip_allowlist=list(row.ip_allowlist or []),
            suppression_enabled=row.suppression_enabled,
            org_active=row.org_status is OrgStatus.active,
        )
        for row in rows
    }
    for job in _live(jobs):
        account = accounts.get(job.account_id or 0)
        if account is None:
            job.refuse(Unauthorized("The delivery account no longer exists.", code="invalid_token"))
        else:
            job.account = account


def check_account_enabled(conn: Connection, jobs: list[Job], now: datetime) -> None:
    """Only enabled accounts of active organizations send."""
    for job in _live(jobs):
        assert job.account is not None  # noqa: S101 - set by load_accounts
        if not job.account.org_active:
            job.refuse(Forbidden("The customer's service is suspended.", code="account_suspended"))
        elif job.account.status is not AccountStatus.enabled:
            code, message = _STATUS_REFUSALS[job.account.status]
            job.refuse(Forbidden(message, code=code))


def check_ip_allowed(conn: Connection, jobs: list[Job], now: datetime) -> None:
    """The client's address must pass the account's list, then the token's."""
    for job in _live(jobs):
        assert job.account is not None  # noqa: S101
        ip = job.request.client_ip
        if not ip_allowed(job.account.ip_allowlist, ip):
            job.refuse(
                Forbidden(f"{ip} is not allowed to send for this account.", code="ip_not_allowed")
            )
        elif not ip_allowed(job.token_ips, ip):
            job.refuse(Forbidden(f"{ip} is not allowed to use this token.", code="ip_not_allowed"))


def check_sender_domains(conn: Connection, jobs: list[Job], now: datetime) -> None:
    """Every sender domain must be associated with the account and verified."""
    wanted = {
        (job.account_id, m.sender_domain) for job in _live(jobs) for m in job.request.messages
    }
    if not wanted:
        return
    rows = conn.execute(
        select(AccountDomain.account_id, Domain.name, Domain.id, Domain.status)
        .join(Domain, Domain.id == AccountDomain.domain_id)
        .where(tuple_(AccountDomain.account_id, Domain.name).in_(list(wanted)))
    )
    found = {(row.account_id, row.name): row for row in rows}
    for job in _live(jobs):
        for message in job.request.messages:
            row = found.get((job.account_id, message.sender_domain))
            if row is None:
                job.refuse(
                    Unprocessable(
                        f"The sender domain {message.sender_domain} is not associated with "
                        "this account.",
                        code="sender_domain_not_associated",
                    )
                )
                break
            if row.status not in USABLE_DOMAIN_STATUSES:
                job.refuse(
                    Unprocessable(
                        f"The sender domain {message.sender_domain} is not verified yet.",
                        code="sender_domain_not_verified",
                    )
                )
                break
            job.domain_ids[message.sender_domain] = row.id


def check_idempotency(conn: Connection, jobs: list[Job], now: datetime) -> None:
    """A repeated ``Idempotency-Key`` replays the first answer, or conflicts if the body differs."""
    keyed = [job for job in _live(jobs) if job.request.idempotency]
    if not keyed:
        return
    pairs = [(job.account_id, job.request.idempotency.key) for job in keyed]  # type: ignore[union-attr]
    rows = conn.execute(
        select(IdempotencyRecord).where(
            tuple_(IdempotencyRecord.account_id, IdempotencyRecord.key).in_(pairs)
        )
    )
    records = {(row.account_id, row.key): row for row in rows}
    seen: set[tuple[int | None, str]] = set()
    for job in keyed:
        idem = job.request.idempotency
        assert idem is not None  # noqa: S101
        pair = (job.account_id, idem.key)
        if pair in seen:
            job.requeue = True  # the same key twice in one batch: answer it after this commit
            continue
        seen.add(pair)
        record = records.get(pair)
        if record is None:
            continue
        if record.created_at < now - IDEMPOTENCY_WINDOW:
            conn.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
        elif record.request_hash != idem.request_hash:
            job.refuse(
                Conflict(
                    "This Idempotency-Key was already used with a different request body.",
                    code="idempotency_key_reused",
                )
            )
        else:
            job.result = AcceptResult(
                request_id=record.response.get("request_id", job.request.request_id),
                account_id=record.account_id,
                submitted_at=record.created_at,
                messages=[],
                suppression_checked=True,
                replayed=record.response,
            )


def apply_suppression(conn: Connection, jobs: list[Job], now: datetime) -> None:
    """Find suppressed recipients, one query per account that applies its list."""
    by_account: dict[int, list[Job]] = defaultdict(list)
    for job in _live(jobs):
        assert job.account is not None  # noqa: S101
        if job.account.suppression_enabled:
            by_account[job.account.id].append(job)
    for account_id, account_jobs in by_account.items():
        addresses = {
            r.lower() for job in account_jobs for m in job.request.messages for r in m.recipients
        }
        listed = set(
            conn.scalars(
                select(Suppression.address).where(
                    Suppression.account_id == account_id, Suppression.address.in_(addresses)
                )
            )
        )
        for job in account_jobs:
            job.suppressed = {
                r for m in job.request.messages for r in m.recipients if r.lower() in listed
            }


def _needed(job: Job) -> int:
    return sum(1 for m in job.request.messages for r in m.recipients if r not in job.suppressed)


def reserve_quota(conn: Connection, jobs: list[Job], now: datetime) -> None:
    """Take one message per queued recipient, plan messages first, then extra; all or nothing."""
    # Ascending account order: concurrent batches lock account rows in the same order.
    for job in sorted(_live(jobs), key=lambda j: j.account_id or 0):
        needed = _needed(job)
        if needed == 0:
            continue
        account = DeliveryAccount
        plan_left = account.plan_messages - account.used
        from_plan = case((plan_left >= needed, needed), (plan_left > 0, plan_left), else_=0)
        reserved = conn.execute(
            update(account)
            .where(
                account.id == job.account_id,
                account.status == AccountStatus.enabled,
                account.remaining >= needed,
            )
            .values(
                used=account.used + from_plan,
                extra_used=account.extra_used + (needed - from_plan),
                remaining=account.remaining - needed,
                updated_at=now,
            )
        ).rowcount
        if reserved != 1:
            _refuse_reservation(conn, job, needed)


def _refuse_reservation(conn: Connection, job: Job, needed: int) -> None:
    row = conn.execute(
        select(DeliveryAccount.status, DeliveryAccount.remaining).where(
            DeliveryAccount.id == job.account_id
        )
    ).one()
    if row.status is not AccountStatus.enabled:
        code, message = _STATUS_REFUSALS[row.status]
        job.refuse(Forbidden(message, code=code))
        return
    job.refuse(
        QuotaExceeded(
            f"Not enough messages left: this request needs {needed}, the account has "
            f"{row.remaining}.",
            code="over_quota",
        )
    )


def store(conn: Connection, jobs: list[Job], now: datetime) -> None:
    """Write messages, contents, recipients, events and counters of every live job."""
    live = _live(jobs)
    message_rows: list[dict[str, Any]] = []
    for job in live:
        for m in job.request.messages:
            message_rows.append(
                {
                    "account_id": job.account_id,
                    "source": job.request.source,
                    "request_id": job.request.request_id,
                    "message_id": m.message_id,
                    "mail_from": m.mail_from,
                    "sender_domain_id": job.domain_ids.get(m.sender_domain),
                    "subject": m.subject[:1000],
                    "size": len(m.content),
                    "tags": m.tags,
                    "meta": m.meta,
                    "created_at": now,
                }
            )
    if not message_rows:
        return
    ids = conn.scalars(
        insert(Message).returning(Message.id, sort_by_parameter_order=True), message_rows
    ).all()
    bodies, recipients, events = [], [], []
    stats: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
    day = now.date()
    id_iter = iter(ids)
    for job in live:
        outcomes = []
        for m in job.request.messages:
            db_id = next(id_iter)
            bodies.append({"message_id": db_id, "format": m.body_format, "content": m.content})
            queued = [r for r in m.recipients if r not in job.suppressed]
            suppressed = [r for r in m.recipients if r in job.suppressed]
            for address in queued:
                recipients.append(
                    {
                        "message_id": db_id,
                        "account_id": job.account_id,
                        "address": address,
                        "domain": address.rpartition("@")[2].lower(),
                        "status": RecipientStatus.queued,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
                events.append(_event(job, db_id, address, EventType.accepted, now, m.message_id))
            for address in suppressed:
                events.append(_event(job, db_id, address, EventType.suppressed, now, m.message_id))
            counter = stats[(job.account_id or 0, day)]
            counter["sent"] += len(queued)
            counter["suppressed"] += len(suppressed)
            outcomes.append(MessageOutcome(m.message_id, m.display_to, queued, suppressed))
        assert job.account is not None and job.account_id is not None  # noqa: S101
        job.result = AcceptResult(
            request_id=job.request.request_id,
            account_id=job.account_id,
            submitted_at=now,
            messages=outcomes,
            suppression_checked=job.account.suppression_enabled,
        )
    conn.execute(insert(MessageBody), bodies)
    if recipients:
        conn.execute(insert(Recipient), recipients)
    add_events(conn, events)
    count_daily(conn, stats)


def _event(
    job: Job, message_db_id: int, address: str, type_: EventType, now: datetime, message_id: str
) -> dict[str, Any]:
    return {
        "account_id": job.account_id,
        "message_id": message_db_id,
        "type": type_,
        "address": address,
        "details": {"message_id": message_id, "source": job.request.source.value},
        "created_at": now,
    }


def record_idempotency(
    conn: Connection,
    jobs: list[Job],
    now: datetime,
    render: Callable[[AcceptResult], dict[str, Any]],
) -> None:
    """Keep the answer of each keyed request so a retry within 24 h gets the same one."""
    rows = [
        {
            "account_id": job.account_id,
            "key": job.request.idempotency.key,
            "request_hash": job.request.idempotency.request_hash,
            "status_code": 202,
            "response": render(job.result),
            "created_at": now,
        }
        for job in jobs
        if job.error is None
        and job.result is not None
        and job.result.replayed is None
        and job.request.idempotency is not None
    ]
    if rows:
        conn.execute(insert(IdempotencyRecord), rows)


def touch_tokens(conn: Connection, jobs: list[Job], now: datetime) -> None:
    """Note when tokens were last used, at most once a minute each."""
    stale = {
        job.token_id
        for job in jobs
        if job.error is None
        and job.token_id is not None
        and (job.token_last_used is None or now - job.token_last_used > TOKEN_TOUCH_INTERVAL)
    }
    if stale:
        conn.execute(update(SendToken).where(SendToken.id.in_(stale)).values(last_used_at=now))


STEPS: list[Step] = [
    resolve_credentials,
    load_accounts,
    check_account_enabled,
    check_ip_allowed,
    check_sender_domains,
    check_idempotency,
    apply_suppression,
    reserve_quota,
    store,
    touch_tokens,
]


def run(
    conn: Connection, jobs: list[Job], render: Callable[[AcceptResult], dict[str, Any]]
) -> None:
    """Run every step over the batch inside the caller's transaction."""
    now = utcnow()
    for step in STEPS:
        step(conn, jobs, now)
    record_idempotency(conn, jobs, now, render)
