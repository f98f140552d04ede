"""One HTTP(S) POST to addresses vetted beforehand: no second look-up, no redirects.

Connecting to the vetted address itself closes the DNS-rebinding gap (a name that
resolves to a public address for the check and to an internal one for the connection).
HTTPS still sends SNI and verifies the certificate for the URL's host name. A redirect is
an answer like any other: following it would reach a host nobody vetted.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from outpost.events.egress import IPAddress

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Target:
    """Where a URL points: scheme, host name, port, and the path with its query."""

    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> Target:
        """The target of an http(s) URL; ValueError for anything else."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an http(s) URL with a host: {url!r}")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        port = parts.port or DEFAULT_PORTS[parts.scheme]
        return cls(scheme=parts.scheme, host=parts.hostname, port=port, path=path)


@dataclass(frozen=True)
class Reply:
    """The status and the start of the body the receiver answered."""

    status: int
    body: bytes


def _connect_any(addresses: Sequence[IPAddress], port: int, timeout: float | None) -> socket.socket:
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout=timeout)
        except OSError as exc:
            error = exc
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to one of the vetted addresses; ``Host`` stays the URL's host."""

    def __init__(self, target: Target, addresses: Sequence[IPAddress], timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.addresses = tuple(addresses)

    def connect(self) -> None:
        self.sock = _connect_any(self.addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to one of the vetted addresses, verified and SNI'd for the URL's host."""

    def __init__(
        self,
        target: Target,
        addresses: Sequence[IPAddress],
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self.addresses = tuple(addresses)
        self.tls_context = context

    def connect(self) -> None:
        sock = _connect_any(self.addresses, self.port, self.timeout)
        try:
            self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


@cache
def _default_tls_context() -> ssl.SSLContext:
    # Loading the system's CA certificates is slow; one verifying context serves all.
    return ssl.create_default_context()


def post(
    target: Target,
    addresses: Sequence[IPAddress],
    *,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    tls_context: ssl.SSLContext | None = None,
    limit: int = 1000,
) -> Reply:
    """POST ``body`` to ``target`` through one of ``addresses``; up to ``limit`` bytes back."""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        context = tls_context or _default_tls_context()
        connection = _PinnedHTTPSConnection(target, addresses, timeout, context)
    else:
        connection = _PinnedHTTPConnection(target, addresses, timeout)
    try:
        connection.request(
            "POST", target.path, body=body, headers={**headers, "Connection": "close"}
        )
        response = connection.getresponse()
        return Reply(response.status, response.read(limit))
    finally:
        connection.close()
