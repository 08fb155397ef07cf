"""Writing replies to the outbox: rendered for the platform, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ButtonPayload, Conversation, OutboxRecord, utcnow
from channels.base import ChannelAdapter, callback_key
from channels.messages import OutboundMessage


def outbox_values(
    conversation_id: int,
    inbound_id: int | None,
    piece: OutboundMessage,
    kind: str = "reply",
    operator_id: int | None = None,
) -> dict[str, Any]:
    """One platform message's outbox row (for the ORM, or a bulk insert)."""
    return {
        "conversation_id": conversation_id,
        "inbound_id": inbound_id,
        "body": piece.as_json(),
        "kind": kind,
        "operator_id": operator_id,
        "status": "pending",
        "attempts": 0,
        "created_at": utcnow(),  # to the microsecond: the console orders by it
    }


async def write_outbox(
    session: AsyncSession,
    conversation: Conversation,
    inbound_id: int | None,
    replies: list[OutboundMessage],
    adapter: ChannelAdapter | None,
    *,
    kind: str = "reply",
    operator_id: int | None = None,
) -> list[OutboxRecord]:
    """The replies as the platform's messages, one outbox row each, in this transaction."""
    rows: list[OutboxRecord] = []
    for reply in replies:
        for button in reply.buttons:
            key = callback_key(button.payload)
            if key != button.payload:
                await session.merge(ButtonPayload(key=key, payload=button.payload))
        for piece in adapter.render(reply) if adapter else [reply]:
            values = outbox_values(conversation.id, inbound_id, piece, kind, operator_id)
            row = OutboxRecord(**values)
            session.add(row)
            rows.append(row)
    with_buttons = [r for r in replies if r.buttons]
    if with_buttons:
        conversation.choices = [
            {"title": b.title, "payload": b.payload} for b in with_buttons[-1].buttons
        ]
    return rows
