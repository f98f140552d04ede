"""The fast path for MAIL FROM / RCPT TO addresses reads exactly what aiosmtpd reads."""

from __future__ import annotations

import asyncio
import random
import string

import pytest
from aiosmtpd.smtp import SMTP

from outpost.sending.smtp.protocol import SubmissionSMTP, with_enhanced_code

EDGE_CASES = [
    "<a@b.c>",
    "<a@b.c> SIZE=100",
    "<a@b.c>\t SIZE=100 BODY=8BITMIME",
    "<a@b.c>  ",
    "<a@b.c> (comment) SIZE=1",
    "<a@b.c>x",
    " <a@b.c>",
    "<A.B+tag@Ex-ample.COM>",
    "<>",
    "<a..b@c.d>",
    "<.a@b.c>",
    "<a.@b.c>",
    "<a@b..c>",
    "<a@b.c.>",
    '<"quoted local"@b.c>',
    "<a@[192.0.2.1]>",
    "<@route:a@b.c>",
    "<a@b.c",
    "a@b.c",
    "<a b@c.d>",
    "<pé@b.c>",
    "<a@bé.c>",
    "<" + "a" * 70 + "@b.c>",
]


def _random_arguments(count: int) -> list[str]:
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + '.@<>-_+"()[] :;\\=é\t'
    local = string.ascii_letters + ".-_+!#="
    domain = string.ascii_letters + string.digits + ".-"
    tails = ["", " SIZE=1", "x", " (c) x", "\t", " ", "(", " a b"]
    arguments = []
    for _ in range(count):
        arguments.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))))
        arguments.append(
            "<"
            + "".join(rng.choice(local) for _ in range(rng.randint(1, 6)))
            + "@"
            + "".join(rng.choice(domain) for _ in range(rng.randint(1, 6)))
            + ">"
            + rng.choice(tails)
        )
    return arguments


def _read(protocol: SMTP, argument: str) -> object:
    try:
        return protocol._getaddr(argument)
    except Exception as exc:  # aiosmtpd's parser raises on some garbage; so must we
        return type(exc)


@pytest.mark.parametrize("local_part_limit", [0, 64])
def test_addresses_read_as_aiosmtpd_reads_them(local_part_limit: int) -> None:
    loop = asyncio.new_event_loop()  # given, or aiosmtpd makes one of its own and leaks it
    try:
        ours, theirs = SubmissionSMTP(object(), loop=loop), SMTP(object(), loop=loop)
        for protocol in (ours, theirs):
            protocol.local_part_limit = local_part_limit
        for argument in EDGE_CASES + _random_arguments(5_000):
            assert _read(ours, argument) == _read(theirs, argument), argument
    finally:
        loop.close()


@pytest.mark.parametrize(
    ("reply", "sent"),
    [
        ("530 Must issue a STARTTLS command", "530 5.7.0 Must issue a STARTTLS command"),
        ("552 Error: Too much mail data", "552 5.3.4 Error: Too much mail data"),
        ("503 Error: need RCPT command", "503 5.5.1 Error: need RCPT command"),
        ("250 OK", "250 2.0.0 OK"),
        ("221 Bye", "221 2.0.0 Bye"),
        ("220 Ready to start TLS", "220 2.0.0 Ready to start TLS"),
        # Left as they are: replies with a code, the greeting, HELO/EHLO, continuations.
        ("553 5.1.3 Error: malformed address", "553 5.1.3 Error: malformed address"),
        ("250 2.1.5 Recipient OK", "250 2.1.5 Recipient OK"),
        ("220 mx.test Outpost ESMTP", "220 mx.test Outpost ESMTP"),
        ("250 mx.test", "250 mx.test"),
        ("250-SIZE 1000", "250-SIZE 1000"),
        ("354 End data with <CR><LF>.<CR><LF>", "354 End data with <CR><LF>.<CR><LF>"),
        ("334 ", "334 "),
    ],
)
def test_aiosmtpd_replies_get_enhanced_status_codes(reply: str, sent: str) -> None:
    assert with_enhanced_code(reply) == sent
