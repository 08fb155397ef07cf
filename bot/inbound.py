"""Storing inbound messages: each platform message once, before the webhook answers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Conversation, InboundRecord
from channels.messages import InboundMessage

MAX_TEXT_CHARS = 4096  # longer texts are cut (Telegram's own limit); nothing else is lost


def _insert(session: AsyncSession, table: type) -> object:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def conversation_for(session: AsyncSession, channel: str, user_ref: str) -> Conversation:
    """The conversation of this user on this channel, created on first contact."""
    stmt = (
        _insert(session, Conversation)
        .values(  # type: ignore[attr-defined]
            channel=channel, user_ref=user_ref, choices=[]
        )
        .on_conflict_do_nothing(index_elements=["channel", "user_ref"])
    )
    await session.execute(stmt)
    found = await session.scalar(
        select(Conversation).where(
            Conversation.channel == channel, Conversation.user_ref == user_ref
        )
    )
    assert found is not None
    return found


async def store_inbound(session: AsyncSession, message: InboundMessage) -> int | None:
    """Insert the message; returns its id, or None when the platform already sent it."""
    conversation = await conversation_for(session, message.channel, message.user_id)
    stmt = (
        _insert(session, InboundRecord)  # type: ignore[attr-defined]
        .values(
            conversation_id=conversation.id,
            channel=message.channel,
            platform_id=message.platform_id,
            text=message.text[:MAX_TEXT_CHARS],
            language_hint=message.language_hint,
            status="pending",
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["channel", "platform_id"])
        .returning(InboundRecord.id)
    )
    inserted = await session.scalar(stmt)
    await session.commit()
    return int(inserted) if inserted is not None else None
