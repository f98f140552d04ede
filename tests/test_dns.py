"""The shared resolver factory: which server it asks, and how long it waits."""

from __future__ import annotations

import pytest

from outpost.config import Settings
from outpost.dns import make_resolver, parse_nameserver
from tests.support.dns_server import DNSServer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
        ("[2001:db8::1]", ("2001:db8::1", 53)),
    ],
)
def test_parses_host_and_port(text: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize("text", ["dns.example", "127.0.0.1:x", "127.0.0.1:0", "[::1]:99999"])
def test_refuses_what_is_not_an_address(text: str) -> None:
    with pytest.raises(ValueError, match="dns_resolver"):
        parse_nameserver(text)


def test_asks_the_configured_server_within_the_timeout(settings: Settings) -> None:
    server = DNSServer().start()
    try:
        server.zone.add("mx.example.test", "A", "192.0.2.25")
        configured = settings.model_copy(
            update={"dns_resolver": server.address, "dns_timeout": 1.5}
        )
        resolver = make_resolver(configured)
        assert resolver.nameservers == ["127.0.0.1"] and resolver.port == server.port
        assert resolver.lifetime == 1.5
        answer = resolver.resolve("mx.example.test", "A")
        assert [a.to_text() for a in answer] == ["192.0.2.25"]
    finally:
        server.stop()


def test_test_settings_never_reach_real_dns(settings: Settings) -> None:
    assert settings.dns_resolver.startswith("127.0.0.1:")
