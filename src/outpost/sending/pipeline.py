"""The database part of acceptance, for a batch of requests written together.

The checks (``CHECKS``) take the driver and the live jobs (those not yet refused or
answered) and may refuse a job with an ``OutpostError``; a refused job writes nothing.
They read everything they need in one statement (``sql.SENDERS``), plus one for
``Idempotency-Key`` records when a request has one. Then the accepted jobs are written:

- on PostgreSQL in one statement (``sql.STORE``), which reserves the quota and writes
  every row, or writes nothing when an account has not enough left; then each request
  is tried alone, in arrival order, so as many as fit are accepted;
- on SQLite by a few statements inside the caller's transaction (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

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
    domains: dict[str, tuple[int, str]] = field(default_factory=dict)  # name: (id, status)
    suppressed: set[str] = field(default_factory=set)

    @property
    def live(self) -> bool:
        """Still going: not refused, not answered from an earlier request, not put back."""
        return self.error is None and self.result is None and not self.requeue

    def refuse(self, error: OutpostError) -> None:
        """Stop this job with ``error``; nothing of it is written."""
        self.error = error


Step = Callable[[Driver, list[Job], datetime], None]
Render = Callable[[AcceptResult], dict[str, Any]]


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
    """Find each job's account (by Send API token, or as authenticated over SMTP), the
    account's sender domains among those named, and the named recipients it suppresses."""
    live = _live(jobs)
    params = {
        "hashes": driver.array({j.request.token_hash for j in live if j.request.token_hash}),
        "ids": driver.array({j.request.account_id for j in live if j.request.token_hash is None}),
        "names": driver.array({m.sender_domain for j in live for m in j.request.messages}),
        "addresses": driver.array(
            {r.lower() for j in live for m in j.request.messages for r in m.recipients}
        ),
    }
    # Read once per token or account, however many requests of the batch share it.
    by_token: dict[str, tuple[int, list[str], datetime | None, AccountRow]] = {}
    by_id: dict[int, AccountRow] = {}
    domains: dict[int, dict[str, tuple[int, str]]] = defaultdict(dict)
    listed: dict[int, set[str]] = defaultdict(set)
    for kind, key, number, account_id, *rest in driver.execute(sql.SENDERS, params):
        if kind == 1:
            domains[account_id][key] = (number, rest[2])
        elif kind == 2:
            listed[account_id].add(key)
        elif key is not None:
            token_ips, last_used, *account = rest
            by_token[key] = (
                number,
                list(driver.read_json(token_ips) or []),
                driver.read_time(last_used),
                _account_row(driver, account_id, *account),
            )
        else:
            by_id[account_id] = _account_row(driver, account_id, *rest[2:])
    for job in live:
        if job.request.token_hash is None:
            job.account_id = job.request.account_id
            job.account = by_id.get(job.account_id or 0)
            if job.account is None:
                job.refuse(Unauthorized("The delivery account no longer exists."))
                continue
        else:
            token = by_token.get(job.request.token_hash)
            if token is None:
                job.refuse(
                    Unauthorized("The bearer token is missing or invalid.", code="invalid_token")
                )
                continue
            job.token_id, job.token_ips, job.token_last_used, job.account = token
            job.account_id = job.account.id
        job.domains = domains.get(job.account.id, {})
        suppressed = listed.get(job.account.id)
        if suppressed:
            job.suppressed = {
                r for m in job.request.messages for r in m.recipients if r.lower() in suppressed
            }


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
    for job in _live(jobs):
        for message in job.request.messages:
            domain = job.domains.get(message.sender_domain)
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


def _needed(job: Job) -> int:
    return sum(1 for m in job.request.messages for r in m.recipients if r not in job.suppressed)


def _refuse_reservation(driver: Driver, job: Job, needed: int) -> None:
    [(status, remaining)] = driver.execute(
        sql.ACCOUNT_STATE, {"account_id": job.account_id, "now": driver.time(utcnow())}
    )
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


