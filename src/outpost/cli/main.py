"""The ``outpost`` commands: run, migrate and administer an installation."""

from __future__ import annotations

import asyncio
import logging

import typer

from outpost.app import create_app
from outpost.cli import admin
from outpost.cli.common import console, database, settings
from outpost.migrate import upgrade
from outpost.runtime import (
    bounce_server_service,
    run_services,
    scheduler_service,
    web_service,
    worker_services,
)
from outpost.setup import prepare

app = typer.Typer(help="Outpost: self-hosted, multi-tenant email delivery.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin.app, name="admin")


@app.command()
def serve(
    admin_email: str = typer.Option(None, help="E-mail of the first admin (first start only)."),
    admin_password: str = typer.Option(
        None, help="Password of the first admin (first start only)."
    ),
) -> None:
    """Run everything in one process on the embedded default (SQLite in the data folder)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = settings()
    db = database()
    created = prepare(config, db, admin_email=admin_email, admin_password=admin_password)
    base = config.resolved_public_url()
    console.print(f"Outpost is running on {db.dialect}; data in {config.data_dir.resolve()}")
    console.print(f"  Control panel: {base}/")
    console.print(f"  API docs:      {base}/api/docs")
    if created is not None:
        console.print(f"  Admin:         {created.admin.email}")
        if created.generated_password:
            console.print(f"  Password:      {created.generated_password}  (shown once)")
    console.print(
        f"  Bounces:       SMTP on {config.bounce_host or config.smtp_host}:{config.bounce_port}"
    )
    asyncio.run(
        run_services(
            [
                web_service(create_app(config, db), config),
                scheduler_service(db, config),
                *worker_services(db, config),
                bounce_server_service(db, config),
            ]
        )
    )


@app.command()
def web() -> None:
    """Run only the web server (panel, Management API, Send API) for a scaled-out installation."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = settings()
    asyncio.run(run_services([web_service(create_app(config, database()), config)]))


@app.command()
def scheduler() -> None:
    """Run the periodic jobs; start it on several hosts and one of them works at a time."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = settings()
    asyncio.run(run_services([scheduler_service(database(), config)]))


@app.command()
def worker() -> None:
    """Run a delivery worker (and webhook sender); start as many as needed, on any host."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = settings()
    asyncio.run(run_services(worker_services(database(), config)))


@app.command()
def bounces() -> None:
    """Run the inbound bounce server (the MX of the return-path hosts) on ``bounce_port``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = settings()
    asyncio.run(run_services([bounce_server_service(database(), config)]))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    db = database()
    upgrade(db)
    console.print(f"Schema is up to date ({db.dialect}).")


def main() -> None:
    """Entry point of the ``outpost`` script."""
    app()
