"""API shapes for Send API tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from outpost.schemas import InputModel, OutputModel


class TokenCreate(InputModel):
    """A new Send API token: a recognizable name and optional trusted IPs/CIDR ranges."""

    name: str = Field(min_length=1, max_length=200)
    ip_allowlist: list[str] = Field(default_factory=list)


class TokenUpdate(InputModel):
    """Changes to a token; absent fields stay as they are, an empty list allows any IP."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    ip_allowlist: list[str] | None = None


class TokenOut(OutputModel):
    """A token as lists show it: masked."""

    id: int
    account_id: int
    name: str
    preview: str
    created_at: datetime
    last_used_at: datetime | None
    ip_allowlist: list[str]


class TokenCreated(TokenOut):
    """A new token; ``token`` appears in this answer only."""

    token: str
