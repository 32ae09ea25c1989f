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
    op.create_table(
        "crew_member",
        sa.Column("crew_id", sa.String(length=64), nullable=False),
        sa.Column("supplier_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("test_taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.supplier_id"],
            name=op.f("fk_crew_member_supplier_id_supplier"),
        ),
        sa.PrimaryKeyConstraint("crew_id", name=op.f("pk_crew_member")),
    )
    op.create_table(
        "vehicle_crew",
        sa.Column("vehicle_id", sa.String(length=64), nullable=False),
        sa.Column("delivery_date", sa.Date(), nullable=False),
        sa.Column("crew_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crew_member.crew_id"], name=op.f("fk_vehicle_crew_crew_id_crew_member")
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"], ["vehicle.vehicle_id"], name=op.f("fk_vehicle_crew_vehicle_id_vehicle")
        ),
        sa.PrimaryKeyConstraint(
            "vehicle_id", "delivery_date", "crew_id", name=op.f("pk_vehicle_crew")
        ),
    )
    op.create_table(
        "pickup_pin",
        sa.Column("pin_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("compound_id", sa.String(length=64), nullable=False),
        sa.Column("delivery_date", sa.Date(), nullable=False),
        sa.Column("building_id", sa.String(length=64), nullable=False),
        sa.Column("point_name", sa.String(length=128), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("pinned_by", sa.String(length=64), nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.compound_id"],
            name=op.f("fk_pickup_pin_compound_id_compound"),
        ),
        sa.PrimaryKeyConstraint("pin_id", name=op.f("pk_pickup_pin")),
        sa.UniqueConstraint(
            "compound_id",
            "delivery_date",
            "building_id",
            name=op.f("uq_pickup_pin_compound_id_delivery_date_building_id"),
        ),
    )
    op.create_table(
        "handout_step",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("compound_id", sa.String(length=64), nullable=False),
        sa.Column("building_id", sa.String(length=64), nullable=False),
        sa.Column("delivery_date", sa.Date(), nullable=False),
        sa.Column("delivery_key", sa.String(length=128), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id", "building_id"],
            ["building.compound_id", "building.building_id"],
            name=op.f("fk_handout_step_compound_id_building_id_building"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handout_step")),
        sa.UniqueConstraint(
            "compound_id",
            "building_id",
            "delivery_date",
            "delivery_key",
            "step",
            name=op.f("uq_handout_step_compound_id_building_id_delivery_date_delivery_key_step"),
        ),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("handout_step")
    op.drop_table("pickup_pin")
    op.drop_table("vehicle_crew")
    op.drop_table("crew_member")
