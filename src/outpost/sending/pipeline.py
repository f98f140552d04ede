"""The transactional part of acceptance, for a batch of requests sharing one transaction.

Each step takes the driver and the live jobs (those not yet refused or answered) and may
refuse a job with an ``OutpostError``; a refused job writes nothing. Steps that touch the
database do one statement for the whole batch where they can (see ``sending/sql.py``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from outpost.accounts.models import AccountStatus
from outpost.db import utcnow
from outpost.domains.models import DomainStatus
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
from outpost.fastsql import Driver
from outpost.netaccess import ip_allowed
from outpost.sending import sql
from outpost.sending.submission import AcceptRequest, AcceptResult, MessageOutcome
from outpost.tenancy.models import OrgStatus

IDEMPOTENCY_WINDOW = timedelta(hours=24)
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
USABLE_DOMAIN_STATUSES = frozenset({DomainStatus.verified.value, DomainStatus.failing.value})

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


Step = Callable[[Driver, list[Job], datetime], None]


def _live(jobs: Iterable[Job]) -> list[Job]:
    return [job for job in jobs if job.live]


def _account_row(driver: Driver, account_id: int, status: str, ips: Any, suppression: Any,
                 org_status: str) -> AccountRow:  # fmt: skip
    return AccountRow(
        id=account_id,
        status=AccountStatus(status),
        ip_allowlist=list(driver.read_json(ips) or []),
        suppression_enabled=bool(suppression),
        org_active=org_status == OrgStatus.active.value,
    )


def load_senders(driver: Driver, jobs: list[Job], now: datetime) -> None:
    """Find each job's account: by Send API token, or as authenticated over SMTP."""
    live = _live(jobs)
    hashes = {job.request.token_hash for job in live if job.request.token_hash}
    by_token = {}
    if hashes:
        rows = driver.execute(sql.SENDERS_BY_TOKEN, {"hashes": driver.array(hashes)})
        by_token = {row[0]: row for row in rows}
    ids = {job.request.account_id for job in live if job.request.token_hash is None}
    by_id = {}
    if ids:
        rows = driver.execute(sql.SENDERS_BY_ACCOUNT, {"ids": driver.array(ids)})
        by_id = {row[0]: _account_row(driver, *row) for row in rows}
    for job in live:
        if job.request.token_hash is None:
            job.account_id = job.request.account_id
            job.account = by_id.get(job.account_id or 0)
            if job.account is None:
                job.refuse(Unauthorized("The delivery account no longer exists."))
            continue
        token = by_token.get(job.request.token_hash)
        if token is None:
            job.refuse(
                Unauthorized("The bearer token is missing or invalid.", code="invalid_token")
            )
            continue
        _hash, token_id, account_id, token_ips, last_used, *account = token
        job.token_id, job.account_id = token_id, account_id
        job.token_ips = list(driver.read_json(token_ips) or [])
        job.token_last_used = driver.read_time(last_used)
        job.account = _account_row(driver, account_id, *account)


def check_account_enabled(driver: Driver, jobs: list[Job], now: datetime) -> None:
    """Only enabled accounts of active organizations send."""
    for job in _live(jobs):
        assert job.account is not None  # noqa: S101 - set by load_senders
        if not job.account.org_active:
            job.refuse(Forbidden("The customer's service is suspended.", code="account_suspended"))
        elif job.account.status is not AccountStatus.enabled:
            code, message = _STATUS_REFUSALS[job.account.status]
            job.refuse(Forbidden(message, code=code))


def check_ip_allowed(driver: Driver, jobs: list[Job], now: datetime) -> None:
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


def check_sender_domains(driver: Driver, jobs: list[Job], now: datetime) -> None:
    """Every sender domain must be associated with the account and verified."""
    live = _live(jobs)
    if not live:
        return
    rows = driver.execute(
        sql.SENDER_DOMAINS,
        {
            "ids": driver.array({job.account_id for job in live}),
            "names": driver.array({m.sender_domain for job in live for m in job.request.messages}),
        },
    )
    found = {
        (account_id, name): (domain_id, status) for account_id, name, domain_id, status in rows
    }
    for job in live:
        for message in job.request.messages:
            domain = found.get((job.account_id, message.sender_domain))
            if domain is None:
                job.refuse(
                    Unprocessable(
                        f"The sender domain {message.sender_domain} is not associated with "
                        "this account.",
                        code="sender_domain_not_associated",
                    )
                )
                break
            if domain[1] not in USABLE_DOMAIN_STATUSES:
                job.refuse(
                    Unprocessable(
                        f"The sender domain {message.sender_domain} is not verified yet.",
                        code="sender_domain_not_verified",
                    )
                )
                break
            job.domain_ids[message.sender_domain] = domain[0]


