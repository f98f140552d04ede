"""Run the Alembic migrations from code (``outpost db upgrade`` and the first start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from outpost.db import Database


def migrations_dir() -> Path:
    """Where the migration scripts are: inside the installed package or the source tree."""
    packaged = Path(__file__).parent / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database: Database) -> Config:
    """An Alembic configuration pointing at ``database``."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision``."""
    config = alembic_config(database)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def make_revision(database: Database, message: str) -> None:
    """Autogenerate a new migration from the models (for developers)."""
    config = alembic_config(database)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
