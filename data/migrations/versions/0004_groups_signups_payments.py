"""groups of many leaders, pooled compounds, sign-ups, payments, committee and volunteer scopes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 12:20:00.000000
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
    """Apply this revision."""
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("building_id", sa.String(length=64), nullable=True))
    op.create_table(
        "order_importer",
        sa.Column("compound_id", sa.String(length=64), nullable=False),
        sa.Column("delivery_date", sa.Date(), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.compound_id"],
            name=op.f("fk_order_importer_compound_id_compound"),
        ),
        sa.PrimaryKeyConstraint(
            "compound_id", "delivery_date", "order_id", name=op.f("pk_order_importer")
        ),
    )
    op.create_table(
        "user_compound",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("compound_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.compound_id"],
            name=op.f("fk_user_compound_compound_id_compound"),
        ),
        sa.ForeignKeyConstraint(
            ["username"],
            ["user_account.username"],
            name=op.f("fk_user_compound_username_user_account"),
        ),
        sa.PrimaryKeyConstraint("username", "compound_id", name=op.f("pk_user_compound")),
    )
    op.create_table(
        "group_compound",
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("compound_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("leader", sa.String(length=64), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.compound_id"],
            name=op.f("fk_group_compound_compound_id_compound"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["group_buy.group_id"], name=op.f("fk_group_compound_group_id_group_buy")
        ),
        sa.PrimaryKeyConstraint("group_id", "compound_id", name=op.f("pk_group_compound")),
    )
    with op.batch_alter_table("group_compound", schema=None) as batch_op:
        batch_op.create_index("ix_group_compound_compound_id", ["compound_id"], unique=False)
    op.create_table(
        "group_signup",
        sa.Column("signup_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("compound_id", sa.String(length=64), nullable=False),
        sa.Column("building_id", sa.String(length=64), nullable=False),
        sa.Column("room", sa.String(length=16), nullable=False),
        sa.Column("household_name", sa.String(length=256), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("priority_flags", sa.JSON(), nullable=False),
        sa.Column("proxy", sa.Boolean(), nullable=False),
        sa.Column("quantity_units", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("resident_code", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id", "building_id"],
            ["building.compound_id", "building.building_id"],
            name=op.f("fk_group_signup_compound_id_building_id_building"),
        ),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.compound_id"],
            name=op.f("fk_group_signup_compound_id_compound"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["group_buy.group_id"], name=op.f("fk_group_signup_group_id_group_buy")
        ),
        sa.PrimaryKeyConstraint("signup_id", name=op.f("pk_group_signup")),
        sa.UniqueConstraint("resident_code", name=op.f("uq_group_signup_resident_code")),
    )
    with op.batch_alter_table("group_signup", schema=None) as batch_op:
        batch_op.create_index("ix_group_signup_group_id", ["group_id"], unique=False)
    op.create_table(
        "payment",
        sa.Column("payment_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("signup_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=512), nullable=False),
        sa.Column("claim_id", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["group_buy.group_id"], name=op.f("fk_payment_group_id_group_buy")
        ),
        sa.ForeignKeyConstraint(
            ["signup_id"],
            ["group_signup.signup_id"],
            name=op.f("fk_payment_signup_id_group_signup"),
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_payment")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index("ix_payment_group_id", ["group_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_group_id")
    op.drop_table("payment")
    with op.batch_alter_table("group_signup", schema=None) as batch_op:
        batch_op.drop_index("ix_group_signup_group_id")
    op.drop_table("group_signup")
    with op.batch_alter_table("group_compound", schema=None) as batch_op:
        batch_op.drop_index("ix_group_compound_compound_id")
    op.drop_table("group_compound")
    op.drop_table("user_compound")
    op.drop_table("order_importer")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("building_id")
