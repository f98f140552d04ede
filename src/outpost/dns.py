"""The one way Outpost builds a DNS resolver: domain verification and MX look-ups share it."""

from __future__ import annotations

import ipaddress
from typing import TypeVar

import dns.asyncresolver
import dns.resolver

from outpost.config import Settings


def split_host_port(value: str, *, default_port: int) -> tuple[str, int]:
    """``host[:port]`` (IPv6 as ``[addr]:port``) as a host and a port; ValueError if bad."""
    value = value.strip()
    host, port = value, str(default_port)
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest:
            port = rest.removeprefix(":")
    elif value.count(":") == 1:
        host, port = value.split(":")
    return host, int(port)


def parse_nameserver(text: str) -> tuple[str, int]:
    """``host[:port]`` (IPv6 as ``[addr]:port``) as an IP address and a port (default 53)."""
    text = text.strip()
    try:
        host, number = split_host_port(text, default_port=53)
        address = ipaddress.ip_address(host)
    except ValueError as exc:
        raise ValueError(
            f"dns_resolver {text!r} is not an IP address with an optional port"
        ) from exc
    if not 0 < number < 65536:
        raise ValueError(f"dns_resolver {text!r} has no valid port")
    return str(address), number


def make_resolver(settings: Settings) -> dns.resolver.Resolver:
    """A resolver using ``settings.dns_resolver`` (empty: the system's) and ``dns_timeout``.

    It keeps no cache: callers that want one (MX look-ups) set ``resolver.cache``.
    """
    return _configure(
        dns.resolver.Resolver(configure=False)
        if settings.dns_resolver
        else dns.resolver.Resolver(),
        settings,
    )


def make_async_resolver(settings: Settings) -> dns.asyncresolver.Resolver:
    """The same resolver for asyncio code (the delivery workers' MX look-ups)."""
    return _configure(
        dns.asyncresolver.Resolver(configure=False)
        if settings.dns_resolver
        else dns.asyncresolver.Resolver(),
        settings,
    )


_R = TypeVar("_R", bound=dns.resolver.BaseResolver)


def _configure(resolver: _R, settings: Settings) -> _R:
    if settings.dns_resolver:
        address, port = parse_nameserver(settings.dns_resolver)
        resolver.nameservers = [address]
        resolver.port = port
    resolver.timeout = settings.dns_timeout
    resolver.lifetime = settings.dns_timeout
    return resolver
