"""E-mail address syntax checks shared by every entry point."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formataddr, getaddresses

import idna

# A pragmatic RFC 5321 mailbox: dot-atom local part, a domain of LDH labels with a TLD.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LOCAL = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
# RFC 6531/6532: the local part may hold UTF-8 too (anything but controls and spaces).
_UTF8_ATEXT = rf"(?:{_ATEXT}|[^\x00-\x9f\s])"
_UTF8_LOCAL = re.compile(rf"^{_UTF8_ATEXT}+(?:\.{_UTF8_ATEXT}+)*$")
_LABEL = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*\.[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]"
_ADDRESS = re.compile(rf"^{_LOCAL}@{_DOMAIN}$")
_DOMAIN_NAME = re.compile(rf"^{_DOMAIN}$")


def is_valid_email(address: str) -> bool:
    """Whether ``address`` is a plain mailbox such as ``name@example.com``."""
    return len(address) <= 254 and _ADDRESS.fullmatch(address) is not None


def international_email(address: str) -> str | None:
    """``address`` as an internationalized mailbox (RFC 6531: UTF-8 in the local part, a
    domain of U-labels or A-labels) with its domain in lower-case A-labels, which is how
    Outpost stores and resolves domains; None when it is not a mailbox."""
    local, at, domain = address.rpartition("@")
    if not at or len(local.encode()) > 64 or _UTF8_LOCAL.fullmatch(local) is None:
        return None
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError:
            return None
    address = f"{local}@{domain.lower()}"
    return address if len(address.encode()) <= 254 and is_valid_domain(domain) else None


def normalize_email(address: str) -> str:
    """``address`` with its domain lower-cased; raises ValueError when it is not a mailbox."""
    address = address.strip()
    if not is_valid_email(address):
        raise ValueError("is not a valid email address")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def is_valid_domain(name: str) -> bool:
    """Whether ``name`` is a fully qualified domain name such as ``mail.example.com``."""
    return len(name) <= 253 and _DOMAIN_NAME.fullmatch(name) is not None


def domain_of(address: str) -> str:
    """The lower-cased domain part of an address."""
    return address.rpartition("@")[2].lower()


@dataclass(frozen=True, slots=True)
class Mailbox:
    """An address with an optional display name.

    orjson writes it into stored messages as ``{"address", "name"}``, in field order.
    """

    address: str
    name: str = ""

    def formatted(self) -> str:
        """The mailbox as a header value, e.g. ``"Ada Lovelace" <ada@example.com>``."""
        return formataddr((self.name, self.address)) if self.name else self.address


def has_line_break(value: str) -> bool:
    """Whether ``value`` holds a CR or LF (header injection)."""
    return "\r" in value or "\n" in value


# "a@example.com" or "Plain Name <a@example.com>": nothing to unquote, one mailbox.
_SIMPLE_MAILBOX = re.compile(r"^\s*(?:([^\"<>,();:@\\]*?)\s*<([^<>\s,]+)>|([^<>\s,\"]+))\s*$")


def parse_mailboxes(value: str, *, international: bool = False) -> list[Mailbox]:
    """Every mailbox of ``"Name <a@example.com>, b@example.com"``; ValueError on a bad one.

    ``international`` admits UTF-8 addresses (see ``make_mailbox``)."""
    if has_line_break(value):
        raise ValueError("must not contain line breaks")
    simple = _SIMPLE_MAILBOX.match(value)
    if simple:
        name, bracketed, bare = simple.groups()
        return [make_mailbox(bracketed or bare, name, international=international)]
    pairs = getaddresses([value])
    mailboxes = []
    for name, address in pairs:
        if not address and not name:
            raise ValueError(f"{value!r} is not a valid address list")
        mailboxes.append(make_mailbox(address, name, international=international))
    if not mailboxes:
        raise ValueError("holds no address")
    return mailboxes


def make_mailbox(address: str, name: str | None = None, *, international: bool = False) -> Mailbox:
    """A checked mailbox from its parts; ValueError when the address or name is unusable.

    ``international`` admits a UTF-8 address (``international_email``), for messages that
    travel with SMTPUTF8."""
    address = address.strip()
    name = (name or "").strip()
    if has_line_break(address) or has_line_break(name):
        raise ValueError("must not contain line breaks")
    if international and not address.isascii():
        checked = international_email(address)
        if checked is None:
            raise ValueError(f"{address!r} is not a valid email address")
        return Mailbox(address=checked, name=name)
    if not is_valid_email(address):
        raise ValueError(f"{address!r} is not a valid email address")
    local, _, domain = address.rpartition("@")
    return Mailbox(address=f"{local}@{domain.lower()}", name=name)


def unique_addresses(addresses: Iterable[str]) -> list[str]:
    """``addresses`` in order, without case-insensitive repeats."""
    seen: set[str] = set()
    result = []
    for address in addresses:
        key = address.lower()
        if key not in seen:
            seen.add(key)
            result.append(address)
    return result
