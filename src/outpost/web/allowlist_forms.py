"""IP access lists in forms: one address or range added, or one removed, at a time.

The account's list and each token's list are edited the same way: the page posts the
whole change as one entry, and the new list goes to the owning service, which validates
it again (``normalize_allowlist``) before storing it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.datastructures import FormData

from outpost.errors import ValidationFailed
from outpost.netaccess import normalize_allowlist
from outpost.web.forms import errors_by_field, text

FIELD = "address"


@dataclass(frozen=True)
class ShownEntry:
    """One entry of a list as the table shows it."""

    value: str
    kind: str


def shown(entries: list[str]) -> list[ShownEntry]:
    """The entries with what each one is (IPv4 address, IPv6 range…)."""
    rows = []
    for entry in entries:
        network = ipaddress.ip_network(entry)
        what = "address" if network.num_addresses == 1 else "range"
        rows.append(ShownEntry(entry, f"IPv{network.version} {what}"))
    return rows


def with_added(current: list[str], form: FormData) -> list[str]:
    """``current`` plus the entry typed in the form; ValidationFailed on the ``address`` field."""
    raw = text(form, FIELD)
    if not raw:
        raise ValidationFailed.one(FIELD, "is required")
    try:
        [entry] = normalize_allowlist([raw], field=FIELD)
    except ValidationFailed as exc:
        raise ValidationFailed.one(FIELD, exc.errors[0].description) from exc
    if entry in current:
        raise ValidationFailed.one(FIELD, f"{entry} is already in the list")
    return [*current, entry]


def without_entry(current: list[str], form: FormData) -> tuple[str, list[str] | None]:
    """The entry the form removes, and ``current`` without it (None when it is not there)."""
    entry = text(form, "entry")
    if entry not in current:
        return entry, None
    return entry, [e for e in current if e != entry]


def address_errors(exc: ValidationFailed) -> dict[str, str]:
    """The list's errors shown on the add form's one field, whatever the service named."""
    errors = errors_by_field(exc)
    return {FIELD: errors.get(FIELD) or next(iter(errors.values()))}
