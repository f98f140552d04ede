"""The submission handler: it decides per command and hands accepted mail to ``accept``."""

from __future__ import annotations

import base64
import binascii
import logging
import time

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from outpost.accounts.models import AccountStatus
from outpost.addresses import international_email, is_valid_email
from outpost.config import Settings
from outpost.db import Database
from outpost.errors import OutpostError
from outpost.message_ids import uuid7
from outpost.netaccess import ip_allowed
from outpost.sending.models import MessageSource
from outpost.sending.service import Sending
from outpost.sending.smtp import replies
from outpost.sending.smtp.auth import Authenticator, Login
from outpost.sending.smtp.checks import SubmitterState, checks_for
from outpost.sending.smtp.message import MalformedMessage, has_bare_line_ending, prepare_message
from outpost.sending.submission import AcceptRequest

log = logging.getLogger(__name__)

# MAIL FROM may answer from an account state read this recently (by any session of the
# process, at MAIL or RCPT); RCPT TO always reads afresh and checks the same again, and
# acceptance at DATA checks everything in the writer's transaction.
STATE_REUSE_SECONDS = 1.0
_REMEMBERED_ACCOUNTS = 10_000

_STATUS_REPLIES = {
    AccountStatus.disabled: "550 5.7.1 The delivery account is disabled",
    AccountStatus.blocked: "550 5.7.1 The delivery account is blocked",
    AccountStatus.awaiting_payment: "550 5.7.1 The delivery account is awaiting payment",
}


def _peer_ip(session: Session) -> str:
    peer = session.peer
    return str(peer[0]) if isinstance(peer, tuple) else str(peer or "")


def _envelope_address(address: str, envelope: Envelope) -> str | None:
    """``address`` as the envelope keeps it (a UTF-8 one with its domain in A-labels), or
    None when it is not a mailbox; UTF-8 needs SMTPUTF8 on MAIL FROM (RFC 6531)."""
    if address.isascii():
        return address if is_valid_email(address) else None
    return international_email(address) if envelope.smtp_utf8 else None


def _address_refusal(address: str, envelope: Envelope, invalid: str) -> str:
    """The reply refusing ``address``: it needs SMTPUTF8, or it is not a mailbox."""
    if not address.isascii() and not envelope.smtp_utf8:
        return replies.NEEDS_SMTPUTF8.format(address=address)
    return invalid.format(address=address)


def _login_of(session: Session) -> Login:
    login = session.auth_data
    assert isinstance(login, Login)  # noqa: S101 - auth is required before MAIL
    return login


