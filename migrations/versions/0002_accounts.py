"""accounts list indexes: filter counts, text search

Revision ID: 0002_accounts
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002_accounts"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_delivery_accounts_plan_type",
        "delivery_accounts",
        ["plan_id", "type", "status"],
        unique=False,
    )
    op.create_index(
        "ix_delivery_accounts_search",
        "delivery_accounts",
        ["description", "username"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"description": "gin_trgm_ops", "username": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index(
        "ix_delivery_accounts_search",
        table_name="delivery_accounts",
        postgresql_using="gin",
    )
    op.drop_index("ix_delivery_accounts_plan_type", table_name="delivery_accounts")
