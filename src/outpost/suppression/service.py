"""The suppression list: look-ups for sending, additions from bounces, and its management."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from outpost.accounts.service import get_account
from outpost.db import Database, utcnow
from outpost.errors import NotFound, ValidationFailed
from outpost.pagination import Page, PageParams, paginate
from outpost.suppression.csvfile import (
    REPORTED_INVALID,
    CsvEntry,
    csv_lines,
    parse_suppression_csv,
)
from outpost.suppression.models import Suppression, SuppressionReason
from outpost.suppression.schemas import ImportReport, InvalidLine, SuppressionCreate
from outpost.tenancy.scope import Caller, require_write

EXPORT_CHUNK = 2000
IMPORT_CHUNK = 1000


def suppressed_among(*, session: Session, account_id: int, addresses: Collection[str]) -> set[str]:
    """Which of ``addresses`` (lower-cased) are on the account's list, in one query."""
    if not addresses:
        return set()
    wanted = {a.lower() for a in addresses}
    rows = session.scalars(
        select(Suppression.address).where(
            Suppression.account_id == account_id, Suppression.address.in_(wanted)
        )
    )
    return set(rows)


def add_suppression(
    *,
    session: Session,
    account_id: int,
    address: str,
    reason: SuppressionReason,
    detail: str = "",
    message_id: str | None = None,
) -> tuple[Suppression, bool]:
    """Put ``address`` on the list unless it is there already; returns the row and if it is new."""
    address = address.strip().lower()
    existing = session.scalar(
        select(Suppression).where(
            Suppression.account_id == account_id, Suppression.address == address
        )
    )
    if existing is not None:
        return existing, False
    row = Suppression(
        account_id=account_id, address=address, reason=reason, detail=detail, message_id=message_id
    )
    session.add(row)
    session.flush()
    return row, True


def add_suppressions(
    *,
    session: Session,
    account_id: int,
    entries: Sequence[tuple[str, str, str | None]],
    reason: SuppressionReason,
) -> int:
    """:func:`add_suppression` for many (address, detail, message id) at once: one query
    for those already listed, one flush; the first entry of an address wins. Returns how
    many were added."""
    wanted: dict[str, tuple[str, str | None]] = {}
    for address, detail, message_id in entries:
        wanted.setdefault(address.strip().lower(), (detail, message_id))
    if not wanted:
        return 0
    listed = suppressed_among(session=session, account_id=account_id, addresses=wanted)
    rows = [
        Suppression(
            account_id=account_id,
            address=address,
            reason=reason,
            detail=detail,
            message_id=message_id,
        )
        for address, (detail, message_id) in wanted.items()
        if address not in listed
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)


# The Management API: the list of one account, through the caller's scope.


@dataclass(frozen=True)
class CsvExport:
    """A suppression list export: a file name and its CSV text in chunks."""

    filename: str
    chunks: Iterator[str]


def _reason_filter(reason: str | None) -> SuppressionReason | None:
    if reason in (None, "", "all"):
        return None
    try:
        return SuppressionReason(reason)
    except ValueError:
        allowed = ", ".join(["all", *SuppressionReason])
        raise ValidationFailed.one("reason", f"must be one of: {allowed}") from None


def list_suppressions(
    *,
    session: Session,
    caller: Caller,
    account_id: int,
    params: PageParams,
    reason: str | None = None,
) -> Page[Suppression]:
    """A page of an account's list, newest first; ``query`` searches addresses."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    statement = select(Suppression).where(Suppression.account_id == account.id)
    wanted = _reason_filter(reason)
    if wanted is not None:
        statement = statement.where(Suppression.reason == wanted)
    if params.query:
        statement = statement.where(
            Suppression.address.contains(params.query.strip().lower(), autoescape=True)
        )
    return paginate(
        session,
        statement,
        params,
        sortable={
            "address": Suppression.address,
            "reason": Suppression.reason,
            "created_at": Suppression.created_at,
        },
        default_sort=[Suppression.created_at.desc()],
        tiebreak=Suppression.id,
        filters={"reason": wanted.value} if wanted else None,
    )


def add_manual_suppression(
    *, session: Session, caller: Caller, account_id: int, data: SuppressionCreate
) -> Suppression:
    """Put an address on an account's list by hand; an address already there is refused."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    require_write(caller)
    row, created = add_suppression(
        session=session,
        account_id=account.id,
        address=data.address,
        reason=data.reason,
        detail=data.detail,
    )
    if not created:
        raise ValidationFailed.one("address", "already exists")
    return row


def remove_suppression(*, session: Session, caller: Caller, account_id: int, address: str) -> None:
    """Take an address off an account's list."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    require_write(caller)
    result = session.execute(
        delete(Suppression).where(
            Suppression.account_id == account.id, Suppression.address == address.strip().lower()
        )
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound("The address is not on this account's suppression list.")


def _export_chunks(database: Database, account_id: int) -> Iterator[str]:
    # Short transactions, one per chunk: a long export never holds SQLite's write lock.
    last_id, header = 0, True
    while True:
        with database.session() as session:
            rows = session.execute(
                select(
                    Suppression.id,
                    Suppression.address,
                    Suppression.reason,
                    Suppression.detail,
                    Suppression.created_at,
                )
                .where(Suppression.account_id == account_id, Suppression.id > last_id)
                .order_by(Suppression.id)
                .limit(EXPORT_CHUNK)
            ).all()
        if rows or header:
            yield csv_lines(
                ((r.address, r.reason.value, r.detail, r.created_at) for r in rows), header=header
            )
        header = False
        if len(rows) < EXPORT_CHUNK:
            return
        last_id = rows[-1].id


def export_suppressions(
    *, session: Session, caller: Caller, database: Database, account_id: int
) -> CsvExport:
    """An account's list as CSV (address,reason,detail,created_at), read in chunks."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    return CsvExport(f"suppressions-{account.username}.csv", _export_chunks(database, account.id))


def _insert_new(session: Session, account_id: int, entries: Sequence[CsvEntry]) -> int:
    dialect = session.get_bind().dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    statement = (
        insert_fn(Suppression)
        .values(
            [
                {
                    "account_id": account_id,
                    "address": e.address,
                    "reason": e.reason,
                    "detail": e.detail,
                    "created_at": now,
                }
                for e in entries
            ]
        )
        .on_conflict_do_nothing(index_elements=[Suppression.account_id, Suppression.address])
        .returning(Suppression.id)
    )
    return len(session.execute(statement).all())


def import_suppressions(
    *,
    session: Session,
    caller: Caller,
    account_id: int,
    content: bytes,
    on_progress: Callable[[int, int], object] | None = None,
) -> ImportReport:
    """Add the addresses of a CSV file; a file that is not CSV-ish changes nothing."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    require_write(caller)
    parsed = parse_suppression_csv(content)
    first_of: dict[str, CsvEntry] = {}
    for entry in parsed.entries:
        first_of.setdefault(entry.address, entry)
    unique = list(first_of.values())
    added, total = 0, len(parsed.entries)
    for start in range(0, len(unique), IMPORT_CHUNK):
        added += _insert_new(session, account.id, unique[start : start + IMPORT_CHUNK])
        if on_progress is not None:
            on_progress(min(start + IMPORT_CHUNK, len(unique)), len(unique))
    return ImportReport(
        added=added,
        already_present=total - added,
        invalid=len(parsed.problems),
        invalid_lines=[
            InvalidLine(line=p.line, value=p.value[:200], description=p.description)
            for p in parsed.problems[:REPORTED_INVALID]
        ],
    )
