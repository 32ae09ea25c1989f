"""city pieces: solved pieces of a city plan, keyed by the hash of their inputs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "city_piece",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=256), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("delivery_date", sa.Date(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_city_piece")),
    )
    with op.batch_alter_table("city_piece", schema=None) as batch_op:
        batch_op.create_index("ix_city_piece_delivery_date", ["delivery_date"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("city_piece", schema=None) as batch_op:
        batch_op.drop_index("ix_city_piece_delivery_date")
    op.drop_table("city_piece")
