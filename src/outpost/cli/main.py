"""The ``outpost`` commands: run, migrate and administer an installation."""

from __future__ import annotations

from typing import Annotated

import typer

from outpost.app import create_app
from outpost.cli import admin
from outpost.cli.common import console, database, settings
from outpost.migrate import upgrade
from outpost.runtime import (
    bounce_server_service,
    configure_logging,
    run,
    scheduler_service,
    web_service,
    worker_services,
)
from outpost.sending.service import Sending
from outpost.sending.smtp.server import smtp_service
from outpost.setup import prepare

app = typer.Typer(help="Outpost: self-hosted, multi-tenant email delivery.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin.app, name="admin")


@app.command()
def serve(
    admin_email: Annotated[
        str | None, typer.Option(help="First admin's e-mail (first start).")
    ] = None,
    admin_password: Annotated[
        str | None, typer.Option(help="First admin's password (first start).")
    ] = None,
) -> None:
    """Run everything in one process on the embedded default (SQLite in the data folder)."""
    configure_logging()
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
    sending = Sending(db, config)
    services = [
        web_service(create_app(config, db, sending), config),
        smtp_service(config, db, sending),
        scheduler_service(db, config),
        *worker_services(db, config),
        bounce_server_service(db, config),
    ]
    console.print(
        f"  SMTP:          {config.smtp_host}:{config.smtp_submission_port} (STARTTLS), "
        f":{config.smtp_tls_port} (TLS)"
    )
    console.print(
        f"  Bounces:       SMTP on {config.bounce_host or config.smtp_host}:{config.bounce_port}"
    )
    try:
        run(services)
    finally:
        sending.stop()


@app.command()
def web() -> None:
    """Run only the web server (panel, Management API, Send API) for a scaled-out installation."""
    configure_logging()
    config = settings()
    run([web_service(create_app(config, database()), config)])


@app.command()
def smtp() -> None:
    """Run only SMTP submission, for a scaled-out installation."""
    configure_logging()
    config = settings()
    db = database()
    sending = Sending(db, config)
    try:
        run([smtp_service(config, db, sending)])
    finally:
        sending.stop()


@app.command()
def scheduler() -> None:
    """Run the periodic jobs; start it on several hosts and one of them works at a time."""
    configure_logging()
    config = settings()
    run([scheduler_service(database(), config)])


@app.command()
def worker() -> None:
    """Run a delivery worker (and webhook sender); start as many as needed, on any host."""
    configure_logging()
    config = settings()
    run(worker_services(database(), config))


@app.command()
def bounces() -> None:
    """Run the inbound bounce server (the MX of the return-path hosts) on ``bounce_port``."""
    configure_logging()
    config = settings()
    run([bounce_server_service(database(), config)])


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    db = database()
    upgrade(db)
    console.print(f"Schema is up to date ({db.dialect}).")


def main() -> None:
    """Entry point of the ``outpost`` script."""
    app()
