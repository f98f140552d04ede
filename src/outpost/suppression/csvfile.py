"""Suppression lists as CSV: reading an uploaded file line by line, writing an export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from outpost.addresses import is_valid_email
from outpost.errors import ValidationFailed
from outpost.suppression.models import SuppressionReason

EXPORT_COLUMNS = ("address", "reason", "detail", "created_at")
MAX_DETAIL = 1000
_ADDRESS_HEADERS = {"address", "email", "email_address", "e-mail", "mail"}
_REASON_ALIASES = {"bounce": SuppressionReason.hard_bounce, "": SuppressionReason.manual}
REPORTED_INVALID = 100
# A cell starting with one of these is a formula to spreadsheet programs; a bounce's detail
# is text a remote server wrote, so exports quote such cells and imports unquote them.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CsvEntry:
    """A valid line of an uploaded file."""

    line: int
    address: str
    reason: SuppressionReason
    detail: str


@dataclass(frozen=True)
class CsvProblem:
    """An invalid line of an uploaded file and what is wrong with it."""

    line: int
    value: str
    description: str


@dataclass(frozen=True)
class ParsedCsv:
    """What an uploaded file holds: valid entries and invalid lines."""

    entries: list[CsvEntry]
    problems: list[CsvProblem]


def _refuse(description: str) -> ValidationFailed:
    return ValidationFailed.one("file", description)


def _text(content: bytes) -> str:
    if b"\x00" in content:
        raise _refuse("is not a CSV file (it holds binary data); nothing was imported")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse("is not UTF-8 text; nothing was imported") from None


def _columns(first_row: Sequence[str]) -> tuple[dict[str, int], bool]:
    names = [cell.strip().lower() for cell in first_row]
    if not _ADDRESS_HEADERS & set(names):
        return {"address": 0, "reason": 1, "detail": 2}, False
    columns = {"address": next(i for i, n in enumerate(names) if n in _ADDRESS_HEADERS)}
    for name in ("reason", "detail"):
        if name in names:
            columns[name] = names.index(name)
    return columns, True


def _cell(row: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    value = row[index]
    if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS):
        value = value[1:]  # as an export quoted it
    return value.strip()


def _inert(value: str) -> str:
    """``value`` as a spreadsheet shows it as text, never runs it as a formula (OWASP)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _reason(text: str) -> SuppressionReason | None:
    value = text.strip().lower()
    if value in _REASON_ALIASES:
        return _REASON_ALIASES[value]
    try:
        return SuppressionReason(value)
    except ValueError:
        return None


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield reader.line_num, row
    except csv.Error as exc:
        raise _refuse(
            f"is not valid CSV ({exc}, line {reader.line_num}); nothing was imported"
        ) from None


def _check_plausible(entries: list[CsvEntry], problems: list[CsvProblem]) -> None:
    if not entries and not problems:
        raise _refuse("holds no addresses")
    if len(problems) > len(entries):
        first = problems[0]
        raise _refuse(
            f"does not look like a list of addresses: {len(problems)} of "
            f"{len(problems) + len(entries)} lines are invalid (line {first.line}: "
            f"{first.description}); nothing was imported"
        )


def parse_suppression_csv(content: bytes) -> ParsedCsv:
    """Entries and problems of an uploaded file; refuses files that are not CSV-ish at all.

    Columns are ``address,reason,detail``; a header line naming them (``address`` or
    ``email``) is optional and may order them differently.
    """
    rows = list(_rows(_text(content)))
    columns, has_header = _columns(rows[0][1]) if rows else ({}, False)
    entries, problems = [], []
    for line, row in rows[1:] if has_header else rows:
        address = _cell(row, columns.get("address"))
        reason = _reason(_cell(row, columns.get("reason")))
        if not is_valid_email(address):
            problems.append(CsvProblem(line, address, "is not a valid email address"))
        elif reason is None:
            problems.append(
                CsvProblem(
                    line, address, f"has an unknown reason (use {', '.join(SuppressionReason)})"
                )
            )
        else:
            detail = _cell(row, columns.get("detail"))[:MAX_DETAIL]
            entries.append(CsvEntry(line, address.lower(), reason, detail))
    _check_plausible(entries, problems)
    return ParsedCsv(entries, problems)


def csv_lines(rows: Iterable[tuple[str, str, str, datetime]], *, header: bool) -> str:
    """CSV text for export rows ``(address, reason, detail, created_at)``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(EXPORT_COLUMNS)
    for address, reason, detail, created_at in rows:
        writer.writerow([_inert(address), reason, _inert(detail), created_at.isoformat()])
    return out.getvalue()
