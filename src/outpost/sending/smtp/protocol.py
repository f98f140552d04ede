"""aiosmtpd's SMTP protocol with a fast path for the usual ``MAIL FROM``/``RCPT TO`` address.

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

from aiosmtpd.smtp import SMTP

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
# The parser takes the white space after the address with it.
_FOLDING_SPACE = " \t\r\n"
_PLAIN_ANGLE_ADDR = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>")


class SubmissionSMTP(SMTP):
    """aiosmtpd's protocol, reading plain angle addresses without its header parser."""

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
