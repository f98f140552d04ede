"""Where mail for a domain goes: MX hosts (cached by TTL), A/AAAA fallback, or the relay."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver

from outpost.config import Settings
from outpost.delivery.outcome import (
    REPLY_DNS_FAILURE,
    REPLY_NO_DOMAIN,
    REPLY_NO_MAIL_HOST,
    REPLY_NULL_MX,
    DeliveryOutcome,
    from_fixed_reply,
)
from outpost.dns import make_async_resolver, split_host_port

# How long a permanent answer (no such domain, null MX) is believed; temporary failures
# are not cached, so the next batch asks again.
NEGATIVE_TTL = 300.0


@dataclass(frozen=True)
class MailHost:
    """One host to try: its name (for TLS and logs), its addresses and port."""

    name: str
    addresses: tuple[str, ...]
    port: int


@dataclass(frozen=True)
class Route:
    """The hosts for one destination domain, best first."""

    domain: str
    hosts: tuple[MailHost, ...]
    relay: bool = False


class RouteFailure(Exception):
    """No route: the outcome says whether it is temporary or permanent."""

    def __init__(self, outcome: DeliveryOutcome) -> None:
        super().__init__(outcome.reply)
        self.outcome = outcome


@dataclass
class _Cached:
    expires: float
    route: Route | None
    failure: RouteFailure | None


class MxResolver:
    """Routes per destination domain, cached for their DNS TTL and shared by a worker."""

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: dns.asyncresolver.Resolver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.resolver = resolver or make_async_resolver(settings)
        self.clock = clock
        self._cache: dict[str, _Cached] = {}
        self._pending: dict[str, asyncio.Future[_Cached]] = {}
        self._relay = _relay_route(settings)

    async def route(self, domain: str) -> Route:
        """The route for ``domain``; raises RouteFailure."""
        if self._relay is not None:
            return self._relay
        domain = domain.lower().rstrip(".")
        cached = self._cache.get(domain)
        if cached is None or cached.expires <= self.clock():
            pending = self._pending.get(domain)
            if pending is None:
                pending = asyncio.get_running_loop().create_future()
                self._pending[domain] = pending
                try:
                    cached = await self._lookup(domain)
                    self._cache[domain] = cached
                    pending.set_result(cached)
                except BaseException as exc:
                    pending.set_exception(exc)
                    pending.exception()  # consumed here; waiters re-raise it themselves
                    raise
                finally:
                    del self._pending[domain]
            else:
                cached = await asyncio.shield(pending)
        if cached.failure is not None:
            raise cached.failure
        if cached.route is None:  # pragma: no cover - one of the two is always set
            raise RouteFailure(from_fixed_reply(REPLY_DNS_FAILURE))
        return cached.route

    async def _lookup(self, domain: str) -> _Cached:
        now = self.clock()
        cap = self.settings.delivery_mx_cache_max_seconds
        try:
            exchanges, ttl = await self._mx(domain)
            hosts: list[MailHost] = []
            for name in exchanges:
                addresses, address_ttl = await self._addresses(name)
                ttl = min(ttl, address_ttl)
                if addresses:
                    hosts.append(MailHost(name, addresses, self.settings.delivery_port))
        except RouteFailure as failure:
            if failure.outcome.is_final:
                return _Cached(now + min(NEGATIVE_TTL, cap), None, failure)
            return _Cached(now, None, failure)
        if not hosts:
            return _Cached(now, None, RouteFailure(from_fixed_reply(REPLY_DNS_FAILURE)))
        return _Cached(now + min(float(ttl), cap), Route(domain, tuple(hosts)), None)

    async def _mx(self, domain: str) -> tuple[list[str], float]:
        """The exchange names best first (equal preferences shuffled) and the answer's TTL."""
        try:
            answer = await self.resolver.resolve(domain, "MX")
        except dns.resolver.NXDOMAIN as exc:
            raise RouteFailure(from_fixed_reply(REPLY_NO_DOMAIN)) from exc
        except dns.resolver.NoAnswer:
            # RFC 5321 §5.1: no MX means the domain itself is the mail host.
            addresses, ttl = await self._addresses(domain)
            if not addresses:
                raise RouteFailure(from_fixed_reply(REPLY_NO_MAIL_HOST)) from None
            return [domain], ttl
        except (dns.exception.DNSException, OSError) as exc:
            raise RouteFailure(from_fixed_reply(REPLY_DNS_FAILURE)) from exc
        records = list(answer)
        if any(r.exchange == dns.name.root for r in records):
            raise RouteFailure(from_fixed_reply(REPLY_NULL_MX))  # RFC 7505
        random.shuffle(records)
        records.sort(key=lambda r: r.preference)
        names = [r.exchange.to_text(omit_final_dot=True).lower() for r in records]
        ttl = float(answer.rrset.ttl) if answer.rrset is not None else NEGATIVE_TTL
        return names, ttl

    async def _addresses(self, name: str) -> tuple[tuple[str, ...], float]:
        """IPv4 then IPv6 addresses of a host, and the shortest TTL seen."""
        found: list[str] = []
        ttl = self.settings.delivery_mx_cache_max_seconds
        temporary = False
        for rdtype in ("A", "AAAA"):
            try:
                answer = await self.resolver.resolve(name, rdtype)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            except (dns.exception.DNSException, OSError):
                temporary = True
                continue
            found += [r.to_text() for r in answer]
            if answer.rrset is not None:
                ttl = min(ttl, float(answer.rrset.ttl))
        if not found and temporary:
            raise RouteFailure(from_fixed_reply(REPLY_DNS_FAILURE))
        return tuple(found), ttl


def _relay_route(settings: Settings) -> Route | None:
    if not settings.relay_host:
        return None
    default_port = 465 if settings.relay_tls == "tls" else 587
    host, port = split_host_port(settings.relay_host, default_port=default_port)
    return Route("*", (MailHost(host, (host,), port),), relay=True)
