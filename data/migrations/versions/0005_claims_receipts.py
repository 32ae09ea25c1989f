"""receipt checks, claims, supplier refusals and reliability

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 12:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "receipt_check",
        sa.Column("check_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("compound_id", sa.String(length=64), nullable=False),
        sa.Column("supplier_id", sa.String(length=64), nullable=False),
        sa.Column("expected_units", sa.Integer(), nullable=False),
        sa.Column("expected_from", sa.String(length=16), nullable=False),
        sa.Column("plan_job_id", sa.String(length=32), nullable=True),
        sa.Column("received_units", sa.Integer(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("discrepancy", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.compound_id"],
            name=op.f("fk_receipt_check_compound_id_compound"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["group_buy.group_id"], name=op.f("fk_receipt_check_group_id_group_buy")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.supplier_id"],
            name=op.f("fk_receipt_check_supplier_id_supplier"),
        ),
        sa.PrimaryKeyConstraint("check_id", name=op.f("pk_receipt_check")),
    )
    with op.batch_alter_table("receipt_check", schema=None) as batch_op:
        batch_op.create_index("ix_receipt_check_group_id", ["group_id"], unique=False)
    op.create_table(
        "claim",
        sa.Column("claim_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("compound_id", sa.String(length=64), nullable=False),
        sa.Column("supplier_id", sa.String(length=64), nullable=False),
        sa.Column("signup_id", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["compound.compound_id"], name=op.f("fk_claim_compound_id_compound")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["group_buy.group_id"], name=op.f("fk_claim_group_id_group_buy")
        ),
        sa.ForeignKeyConstraint(
            ["signup_id"], ["group_signup.signup_id"], name=op.f("fk_claim_signup_id_group_signup")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["supplier.supplier_id"], name=op.f("fk_claim_supplier_id_supplier")
        ),
        sa.PrimaryKeyConstraint("claim_id", name=op.f("pk_claim")),
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index("ix_claim_group_id", ["group_id"], unique=False)
        batch_op.create_index("ix_claim_state", ["state"], unique=False)
        batch_op.create_index("ix_claim_supplier_id", ["supplier_id"], unique=False)
    op.create_table(
        "supplier_refusal",
        sa.Column("leader", sa.String(length=64), nullable=False),
        sa.Column("supplier_id", sa.String(length=64), nullable=False),
        sa.Column("compound_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=512), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compound.compound_id"],
            name=op.f("fk_supplier_refusal_compound_id_compound"),
        ),
        sa.ForeignKeyConstraint(
            ["leader"],
            ["user_account.username"],
            name=op.f("fk_supplier_refusal_leader_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.supplier_id"],
            name=op.f("fk_supplier_refusal_supplier_id_supplier"),
        ),
        sa.PrimaryKeyConstraint("leader", "supplier_id", name=op.f("pk_supplier_refusal")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("supplier_refusal")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_supplier_id")
        batch_op.drop_index("ix_claim_state")
        batch_op.drop_index("ix_claim_group_id")
    op.drop_table("claim")
    with op.batch_alter_table("receipt_check", schema=None) as batch_op:
        batch_op.drop_index("ix_receipt_check_group_id")
    op.drop_table("receipt_check")
