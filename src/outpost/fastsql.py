"""Hot-path SQL, run straight through the database driver inside a SQLAlchemy transaction.

Measured on this machine, SQLAlchemy Core spends 100 to 270 µs of CPU building, compiling and
binding even a cached one-row SELECT, where the sqlite3 driver alone takes 5 µs; its
executemany adds per-row Python work on top. That is fine for the panel and the
Management API, but the acceptance pipeline and the delivery loop run a handful of
statements per batch many times a second, so they use this module: statements written
once with ``:name`` placeholders, values adapted here for each driver.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, make_url

_NAMED = re.compile(r"(?<![:\w]):(\w+)")
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


@dataclass(frozen=True)
class Statement:
    """One SQL statement in the form each driver wants (``:name`` vs ``%(name)s``).

    ``binary``: PostgreSQL gets the parameters in binary (``%(name)b``), for statements that
    take long arrays, whose text form costs more to write and to parse.

    PostgreSQL's text has its runs of whitespace folded to one space (statements hold no
    comments nor literals with two spaces): psycopg caches its parse of a statement only
    up to 4,096 characters, and parsing the longest of ours again on every execution
    took 0.3 ms of CPU.
    """

    sql: str
    postgresql_sql: str | None = None
    binary: bool = False
    _pyformat: str = field(init=False, default="")

    def __post_init__(self) -> None:
        pg = self.postgresql_sql or self.sql
        mark = r"%(\1)b" if self.binary else r"%(\1)s"
        folded = " ".join(pg.split()).replace("%", "%%")
        object.__setattr__(self, "_pyformat", _NAMED.sub(mark, folded))

    def text(self, dialect: str) -> str:
        """The statement for ``dialect``."""
        return self._pyformat if dialect == "postgresql" else self.sql


class Driver:
    """The DB-API cursor under a SQLAlchemy connection, with value adapters for its dialect.

    It shares the connection's transaction: begin and commit through SQLAlchemy as usual.
    """

    def __init__(
        self, conn: Connection | None = None, *, dbapi: Any = None, dialect: str = ""
    ) -> None:
        if conn is not None:
            dialect, dbapi = conn.dialect.name, conn.connection.driver_connection
        self.dialect = dialect
        self._cursor = dbapi.cursor()

    def execute(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Run one statement; returns its rows (empty for statements without any)."""
        cursor = self._cursor
        cursor.execute(statement.text(self.dialect), params or {})
        return list(cursor.fetchall()) if cursor.description else []

    def executemany(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for each row of parameters."""
        if rows:
            self._cursor.executemany(statement.text(self.dialect), rows)

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert many rows of values in ``columns`` order: executemany on SQLite, COPY on
        PostgreSQL (measured for 500 rows: COPY 2.7 ms, executemany 13 ms, one multi-row
        INSERT 43 ms)."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.dialect != "postgresql":
            marks = ", ".join("?" * len(columns))
            self._cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            return
        with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def rowcount(self, statement: Statement, params: Mapping[str, Any]) -> int:
        """Run one statement and say how many rows it changed."""
        self._cursor.execute(statement.text(self.dialect), params)
        return int(self._cursor.rowcount)

    def time(self, moment: datetime) -> Any:
        """A timestamp as the column type stores it (naive UTC text on SQLite)."""
        if self.dialect == "postgresql":
            return moment
        return moment.astimezone(UTC).strftime(_SQLITE_TIME)

    def read_time(self, value: Any) -> datetime | None:
        """A stored timestamp back as an aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)

    def json(self, value: Any) -> str:
        """A value for a JSON column (text, which PostgreSQL casts to json on insert)."""
        return _dumps(value)

    def read_json(self, value: Any) -> Any:
        """A JSON column's value as Python data."""
        return orjson.loads(value) if isinstance(value, str | bytes) else value

    def flag(self, value: bool) -> Any:
        """A boolean as the column stores it."""
        return value if self.dialect == "postgresql" else int(value)

    def array(self, values: Iterable[Any]) -> Any:
        """A list parameter for :func:`in_array` (an array on PostgreSQL, JSON on SQLite)."""
        items = list(values)
        return items if self.dialect == "postgresql" else _dumps(items)


def in_array(column: str, name: str) -> tuple[str, str]:
    """``column IN <list parameter name>`` for SQLite and for PostgreSQL."""
    return (
        f"{column} IN (SELECT value FROM json_each(:{name}))",
        f"{column} = ANY(:{name})",
    )


