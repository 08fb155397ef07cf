"""Pseudonymous users with encrypted addresses; erasure and purge records.

Rows stored before this revision hold the raw platform id in ``user_ref`` and no address;
the gateway pseudonymises them at start (``bot/erasure.py::pseudonymise_legacy``), as the
keys live in the settings, not in the migration.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # SQLite: ids are never used again (AUTOINCREMENT), or a new user would get an erased
    # user's id and with it any dialogue of theirs Rasa still had under "c<id>"
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "conversations",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True},
    ) as batch:
        batch.add_column(sa.Column("address", sa.Text()))
        batch.add_column(sa.Column("notice_at", TZ))
        batch.add_column(sa.Column("erased_at", TZ))
    op.create_table(
        "deletion_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
    )
    op.create_index("ix_inbound_conversation", "inbound_messages", ["conversation_id", "id"])
    op.create_index("ix_inbound_received", "inbound_messages", ["received_at"])
    op.create_index("ix_outbox_conversation", "outbox_messages", ["conversation_id", "id"])
    op.create_index("ix_recipients_conversation", "broadcast_recipients", ["conversation_id"])
    # foreign keys that deleting rows must check: without an index, a scan per deleted row
    op.create_index("ix_outbox_inbound", "outbox_messages", ["inbound_id"])
    op.create_index("ix_recipients_outbox", "broadcast_recipients", ["outbox_id"])
    op.create_index("ix_handover_notes_handover", "handover_notes", ["handover_id"])


def downgrade() -> None:
    op.drop_index("ix_handover_notes_handover", "handover_notes")
    op.drop_index("ix_recipients_outbox", "broadcast_recipients")
    op.drop_index("ix_outbox_inbound", "outbox_messages")
    op.drop_index("ix_recipients_conversation", "broadcast_recipients")
    op.drop_index("ix_outbox_conversation", "outbox_messages")
    op.drop_index("ix_inbound_received", "inbound_messages")
    op.drop_index("ix_inbound_conversation", "inbound_messages")
    op.drop_table("deletion_log")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("erased_at")
        batch.drop_column("notice_at")
        batch.drop_column("address")
