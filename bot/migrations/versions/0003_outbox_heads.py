"""Outbox: an index for finding each conversation's oldest pending reply.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_heads", "outbox_messages", ["status", "conversation_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_heads", "outbox_messages")
