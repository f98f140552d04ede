"""Alembic environment: runs against the URL Outpost hands over, on SQLite or PostgreSQL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from outpost.db import create_db_engine
from outpost.models import Base, include_name, include_object_for

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
        include_object=include_object_for(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over the connection given by Outpost, or one made from the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_db_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Outpost migrations run online only: use `outpost db upgrade`.")
run_migrations_online()
