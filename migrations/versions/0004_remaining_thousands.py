"""index the accounts list's sort on remaining without losing HOT reservations

``remaining_thousands`` (``remaining / 1000``) is a generated column: a reservation
recomputes it, but its value, and so its indexes, change only when ``remaining`` crosses
a thousand, so PostgreSQL still updates the row in place for the other 999 in 1,000.
The lists sort on it first and on ``remaining`` within it. Also an index for the sort on
description.

Revision ID: 0004_remaining_thousands
Revises: 0003_quota_hot_updates
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_remaining_thousands"
down_revision: str | Sequence[str] | None = "0003_quota_hot_updates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite can add only a virtual generated column; its indexes store the value anyway.
    stored = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "delivery_accounts",
        sa.Column(
            "remaining_thousands",
            sa.Integer(),
            sa.Computed("remaining / 1000", persisted=stored),
            nullable=False,
        ),
    )
    op.create_index("ix_delivery_accounts_remaining", "delivery_accounts", ["remaining_thousands"])
    op.create_index(
        "ix_delivery_accounts_status_remaining",
        "delivery_accounts",
        ["status", "remaining_thousands"],
    )
    op.create_index("ix_delivery_accounts_description", "delivery_accounts", ["description", "id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_accounts_description", table_name="delivery_accounts")
    op.drop_index("ix_delivery_accounts_status_remaining", table_name="delivery_accounts")
    op.drop_index("ix_delivery_accounts_remaining", table_name="delivery_accounts")
    with op.batch_alter_table("delivery_accounts") as batch_op:
        batch_op.drop_column("remaining_thousands")
