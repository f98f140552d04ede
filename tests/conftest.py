"""Fixtures shared by the whole suite: a real database (SQLite or PostgreSQL) and the app.

The database is chosen by ``OUTPOST_TEST_DB`` (``sqlite`` or ``postgresql``); the test
command runs the suite once for each.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from outpost.app import create_app
from outpost.config import Settings
from outpost.db import Database
from outpost.migrate import upgrade
from outpost.models import Base
from outpost.plans.service import seed_default_plans
from outpost.security import hash_password
from outpost.setup import DEFAULT_ADMIN_EMAIL
from outpost.tenancy.models import Organization, OrgKind, Role, User
from tests.factories import Factory

PG_ADMIN_URL = os.environ.get("OUTPOST_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN_PASSWORD = "admin-password-for-tests"


def _test_db_kind() -> str:
    kind = os.environ.get("OUTPOST_TEST_DB", "sqlite")
    if kind not in {"sqlite", "postgresql"}:
        raise pytest.UsageError("OUTPOST_TEST_DB must be sqlite or postgresql")
    return kind


def pytest_report_header() -> str:
    return f"outpost database: {_test_db_kind()}"


def _fresh_postgres_database(name: str) -> str:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outpost-data")


@pytest.fixture(scope="session")
def database(data_dir: Path) -> Iterator[Database]:
    if _test_db_kind() == "postgresql":
        # One database per checkout and pytest worker, so parallel runs never share one.
        checkout = hashlib.sha256(str(Path(__file__).resolve()).encode()).hexdigest()[:8]
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        url = _fresh_postgres_database(f"outpost_test_{checkout}_{worker}")
    else:
        url = f"sqlite:///{data_dir / 'outpost.db'}"
    db = Database(url)
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def settings(data_dir: Path, database: Database) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database.url,
        secret_key="test-secret-key-not-for-production",
        hostname="outpost.test",
        # Tests never ask real DNS: nothing answers here; tests needing DNS point the
        # resolver at tests/support/dns_server.py.
        dns_resolver="127.0.0.1:9",
        dns_timeout=1.0,
        # Webhook receivers in tests listen on loopback; tests of the guard turn it back on.
        webhook_allow_private_addresses=True,
    )


def _wipe(database: Database) -> None:
    # DELETE is much faster than TRUNCATE on the few rows a test leaves behind.
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with database.engine.begin() as conn:
        for table in tables:
            conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - our own table names


@pytest.fixture(scope="session")
def admin_password_hash() -> str:
    return hash_password(ADMIN_PASSWORD)


@pytest.fixture
def db(database: Database, admin_password_hash: str) -> Iterator[Database]:
    """A database holding only what a fresh installation has: operator, admin, plans."""
    _wipe(database)
    with database.session() as session:
        # What setup.prepare creates, without hashing the admin password for every test.
        operator = Organization(kind=OrgKind.operator, name="Outpost Test")
        session.add(operator)
        session.flush()
        session.add(
            User(
                org_id=operator.id,
                email=DEFAULT_ADMIN_EMAIL,
                name="Administrator",
                role=Role.owner,
                password_hash=admin_password_hash,
            )
        )
        seed_default_plans(session=session)
    yield database


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A session for arranging and inspecting data directly; committed at the end.

    On SQLite every transaction begins IMMEDIATE and holds the write lock: commit before
    making the app write (an HTTP call, an SMTP transaction) while a transaction is open.
    """
    with db.session() as s:
        yield s


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def factory(db: Database) -> Factory:
    return Factory(db)
