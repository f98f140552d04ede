"""The one error hierarchy; the HTTP and SMTP layers each map it once to their wire form."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One invalid field: its name and what is wrong with it."""

    field: str
    description: str


class OutpostError(Exception):
    """Base of every error Outpost raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class Unauthorized(OutpostError):
    """The caller did not prove who it is."""

    code = "unauthorized"


class Forbidden(OutpostError):
    """The caller is known but may not do this."""

    code = "forbidden"


class NotFound(OutpostError):
    """The resource does not exist or the caller may not see it."""

    code = "not_found"


class ValidationFailed(OutpostError):
    """The input breaks one or more rules; each broken rule names its field."""

    code = "validation_failed"

    def __init__(self, errors: list[FieldError], *, code: str | None = None) -> None:
        super().__init__("; ".join(f"{e.field} {e.description}" for e in errors), code=code)
        self.errors = errors

    @classmethod
    def one(cls, field: str, description: str, *, code: str | None = None) -> ValidationFailed:
        """A validation failure on a single field."""
        return cls([FieldError(field, description)], code=code)


class Conflict(OutpostError):
    """The request clashes with the current state of a resource."""

    code = "conflict"


class RateLimited(OutpostError):
    """Too many requests; try again after ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class QuotaExceeded(OutpostError):
    """The account has not enough messages left for this request."""

    code = "over_quota"


class PayloadTooLarge(OutpostError):
    """The request or message is bigger than allowed."""

    code = "payload_too_large"


class Unprocessable(OutpostError):
    """Well-formed input that cannot be acted on in the current state (e.g. unverified domain)."""

    code = "unprocessable"


class Unavailable(OutpostError):
    """The service cannot take this request right now; nothing was done. Retry later."""

    code = "unavailable"