@dataclass(slots=True)
class Rows:
    """What accepting some jobs writes, in the pipeline's own terms.

    Recipients and events name their message by its position in ``messages``.
    """

    # (account_id, source, request_id, message_id, mail_from, domain_id, subject, size,
    #  tags, meta, format, content)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    # (message, address, domain) and (message, type, address)
    recipients: list[tuple[int, str, str]] = field(default_factory=list)
    events: list[tuple[int, str, str]] = field(default_factory=list)
    stats: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    needed: Counter[int] = field(default_factory=Counter)  # account: messages to reserve


def _collect(driver: Driver, jobs: list[Job], now: datetime) -> Rows:
    """The rows of ``jobs``, whose results are set as though they were written."""
    rows = Rows()
    accepted, suppressed_event = EventType.accepted.value, EventType.suppressed.value
    for job in jobs:
        assert job.account is not None and job.account_id is not None  # noqa: S101
        # str() of a StrEnum member is its value, without Enum's slower .value descriptor.
        account_id, source = job.account_id, str(job.request.source)
        outcomes = []
        for m in job.request.messages:
            position = len(rows.messages)
            rows.messages.append(
                (account_id, source, job.request.request_id, m.message_id, m.mail_from,
                 job.domains[m.sender_domain][0], m.subject[:1000], len(m.content),
                 m.tags, m.meta, str(m.body_format), m.content)
            )  # fmt: skip
            queued = [r for r in m.recipients if r not in job.suppressed]
            suppressed = [r for r in m.recipients if r in job.suppressed]
            for address in queued:
                domain = address.rpartition("@")[2].lower()
                rows.recipients.append((position, address, domain))
                rows.events.append((position, accepted, address))
            for address in suppressed:
                rows.events.append((position, suppressed_event, address))
            counter = rows.stats[account_id]
            counter["sent"] += len(queued)
            counter["suppressed"] += len(suppressed)
            rows.needed[account_id] += len(queued)
            outcomes.append(MessageOutcome(m.message_id, m.display_to, queued, suppressed))
        job.result = AcceptResult(
            request_id=job.request.request_id,
            account_id=account_id,
            submitted_at=now,
            messages=outcomes,
            suppression_checked=job.account.suppression_enabled,
        )
    return rows


def _remembered(jobs: list[Job], render: Render) -> list[tuple[int, str, str, dict[str, Any]]]:
    """(account, key, request hash, response) of each keyed request accepted now."""
    return [
        (job.account_id, idem.key, idem.request_hash, render(job.result))
        for job in jobs
        if job.account_id is not None
        and job.result is not None
        and job.result.replayed is None
        and (idem := job.request.idempotency) is not None
    ]


def _stale_tokens(jobs: list[Job], now: datetime) -> set[int]:
    """Tokens whose last use is to be noted: at most once a minute each."""
    return {
        job.token_id
        for job in jobs
        if job.token_id is not None
        and (job.token_last_used is None or now - job.token_last_used > TOKEN_TOUCH_INTERVAL)
    }


def _store_in_one_statement(driver: Driver, jobs: list[Job], now: datetime, render: Render) -> bool:
    """Write ``jobs`` with ``sql.STORE``; False (and nothing written) if one does not fit."""
    rows = _collect(driver, jobs, now)
    doc = {
        "need": [[account, needed] for account, needed in sorted(rows.needed.items()) if needed],
        "messages": [m[:11] for m in rows.messages],
        # positions 1-based, as WITH ORDINALITY counts
        "recipients": [(position + 1, a, d) for position, a, d in rows.recipients],
        "events": [(position + 1, t, a) for position, t, a in rows.events],
        "stats": [
            (account, counts["sent"], counts["suppressed"])
            for account, counts in sorted(rows.stats.items())
        ],
        "keyed": _remembered(jobs, render),
        "tokens": sorted(_stale_tokens(jobs, now)),
    }
    params = {
        "doc": orjson.dumps(doc).decode(),
        "contents": [m[11] for m in rows.messages],
        "now": now,
        "day": now.date(),
    }
    [(ok,)] = driver.execute(sql.STORE, params)
    if not ok:
        for job in jobs:
            job.result = None
    return bool(ok)


