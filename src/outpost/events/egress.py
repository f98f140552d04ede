"""Which addresses a webhook may reach: public unicast only, unless the operator allows more.

A webhook URL is a request Outpost makes from inside the installation's network on a
customer's behalf; without this check a customer could have it POST to the database, the
cloud metadata service (169.254.169.254) or any other internal service (server-side
request forgery). ``webhook_allow_private_addresses`` lifts it for trusted networks.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from outpost.errors import Forbidden

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Looks a host name up: (host, port) -> every address a TCP connection may go to.
Resolver = Callable[[str, int], Sequence[IPAddress]]

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known NAT64 prefix (RFC 6052)


class AddressRefused(Forbidden):
    """A webhook host resolves to an address webhooks may not reach."""

    code = "webhook_address_refused"


def _is_shared(address: IPAddress) -> bool:
    return isinstance(address, ipaddress.IPv4Address) and address in _SHARED


def _is_site_local(address: IPAddress) -> bool:
    # fec0::/10 is deprecated but still routed on some networks; Python calls it global.
    return isinstance(address, ipaddress.IPv6Address) and address.is_site_local


# In order: the first that matches names the refusal. Python 3.11's ``is_global`` alone
# passes multicast, site-local and the IPv6 forms that carry an IPv4 address.
_NON_PUBLIC: tuple[tuple[str, Callable[[IPAddress], bool]], ...] = (
    ("unspecified", lambda a: a.is_unspecified),
    ("loopback", lambda a: a.is_loopback),
    ("link-local", lambda a: a.is_link_local),
    ("multicast", lambda a: a.is_multicast),
    ("shared CGNAT", _is_shared),
    ("reserved", lambda a: a.is_reserved),  # before "private", which 240/4 also is
    ("private", lambda a: a.is_private),
    ("site-local", _is_site_local),
    ("non-global", lambda a: not a.is_global),
)


def _carried_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 form leads to (mapped, NAT64, 6to4), else ``address``."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def non_public_kind(address: IPAddress) -> str | None:
    """What keeps ``address`` from receiving webhooks ("loopback", ...); None when public."""
    target = _carried_ipv4(address)
    return next((kind for kind, matches in _NON_PUBLIC if matches(target)), None)


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to for a TCP connection, in the resolver's order."""
    found: list[IPAddress] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(sockaddr[0]))
        if address not in found:
            found.append(address)
    return found


def vetted_addresses(
    host: str, port: int, *, allow_private: bool, resolve: Resolver = resolve_host
) -> list[IPAddress]:
    """The addresses to connect to for ``host``; AddressRefused when any is not public."""
    addresses = list(resolve(host, port))
    if not addresses:
        raise OSError(f"{host} has no address")
    if not allow_private:
        for address in addresses:
            kind = non_public_kind(address)
            if kind is not None:
                # Every address, not just the first: a connection may fall back to any.
                raise AddressRefused(
                    f"refused: webhook host resolves to a non-public address {address} "
                    f"({kind}); only public addresses may receive webhooks"
                )
    return addresses


def literal_refusal(url: str) -> str | None:
    """Why ``url`` may not receive webhooks when its host is a non-public IP; else None."""
    host = urlsplit(url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a host name: checked when it is resolved, at every POST
    kind = non_public_kind(address)
    if kind is None:
        return None
    return (
        f"points to a non-public address {address} ({kind}); "
        "only public addresses may receive webhooks"
    )
