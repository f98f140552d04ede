"""First start: data folder, schema, operator organization, admin user and default plans."""

from __future__ import annotations

from outpost.config import Settings
from outpost.db import Database
from outpost.migrate import upgrade
from outpost.plans.service import seed_default_plans
from outpost.tenancy.auth import Bootstrap, bootstrap

DEFAULT_ADMIN_EMAIL = "admin@localhost.localdomain"


def prepare(
    settings: Settings,
    database: Database,
    *,
    admin_email: str | None = None,
    admin_password: str | None = None,
) -> Bootstrap | None:
    """Migrate, then create what a fresh installation needs; returns what was created."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(database)
    with database.session() as session:
        created = bootstrap(
            session=session,
            operator_name=settings.hostname,
            admin_email=admin_email or DEFAULT_ADMIN_EMAIL,
            admin_password=admin_password,
        )
        seed_default_plans(session=session)
    return created