def statement(sql: str, **lists: str) -> Statement:
    """A statement whose ``{name}`` slots are filled by :func:`in_array` conditions.

    ``statement("SELECT … WHERE {ids}", ids="a.id")`` matches ``a.id`` against the list
    parameter ``:ids``.
    """
    sqlite_parts, pg_parts = {}, {}
    for name, column in lists.items():
        sqlite_parts[name], pg_parts[name] = in_array(column, name)
    return Statement(sql.format(**sqlite_parts), sql.format(**pg_parts))


class ConnectionLost(Exception):
    """The connection broke during a batch: whether its last statement committed is unknown."""


class HeldConnection:
    """One connection kept by a single writer, with its batches run straight on the driver.

    Checking a connection out of SQLAlchemy's pool and beginning and committing through an
    engine costs more CPU per batch than the batch's own statements; a writer that runs
    one batch after another keeps one connection instead. A connection that fails is
    dropped and replaced on the next batch.
    """

    def __init__(self, engine: Engine, *, wal_autocheckpoint: bool = True) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.wal_autocheckpoint = wal_autocheckpoint
        self._raw: Any = None

    @contextmanager
    def batch(self) -> Iterator[Driver]:
        """A driver for one batch of work.

        On SQLite the batch is one transaction, BEGIN IMMEDIATE … COMMIT, rolled back on
        error. On PostgreSQL the connection is in autocommit: each statement commits on
        its own, so a batch writes everything it must keep together in one statement
        (``sending/sql.py``'s ``STORE``) and saves the BEGIN and COMMIT round trips.
        """
        if self._raw is None:
            self._raw = self.engine.raw_connection()
            dbapi = self._raw.driver_connection
            if self.dialect == "postgresql":
                dbapi.autocommit = True
            elif not self.wal_autocheckpoint:
                dbapi.execute("PRAGMA wal_autocheckpoint=0")
        dbapi = self._raw.driver_connection
        if self.dialect == "postgresql":
            try:
                yield Driver(dbapi=dbapi, dialect=self.dialect)
            except Exception as exc:
                if dbapi.broken:
                    self._drop()
                    raise ConnectionLost(str(exc)) from exc
                raise
            return
        try:
            dbapi.execute("BEGIN IMMEDIATE")
            yield Driver(dbapi=dbapi, dialect=self.dialect)
            dbapi.commit()
        except BaseException:
            try:
                dbapi.rollback()
            except Exception:  # the connection itself is broken: replace it next time
                self._drop()
            raise

    def _drop(self) -> None:
        self._raw.invalidate()
        self._raw = None

    def backend_pid(self) -> int | None:
        """The PostgreSQL server process of the connection, while it has one."""
        if self._raw is None or self.dialect != "postgresql":
            return None
        return int(self._raw.driver_connection.info.backend_pid)

    def close(self) -> None:
        """Give the connection back (out of autocommit, as the pool expects it)."""
        if self._raw is not None:
            if self.dialect == "postgresql":
                self._raw.driver_connection.autocommit = False
            self._raw.close()
            self._raw = None


class HeldReader:
    """One connection kept for short reads, each its own autocommit statement.

    For look-ups on a hot path that runs on one thread (SMTP's MAIL and RCPT checks): no
    pool checkout, no transaction held open between them, no write lock on SQLite.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._raw: Any = None

    def execute(self, statement: Statement, params: Mapping[str, Any]) -> list[Any]:
        """The rows of one read."""
        if self._raw is None:
            self._raw = self.engine.raw_connection()
            if self.dialect == "postgresql":
                self._raw.driver_connection.autocommit = True
        try:
            return Driver(dbapi=self._raw.driver_connection, dialect=self.dialect).execute(
                statement, params
            )
        except Exception:
            self._raw.invalidate()
            self._raw = None
            raise

    def close(self) -> None:
        """Give the connection back to the pool as it found it (not in autocommit)."""
        if self._raw is not None:
            if self.dialect == "postgresql":
                self._raw.driver_connection.autocommit = False
            self._raw.close()
            self._raw = None


# Hot-path look-ups (the writer's ``= ANY(array)`` on unique indexes, the SMTP checks' joins
# on keys) get the same plan whatever the values; PostgreSQL would still plan them again
# on every execution, as it does for the first five of any prepared statement and
# whenever a custom plan looks cheaper. Measured on the Send API: sender look-up 658 → 268
# µs, domains 440 → 235 µs, PostgreSQL's CPU per message -20%.
GENERIC_PLANS = "-c plan_cache_mode=force_generic_plan"


def generic_plan_options(url: str) -> str:
    """The libpq ``options`` for a connection to ``url``: any the URL gives, and generic plans."""
    given = make_url(url).query.get("options", "")
    return f"{given if isinstance(given, str) else ' '.join(given)} {GENERIC_PLANS}".strip()
