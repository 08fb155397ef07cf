"""Handover to people: operators, their sessions, handovers, notes, audit log, live events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("team", sa.String(40), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "operator_id",
            sa.Integer(),
            sa.ForeignKey("operators.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
    )
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("team", sa.String(40)),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operators.id", ondelete="SET NULL")),
        sa.Column("outcome", sa.String(40)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("assigned_at", TZ),
        sa.Column("closed_at", TZ),
    )
    op.create_index("ix_handovers_state", "handovers", ["state", "priority", "id"])
    op.create_index("ix_handovers_conversation", "handovers", ["conversation_id", "state"])
    op.create_table(
        "handover_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "handover_id",
            sa.Integer(),
            sa.ForeignKey("handovers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operators.id", ondelete="SET NULL")),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operators.id", ondelete="SET NULL")),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("handover_id", sa.Integer()),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_table(
        "console_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("handover_id", sa.Integer()),
        sa.Column("conversation_id", sa.Integer()),
    )
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(
            sa.Column(
                "operator_id",
                sa.Integer(),
                sa.ForeignKey("operators.id", name="fk_outbox_operator", ondelete="SET NULL"),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("operator_id")
    for table in (
        "console_events",
        "audit_log",
        "handover_notes",
        "handovers",
        "operator_sessions",
        "operators",
    ):
        op.drop_table(table)
