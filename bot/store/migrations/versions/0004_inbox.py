"""The durable inbox of platform events, and an index on when questions were asked (for their retention).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("event_key", sa.String(128), nullable=False),
        sa.Column("order_key", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("replies", sa.Text(), nullable=True),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
        sa.UniqueConstraint("platform", "event_key", name="uq_inbox_platform_event_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_inbox_platform_done_at_id", "inbox", ["platform", "done_at", "id"])
    op.create_index("ix_inbox_platform_order_key_id", "inbox", ["platform", "order_key", "id"])
    op.create_index("ix_questions_asked_at", "questions", ["asked_at"])


def downgrade() -> None:
    op.drop_index("ix_questions_asked_at", table_name="questions")
    op.drop_index("ix_inbox_platform_order_key_id", table_name="inbox")
    op.drop_index("ix_inbox_platform_done_at_id", table_name="inbox")
    op.drop_table("inbox")
