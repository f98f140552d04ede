"""DKIM signatures made with ``cryptography`` verify with dkimpy, an independent implementation."""

from __future__ import annotations

import json

import pytest
from dkim.canonicalization import Relaxed
from sqlalchemy.orm import Session

from outpost.delivery.compose import compose
from outpost.delivery.dkim import load_signer, relaxed_body, relaxed_header, to_crlf
from outpost.tenancy.service import get_operator
from tests.delivery.support import (
    SECRET,
    api_json_body,
    make_domain,
    mime_body,
    publish_dkim,
    verify_dkim,
)
from tests.support.dns_server import DNSServer

TRICKY = to_crlf(
    b"From: Sender <news@sender.test>\n"
    b"To:   a@dest.test,\n\t b@dest.test  \n"
    b"Subject:  Folded\n   subject   line\n"
    b"Date: Mon, 23 Nov 2026 10:00:00 +0000\n"
    b"Message-ID: <x1@sender.test>\n"
    b"List-Unsubscribe: <mailto:u@sender.test>\n"
    b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
    b"Received: from somewhere\n"
    b"Cc: c@dest.test\n"
    b"\n"
    b"Body with  double   spaces \t\n"
    b"\n"
    b"tab\there\n\n\n\n"
)


@pytest.mark.parametrize("ed25519_too", [True, False])
def test_signatures_verify_with_dkimpy(
    session: Session, dns_server: DNSServer, ed25519_too: bool
) -> None:
    domain = make_domain(session, org_id=get_operator(session=session).id, ed25519_too=ed25519_too)
    publish_dkim(dns_server.zone, domain)
    signer = load_signer(domain, SECRET)
    messages = [
        TRICKY,
        compose(json.dumps(api_json_body(sender="news@sender.test", to=["a@dest.test"])).encode()),
        to_crlf(
            mime_body(sender="news@sender.test", to=["a@dest.test"], subject="M", message_id="m@x")
        ),
        to_crlf(b"From: news@sender.test\nSubject: empty body\n\n"),
    ]
    expected = ["rsa-sha256", "ed25519-sha256"] if ed25519_too else ["rsa-sha256"]
    for message in messages:
        assert verify_dkim(signer.sign(message), dns_server) == expected


def test_signed_headers_cover_the_required_fields(session: Session) -> None:
    domain = make_domain(session, org_id=get_operator(session=session).id)
    header = load_signer(domain, SECRET).signature_headers(TRICKY).split(b"DKIM-Signature:")[1]
    unfolded = b"".join(header.split())
    h = unfolded.split(b"h=")[1].split(b";")[0].decode().split(":")
    for name in (
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "cc",
    ):
        assert name in h
    # Oversigned: a second From cannot be added without breaking the signature.
    assert h.count("from") == 2
    assert "received" not in h
    assert b"c=relaxed/relaxed" in unfolded and b"d=sender.test" in unfolded


def test_added_header_or_changed_body_breaks_the_signature(
    session: Session, dns_server: DNSServer
) -> None:
    domain = make_domain(session, org_id=get_operator(session=session).id, ed25519_too=False)
    publish_dkim(dns_server.zone, domain)
    signed = load_signer(domain, SECRET).sign(TRICKY)
    assert verify_dkim(signed, dns_server) == ["rsa-sha256"]
    assert verify_dkim(signed.replace(b"tab\there", b"tab here!"), dns_server) == []
    forged = signed.replace(b"From: Sender", b"From: evil@x.test\r\nFrom: Sender", 1)
    assert verify_dkim(forged, dns_server) == []


def test_relaxed_canonicalization_rules() -> None:
    assert relaxed_header(b"SUBJect :  a \r\n\t b  ") == b"subject:a b\r\n"
    assert relaxed_body(b"a  b \t\r\n\r\n\r\n") == b"a b\r\n"
    assert relaxed_body(b"") == b""
    assert relaxed_body(b"\r\n\r\n") == b""
    assert relaxed_body(b"x") == b"x\r\n"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"plain text\r\n",
        b"two  spaces\r\nand a tab\there\r\n",
        b"trailing blank \r\ntrailing tab\t\r\n\r\n\r\n",
        b" leading blank\r\n \r\n",
    ],
)
def test_relaxed_body_matches_dkimpy(body: bytes) -> None:
    # Bodies as they go on the wire: SMTP content always ends with CRLF.
    assert relaxed_body(body) == Relaxed.canonicalize_body(body)
