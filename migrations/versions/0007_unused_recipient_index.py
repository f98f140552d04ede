"""drop ix_recipients_account_id: nothing reads recipients by account

Every recipient accepted paid for an entry in it; recipients are read by due time, by
message and by id, and an account's are reached through its messages.

Revision ID: 0007_unused_recipient_index
Revises: 0006_acceptance_keys_as_triggers
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_unused_recipient_index"
down_revision: str | Sequence[str] | None = "0006_acceptance_keys_as_triggers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_recipients_account_id", table_name="recipients")


def downgrade() -> None:
    op.create_index("ix_recipients_account_id", "recipients", ["account_id"])
