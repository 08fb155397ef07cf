"""Storing inbound messages: each platform message once, before the webhook answers."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import cast

from sqlalchemy import JSON, Executable, Table, bindparam, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import WriteGate
from bot.identities import Identities
from bot.models import Conversation, InboundRecord, OutboxRecord, utcnow
from channels.messages import InboundMessage
from common.errors import ServiceError

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 4096  # longer texts are cut (Telegram's own limit); nothing else is lost


def _insert(session: AsyncSession, table: type) -> object:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def conversation_for(
    session: AsyncSession, identities: Identities, channel: str, user_id: str
) -> Conversation:
    """The conversation of this user on this channel, created on first contact."""
    user_ref = identities.pseudonym(channel, user_id)
    stmt = (
        _insert(session, Conversation)
        .values(  # type: ignore[attr-defined]
            channel=channel, user_ref=user_ref, address=identities.seal(user_id), choices=[]
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


async def store_inbound(
    session: AsyncSession, identities: Identities, message: InboundMessage
) -> int | None:
    """Insert and commit the message; its id, or None when the platform already sent it."""
    stored = (await add_inbound_batch(session, identities, [message]))[0]
    await session.commit()
    return stored


async def add_inbound_batch(
    session: AsyncSession, identities: Identities, messages: list[InboundMessage]
) -> list[int | None]:
    """Insert messages in the session's transaction; per message its new id, or None for a
    message the platform sent before (or an earlier copy in the same batch).

    The user is stored by pseudonym, the platform id only encrypted (bot/identities.py).
    New messages reopen their users' WhatsApp window: replies held outside it go out now.
    A user who writes after an erasure starts afresh: the erasure mark is lifted.
    A handful of statements per batch, not per message, as webhooks arrive in bursts.
    """
    if not messages:
        return []
    upsert, insert_inbound, release_held = _statements(session.get_bind().dialect.name)
    inbound = cast(Table, InboundRecord.__table__)
    connection = await session.connection()
    now = utcnow()
    keys = [(m.channel, m.platform_id) for m in messages]
    known = set(
        (
            await connection.execute(
                select(inbound.c.channel, inbound.c.platform_id).where(
                    tuple_(inbound.c.channel, inbound.c.platform_id).in_(set(keys))
                )
            )
        ).tuples()
    )
    fresh: dict[tuple[str, str], InboundMessage] = {}
    for key, message in zip(keys, messages, strict=True):
        if key not in known and key not in fresh:
            fresh[key] = message
    conversations: dict[tuple[str, str], int] = {}
    for message in fresh.values():
        user = (message.channel, message.user_id)
        if user not in conversations:
            conversations[user] = (
                await connection.execute(
                    upsert,
                    {"channel": message.channel, "now": now, "created_at": now,
                     "user_ref": identities.pseudonym(message.channel, message.user_id),
                     "address": identities.seal(message.user_id),
                     "updated_at": now, "mode": "bot", "choices": []},
                )
            ).scalar_one()  # fmt: skip
    if not fresh:
        return [None] * len(messages)
    await connection.execute(
        insert_inbound,
        [
            {
                "conversation_id": conversations[(m.channel, m.user_id)],
                "channel": m.channel,
                "platform_id": m.platform_id,
                "text": m.text[:MAX_TEXT_CHARS],
                "language_hint": m.language_hint,
                "media": [media.as_json() for media in m.media] or None,
                "location": list(m.location) if m.location else None,
                "reply_to": m.reply_to,
                "received_at": now,
            }
            for m in fresh.values()
        ],
    )
    ids = {
        (channel, platform_id): int(row_id)
        for row_id, channel, platform_id in (
            await connection.execute(
                select(inbound.c.id, inbound.c.channel, inbound.c.platform_id).where(
                    tuple_(inbound.c.channel, inbound.c.platform_id).in_(list(fresh))
                )
            )
        ).tuples()
    }
    await connection.execute(
        release_held, {"conversations": sorted(set(conversations.values())), "now": now}
    )
    first_seen: set[tuple[str, str]] = set()
    result: list[int | None] = []
    for key in keys:
        result.append(ids.get(key) if key in fresh and key not in first_seen else None)
        first_seen.add(key)
    return result


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
        address=bindparam("address"),
        mode=bindparam("mode"),
        choices=bindparam("choices", type_=JSON),
        created_at=bindparam("created_at"),
        updated_at=bindparam("updated_at"),
        last_inbound_at=bindparam("now"),
    )
    upsert = new_conversation.on_conflict_do_update(  # they wrote, so they can be reached again
        index_elements=["channel", "user_ref"],
        set_={
            "last_inbound_at": new_conversation.excluded.last_inbound_at,
            "unreachable_at": None,
            "erased_at": None,
        },
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
    )
    release_held = (
        update(outbox)
        .where(
            outbox.c.conversation_id.in_(bindparam("conversations", expanding=True)),
            outbox.c.status == "held",
        )
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
        identities: Identities,
        *,
        batch: int = 200,
        gate: WriteGate | None = None,
        on_stored: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._identities = identities
        self._on_stored = on_stored  # e.g. wake the worker when something new arrived
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
                ids = await add_inbound_batch(
                    session, self._identities, [message for message, _ in waiting]
                )
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
        if self._on_stored and any(i is not None for i in ids):
            self._on_stored()
