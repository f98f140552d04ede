"""IP access control lists accept addresses and ranges of both families, and nothing else."""

from __future__ import annotations

import pytest

from outpost.errors import ValidationFailed
from outpost.netaccess import ip_allowed, normalize_allowlist


def test_normalizes_and_deduplicates() -> None:
    entries = [" 192.0.2.10 ", "192.0.2.10/32", "2001:db8::/32", "10.0.0.0/8", "2001:DB8::1"]
    assert normalize_allowlist(entries) == [
        "192.0.2.10",
        "2001:db8::/32",
        "10.0.0.0/8",
        "2001:db8::1",
    ]


def test_names_each_bad_entry() -> None:
    with pytest.raises(ValidationFailed) as info:
        normalize_allowlist(["10.0.0.1/24", "example.com", "10.0.0.0/8"])
    assert [(e.field, e.description) for e in info.value.errors] == [
        ("ip_allowlist.0", "'10.0.0.1/24' has host bits set"),
        ("ip_allowlist.1", "'example.com' is not an IP address or CIDR range"),
    ]


def test_empty_list_allows_everyone_otherwise_only_listed() -> None:
    assert ip_allowed([], "203.0.113.9")
    rules = ["192.0.2.0/24", "2001:db8::/32"]
    assert ip_allowed(rules, "192.0.2.77")
    assert ip_allowed(rules, "::ffff:192.0.2.77")
    assert ip_allowed(rules, "2001:db8::5")
    assert not ip_allowed(rules, "198.51.100.1")
    assert not ip_allowed(rules, "not-an-ip")
