"""drop the (status, remaining) index so quota reservations are HOT updates

No index on delivery_accounts holds a quota column, so PostgreSQL can update a reserving
row in place (a HOT update) without touching any index; lists filter on remaining within
the other indexes' results.

Revision ID: 0003_quota_hot_updates
Revises: 0002_accounts
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_quota_hot_updates"
down_revision: str | Sequence[str] | None = "0002_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_delivery_accounts_status_remaining", table_name="delivery_accounts")


def downgrade() -> None:
    op.create_index(
        "ix_delivery_accounts_status_remaining", "delivery_accounts", ["status", "remaining"]
    )
