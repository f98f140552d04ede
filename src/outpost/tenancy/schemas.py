"""API shapes for organizations, users and management API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from outpost.schemas import Email, InputModel, OutputModel
from outpost.tenancy.models import OrgKind, OrgStatus, Role, ServicePackage


class BillingProfile(InputModel):
    """Who is billed and where; the fields of Qboxmail's billing profile."""

    customer_type: Literal["private", "company", "reseller"] = "private"
    firstname: str = Field(default="", max_length=100)
    lastname: str = Field(default="", max_length=100)
    company_name: str = Field(default="", max_length=200)
    email_address: Email | None = None
    phone: str = Field(default="", max_length=40)
    address1: str = Field(default="", max_length=200)
    city: str = Field(default="", max_length=100)
    postcode: str = Field(default="", max_length=20)
    state: str = Field(default="", max_length=100)
    country: str = Field(default="", max_length=2, pattern=r"^([A-Z]{2})?$")
    vat: str = Field(default="", max_length=40)
    fiscal_code: str = Field(default="", max_length=40)


class Restrictions(InputModel):
    """Limits a reseller sets on a customer: accounts per plan, mailing lists."""

    max_accounts_per_plan: dict[str, int] = Field(default_factory=dict)
    max_mailing_lists: int | None = Field(default=None, ge=0)


class OrganizationCreate(InputModel):
    """A new reseller or customer, optionally with its first (owner) user."""

    kind: Literal[OrgKind.reseller, OrgKind.customer]
    name: str = Field(min_length=1, max_length=200)
    parent_id: int | None = None
    service_package: ServicePackage = ServicePackage.reseller
    billing: BillingProfile = Field(default_factory=BillingProfile)
    restrictions: Restrictions = Field(default_factory=Restrictions)
    owner_email: Email | None = None
    owner_password: str | None = Field(default=None, min_length=10, max_length=200)


class OrganizationUpdate(InputModel):
    """Changes to an organization; absent fields stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: OrgStatus | None = None
    service_package: ServicePackage | None = None
    billing: BillingProfile | None = None
    restrictions: Restrictions | None = None
    accept_contract: bool | None = None


class OrganizationOut(OutputModel):
    """An organization as the API shows it."""

    id: int
    kind: OrgKind
    parent_id: int | None
    name: str
    status: OrgStatus
    service_package: ServicePackage
    billing: dict[str, object]
    restrictions: dict[str, object]
    contract_accepted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class OrganizationCreated(OrganizationOut):
    """A new organization; ``owner_password`` is shown only in this answer when generated."""

    owner_email: str | None = None
    owner_password: str | None = None


class UserCreate(InputModel):
    """A new user of an organization."""

    email: Email
    name: str = Field(default="", max_length=200)
    role: Role = Role.member
    password: str | None = Field(default=None, min_length=10, max_length=200)


class UserUpdate(InputModel):
    """Changes to a user."""

    name: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    password: str | None = Field(default=None, min_length=10, max_length=200)


class PasswordChange(InputModel):
    """A user's new password, given with the current one."""

    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=10, max_length=200)
    confirm_password: str = Field(max_length=200)

    @field_validator("confirm_password")
    @classmethod
    def _confirmed(cls, value: str, info: ValidationInfo) -> str:
        new = info.data.get("new_password")
        if new is not None and value != new:
            raise ValueError("does not match the new password")
        return value


class UserOut(OutputModel):
    """A user as the API shows it (never its password)."""

    id: int
    org_id: int
    email: str
    name: str
    role: Role
    created_at: datetime
    last_login_at: datetime | None


class UserCreated(UserOut):
    """A new user; ``password`` appears only here when it was generated."""

    password: str | None = None


class ApiKeyCreate(InputModel):
    """A new management API key."""

    name: str = Field(min_length=1, max_length=200)
    role: Role | None = None


class ApiKeyOut(OutputModel):
    """A management API key, masked."""

    id: int
    org_id: int
    name: str
    role: Role
    preview: str
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """A new key; ``token`` is shown only in this answer."""

    token: str
