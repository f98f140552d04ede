"""E-mail address syntax checks shared by every entry point."""

from __future__ import annotations

import re

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