def commit_in_one_statement(driver: Driver, jobs: list[Job], now: datetime, render: Render) -> None:
    """PostgreSQL: the whole batch in one statement; if it does not fit, one request at a time."""
    live = _live(jobs)
    if not live or _store_in_one_statement(driver, live, now, render):
        return
    for job in live:
        if not _store_in_one_statement(driver, [job], now, render):
            _refuse_reservation(driver, job, _needed(job))


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
    for account_id in sorted(by_account):
        account_jobs = by_account[account_id]
        if _reserve(driver, account_id, sum(n for _, n in account_jobs), now):
            continue
        for job, needed in account_jobs:
            if not _reserve(driver, account_id, needed, now):
                _refuse_reservation(driver, job, needed)


def _store_rows(driver: Driver, jobs: list[Job], now: datetime, render: Render) -> None:
    """SQLite: write the reserved jobs' rows, statement by statement."""
    rows = _collect(driver, jobs, now)
    if rows.messages:
        # The transaction holds the write lock (BEGIN IMMEDIATE), so MAX(id) is ours.
        [(last,)] = driver.execute(sql.LAST_MESSAGE_ID)
        first = int(last) + 1
        at = driver.time(now)
        driver.insert_rows(
            "messages",
            sql.MESSAGE_COLUMNS,
            [
                (first + i, *m[:8], driver.json(m[8]), driver.json(m[9]), at)
                for i, m in enumerate(rows.messages)
            ],
        )
        driver.insert_rows(
            "message_bodies",
            sql.BODY_COLUMNS,
            [(first + i, m[10], m[11]) for i, m in enumerate(rows.messages)],
        )
        driver.insert_rows(
            "recipients",
            sql.RECIPIENT_COLUMNS,
            [
                (first + position, rows.messages[position][0], address, domain, "queued", 0, at, at)
                for position, address, domain in rows.recipients
            ],
        )
        add_events(
            driver,
            [
                {
                    "account_id": rows.messages[position][0],
                    "message_id": first + position,
                    "type": type_,
                    "address": address,
                    "details": {
                        "message_id": rows.messages[position][3],
                        "source": rows.messages[position][1],
                    },
                    "created_at": now,
                }
                for position, type_, address in rows.events
            ],
        )
    count_daily(driver, {(account, now.date()): counts for account, counts in rows.stats.items()})
    driver.executemany(
        sql.INSERT_IDEMPOTENCY_RECORD,
        [
            {
                "account_id": account_id,
                "key": key,
                "request_hash": request_hash,
                "status_code": 202,
                "response": driver.json(response),
                "created_at": driver.time(now),
            }
            for account_id, key, request_hash, response in _remembered(jobs, render)
        ],
    )
    stale = _stale_tokens(jobs, now)
    if stale:
        driver.execute(sql.TOUCH_TOKENS, {"ids": driver.array(stale), "now": driver.time(now)})


def commit_in_transaction(driver: Driver, jobs: list[Job], now: datetime, render: Render) -> None:
    """SQLite: reserve the quota, then write the rows, inside the caller's transaction."""
    reserve_quota(driver, jobs, now)
    live = _live(jobs)
    if live:
        _store_rows(driver, live, now, render)


# What comes before the size, recipient and rate limits (``Sending.refuse``).
CREDENTIAL_CHECKS: list[Step] = [
    load_senders,
    check_account_enabled,
    check_ip_allowed,
    check_sender_domains,
]
CHECKS: list[Step] = [*CREDENTIAL_CHECKS, check_idempotency]


def run(driver: Driver, jobs: list[Job], render: Render) -> None:
    """Check every job of the batch, then write the accepted ones."""
    now = utcnow()
    for step in CHECKS:
        step(driver, jobs, now)
    if driver.dialect == "postgresql":
        commit_in_one_statement(driver, jobs, now, render)
    else:
        commit_in_transaction(driver, jobs, now, render)
