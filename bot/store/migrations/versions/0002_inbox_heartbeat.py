"""The inbox's claim heartbeat: when the worker holding an event last said it is alive.

Revision ID: 0002
Revises: 0001
Created: 2026-12-03

Rows claimed before this column existed have none; a claim then counts from `claimed_at`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Adds `messenger_inbox.heartbeat_at` (empty on existing rows)."""
    op.add_column("messenger_inbox",
                  sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drops `messenger_inbox.heartbeat_at`."""
    with op.batch_alter_table("messenger_inbox") as batch:
        batch.drop_column("heartbeat_at")
