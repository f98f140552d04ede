"""aiosmtpd's SMTP protocol: enhanced status codes on its own replies, and a fast path for
the usual ``MAIL FROM``/``RCPT TO`` address.

Outpost advertises ENHANCEDSTATUSCODES, so every reply but the greeting and the answer
to HELO/EHLO carries an RFC 3463 code (RFC 2034). Outpost's own replies are written with
one (``replies.py``); the few aiosmtpd writes itself (syntax errors, ``530 Must issue a
STARTTLS command first``, ``552 Error: Too much mail data``…) get the code that fits
their reply code as they are sent.

aiosmtpd parses each address with the e-mail package's header parser and, on every call,
defines a ``typing.Protocol`` class for its annotations: together about a fifth of the
CPU of a submitted one-recipient message (measured with py-spy). ``<local@domain>`` with
a dot-atom on each side, by far the common form, is read with one regular expression
here and gives exactly what aiosmtpd's parser gives (tests/sending/test_smtp_protocol.py
compares them); anything else (quoted local parts, comments, source routes, UTF-8, the
null sender) still goes through aiosmtpd.
"""

from __future__ import annotations

import re
from typing import AnyStr

from aiosmtpd.smtp import SMTP

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
# The parser takes the white space after the address with it.
_FOLDING_SPACE = " \t\r\n"
_PLAIN_ANGLE_ADDR = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>")


# RFC 3463 codes for aiosmtpd's replies by their reply code: errors of any text, and the
# three success lines it writes outside HELO/EHLO.
_ENHANCED_ERRORS = {
    "421": "4.3.0",
    "451": "4.3.0",
    "454": "4.7.0",
    "500": "5.5.2",
    "501": "5.5.4",
    "502": "5.5.1",
    "503": "5.5.1",
    "504": "5.5.4",
    "530": "5.7.0",
    "552": "5.3.4",
    "554": "5.7.0",
    "555": "5.5.4",
}
_ENHANCED_SUCCESSES = {
    "250 OK": "250 2.0.0 OK",
    "221 Bye": "221 2.0.0 Bye",
    "220 Ready to start TLS": "220 2.0.0 Ready to start TLS",
}
_HAS_ENHANCED = re.compile(r"\d{3} [245]\.\d{1,3}\.\d{1,3}(?: |$)")


def with_enhanced_code(reply: str) -> str:
    """``reply`` with the RFC 3463 code its reply code calls for, if it has none."""
    if reply in _ENHANCED_SUCCESSES:
        return _ENHANCED_SUCCESSES[reply]
    enhanced = _ENHANCED_ERRORS.get(reply[:3])
    if enhanced is None or reply[3:4] != " " or _HAS_ENHANCED.match(reply):
        return reply
    return f"{reply[:3]} {enhanced} {reply[4:]}"


class SubmissionSMTP(SMTP):
    """aiosmtpd's protocol, reading plain angle addresses without its header parser and
    giving its own replies enhanced status codes."""

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str):
            status = with_enhanced_code(status)
        await super().push(status)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        plain = _PLAIN_ANGLE_ADDR.match(arg)
        if plain is None:
            return super()._getaddr(arg)
        rest = arg[plain.end() :].lstrip(_FOLDING_SPACE)
        if rest.startswith("("):  # a comment after the address
            return super()._getaddr(arg)
        address = plain.group(1)
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, rest
