"""E-mail address syntax checks shared by every entry point."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formataddr, getaddresses

# A pragmatic RFC 5321 mailbox: dot-atom local part, a domain of LDH labels with a TLD.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*\.[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]"
_ADDRESS = re.compile(rf"^{_LOCAL}@{_DOMAIN}$")
_DOMAIN_NAME = re.compile(rf"^{_DOMAIN}$")


def is_valid_email(address: str) -> bool:
    """Whether ``address`` is a plain mailbox such as ``name@example.com``."""
    return len(address) <= 254 and _ADDRESS.fullmatch(address) is not None


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


def parse_mailboxes(value: str) -> list[Mailbox]:
    """Every mailbox of ``"Name <a@example.com>, b@example.com"``; ValueError on a bad one."""
    if has_line_break(value):
        raise ValueError("must not contain line breaks")
    simple = _SIMPLE_MAILBOX.match(value)
    if simple:
        name, bracketed, bare = simple.groups()
        return [make_mailbox(bracketed or bare, name)]
    pairs = getaddresses([value])
    mailboxes = []
    for name, address in pairs:
        if not address and not name:
            raise ValueError(f"{value!r} is not a valid address list")
        mailboxes.append(make_mailbox(address, name))
    if not mailboxes:
        raise ValueError("holds no address")
    return mailboxes


def make_mailbox(address: str, name: str | None = None) -> Mailbox:
    """A checked mailbox from its parts; ValueError when the address or name is unusable."""
    address = address.strip()
    name = (name or "").strip()
    if has_line_break(address) or has_line_break(name):
        raise ValueError("must not contain line breaks")
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
