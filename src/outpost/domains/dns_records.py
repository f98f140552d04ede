"""The DNS records a customer publishes for a sending domain, exactly as they must read."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from outpost.config import Settings
from outpost.domains.models import Domain

OWNERSHIP_LABEL = "_outpost-verify"
OWNERSHIP_PREFIX = "outpost-verification="
RETURN_PATH_LABEL = "op-bounces"


class Purpose(enum.StrEnum):
    """What a record is for; also its key in ``Domain.checks``."""

    ownership = "ownership"
    spf = "spf"
    dkim = "dkim"
    dkim_ed25519 = "dkim_ed25519"
    return_path = "return_path"
    dmarc = "dmarc"


@dataclass(frozen=True)
class DnsRecord:
    """One record to publish; ``mechanisms`` are what an SPF record must contain."""

    purpose: Purpose
    type: str
    name: str
    value: str
    required: bool
    mechanisms: tuple[str, ...] = ()


def return_path_host(domain_name: str) -> str:
    """The host of a domain's bounce (envelope-from) addresses."""
    return f"{RETURN_PATH_LABEL}.{domain_name}"


def spf_mechanisms(settings: Settings) -> tuple[str, ...]:
    """The mechanisms that authorize this installation to send for a domain."""
    if settings.spf_include:
        return (f"include:{settings.spf_include.rstrip('.').lower()}",)
    if settings.sending_ips:
        return tuple(
            f"{'ip6' if ':' in address else 'ip4'}:{address}" for address in settings.sending_ips
        )
    return (f"a:{settings.hostname.rstrip('.').lower()}",)


def dkim_value(key_type: str, public_key: str) -> str:
    """A DKIM key record (RFC 6376 section 3.6.1; RFC 8463 for ``ed25519``)."""
    return f"v=DKIM1; k={key_type}; p={public_key}"


def expected_records(domain: Domain, settings: Settings) -> list[DnsRecord]:
    """Every record for ``domain``: required ones first, then the advisory DMARC record."""
    mechanisms = spf_mechanisms(settings)
    records = [
        DnsRecord(
            Purpose.ownership,
            "TXT",
            f"{OWNERSHIP_LABEL}.{domain.name}",
            f"{OWNERSHIP_PREFIX}{domain.verification_token}",
            required=True,
        ),
        DnsRecord(
            Purpose.spf,
            "TXT",
            domain.name,
            f"v=spf1 {' '.join(mechanisms)} ~all",
            required=True,
            mechanisms=mechanisms,
        ),
        DnsRecord(
            Purpose.dkim,
            "TXT",
            f"{domain.dkim_selector}._domainkey.{domain.name}",
            dkim_value("rsa", domain.dkim_public_key),
            required=True,
        ),
    ]
    if domain.dkim_ed25519_selector and domain.dkim_ed25519_public_key:
        records.append(
            DnsRecord(
                Purpose.dkim_ed25519,
                "TXT",
                f"{domain.dkim_ed25519_selector}._domainkey.{domain.name}",
                dkim_value("ed25519", domain.dkim_ed25519_public_key),
                required=True,
            )
        )
    records += [
        DnsRecord(
            Purpose.return_path,
            "CNAME",
            domain.return_path_host,
            settings.resolved_return_path_target(),
            required=True,
        ),
        DnsRecord(
            Purpose.dmarc,
            "TXT",
            f"_dmarc.{domain.name}",
            f"v=DMARC1; p=none; rua=mailto:postmaster@{domain.name}",
            required=False,
        ),
    ]
    return records
