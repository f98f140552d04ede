"""What every CLI command shares: settings, the database, the operator's scope, tables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from outpost.config import Settings, get_settings
from outpost.db import Database
from outpost.errors import OutpostError, ValidationFailed
from outpost.tenancy.models import OrgKind, Role
from outpost.tenancy.scope import Caller
from outpost.tenancy.service import get_operator

console = Console()


def settings() -> Settings:
    """The installation's settings."""
    return get_settings()


def database() -> Database:
    """The installation's database."""
    return Database(settings().resolved_database_url())


@contextmanager
def operator_session() -> Iterator[tuple[Session, Caller]]:
    """A committed session acting as the operator; errors end the command with a message."""
    db = database()
    try:
        with db.session() as session:
            operator = get_operator(session=session)
            yield session, Caller(org_id=operator.id, org_kind=OrgKind.operator, role=Role.owner)
    except ValidationFailed as exc:
        for error in exc.errors:
            console.print(f"[red]error:[/red] {error.field} {error.description}")
        raise typer.Exit(2) from exc
    except OutpostError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    finally:
        db.dispose()


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Rows as a readable table."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
