"""MX routing through the configured resolver: preference order, TTL cache, failures."""

from __future__ import annotations

import asyncio

import pytest

from outpost.config import Settings
from outpost.delivery.mx import MxResolver, RouteFailure
from tests.support.dns_server import DNSServer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_routes_are_ordered_and_cached_for_their_ttl(
    settings: Settings, dns_server: DNSServer
) -> None:
    zone = dns_server.zone
    zone.ttl = 60
    zone.add("dest.test", "MX", "20 backup.dest.test.")
    zone.add("dest.test", "MX", "10 primary.dest.test.")
    zone.add("primary.dest.test", "A", "127.0.0.1")
    zone.add("backup.dest.test", "A", "127.0.0.3")
    clock = Clock()
    resolver = MxResolver(
        settings.model_copy(update={"dns_resolver": dns_server.address, "delivery_port": 2600}),
        clock=clock,
    )

    async def scenario() -> None:
        route = await resolver.route("Dest.Test")
        assert [(h.name, h.addresses, h.port) for h in route.hosts] == [
            ("primary.dest.test", ("127.0.0.1",), 2600),
            ("backup.dest.test", ("127.0.0.3",), 2600),
        ]
        zone.clear()  # the answer is remembered for its TTL...
        assert (await resolver.route("dest.test")) == route
        clock.now += 61  # ...and looked up again after it
        with pytest.raises(RouteFailure) as failure:
            await resolver.route("dest.test")
        assert failure.value.outcome.enhanced_code == "5.1.2"

    asyncio.run(scenario())


def test_relay_host_replaces_mx(settings: Settings) -> None:
    resolver = MxResolver(settings.model_copy(update={"relay_host": "smarthost.test:2587"}))
    route = asyncio.run(resolver.route("anything.test"))
    assert route.relay and [(h.name, h.port) for h in route.hosts] == [("smarthost.test", 2587)]
