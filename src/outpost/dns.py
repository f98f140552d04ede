"""The one way Outpost builds a DNS resolver: domain verification and MX look-ups share it."""

from __future__ import annotations

import ipaddress

import dns.resolver

from outpost.config import Settings


def parse_nameserver(text: str) -> tuple[str, int]:
    """``host[:port]`` (IPv6 as ``[addr]:port``) as an IP address and a port (default 53)."""
    text = text.strip()
    host, port = text, "53"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            port = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        address = ipaddress.ip_address(host)
        number = int(port)
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
    if settings.dns_resolver:
        resolver = dns.resolver.Resolver(configure=False)
        address, port = parse_nameserver(settings.dns_resolver)
        resolver.nameservers = [address]
        resolver.port = port
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = settings.dns_timeout
    resolver.lifetime = settings.dns_timeout
    return resolver