def check_idempotency(driver: Driver, jobs: list[Job], now: datetime) -> None:
    """A repeated ``Idempotency-Key`` replays the first answer, or conflicts if the body differs."""
    keyed = [job for job in _live(jobs) if job.request.idempotency]
    if not keyed:
        return
    rows = driver.execute(
        sql.IDEMPOTENCY_RECORDS,
        {
            "ids": driver.array({job.account_id for job in keyed}),
            "keys": driver.array(
                {job.request.idempotency.key for job in keyed if job.request.idempotency}
            ),
        },
    )
    records = {(row[1], row[2]): row for row in rows}
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
        record_id, account_id, _key, request_hash, response, created_at = record
        created = driver.read_time(created_at)
        assert created is not None  # noqa: S101
        if created < now - IDEMPOTENCY_WINDOW:
            driver.execute(sql.DELETE_IDEMPOTENCY_RECORD, {"id": record_id})
        elif request_hash != idem.request_hash:
            job.refuse(
                Conflict(
                    "This Idempotency-Key was already used with a different request body.",
                    code="idempotency_key_reused",
                )
            )
        else:
            replay = driver.read_json(response)
            job.result = AcceptResult(
                request_id=replay.get("request_id", job.request.request_id),
                account_id=account_id,
                submitted_at=created,
                messages=[],
                suppression_checked=True,
                replayed=replay,
            )


def apply_suppression(driver: Driver, jobs: list[Job], now: datetime) -> None:
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
        rows = driver.execute(
            sql.SUPPRESSED, {"account_id": account_id, "addresses": driver.array(addresses)}
        )
        listed = {row[0] for row in rows}
        if not listed:
            continue
        for job in account_jobs:
            job.suppressed = {
                r for m in job.request.messages for r in m.recipients if r.lower() in listed
            }


def _needed(job: Job) -> int:
    return sum(1 for m in job.request.messages for r in m.recipients if r not in job.suppressed)


def _reserve(driver: Driver, account_id: int, needed: int, now: datetime) -> bool:
    params = {"account_id": account_id, "needed": needed, "now": driver.time(now)}
    return driver.rowcount(sql.RESERVE, params) == 1


def reserve_quota(driver: Driver, jobs: list[Job], now: datetime) -> None:
    """Take one message per queued recipient, plan messages first, then extra; all or nothing.

    One UPDATE per account for the whole batch; when the batch does not fit, each request is
    reserved on its own, in arrival order, so as many as fit are accepted.
    """
    by_account: dict[int, list[tuple[Job, int]]] = defaultdict(list)
    for job in _live(jobs):
        needed = _needed(job)
        if needed:
            by_account[job.account_id or 0].append((job, needed))
    # Ascending account order: concurrent batches lock account rows in the same order.
    for account_id in sorted(by_account):
        account_jobs = by_account[account_id]
        if _reserve(driver, account_id, sum(n for _, n in account_jobs), now):
            continue
        for job, needed in account_jobs:
            if not _reserve(driver, account_id, needed, now):
                _refuse_reservation(driver, job, needed)


def _refuse_reservation(driver: Driver, job: Job, needed: int) -> None:
    [(status, remaining)] = driver.execute(sql.ACCOUNT_STATE, {"account_id": job.account_id})
    if status != AccountStatus.enabled.value:
        code, message = _STATUS_REFUSALS[AccountStatus(status)]
        job.refuse(Forbidden(message, code=code))
        return
    job.refuse(
        QuotaExceeded(
            f"Not enough messages left: this request needs {needed}, the account has {remaining}.",
            code="over_quota",
        )
    )


def _message_ids(driver: Driver, count: int) -> list[int]:
    rows = driver.execute(sql.NEXT_MESSAGE_ID, {"count": count})
    if driver.dialect == "postgresql":
        return [int(row[0]) for row in rows]
    first = int(rows[0][0])
    return list(range(first, first + count))


