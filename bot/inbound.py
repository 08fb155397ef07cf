"""Storing inbound messages: each platform message once, before the webhook answers."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import cast

from sqlalchemy import JSON, Executable, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import WriteGate
from bot.models import Conversation, InboundRecord, OutboxRecord, utcnow
from channels.messages import InboundMessage
from common.errors import ServiceError

logger = logging.getLogger(__name__)

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
    """Insert and commit the message; its id, or None when the platform already sent it."""
    stored = await add_inbound(session, message)
    await session.commit()
    return stored


async def add_inbound(session: AsyncSession, message: InboundMessage) -> int | None:
    """Insert the message in the session's transaction (see :func:`store_inbound`).

    A new message reopens the user's WhatsApp window: messages held outside it go out now.
    Three prepared Core statements, as webhooks run this for every platform message.
    """
    upsert, insert_inbound, release_held = _statements(session.get_bind().dialect.name)
    connection = await session.connection()
    now = utcnow()
    conversation_id = (
        await connection.execute(
            upsert,
            {"channel": message.channel, "user_ref": message.user_id, "now": now,
             "created_at": now, "updated_at": now, "mode": "bot", "choices": []},
        )
    ).scalar_one()  # fmt: skip
    inserted = (
        await connection.execute(
            insert_inbound,
            {
                "conversation_id": conversation_id,
                "channel": message.channel,
                "platform_id": message.platform_id,
                "text": message.text[:MAX_TEXT_CHARS],
                "language_hint": message.language_hint,
                "media": [m.as_json() for m in message.media] or None,
                "location": list(message.location) if message.location else None,
                "reply_to": message.reply_to,
                "received_at": now,
            },
        )
    ).scalar()
    if inserted is not None:
        await connection.execute(release_held, {"conversation": conversation_id, "now": now})
    return int(inserted) if inserted is not None else None


@functools.cache
def _statements(dialect: str) -> tuple[Executable, Executable, Executable]:
    """The upsert of the conversation, the insert of the message, the release of held replies."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    conversations = cast(Table, Conversation.__table__)
    inbound = cast(Table, InboundRecord.__table__)
    outbox = cast(Table, OutboxRecord.__table__)
    new_conversation = insert(conversations).values(
        channel=bindparam("channel"),
        user_ref=bindparam("user_ref"),
        mode=bindparam("mode"),
        choices=bindparam("choices", type_=JSON),
        created_at=bindparam("created_at"),
        updated_at=bindparam("updated_at"),
        last_inbound_at=bindparam("now"),
    )
    upsert = new_conversation.on_conflict_do_update(  # they wrote, so they can be reached again
        index_elements=["channel", "user_ref"],
        set_={"last_inbound_at": new_conversation.excluded.last_inbound_at, "unreachable_at": None},
    ).returning(conversations.c.id)
    insert_inbound = (
        insert(inbound)
        .values(
            {
                **{name: bindparam(name, type_=inbound.c[name].type) for name in INBOUND_FIELDS},
                "status": "pending",
                "attempts": 0,
            }
        )
        .on_conflict_do_nothing(index_elements=["channel", "platform_id"])
        .returning(inbound.c.id)
    )
    release_held = (
        update(outbox)
        .where(outbox.c.conversation_id == bindparam("conversation"), outbox.c.status == "held")
        .values(status="pending", next_attempt_at=bindparam("now"))
    )
    return upsert, insert_inbound, release_held


INBOUND_FIELDS = (
    "conversation_id", "channel", "platform_id", "text", "language_hint", "media", "location",
    "reply_to", "received_at",
)  # fmt: skip


class InboundWriter:
    """Stores webhook messages in shared transactions (group commit).

    A burst of webhooks becomes one short write transaction instead of one each, so
    acknowledgements stay fast while the worker and sender write to the same database.
    Each caller still waits for its own message to be committed before answering 200.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        batch: int = 200,
        gate: WriteGate | None = None,
    ) -> None:
        self._sessions = sessions
        self._gate = gate or WriteGate()
        self._batch = batch
        self._queue: asyncio.Queue[tuple[InboundMessage, asyncio.Future[int | None]]] = (
            asyncio.Queue()
        )
        self.alive = False

    async def store(self, message: InboundMessage) -> int | None:
        """The stored message's id (None for a repeat), once it is committed."""
        if not self.alive:
            raise ServiceError("the inbound writer is not running")
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        await self._queue.put((message, future))
        return await future

    async def run(self) -> None:
        self.alive = True
        try:
            while True:
                waiting = [await self._queue.get()]
                while len(waiting) < self._batch and not self._queue.empty():
                    waiting.append(self._queue.get_nowait())
                await self._write(waiting)
        finally:
            self.alive = False
            while not self._queue.empty():
                _, future = self._queue.get_nowait()
                future.cancel()

    async def _write(
        self, waiting: list[tuple[InboundMessage, asyncio.Future[int | None]]]
    ) -> None:
        try:
            async with self._gate(), self._sessions() as session:
                ids = [await add_inbound(session, message) for message, _ in waiting]
                await session.commit()
        except Exception as exc:  # the platform retries what was not acknowledged
            logger.exception("storing %d inbound messages failed", len(waiting))
            for _, future in waiting:
                if not future.done():
                    future.set_exception(
                        ServiceError(f"could not store the message ({exc.__class__.__name__})")
                    )
            return
        for (_, future), stored in zip(waiting, ids, strict=True):
            if not future.done():
                future.set_result(stored)
