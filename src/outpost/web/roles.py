"""Roles as the panel offers them: only those a user may grant."""

from __future__ import annotations

from outpost.tenancy.models import Role
from outpost.tenancy.service import ROLE_RANK
from outpost.web.viewer import ROLE_LABELS, Viewer

ROLE_HINTS = {
    Role.owner: "Everything, including other owners.",
    Role.admin: "Manages users, API keys and customers.",
    Role.member: "Creates and changes resources.",
    Role.read_only: "Sees everything, changes nothing.",
}


def grantable_roles(viewer: Viewer) -> list[tuple[str, str, str]]:
    """(value, label, hint) of every role up to the viewer's own, highest first."""
    return [
        (role.value, ROLE_LABELS[role], ROLE_HINTS[role])
        for role in sorted(ROLE_RANK, key=ROLE_RANK.__getitem__, reverse=True)
        if ROLE_RANK[role] <= ROLE_RANK[viewer.role]
    ]
