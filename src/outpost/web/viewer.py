"""Who is looking at the panel: a snapshot of the logged-in user taken once per request."""

from __future__ import annotations

from dataclasses import dataclass

from outpost.tenancy.models import OrgKind, Role
from outpost.tenancy.scope import Caller

ROLE_LABELS = {
    Role.owner: "Owner",
    Role.admin: "Admin",
    Role.member: "Member",
    Role.read_only: "Read-only",
}
KIND_LABELS = {
    OrgKind.operator: "Operator",
    OrgKind.reseller: "Reseller",
    OrgKind.customer: "Customer",
}


@dataclass(frozen=True)
class Viewer:
    """The user behind the session cookie, as plain values that outlive the DB session."""

    caller: Caller
    user_id: int
    email: str
    name: str
    org_name: str
    session_id: int
    csrf_token: str

    @property
    def org_id(self) -> int:
        """The user's organization."""
        return self.caller.org_id

    @property
    def org_kind(self) -> OrgKind:
        """Operator, reseller or customer."""
        return self.caller.org_kind

    @property
    def role(self) -> Role:
        """The user's role in the organization."""
        return self.caller.role

    @property
    def is_operator(self) -> bool:
        """Whether the user belongs to the operator."""
        return self.caller.is_operator

    @property
    def manages_organizations(self) -> bool:
        """Whether the user's organization has customers (or resellers) below it."""
        return self.caller.org_kind is not OrgKind.customer

    @property
    def can_write(self) -> bool:
        """Whether the user may change resources."""
        return self.caller.can_write

    @property
    def can_administer(self) -> bool:
        """Whether the user may manage users, keys and organizations."""
        return self.caller.can_administer

    @property
    def display_name(self) -> str:
        """The user's name, or the e-mail when no name is set."""
        return self.name or self.email

    @property
    def initials(self) -> str:
        """One or two letters for the avatar."""
        words = [w for w in self.name.replace(".", " ").split() if w] or [self.email]
        return "".join(w[0] for w in words[:2]).upper()

    @property
    def role_label(self) -> str:
        """The role as people read it."""
        return ROLE_LABELS[self.caller.role]

    @property
    def kind_label(self) -> str:
        """The organization kind as people read it."""
        return KIND_LABELS[self.caller.org_kind]
