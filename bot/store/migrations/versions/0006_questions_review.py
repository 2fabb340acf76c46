"""What reviewing the questions log needs: language, the matcher's guesses, the text as typed, the
"did you mean" reference and the choice clicked, and whether a review dealt with the question.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("lang", "guesses", "original", "ref", "choice", "reviewed_at", "review")


def upgrade() -> None:
    # Nullable columns only: an ALTER TABLE ADD COLUMN on both engines (SQLite keeps the table, and
    # with it AUTOINCREMENT); rows logged before keep NULLs and are reviewed like the others.
    op.add_column("questions", sa.Column("lang", sa.String(35), nullable=True))
    op.add_column("questions", sa.Column("guesses", sa.Text(), nullable=True))
    op.add_column("questions", sa.Column("original", sa.Text(), nullable=True))
    op.add_column("questions", sa.Column("ref", sa.String(32), nullable=True))
    op.add_column("questions", sa.Column("choice", sa.String(64), nullable=True))
    op.add_column("questions", sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("questions", sa.Column("review", sa.String(64), nullable=True))
    op.create_index("ix_questions_ref", "questions", ["ref"])


def downgrade() -> None:
    op.drop_index("ix_questions_ref", table_name="questions")
    # SQLite drops columns by copying the table: batch mode.
    with op.batch_alter_table("questions") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
