"""Test data for delivery: sending domains with DKIM keys, queued messages, DKIM checks.

Until ``sending.accept`` is on main, queued mail is inserted directly as the send path
would store it: a Message, its MessageBody (``mime`` or ``api_json``) and Recipients.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import dkim
import dns.resolver
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy.orm import Session

from outpost.addresses import domain_of
from outpost.db import utcnow
from outpost.domains.models import Domain, DomainStatus
from outpost.security import encrypt_secret
from outpost.sending.models import (
    BodyFormat,
    Message,
    MessageBody,
    MessageSource,
    Recipient,
    RecipientStatus,
)
from tests.support.dns_server import DNSServer, Zone

SECRET = "test-secret-key-not-for-production"


@lru_cache(maxsize=1)
def rsa_key() -> rsa.RSAPrivateKey:
    """One RSA-2048 key for the whole run (generating one is slow)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@lru_cache(maxsize=1)
def ed25519_key() -> ed25519.Ed25519PrivateKey:
    """One Ed25519 key for the whole run."""
    return ed25519.Ed25519PrivateKey.generate()


def _pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def make_domain(
    session: Session,
    *,
    org_id: int,
    name: str = "sender.test",
    ed25519_too: bool = True,
    secret: str = SECRET,
) -> Domain:
    """A verified sending domain with its keys stored as the domains package stores them."""
    rsa_public = base64.b64encode(
        rsa_key()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).decode()
    domain = Domain(
        org_id=org_id,
        name=name,
        status=DomainStatus.verified,
        verification_token=uuid.uuid4().hex,
        dkim_selector="rsa1",
        dkim_private_key=encrypt_secret(secret, _pem(rsa_key())),
        dkim_public_key=rsa_public,
        return_path_host=f"rp.{name}",
        verified_at=utcnow(),
    )
    if ed25519_too:
        raw = (
            ed25519_key()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        domain.dkim_ed25519_selector = "ed1"
        domain.dkim_ed25519_private_key = encrypt_secret(secret, _pem(ed25519_key()))
        domain.dkim_ed25519_public_key = base64.b64encode(raw).decode()
    session.add(domain)
    session.flush()
    return domain


def publish_dkim(zone: Zone, domain: Domain) -> None:
    """Publish the domain's DKIM public keys as TXT records."""
    zone.add_txt(
        f"{domain.dkim_selector}._domainkey.{domain.name}",
        f"v=DKIM1; k=rsa; p={domain.dkim_public_key}",
    )
    if domain.dkim_ed25519_selector:
        zone.add_txt(
            f"{domain.dkim_ed25519_selector}._domainkey.{domain.name}",
            f"v=DKIM1; k=ed25519; p={domain.dkim_ed25519_public_key}",
        )


def publish_mx(zone: Zone, domain: str, *, address: str = "127.0.0.1") -> None:
    """``domain`` has one MX, ``mx.<domain>``, at a loopback address."""
    zone.add(domain, "MX", f"10 mx.{domain}.")
    zone.add(f"mx.{domain}", "A", address)


def verify_dkim(message: bytes, server: DNSServer) -> list[str]:
    """The algorithms of every DKIM signature on ``message`` that dkimpy verifies."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = server.port

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        answer = resolver.resolve(name.decode().rstrip("."), "TXT")
        return b"".join(answer[0].strings)  # type: ignore[attr-defined]

    verifier = dkim.DKIM(message)
    signatures = [value for name, value in verifier.headers if name.lower() == b"dkim-signature"]
    ok = []
    for index in range(len(signatures)):
        try:
            verified = verifier.verify(idx=index, dnsfunc=dnsfunc)
        except dkim.DKIMException:
            verified = False
        if verified:
            tags = dict(
                part.strip().split(b"=", 1)
                for part in signatures[index].split(b";")
                if b"=" in part
            )
            ok.append(tags[b"a"].decode())
    return ok


@dataclass(frozen=True)
class Queued:
    """A queued message's row id, its Message-ID and its recipients' ids by address."""

    message_id: int
    message_id_header: str
    recipients: dict[str, int]


def api_json_body(
    *,
    sender: str,
    to: Sequence[str],
    subject: str = "Hello",
    message_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Send API message as the send path stores it."""
    return {
        "from": sender,
        "to": list(to),
        "subject": subject,
        "text_body": "Hello there.\n",
        "html_body": "<p>Hello there.</p>",
        "message_id": message_id or f"{uuid.uuid4()}@{domain_of(sender)}",
        "date": utcnow().isoformat(),
        **extra,
    }


def mime_body(*, sender: str, to: Sequence[str], subject: str, message_id: str) -> bytes:
    """A plain MIME message as SMTP submission stores it (LF line ends on purpose)."""
    return (
        f"From: {sender}\nTo: {', '.join(to)}\nSubject: {subject}\n"
        f"Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <{message_id}>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        "Hello  from \tSMTP. \n\n.leading dot\n\n\n"
    ).encode()


def queue_message(
    session: Session,
    *,
    account_id: int,
    sender: str = "news@sender.test",
    to: Sequence[str],
    bcc: Sequence[str] = (),
    domain: Domain | None = None,
    body_format: BodyFormat = BodyFormat.api_json,
    source: MessageSource = MessageSource.api,
    subject: str = "Hello",
    extra: dict[str, Any] | None = None,
) -> Queued:
    """A message accepted for ``to`` (and ``bcc``), queued for delivery now."""
    message_id = f"{uuid.uuid4()}@{domain_of(sender)}"
    if body_format is BodyFormat.api_json:
        body = api_json_body(
            sender=sender, to=to, subject=subject, message_id=message_id, **(extra or {})
        )
        if bcc:
            body["bcc"] = list(bcc)
        content = json.dumps(body).encode()
    else:
        content = mime_body(sender=sender, to=to, subject=subject, message_id=message_id)
    now = utcnow()
    message = Message(
        account_id=account_id,
        source=source,
        request_id=str(uuid.uuid4()),
        message_id=message_id,
        mail_from=sender,
        sender_domain_id=domain.id if domain else None,
        subject=subject,
        size=len(content),
        tags=[],
        meta={},
    )
    session.add(message)
    session.flush()
    session.add(MessageBody(message_id=message.id, format=body_format, content=content))
    rows = [
        Recipient(
            message_id=message.id,
            account_id=account_id,
            address=address,
            domain=domain_of(address),
            status=RecipientStatus.queued,
            next_attempt_at=now,
        )
        for address in [*to, *bcc]
    ]
    session.add_all(rows)
    session.flush()
    return Queued(message.id, message_id, {r.address: r.id for r in rows})
