"""Storing inbound messages: each platform message once, before the webhook answers."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Conversation, InboundRecord, OutboxRecord, utcnow
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
    """Insert the message; returns its id, or None when the platform already sent it.

    A new message reopens the user's WhatsApp window: messages held outside it go out now.
    """
    conversation = await conversation_for(session, message.channel, message.user_id)
    stmt = (
        _insert(session, InboundRecord)  # type: ignore[attr-defined]
        .values(
            conversation_id=conversation.id,
            channel=message.channel,
            platform_id=message.platform_id,
            text=message.text[:MAX_TEXT_CHARS],
            language_hint=message.language_hint,
            media=[m.as_json() for m in message.media] or None,
            location=list(message.location) if message.location else None,
            reply_to=message.reply_to,
            status="pending",
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["channel", "platform_id"])
        .returning(InboundRecord.id)
    )
    inserted = await session.scalar(stmt)
    if inserted is not None:
        conversation.last_inbound_at = utcnow()
        conversation.unreachable_at = None  # they wrote, so they can be reached again
        await session.execute(
            update(OutboxRecord)
            .where(OutboxRecord.conversation_id == conversation.id, OutboxRecord.status == "held")
            .values(status="pending", next_attempt_at=utcnow())
        )
    await session.commit()
    return int(inserted) if inserted is not None else None
