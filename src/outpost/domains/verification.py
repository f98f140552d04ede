"""Checking a domain's records over DNS; every problem becomes a per-record result."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import dns.exception
import dns.resolver

from outpost.domains.dns_records import DnsRecord, Purpose


@dataclass(frozen=True)
class RecordCheck:
    """What one look-up found; ``temporary`` when DNS did not answer (timeout, SERVFAIL)."""

    ok: bool
    found: list[str] = field(default_factory=list)
    error: str | None = None
    temporary: bool = False


class LookupFailed(Exception):
    """The resolver gave no usable answer: a timeout, SERVFAIL or another DNS failure."""


def lookup(resolver: dns.resolver.Resolver, name: str, rdtype: str) -> list[str]:
    """The values at ``name`` (TXT strings joined; host names without the final dot)."""
    try:
        answer = resolver.resolve(name, rdtype, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.resolver.LifetimeTimeout:
        raise LookupFailed(f"DNS look-up of {name} ({rdtype}) timed out") from None
    except dns.resolver.NoNameservers:
        raise LookupFailed(
            f"no DNS server could answer for {name} ({rdtype}): SERVFAIL, refused or unreachable"
        ) from None
    except dns.exception.DNSException as exc:
        raise LookupFailed(f"DNS look-up of {name} ({rdtype}) failed: {exc}") from None
    values = []
    for rdata in answer:
        if rdtype == "TXT":
            values.append(b"".join(rdata.strings).decode("utf-8", "replace"))
        elif rdtype == "MX":
            values.append(rdata.exchange.to_text().rstrip(".").lower())
        else:
            values.append(rdata.to_text().rstrip(".").lower())
    return values


def _ownership(resolver: dns.resolver.Resolver, record: DnsRecord) -> RecordCheck:
    found = lookup(resolver, record.name, "TXT")
    if record.value in (value.strip() for value in found):
        return RecordCheck(True, found)
    if not found:
        return RecordCheck(False, found, f"no TXT record at {record.name}")
    return RecordCheck(False, found, f"no TXT record at {record.name} reads {record.value!r}")


def _spf_terms(record: str) -> list[str]:
    """The mechanisms of an SPF record up to its ``all`` (later ones are never evaluated)."""
    terms = []
    for term in record.split()[1:]:
        term = term.lower()
        if term.lstrip("+-~?") == "all":
            break
        terms.append(term)
    return terms


def _spf_allows(terms: Sequence[str], mechanism: str) -> bool:
    kind, _, wanted = mechanism.partition(":")
    passing = [t.removeprefix("+") for t in terms if t[:1] not in ("-", "~", "?")]
    if kind not in ("ip4", "ip6"):
        return mechanism in passing
    network = ipaddress.ip_network(wanted)
    for term in passing:
        term_kind, _, value = term.partition(":")
        if term_kind != kind:
            continue
        try:
            published = ipaddress.ip_network(value, strict=False)
        except ValueError:
            continue
        if network.version == published.version and network.subnet_of(published):  # type: ignore[arg-type]
            return True
    return False


def _spf(resolver: dns.resolver.Resolver, record: DnsRecord) -> RecordCheck:
    found = [v.strip() for v in lookup(resolver, record.name, "TXT") if _is_spf(v.strip())]
    if not found:
        return RecordCheck(False, found, f"no SPF record (v=spf1 …) at {record.name}")
    if len(found) > 1:
        return RecordCheck(
            False,
            found,
            f"{len(found)} SPF records at {record.name}; RFC 7208 allows one, merge them",
        )
    terms = _spf_terms(found[0])
    missing = [m for m in record.mechanisms if not _spf_allows(terms, m)]
    if missing:
        return RecordCheck(
            False,
            found,
            f"the SPF record at {record.name} does not contain {' '.join(missing)} "
            "before its 'all'",
        )
    return RecordCheck(True, found)


def _is_spf(value: str) -> bool:
    lowered = value.lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def dkim_tags(value: str) -> dict[str, str]:
    """The tags of a DKIM key record; whitespace inside values (split keys) is dropped."""
    tags = {}
    for part in value.split(";"):
        name, sep, tag_value = part.partition("=")
        if sep:
            tags[name.strip().lower()] = "".join(tag_value.split())
    return tags


def _dkim(resolver: dns.resolver.Resolver, record: DnsRecord) -> RecordCheck:
    found = lookup(resolver, record.name, "TXT")
    expected = dkim_tags(record.value)
    keys = [dkim_tags(value) for value in found if "p=" in value]
    for tags in keys:
        if tags.get("p") == expected["p"] and tags.get("k", "rsa") == expected["k"]:
            return RecordCheck(True, found)
    if not keys:
        return RecordCheck(False, found, f"no DKIM key record (v=DKIM1; … p=…) at {record.name}")
    tags = keys[0]
    if not tags.get("p"):
        error = f"the DKIM key at {record.name} is empty (revoked)"
    elif (key_type := tags.get("k", "rsa")) != expected["k"]:
        error = f"the DKIM record at {record.name} says k={key_type}, expected k={expected['k']}"
    else:
        error = f"the DKIM key at {record.name} is not the key generated for this domain"
    return RecordCheck(False, found, error)


def _return_path(resolver: dns.resolver.Resolver, record: DnsRecord) -> RecordCheck:
    target = record.value
    cnames = lookup(resolver, record.name, "CNAME")
    if cnames:
        if target in cnames:
            return RecordCheck(True, cnames)
        return RecordCheck(
            False, cnames, f"{record.name} is a CNAME to {cnames[0]}, expected {target}"
        )
    exchanges = lookup(resolver, record.name, "MX")
    if target in exchanges:
        return RecordCheck(True, [f"MX {e}" for e in exchanges])
    if exchanges:
        return RecordCheck(
            False,
            [f"MX {e}" for e in exchanges],
            f"the MX of {record.name} is {', '.join(exchanges)}, expected {target}",
        )
    return RecordCheck(False, [], f"no CNAME (or MX) record at {record.name} pointing to {target}")


def _dmarc(resolver: dns.resolver.Resolver, record: DnsRecord) -> RecordCheck:
    found = [
        v.strip()
        for v in lookup(resolver, record.name, "TXT")
        if "".join(v.split()).lower().startswith("v=dmarc1")
    ]
    if not found:
        return RecordCheck(False, found, f"no DMARC record at {record.name} (recommended)")
    if len(found) > 1:
        return RecordCheck(False, found, f"{len(found)} DMARC records at {record.name}; keep one")
    return RecordCheck(True, found)


_CHECKERS: dict[Purpose, Callable[[dns.resolver.Resolver, DnsRecord], RecordCheck]] = {
    Purpose.ownership: _ownership,
    Purpose.spf: _spf,
    Purpose.dkim: _dkim,
    Purpose.dkim_ed25519: _dkim,
    Purpose.return_path: _return_path,
    Purpose.dmarc: _dmarc,
}


def check_record(resolver: dns.resolver.Resolver, record: DnsRecord) -> RecordCheck:
    """Look ``record`` up and judge it; DNS failures come back as temporary errors."""
    try:
        return _CHECKERS[record.purpose](resolver, record)
    except LookupFailed as exc:
        return RecordCheck(False, [], str(exc), temporary=True)


def check_records(
    resolver: dns.resolver.Resolver, records: Sequence[DnsRecord]
) -> dict[Purpose, RecordCheck]:
    """Check every record at once, so a slow server costs one timeout, not one per record."""
    with ThreadPoolExecutor(max_workers=max(1, len(records))) as pool:
        results = pool.map(lambda r: check_record(resolver, r), records)
        return {record.purpose: result for record, result in zip(records, results, strict=True)}