class SubmissionHandler:
    """aiosmtpd handler for authenticated submission (RFC 6409)."""

    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        sending: Sending,
        authenticator: Authenticator,
    ) -> None:
        self.settings = settings
        self.database = database
        self.sending = sending
        self.authenticator = authenticator
        self.checks = checks_for(database.engine)
        self._recent: dict[int, tuple[float, SubmitterState]] = {}

    async def close(self) -> None:
        """Release the handler's database connection."""
        await self.checks.close()

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        """Advertise PIPELINING and ENHANCEDSTATUSCODES besides aiosmtpd's own extensions."""
        session.host_name = hostname
        return [responses[0], "250-PIPELINING", "250-ENHANCEDSTATUSCODES", *responses[1:]]

    # AUTH: PLAIN and LOGIN (only offered over TLS)

    async def auth_PLAIN(self, server: SMTP, args: list[str]) -> AuthResult:
        """RFC 4616: ``authzid NUL authcid NUL password``, initial response or challenge."""
        if len(args) > 1:
            blob = _b64(args[1])
        else:
            answer = await server.challenge_auth("", encode_to_b64=False)
            blob = answer if isinstance(answer, bytes) else None
            if blob is None:
                return AuthResult(success=False, handled=True)
        parts = blob.split(b"\0") if blob is not None else []
        if len(parts) != 3:
            return AuthResult(success=False, handled=False, message=replies.AUTH_MALFORMED)
        return await self._login(server, _text(parts[1]), _text(parts[2]))

    async def auth_LOGIN(self, server: SMTP, args: list[str]) -> AuthResult:
        """The LOGIN mechanism: username and password, each base64 after a challenge."""
        if len(args) > 1:
            username_blob = _b64(args[1])
        else:
            answer = await server.challenge_auth("Username:")
            if not isinstance(answer, bytes):
                return AuthResult(success=False, handled=True)
            username_blob = answer
        password = await server.challenge_auth("Password:")
        if not isinstance(password, bytes):
            return AuthResult(success=False, handled=True)
        if username_blob is None:
            return AuthResult(success=False, handled=False, message=replies.AUTH_MALFORMED)
        return await self._login(server, _text(username_blob), _text(password))

    async def _login(self, server: SMTP, username: str, password: str) -> AuthResult:
        assert server.session is not None  # noqa: S101
        keys = [f"ip:{_peer_ip(server.session)}", f"user:{username.lower()}"]
        failures = self.authenticator.failures
        wait = failures.wait_seconds(keys)
        if wait:
            return AuthResult(
                success=False, handled=False, message=replies.AUTH_THROTTLED.format(seconds=wait)
            )
        login = await self.authenticator.login(username, password)
        if login is None:
            failures.record(keys)
            return AuthResult(success=False, handled=False, message=replies.AUTH_INVALID)
        return AuthResult(success=True, auth_data=login, message=replies.AUTH_OK)

    # The mail transaction

    async def _state(self, session: Session, address: str | None = None) -> SubmitterState | str:
        """The account's state, or the reply to give when it cannot be had."""
        account_id = _login_of(session).account_id
        try:
            state = await self.checks.state(account_id, address)
        except Exception:
            log.exception("submission check failed")
            return replies.CHECK_FAILED
        if state is None:
            return replies.ACCOUNT_GONE
        if len(self._recent) >= _REMEMBERED_ACCOUNTS:
            self._recent.clear()
        self._recent[account_id] = (time.monotonic(), state)
        return state

    async def _recent_state(self, session: Session) -> SubmitterState | str:
        """The account's state as read within ``STATE_REUSE_SECONDS``, or read now."""
        recent = self._recent.get(_login_of(session).account_id)
        if recent is not None and time.monotonic() - recent[0] < STATE_REUSE_SECONDS:
            return recent[1]
        return await self._state(session)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Accept the envelope sender when the account may send from this address."""
        if address:
            checked = _envelope_address(address, envelope)
            if checked is None:
                return _address_refusal(address, envelope, replies.SENDER_INVALID)
            address = checked
        state = await self._recent_state(session)
        if not isinstance(state, SubmitterState):
            return state
        refusal = _refusal(state, session)
        if refusal is not None:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return replies.SENDER_OK

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Answer each recipient on its own: syntax, limit, suppression list, quota."""
        limit = self.settings.max_recipients_per_message
        if len(envelope.rcpt_tos) >= limit:
            return replies.TOO_MANY_RECIPIENTS.format(limit=limit)
        checked = _envelope_address(address, envelope)
        if checked is None:
            return _address_refusal(address, envelope, replies.RECIPIENT_INVALID)
        address = checked
        if address.lower() in (r.lower() for r in envelope.rcpt_tos):
            return replies.RECIPIENT_OK
        state = await self._state(session, address.lower())
        if not isinstance(state, SubmitterState):
            return state
        refusal = _refusal(state, session)
        if refusal is not None:
            return refusal
        if state.suppression_enabled and state.listed:
            return replies.RECIPIENT_SUPPRESSED.format(address=address)
        if state.remaining <= len(envelope.rcpt_tos):
            return replies.RECIPIENT_OVER_QUOTA.format(address=address)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return replies.RECIPIENT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Validate the message and store it; answer 250 only once it is committed."""
        content = envelope.original_content or b""
        if has_bare_line_ending(content):
            return replies.BARE_LINE_ENDING
        try:
            message = prepare_message(content, envelope.rcpt_tos, international=envelope.smtp_utf8)
        except MalformedMessage as exc:
            return replies.MALFORMED.format(reason=exc.reason)
        request = AcceptRequest(
            source=MessageSource.smtp,
            client_ip=_peer_ip(session),
            request_id=uuid7(),
            messages=[message],
            account_id=_login_of(session).account_id,
        )
        try:
            await self.sending.accept(request)
        except OutpostError as error:
            return replies.reply_for(error)
        return replies.QUEUED.format(message_id=message.message_id)


def _refusal(state: SubmitterState, session: Session) -> str | None:
    """The reply refusing mail from this account and this client, if any."""
    if state.status != AccountStatus.enabled.value:
        return _STATUS_REPLIES[AccountStatus(state.status)]
    ip = _peer_ip(session)
    if not ip_allowed(state.ip_allowlist, ip):
        return f"550 5.7.1 {ip} is not allowed to send for this account"
    return None


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")
