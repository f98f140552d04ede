"""API shapes for sending domains, their DNS records and their association with accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from outpost.domains.models import DomainStatus
from outpost.schemas import InputModel, OutputModel


class DomainCreate(InputModel):
    """A new sending domain; ``org_id`` names the customer when an operator or reseller adds it."""

    name: str = Field(min_length=1, max_length=253)
    org_id: int | None = None


class DnsRecordOut(BaseModel):
    """A record to publish and what the last check found there."""

    purpose: str
    type: str
    name: str
    value: str
    required: bool
    status: Literal["unchecked", "ok", "failing", "error"]
    checked_at: datetime | None = None
    found: list[str] = Field(default_factory=list)
    error: str | None = None


class DomainOut(OutputModel):
    """A sending domain, its DKIM selectors and the records it needs."""

    id: int
    org_id: int
    name: str
    status: DomainStatus
    dkim_selector: str
    dkim_ed25519_selector: str | None
    return_path_host: str
    created_at: datetime
    last_checked_at: datetime | None
    verified_at: datetime | None
    accounts_count: int = 0
    dns_records: list[DnsRecordOut] = Field(default_factory=list)


class AssociationCreate(InputModel):
    """The domain to associate with an account: by id or by name, exactly one."""

    domain_id: int | None = None
    name: str | None = Field(default=None, max_length=253)

    @model_validator(mode="after")
    def _exactly_one(self) -> AssociationCreate:
        if (self.domain_id is None) == (self.name is None):
            raise ValueError("give either domain_id or name")
        return self


class AssociationCapacity(BaseModel):
    """How many domains an account uses and may use; ``reason`` says why it can take no more."""

    domains_used: int
    domains_max: int
    can_associate: bool
    reason: str | None = None
