"""DKIM keys: stored encrypted, published as DNS says, and a signature dkimpy accepts."""

from __future__ import annotations

import base64

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from fastapi.testclient import TestClient

from outpost.config import Settings
from outpost.db import Database
from outpost.dns import make_resolver
from outpost.domains.keys import load_ed25519_private_key, load_rsa_private_key
from outpost.domains.models import Domain
from outpost.domains.verification import lookup
from outpost.security import decrypt_secret
from tests.domains.support import add_domain, publish, records
from tests.factories import Factory
from tests.support.dkim_signer import sign
from tests.support.dns_server import DNSServer

MESSAGE = (
    b"From: Booking <booking@hotel.test>\r\n"
    b"To: guest@example.org\r\n"
    b"Subject:  Your   reservation\r\n"
    b"Message-ID: <1@hotel.test>\r\n"
    b"\r\n"
    b"Dear guest,  \r\n"
    b"see you soon.\r\n"
    b"\r\n"
)


def _domain(db: Database, domain_id: int) -> Domain:
    with db.session() as session:
        return session.get_one(Domain, domain_id)


def test_keys_are_stored_encrypted_in_the_documented_format(
    client: TestClient, factory: Factory, db: Database, dns_settings: Settings
) -> None:
    customer = factory.customer()
    created = add_domain(client, customer.headers, "hotel.test")
    domain = _domain(db, created["id"])
    secret = dns_settings.installation_secret()

    assert "PRIVATE KEY" not in domain.dkim_private_key
    assert "PRIVATE KEY" not in (domain.dkim_ed25519_private_key or "")
    pem = decrypt_secret(secret, domain.dkim_private_key)
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted

    rsa_key = load_rsa_private_key(domain, secret)
    assert isinstance(rsa_key, rsa.RSAPrivateKey) and rsa_key.key_size == 2048
    spki = rsa_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert base64.b64decode(domain.dkim_public_key) == spki

    ed_key = load_ed25519_private_key(domain, secret)
    assert isinstance(ed_key, ed25519.Ed25519PrivateKey)
    raw = base64.b64decode(domain.dkim_ed25519_public_key or "")
    assert len(raw) == 32
    assert raw == ed_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )

    published = records(created)
    assert published["dkim"]["value"] == f"v=DKIM1; k=rsa; p={domain.dkim_public_key}"
    assert published["dkim"]["name"] == f"{domain.dkim_selector}._domainkey.hotel.test"
    assert published["dkim_ed25519"]["value"] == (
        f"v=DKIM1; k=ed25519; p={domain.dkim_ed25519_public_key}"
    )
    assert domain.dkim_selector != domain.dkim_ed25519_selector

    with pytest.raises(ValueError, match="cannot decrypt"):
        load_rsa_private_key(domain, "another-installation-secret")


def test_each_domain_gets_its_own_keys_and_selectors(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = factory.customer()
    first = _domain(db, add_domain(client, customer.headers, "one.test")["id"])
    second = _domain(db, add_domain(client, customer.headers, "two.test")["id"])
    assert first.dkim_public_key != second.dkim_public_key
    assert first.dkim_ed25519_public_key != second.dkim_ed25519_public_key
    assert first.dkim_selector != second.dkim_selector
    assert first.verification_token != second.verification_token


@pytest.mark.parametrize("algorithm", ["rsa", "ed25519"])
def test_dkimpy_verifies_a_signature_against_the_published_key(
    client: TestClient,
    factory: Factory,
    db: Database,
    dns_server: DNSServer,
    dns_settings: Settings,
    algorithm: str,
) -> None:
    customer = factory.customer()
    created = add_domain(client, customer.headers, "hotel.test")
    publish(dns_server.zone, created)
    domain = _domain(db, created["id"])
    secret = dns_settings.installation_secret()
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | None
    if algorithm == "rsa":
        key, selector = load_rsa_private_key(domain, secret), domain.dkim_selector
    else:
        key, selector = load_ed25519_private_key(domain, secret), domain.dkim_ed25519_selector
    assert key is not None and selector is not None
    signed = sign(MESSAGE, domain="hotel.test", selector=selector, key=key)

    resolver = make_resolver(dns_settings)

    def dns_txt(name: bytes, timeout: int = 5) -> bytes:
        # The key as the loopback DNS server publishes it, never from our own tables.
        return lookup(resolver, name.decode().rstrip("."), "TXT")[0].encode()

    assert dkim.verify(signed, dnsfunc=dns_txt)
    tampered = signed.replace(b"see you soon", b"see you later")
    assert not dkim.verify(tampered, dnsfunc=dns_txt)
