"""The DNS resolver delivery uses: the configured ``dns_resolver`` or the system's.

Kept apart so it can be swapped for the shared ``outpost.dns.make_resolver`` once that
exists; this one is asynchronous because workers look up MX records on the event loop.
"""

from __future__ import annotations

import dns.asyncresolver

from outpost.config import Settings


def make_async_resolver(settings: Settings) -> dns.asyncresolver.Resolver:
    """A resolver for ``settings.dns_resolver`` (``host[:port]``), else the system's."""
    if not settings.dns_resolver:
        return dns.asyncresolver.Resolver()
    resolver = dns.asyncresolver.Resolver(configure=False)
    host, port = split_host_port(settings.dns_resolver, default_port=53)
    resolver.nameservers = [host]
    resolver.port = port
    resolver.timeout = 3.0
    resolver.lifetime = 10.0
    return resolver


def split_host_port(value: str, *, default_port: int) -> tuple[str, int]:
    """``host[:port]`` (or ``[v6]:port``) as a host and a port."""
    value = value.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        return host, int(port)
    return value, default_port
