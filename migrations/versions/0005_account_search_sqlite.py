"""SQLite: a trigram full-text index for the accounts list's text search

LIKE '%…%' has to read every row; FTS5's trigram tokenizer answers the same substring
question from an index, as pg_trgm's GIN index does on PostgreSQL (migration 0002). The
index is an external-content FTS5 table kept in step by triggers; the trigger on UPDATE
fires only for description and username, so quota updates never touch it.

Revision ID: 0005_account_search_sqlite
Revises: 0004_remaining_thousands
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_account_search_sqlite"
down_revision: str | Sequence[str] | None = "0004_remaining_thousands"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INSERT = (
    "INSERT INTO delivery_accounts_search (rowid, description, username)"
    " VALUES (new.id, new.description, new.username);"
)
_DELETE = (
    "INSERT INTO delivery_accounts_search"
    " (delivery_accounts_search, rowid, description, username)"
    " VALUES ('delete', old.id, old.description, old.username);"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE delivery_accounts_search USING fts5("
        "description, username, content='delivery_accounts', content_rowid='id',"
        " tokenize='trigram')"
    )
    op.execute("INSERT INTO delivery_accounts_search (delivery_accounts_search) VALUES ('rebuild')")
    op.execute(
        "CREATE TRIGGER delivery_accounts_search_insert AFTER INSERT ON delivery_accounts"
        f" BEGIN {_INSERT} END"
    )
    op.execute(
        "CREATE TRIGGER delivery_accounts_search_delete AFTER DELETE ON delivery_accounts"
        f" BEGIN {_DELETE} END"
    )
    op.execute(
        "CREATE TRIGGER delivery_accounts_search_update"
        " AFTER UPDATE OF description, username ON delivery_accounts"
        f" BEGIN {_DELETE} {_INSERT} END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER delivery_accounts_search_{trigger}")
    op.execute("DROP TABLE delivery_accounts_search")
