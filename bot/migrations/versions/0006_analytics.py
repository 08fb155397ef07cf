"""Analytics: daily message counts, knowledge-base decisions, feedback, unanswered questions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "message_counts",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("channel", sa.String(40), primary_key=True),
        sa.Column("language", sa.String(8), primary_key=True),
        sa.Column("messages", sa.Integer(), nullable=False),
    )
    op.create_table(
        "kb_turns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("entry_id", sa.String(100)),
        sa.Column("score", sa.Float()),
    )
    op.create_index("ix_kb_turns_at", "kb_turns", ["at", "outcome", "entry_id"])
    op.create_index("ix_kb_turns_entry", "kb_turns", ["entry_id"])
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("entry_id", sa.String(100)),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("score", sa.SmallInteger(), nullable=False),
    )
    op.create_index("ix_answer_feedback_entry", "answer_feedback", ["entry_id", "at"])
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("entry_id", sa.String(100)),
        sa.Column("vector", sa.LargeBinary()),
        sa.Column("vector_model", sa.String(80)),
    )
    op.create_index("ix_unanswered_language", "unanswered_questions", ["language", "at"])


def downgrade() -> None:
    op.drop_table("message_counts")
    op.drop_table("unanswered_questions")
    op.drop_table("answer_feedback")
    op.drop_table("kb_turns")
