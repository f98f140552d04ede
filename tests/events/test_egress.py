"""Which addresses webhooks may reach; nothing here opens a connection."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest

from outpost.events.egress import (
    AddressRefused,
    IPAddress,
    Resolver,
    literal_refusal,
    non_public_kind,
    resolve_host,
    vetted_addresses,
)

REFUSED = [
    # IPv4
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to judge, not to bind
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata service
    ("100.64.0.1", "shared CGNAT"),
    ("100.127.255.254", "shared CGNAT"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.10", "private"),  # documentation range
    # IPv6
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fc00::1", "private"),
    ("fd12:3456:789a::1", "private"),
    ("fe80::1", "link-local"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),  # global scope, still not unicast
    ("fec0::1", "site-local"),
    ("2001:db8::1", "private"),  # documentation range
    ("::7f00:1", "reserved"),  # IPv4-compatible, deprecated
    # IPv6 forms that lead to an IPv4 address
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:100.64.0.1", "shared CGNAT"),
    ("::ffff:0.0.0.0", "unspecified"),
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "100.63.255.255",  # just below the CGNAT range
    "100.128.0.0",  # just above it
    "172.32.0.1",  # just above 172.16/12
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize(("text", "kind"), REFUSED)
def test_non_public_addresses_are_named(text: str, kind: str) -> None:
    assert non_public_kind(ipaddress.ip_address(text)) == kind


@pytest.mark.parametrize("text", PUBLIC)
def test_public_unicast_addresses_pass(text: str) -> None:
    assert non_public_kind(ipaddress.ip_address(text)) is None


def _answers(*texts: str) -> tuple[list[tuple[str, int]], Resolver]:
    """A resolver answering ``texts`` for any name, and the list of what it was asked."""
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> Sequence[IPAddress]:
        asked.append((host, port))
        return [ipaddress.ip_address(t) for t in texts]

    return asked, resolve


def test_one_private_answer_among_public_ones_refuses_the_host() -> None:
    asked, resolve = _answers("8.8.8.8", "10.0.0.7", "1.1.1.1")
    with pytest.raises(AddressRefused) as refused:
        vetted_addresses("hooks.example", 443, allow_private=False, resolve=resolve)
    assert asked == [("hooks.example", 443)]
    assert refused.value.message == (
        "refused: webhook host resolves to a non-public address 10.0.0.7 (private); "
        "only public addresses may receive webhooks"
    )


def test_public_answers_are_the_addresses_to_connect_to() -> None:
    _asked, resolve = _answers("2606:4700:4700::1111", "1.1.1.1")
    addresses = vetted_addresses("hooks.example", 443, allow_private=False, resolve=resolve)
    assert [str(a) for a in addresses] == ["2606:4700:4700::1111", "1.1.1.1"]


def test_the_setting_lets_private_answers_through() -> None:
    _asked, resolve = _answers("127.0.0.1")
    addresses = vetted_addresses("hooks.example", 80, allow_private=True, resolve=resolve)
    assert [str(a) for a in addresses] == ["127.0.0.1"]


def test_localhost_resolves_to_loopback_and_is_refused() -> None:
    assert ipaddress.ip_address("127.0.0.1") in resolve_host("localhost", 80)
    with pytest.raises(AddressRefused, match=r"non-public address (127\.0\.0\.1|::1) \(loopback\)"):
        vetted_addresses("localhost", 80, allow_private=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:5432/", "points to a non-public address 127.0.0.1 (loopback)"),
        ("http://169.254.169.254/latest/", "points to a non-public address 169.254.169.254"),
        ("https://[::ffff:a9fe:a9fe]/", "points to a non-public address ::ffff:a9fe:a9fe"),
        ("https://[fd00::1]:8443/x", "points to a non-public address fd00::1 (private)"),
        ("https://hooks.example.com/x", None),
        ("https://localhost/x", None),  # a name: vetted when each POST resolves it
        ("https://8.8.8.8/x", None),
    ],
)
def test_ip_literal_urls_are_judged_without_a_lookup(url: str, reason: str | None) -> None:
    refusal = literal_refusal(url)
    if reason is None:
        assert refusal is None
    else:
        assert refusal is not None and refusal.startswith(reason)
