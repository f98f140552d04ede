"""The loopback DNS server answers like a real one: records, NODATA, NXDOMAIN, TCP."""

from __future__ import annotations

import dns.resolver
import pytest

from tests.support.dns_server import DNSServer


@pytest.fixture
def server() -> DNSServer:
    s = DNSServer().start()
    yield s  # type: ignore[misc]
    s.stop()


def _resolver(server: DNSServer) -> dns.resolver.Resolver:
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ["127.0.0.1"]
    r.port = server.port
    return r


def test_answers_mx_txt_and_nxdomain(server: DNSServer) -> None:
    server.zone.add("example.test", "MX", "10 mx.example.test.")
    server.zone.add_txt("sel._domainkey.example.test", "v=DKIM1; k=rsa; p=" + "A" * 400)
    r = _resolver(server)
    mx = r.resolve("example.test", "MX")
    assert [str(x.exchange) for x in mx] == ["mx.example.test."]
    txt = r.resolve("sel._domainkey.example.test", "TXT")
    assert b"".join(txt[0].strings).decode().endswith("A" * 400)
    with pytest.raises(dns.resolver.NoAnswer):
        r.resolve("example.test", "A")
    with pytest.raises(dns.resolver.NXDOMAIN):
        r.resolve("missing.example.test", "A")
    txt_tcp = r.resolve("sel._domainkey.example.test", "TXT", tcp=True)
    assert txt_tcp[0].strings == txt[0].strings
