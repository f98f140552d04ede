"""IP access control lists: IPv4/IPv6 addresses and CIDR ranges; empty means anyone."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from outpost.errors import FieldError, ValidationFailed

MAX_ENTRIES = 100

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def normalize_allowlist(entries: Iterable[str], *, field: str = "ip_allowlist") -> list[str]:
    """Validated, de-duplicated entries in canonical form; ValidationFailed names each bad one."""
    result: list[str] = []
    errors: list[FieldError] = []
    for index, raw in enumerate(entries):
        entry = raw.strip()
        try:
            network = ipaddress.ip_network(entry, strict=True)
        except ValueError as exc:
            reason = (
                "has host bits set"
                if "host bits" in str(exc)
                else "is not an IP address or CIDR range"
            )
            errors.append(FieldError(f"{field}.{index}", f"{entry!r} {reason}"))
            continue
        text = str(network.network_address) if network.num_addresses == 1 else str(network)
        if text not in result:
            result.append(text)
    if len(result) > MAX_ENTRIES:
        errors.append(FieldError(field, f"has more than {MAX_ENTRIES} entries"))
    if errors:
        raise ValidationFailed(errors)
    return result


@lru_cache(maxsize=4096)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(e) for e in entries)


def ip_allowed(allowlist: Sequence[str], ip: str) -> bool:
    """Whether ``ip`` may connect under ``allowlist`` (an empty list allows every address)."""
    if not allowlist:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(tuple(allowlist)))
