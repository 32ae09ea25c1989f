"""building hand-out steps, pinned pickup points, vehicle crews

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 12:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    assert sa and op  # tables of this revision are added here


def downgrade() -> None:
    """Revert this revision."""
