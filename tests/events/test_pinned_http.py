"""POSTs pinned to a vetted address, against real HTTP(S) servers on loopback.

The URLs name hosts under ``.test`` that resolve nowhere: a request that arrives proves
the connection went to the given address without a second look-up.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from outpost.events.pinned_http import Reply, Target, post

LOOPBACK = [ipaddress.ip_address("127.0.0.1")]


@dataclass
class _Seen:
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)  # path, Host, body
    server_names: list[str | None] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    seen: _Seen

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.requests.append((self.path, self.headers["Host"], body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"got it")

    def log_message(self, *args: Any) -> None:
        pass


def _certificate(host: str) -> tuple[bytes, bytes]:
    """A self-signed certificate for ``host`` and its key, both PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@dataclass
class _Server:
    port: int
    seen: _Seen
    cert_pem: bytes = b""


def _serve(tls_host: str | None, tmp_path: Path) -> Iterator[_Server]:
    seen = _Seen()
    handler = type("Handler", (_Handler,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    cert_pem = b""
    if tls_host is not None:
        cert_pem, key_pem = _certificate(tls_host)
        (tmp_path / "cert.pem").write_bytes(cert_pem)
        (tmp_path / "key.pem").write_bytes(key_pem)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

        def remember_sni(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
            seen.server_names.append(name)

        context.sni_callback = remember_sni
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield _Server(server.server_address[1], seen, cert_pem)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def plain(tmp_path: Path) -> Iterator[_Server]:
    yield from _serve(None, tmp_path)


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[_Server]:
    yield from _serve("hooks.test", tmp_path)


def test_plain_http_goes_to_the_given_address_with_the_urls_host(plain: _Server) -> None:
    target = Target.parse(f"http://hooks.test:{plain.port}/in?token=1#frag")
    reply = post(target, LOOPBACK, body=b"{}", headers={"X-A": "1"}, timeout=5)
    assert reply == Reply(200, b"got it")
    assert plain.seen.requests == [("/in?token=1", f"hooks.test:{plain.port}", b"{}")]


def test_https_sends_sni_and_verifies_the_certificate_for_the_urls_host(tls: _Server) -> None:
    trusted = ssl.create_default_context(cadata=tls.cert_pem.decode())
    target = Target.parse(f"https://hooks.test:{tls.port}/in")
    reply = post(target, LOOPBACK, body=b"{}", headers={}, timeout=5, tls_context=trusted)
    assert reply.status == 200
    assert tls.seen.server_names == ["hooks.test"]
    assert tls.seen.requests == [("/in", f"hooks.test:{tls.port}", b"{}")]


def test_https_refuses_a_certificate_for_another_host(tls: _Server) -> None:
    trusted = ssl.create_default_context(cadata=tls.cert_pem.decode())
    target = Target.parse(f"https://other.test:{tls.port}/in")
    with pytest.raises(ssl.SSLCertVerificationError, match=r"other\.test"):
        post(target, LOOPBACK, body=b"{}", headers={}, timeout=5, tls_context=trusted)
    assert tls.seen.requests == []


def test_https_refuses_an_untrusted_certificate(tls: _Server) -> None:
    target = Target.parse(f"https://hooks.test:{tls.port}/in")
    with pytest.raises(ssl.SSLCertVerificationError):
        post(target, LOOPBACK, body=b"{}", headers={}, timeout=5)
    assert tls.seen.requests == []


@pytest.mark.parametrize("url", ["ftp://hooks.test/", "http:///path", "https://"])
def test_only_http_urls_with_a_host_are_targets(url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        Target.parse(url)
