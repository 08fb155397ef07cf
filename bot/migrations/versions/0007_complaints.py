"""Complaints and suggestions with reference numbers; confidential categories.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("conversations.id", ondelete="SET NULL"),
        ),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_complaints_status", "complaints", ["confidential", "status", "id"])


def downgrade() -> None:
    op.drop_table("complaints")
