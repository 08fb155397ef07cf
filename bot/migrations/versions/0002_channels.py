"""Channels: media and location references, the WhatsApp window, opt-out, delivery states.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("last_inbound_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("opted_out_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("unreachable_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("media", sa.JSON()))
        batch.add_column(sa.Column("location", sa.JSON()))
        batch.add_column(sa.Column("reply_to", sa.String(200)))
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="reply"))
        batch.add_column(sa.Column("delivery_status", sa.String(16)))
        batch.add_column(sa.Column("delivery_updated_at", sa.DateTime(timezone=True)))
        batch.create_index("ix_outbox_platform_id", ["platform_id"])
    op.create_table(
        "button_payloads",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("payload", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("button_payloads")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_index("ix_outbox_platform_id")
        batch.drop_column("delivery_updated_at")
        batch.drop_column("delivery_status")
        batch.drop_column("kind")
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_column("reply_to")
        batch.drop_column("location")
        batch.drop_column("media")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("unreachable_at")
        batch.drop_column("opted_out_at")
        batch.drop_column("last_inbound_at")
