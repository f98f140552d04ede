"""SMTP replies, named, with RFC 3463 enhanced status codes; errors map to them here only."""

from __future__ import annotations

from outpost.errors import (
    Forbidden,
    OutpostError,
    PayloadTooLarge,
    QuotaExceeded,
    Unauthorized,
    Unprocessable,
    ValidationFailed,
)

AUTH_OK = "235 2.7.0 Authentication successful"
AUTH_INVALID = "535 5.7.8 Authentication credentials invalid"
AUTH_THROTTLED = (
    "454 4.7.0 Too many failed logins from your address or for this user; "
    "try again in {seconds} seconds"
)
AUTH_MALFORMED = "501 5.5.2 Cannot decode the authentication exchange"
SENDER_OK = "250 2.1.0 Sender OK"
ACCOUNT_GONE = "550 5.7.1 The delivery account no longer exists"
CHECK_FAILED = "451 4.3.0 The account could not be checked just now; please try again"
SENDER_INVALID = "553 5.1.7 The sender address is not a valid address"
NEEDS_SMTPUTF8 = (
    "553 5.6.7 {address} is not ASCII: send MAIL FROM with the SMTPUTF8 parameter to use it"
)
RECIPIENT_OK = "250 2.1.5 Recipient OK"
RECIPIENT_INVALID = "553 5.1.3 {address} is not a valid recipient address"
RECIPIENT_SUPPRESSED = (
    "550 5.7.1 {address} is on this account's suppression list (earlier bounce or complaint)"
)
RECIPIENT_OVER_QUOTA = (
    "452 4.7.1 The account has no messages left for {address}; "
    "buy extra messages or wait for the renewal"
)
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients; the limit is {limit} per message"
QUEUED = "250 2.0.0 Ok: queued as <{message_id}>"
BARE_LINE_ENDING = (
    "550 5.6.0 Message refused: it holds a bare CR or LF; every line must end with CRLF"
)
MALFORMED = "550 5.6.0 Message refused: {reason}"
TRY_AGAIN = "451 4.3.0 The message could not be stored; nothing was accepted, please try again"


def reply_for(error: OutpostError) -> str:
    """The SMTP reply that tells a person what went wrong with ``error``."""
    if isinstance(error, QuotaExceeded):
        return f"452 4.7.1 {error.message}"
    if isinstance(error, PayloadTooLarge):
        return f"552 5.3.4 {error.message}"
    if isinstance(error, Forbidden | Unprocessable | Unauthorized):
        return f"550 5.7.1 {error.message}"
    if isinstance(error, ValidationFailed):
        return f"550 5.6.0 {error.message}"
    return TRY_AGAIN
