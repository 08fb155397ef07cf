"""Announcements: subscriptions with consent times, broadcasts and their recipients.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _fk(table: str, name: str = "id", ondelete: str = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.{name}", ondelete=ondelete)


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("province", sa.String(40)))
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.Integer(), _fk("conversations"), nullable=False),
        sa.Column("topic", sa.String(60), nullable=False),
        sa.Column("consented_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ),
        sa.UniqueConstraint("conversation_id", "topic"),
    )
    op.create_index("ix_subscriptions_topic", "subscriptions", ["topic", "revoked_at"])
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("translations", sa.JSON(), nullable=False),
        sa.Column("missing_translation", sa.String(16), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("provinces", sa.JSON(), nullable=False),
        sa.Column("template_sid", sa.String(64)),
        sa.Column("send_at", TZ, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_by", sa.Integer(), _fk("operators", ondelete="SET NULL")),
        sa.Column("approved_by", sa.Integer(), _fk("operators", ondelete="SET NULL")),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("approved_at", TZ),
        sa.Column("started_at", TZ),
        sa.Column("finished_at", TZ),
    )
    op.create_table(
        "broadcast_recipients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("broadcast_id", sa.Integer(), _fk("broadcasts"), nullable=False),
        sa.Column("conversation_id", sa.Integer(), _fk("conversations"), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("outbox_id", sa.Integer(), _fk("outbox_messages", ondelete="SET NULL")),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(80)),
        sa.UniqueConstraint("broadcast_id", "conversation_id"),
    )


def downgrade() -> None:
    op.drop_table("broadcast_recipients")
    op.drop_table("broadcasts")
    op.drop_index("ix_subscriptions_topic", "subscriptions")
    op.drop_table("subscriptions")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("province")
