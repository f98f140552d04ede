"""Who is calling and which part of the tenant tree they may see and change."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from outpost.errors import Forbidden
from outpost.tenancy.models import Organization, OrgKind, Role

_WRITERS = frozenset({Role.owner, Role.admin, Role.member})
_ADMINS = frozenset({Role.owner, Role.admin})


@dataclass(frozen=True)
class Caller:
    """The authenticated principal: a user (panel) or a management API key."""

    org_id: int
    org_kind: OrgKind
    role: Role
    user_id: int | None = None
    api_key_id: int | None = None

    @property
    def is_operator(self) -> bool:
        """Whether the caller belongs to the operator organization."""
        return self.org_kind is OrgKind.operator

    @property
    def can_write(self) -> bool:
        """Whether the caller's role allows changes."""
        return self.role in _WRITERS

    @property
    def can_administer(self) -> bool:
        """Whether the caller may manage users, keys and organizations."""
        return self.role in _ADMINS


def visible_orgs(caller: Caller, column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """A filter on an organization-id column: the caller's whole visible subtree."""
    if caller.org_kind is OrgKind.operator:
        return true()
    if caller.org_kind is OrgKind.reseller:
        children = select(Organization.id).where(Organization.parent_id == caller.org_id)
        return or_(column == caller.org_id, column.in_(children))
    return column == caller.org_id


def require_write(caller: Caller) -> None:
    """Refuse read-only callers."""
    if not caller.can_write:
        raise Forbidden("Your role is read-only.")


def require_admin(caller: Caller) -> None:
    """Refuse callers who are not owners or admins of their organization."""
    if not caller.can_administer:
        raise Forbidden("Only an owner or admin may do this.")


def require_operator(caller: Caller) -> None:
    """Refuse callers outside the operator organization."""
    if not caller.is_operator:
        raise Forbidden("Only the operator may do this.")


def require_manager_of(caller: Caller, org: Organization) -> None:
    """Refuse unless the caller is the operator or the reseller directly above ``org``."""
    if caller.is_operator:
        return
    if caller.org_kind is OrgKind.reseller and org.parent_id == caller.org_id:
        return
    raise Forbidden("Only the operator or the reseller above this customer may do this.")