def store(driver: Driver, jobs: list[Job], now: datetime) -> None:
    """Write messages, contents, recipients, events and counters of every live job."""
    live = _live(jobs)
    count = sum(len(job.request.messages) for job in live)
    if not count:
        return
    ids = iter(_message_ids(driver, count))
    at = driver.time(now)
    messages: list[tuple[Any, ...]] = []
    bodies: list[tuple[Any, ...]] = []
    recipients: list[tuple[Any, ...]] = []
    events: list[dict[str, Any]] = []
    stats: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
    day = now.date()
    for job in live:
        assert job.account is not None and job.account_id is not None  # noqa: S101
        account_id, source = job.account_id, job.request.source.value
        outcomes = []
        for m in job.request.messages:
            message_id = next(ids)
            domain_id = job.domain_ids.get(m.sender_domain)
            messages.append(
                (message_id, account_id, source, job.request.request_id, m.message_id,
                 m.mail_from, domain_id, m.subject[:1000], len(m.content),
                 driver.json(m.tags), driver.json(m.meta), at)
            )  # fmt: skip
            bodies.append((message_id, m.body_format.value, m.content))
            queued = [r for r in m.recipients if r not in job.suppressed]
            suppressed = [r for r in m.recipients if r in job.suppressed]
            details = {"message_id": m.message_id, "source": source}
            for address in queued:
                domain = address.rpartition("@")[2].lower()
                recipients.append((message_id, account_id, address, domain, "queued", 0, at, at))
                events.append(
                    _event(account_id, message_id, address, EventType.accepted, details, now)
                )
            for address in suppressed:
                events.append(
                    _event(account_id, message_id, address, EventType.suppressed, details, now)
                )
            counter = stats[(account_id, day)]
            counter["sent"] += len(queued)
            counter["suppressed"] += len(suppressed)
            outcomes.append(MessageOutcome(m.message_id, m.display_to, queued, suppressed))
        job.result = AcceptResult(
            request_id=job.request.request_id,
            account_id=account_id,
            submitted_at=now,
            messages=outcomes,
            suppression_checked=job.account.suppression_enabled,
        )
    driver.insert_rows("messages", sql.MESSAGE_COLUMNS, messages)
    driver.insert_rows("message_bodies", sql.BODY_COLUMNS, bodies)
    driver.insert_rows("recipients", sql.RECIPIENT_COLUMNS, recipients)
    add_events(driver, events)
    count_daily(driver, stats)


def _event(account_id: int, message_id: int, address: str, type_: EventType,
           details: dict[str, Any], now: datetime) -> dict[str, Any]:  # fmt: skip
    return {
        "account_id": account_id,
        "message_id": message_id,
        "type": type_.value,
        "address": address,
        "details": details,
        "created_at": now,
    }


def record_idempotency(
    driver: Driver, jobs: list[Job], now: datetime, render: Callable[[AcceptResult], dict[str, Any]]
) -> None:
    """Keep the answer of each keyed request so a retry within 24 h gets the same one."""
    rows = [
        {
            "account_id": job.account_id,
            "key": job.request.idempotency.key,
            "request_hash": job.request.idempotency.request_hash,
            "status_code": 202,
            "response": driver.json(render(job.result)),
            "created_at": driver.time(now),
        }
        for job in jobs
        if job.error is None
        and job.result is not None
        and job.result.replayed is None
        and job.request.idempotency is not None
    ]
    driver.executemany(sql.INSERT_IDEMPOTENCY_RECORD, rows)


def touch_tokens(driver: Driver, jobs: list[Job], now: datetime) -> None:
    """Note when tokens were last used, at most once a minute each."""
    stale = {
        job.token_id
        for job in jobs
        if job.error is None
        and job.token_id is not None
        and (job.token_last_used is None or now - job.token_last_used > TOKEN_TOUCH_INTERVAL)
    }
    if stale:
        driver.execute(sql.TOUCH_TOKENS, {"ids": driver.array(stale), "now": driver.time(now)})


STEPS: list[Step] = [
    load_senders,
    check_account_enabled,
    check_ip_allowed,
    check_sender_domains,
    check_idempotency,
    apply_suppression,
    reserve_quota,
    store,
    touch_tokens,
]


def run(driver: Driver, jobs: list[Job], render: Callable[[AcceptResult], dict[str, Any]]) -> None:
    """Run every step over the batch inside the caller's transaction."""
    now = utcnow()
    for step in STEPS:
        step(driver, jobs, now)
    record_idempotency(driver, jobs, now, render)
