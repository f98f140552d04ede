"""API shapes for delivery accounts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, Field

from outpost.accounts.models import AccountStatus, AccountType, PaymentMethod
from outpost.billing.schemas import OrderOut
from outpost.plans.models import PlanKind
from outpost.schemas import Email, InputModel, OutputModel
from outpost.tenancy.schemas import BillingProfile

if TYPE_CHECKING:
    from outpost.accounts.listing import AccountView
    from outpost.config import Settings

# Qboxmail calls promotional accounts "newsletter"; both names are accepted.
TYPE_ALIASES = {"newsletter": AccountType.promotional.value}
# Qboxmail's quick filter says "wait_pay" for awaiting payment.
STATUS_ALIASES = {"wait_pay": AccountStatus.awaiting_payment.value}


def _type_alias(value: Any) -> Any:
    return TYPE_ALIASES.get(value, value) if isinstance(value, str) else value


AccountTypeIn = Annotated[AccountType, BeforeValidator(_type_alias)]


class AccountCreate(InputModel):
    """A new delivery account; ``billing``/``accept_contract`` fill the customer's profile."""

    description: str = Field(min_length=1, max_length=200)
    type: AccountTypeIn = Field(description="transactional, or promotional (alias: newsletter)")
    plan: str = Field(min_length=1, max_length=40, description="Plan code, e.g. free")
    messages: int | None = Field(
        default=None, gt=0, description="One of the plan's tiers; implied for free"
    )
    payment_method: PaymentMethod | None = Field(default=None, description="Required if paid")
    org_id: int | None = Field(default=None, description="Customer (operator and resellers)")
    bounce_alert_email: Email | None = None
    suppression_enabled: bool = True
    ip_allowlist: list[str] = Field(default_factory=list)
    billing: BillingProfile | None = None
    accept_contract: bool | None = None


class AccountUpdate(InputModel):
    """Changes to an account; absent fields stay as they are, null clears the bounce alert."""

    description: str | None = Field(default=None, min_length=1, max_length=200)
    bounce_alert_email: Email | None = None
    suppression_enabled: bool | None = None
    ip_allowlist: list[str] | None = None


class StatusChange(InputModel):
    """A new status: ``enabled``/``disabled`` (write role), ``blocked``/``unblocked`` (managers)."""

    status: Literal["enabled", "disabled", "blocked", "unblocked"]


class PlanChange(InputModel):
    """A move to another plan or tier, or another prepaid package on the same plan."""

    plan: str = Field(min_length=1, max_length=40)
    messages: int | None = Field(default=None, gt=0)
    payment_method: PaymentMethod | None = None


class ExtraMessagesPurchase(InputModel):
    """A package of extra messages (a multiple of 1,000), valid one year."""

    messages: int = Field(gt=0, le=100_000_000)
    payment_method: PaymentMethod | None = None


class AccountFilters(BaseModel):
    """The advanced filter of the accounts list (besides the quick ``status`` filter)."""

    type: Literal["transactional", "promotional", "newsletter"] | None = None
    plan: str | None = Field(default=None, max_length=40)
    remaining_from: int | None = Field(default=None, ge=0)
    remaining_to: int | None = Field(default=None, ge=0)
    org_id: int | None = None

    def echo(self) -> dict[str, Any]:
        """The filters that were set, for the pagination block."""
        return self.model_dump(exclude_none=True)


_ACCOUNT_COLUMNS = (
    "id",
    "org_id",
    "status",
    "description",
    "username",
    "type",
    "payment_method",
    "plan_messages",
    "used",
    "extra_messages",
    "extra_used",
    "remaining",
    "period_start",
    "period_end",
    "expires_at",
    "extra_expires_at",
    "created_at",
)


class AccountSummary(OutputModel):
    """An account as a row of the accounts list."""

    id: int
    org_id: int
    org_name: str
    status: AccountStatus
    description: str
    username: str
    type: AccountType
    plan: str
    plan_name: str
    plan_kind: PlanKind
    payment_method: PaymentMethod | None
    domains_used: int
    domains_max: int
    plan_messages: int
    used: int
    extra_messages: int
    extra_used: int
    remaining: int
    period_start: datetime | None
    period_end: datetime | None
    expires_at: datetime | None
    extra_expires_at: datetime | None
    has_pending_order: bool
    created_at: datetime

    @classmethod
    def fields_of(cls, view: AccountView) -> dict[str, Any]:
        """The summary fields of ``view``."""
        account = view.account
        own = {name: getattr(account, name) for name in _ACCOUNT_COLUMNS}
        return {
            **own,
            "org_name": view.org_name,
            "plan": view.plan.code,
            "plan_name": view.plan.name,
            "plan_kind": view.plan.kind,
            "domains_used": view.domains_used,
            "domains_max": view.plan.max_domains,
            "has_pending_order": view.has_pending_order,
        }

    @classmethod
    def of(cls, view: AccountView) -> Self:
        """A list row for ``view``."""
        return cls(**cls.fields_of(view))


class AccountOut(AccountSummary):
    """One account with its settings and connection details."""

    bounce_alert_email: str | None
    suppression_enabled: bool
    ip_allowlist: list[str]
    config_hostname: str
    smtp_host: str
    smtp_port: int = Field(description="Submission with STARTTLS")
    smtp_tls_port: int = Field(description="Submission with implicit TLS")
    updated_at: datetime

    @classmethod
    def detail(cls, view: AccountView, settings: Settings, **extra: Any) -> Self:
        """The full resource for ``view``, with connection details from ``settings``."""
        account = view.account
        return cls(
            **cls.fields_of(view),
            bounce_alert_email=account.bounce_alert_email,
            suppression_enabled=account.suppression_enabled,
            ip_allowlist=account.ip_allowlist,
            config_hostname=settings.hostname,
            # The public name, not smtp_host: that one is the address the server binds to.
            smtp_host=settings.hostname,
            smtp_port=settings.smtp_submission_port,
            smtp_tls_port=settings.smtp_tls_port,
            updated_at=account.updated_at,
            **extra,
        )


class AccountCreated(AccountOut):
    """A new account: the SMTP password appears in this answer only; paid plans bring an order."""

    password: str
    order: OrderOut | None = None


class NewPassword(OutputModel):
    """A freshly issued SMTP password, shown once."""

    id: int
    username: str
    password: str


class PlanChangeOut(OutputModel):
    """The outcome of a plan change: the account and the order to pay (none for free)."""

    account: AccountOut
    order: OrderOut | None


class StatusCounts(OutputModel):
    """How many accounts each quick-filter status holds."""

    all: int
    enabled: int
    awaiting_payment: int
    disabled: int
    blocked: int
