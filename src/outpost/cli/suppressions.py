"""``outpost admin suppressions …``: export and import an account's suppression list."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from outpost.cli.common import console, database, operator_session, print_table
from outpost.suppression import service

app = typer.Typer(help="Suppression lists of delivery accounts.", no_args_is_help=True)

FileArgument = Annotated[Path, typer.Argument(help="CSV file; '-' for standard output/input.")]


@app.command("export")
def export(account_id: int, file: FileArgument) -> None:
    """Write an account's suppression list as CSV (address,reason,detail,created_at)."""
    db = database()
    with operator_session() as (session, caller):
        result = service.export_suppressions(
            session=session, caller=caller, database=db, account_id=account_id
        )
    # Read after the session above has ended: each chunk uses its own short transaction.
    try:
        if str(file) == "-":
            for chunk in result.chunks:
                sys.stdout.write(chunk)
            return
        with file.open("w", encoding="utf-8", newline="") as out:
            for chunk in result.chunks:
                out.write(chunk)
        console.print(f"Wrote {file}.")
    finally:
        db.dispose()


@app.command("import")
def import_(account_id: int, file: FileArgument) -> None:
    """Add the addresses of a CSV file to an account's list, with a progress bar."""
    content = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("import", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        with operator_session() as (session, caller):
            report = service.import_suppressions(
                session=session,
                caller=caller,
                account_id=account_id,
                content=content,
                on_progress=advance,
            )
    print_table(
        "Imported",
        ["added", "already present", "invalid"],
        [(report.added, report.already_present, report.invalid)],
    )
    if report.invalid_lines:
        print_table(
            "Invalid lines",
            ["line", "value", "problem"],
            [(p.line, p.value, p.description) for p in report.invalid_lines],
        )
