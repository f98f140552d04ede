"""The migrations build exactly the schema the models describe, on every database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from outpost.db import Database
from outpost.models import Base, include_name, include_object_for


def test_models_and_migrations_agree(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": include_name,
                "include_object": include_object_for(conn.dialect.name),
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
