"""``outpost admin accounts|orders|suppressions`` against the real test database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from outpost.accounts.models import AccountStatus, DeliveryAccount
from outpost.billing.models import Order, OrderStatus
from outpost.cli.main import app
from outpost.config import get_settings
from outpost.db import Database
from outpost.security import verify_password
from outpost.suppression.models import Suppression
from tests.accounts.helpers import give_billing
from tests.factories import Factory, Tenant


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, db: Database, tmp_path: Path) -> Iterator[CliRunner]:
    """A runner whose commands use the test database."""
    monkeypatch.setenv("OUTPOST_DATABASE_URL", db.url)
    monkeypatch.setenv("OUTPOST_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "250")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, ["admin", *args])
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def customer(factory: Factory, db: Database) -> Tenant:
    tenant = factory.customer(name="Hotel Bella Vista")
    give_billing(db, tenant.org_id)
    return tenant


def _account(db: Database, account_id: int) -> DeliveryAccount:
    with db.session() as session:
        return session.get_one(DeliveryAccount, account_id)


def test_create_show_list_and_reset_password(
    cli: CliRunner, customer: Tenant, db: Database
) -> None:
    out = run(
        cli, "accounts", "create", "--org-id", str(customer.org_id), "--description", "Bookings"
    )
    password = re.search(r"SMTP password \(shown once\): (\S+)", out)
    assert password is not None
    with db.session() as session:
        account = session.scalars(select(DeliveryAccount)).one()
    assert verify_password(account.smtp_password_hash, password.group(1))
    assert account.status is AccountStatus.enabled

    out = run(cli, "accounts", "show", str(account.id))
    assert "Bookings" in out and account.username in out and "Hotel Bella Vista" in out
    out = run(cli, "accounts", "list", "--status", "enabled", "--query", "book")
    assert account.username in out and "1 in all" in out
    assert "0 in all" in run(cli, "accounts", "list", "--status", "blocked")
    out = run(cli, "accounts", "list", "--status", "nope", code=2)
    assert "status must be one of" in out

    out = run(cli, "accounts", "reset-password", str(account.id))
    new = re.search(r"\(shown once\): (\S+)", out)
    assert new is not None
    assert verify_password(_account(db, account.id).smtp_password_hash, new.group(1))


def test_status_block_unblock_and_terminate(cli: CliRunner, customer: Tenant, db: Database) -> None:
    run(cli, "accounts", "create", "--org-id", str(customer.org_id), "--description", "Shop")
    with db.session() as session:
        account_id = session.scalars(select(DeliveryAccount.id)).one()
    run(cli, "accounts", "status", str(account_id), "disabled")
    run(cli, "accounts", "block", str(account_id))
    assert _account(db, account_id).status is AccountStatus.blocked
    run(cli, "accounts", "unblock", str(account_id))
    assert _account(db, account_id).status is AccountStatus.disabled
    out = run(cli, "accounts", "status", str(account_id), "paused", code=2)
    assert "enabled or disabled" in out
    assert "not found" in run(cli, "accounts", "show", "999999", code=1)

    result = cli.invoke(app, ["admin", "accounts", "terminate", str(account_id)], input="n\n")
    assert result.exit_code == 1
    assert _account(db, account_id) is not None
    run(cli, "accounts", "terminate", str(account_id), "--yes")
    with db.session() as session:
        assert session.get(DeliveryAccount, account_id) is None


def test_orders_list_pay_and_cancel(cli: CliRunner, customer: Tenant, db: Database) -> None:
    for description in ("First", "Second"):
        out = run(
            cli,
            "accounts",
            "create",
            "--org-id",
            str(customer.org_id),
            "--description",
            description,
            "--plan",
            "monthly",
            "--messages",
            "10000",
            "--payment-method",
            "card_auto",
        )
        assert "waits for payment" in out
    with db.session() as session:
        first, second = session.scalars(select(Order.id).order_by(Order.id)).all()
    out = run(cli, "orders", "list", "--status", "pending")
    assert "2 in all" in out and "10.00 EUR" in out
    run(cli, "orders", "pay", str(first))
    run(cli, "orders", "cancel", str(second))
    assert "is paid" in run(cli, "orders", "cancel", str(first), code=1)
    with db.session() as session:
        statuses = session.scalars(select(Order.status).order_by(Order.id)).all()
        assert statuses == [OrderStatus.paid, OrderStatus.cancelled]
        account = session.scalars(select(DeliveryAccount).order_by(DeliveryAccount.id)).first()
        assert account is not None and account.status is AccountStatus.enabled
        assert account.remaining == 10_000


def test_suppressions_import_and_export_files(
    cli: CliRunner, customer: Tenant, db: Database, tmp_path: Path
) -> None:
    run(cli, "accounts", "create", "--org-id", str(customer.org_id), "--description", "List")
    with db.session() as session:
        account_id = session.scalars(select(DeliveryAccount.id)).one()
    source = tmp_path / "in.csv"
    lines = [f"user{n}@example.com,hard_bounce,550" for n in range(2500)]
    source.write_text("address,reason,detail\n" + "\n".join(lines) + "\nbroken,manual,\n")
    out = run(cli, "suppressions", "import", str(account_id), str(source))
    assert re.search(r"2500\s.*0\s.*1", out)
    assert "broken" in out
    with db.session() as session:
        assert len(session.scalars(select(Suppression.id)).all()) == 2500

    target = tmp_path / "out.csv"
    run(cli, "suppressions", "export", str(account_id), str(target))
    exported = target.read_text().splitlines()
    assert exported[0] == "address,reason,detail,created_at"
    assert len(exported) == 2501
    assert exported[1].startswith("user0@example.com,hard_bounce,550,")

    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00\x01binary")
    assert "not a CSV file" in run(cli, "suppressions", "import", str(account_id), str(bad), code=2)
