"""Initial schema: users, steps, reminders, events.

Revision ID: 0001
Revises:
Create Date: 2025-11-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("platform_user", sa.String(128), nullable=False),
        sa.Column("chat", sa.String(128), nullable=False),
        sa.Column("locale", sa.String(35), nullable=True),
        sa.Column("locale_hint", sa.String(35), nullable=True),
        sa.Column("tz", sa.String(64), nullable=True),
        sa.Column("tz_chosen", sa.Boolean(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("reminders_enabled", sa.Boolean(), nullable=False),
        sa.Column("welcomed", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("platform", "workspace", "platform_user", name="uq_users_platform_workspace_platform_user"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "steps",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("done_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_steps_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "step", name="pk_steps"),
    )
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("chat", sa.String(128), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("due_at", _utc(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", _utc(), nullable=True),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("retry_at", _utc(), nullable=True),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("kind IN ('auto', 'manual')", name="ck_reminders_kind"),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'cancelled', 'dropped')", name="ck_reminders_status"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_reminders_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_reminders"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_reminders_user_id", "reminders", ["user_id"])
    op.create_index("ix_reminders_status_due_at", "reminders", ["status", "due_at"])
    op.create_table(
        "events",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("seen_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "event_id", name="pk_events"),
    )
    op.create_index("ix_events_expires_at", "events", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_events_expires_at", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_reminders_status_due_at", table_name="reminders")
    op.drop_index("ix_reminders_user_id", table_name="reminders")
    op.drop_table("reminders")
    op.drop_table("steps")
    op.drop_table("users")
