"""The conversation worker: each conversation's messages in order, one at a time.

In bot mode the text goes to Rasa; the replies go to the outbox in the same
transaction that marks the message done, so a crash never loses or doubles a reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import texts
from bot.models import Conversation, InboundRecord, OutboxRecord, utcnow
from bot.rasa_client import RasaClient
from channels.base import ChannelAdapter, resolve_choice
from channels.messages import Button, OutboundMessage
from common.errors import UpstreamError
from knowledge_base.language import detect_language

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
CONCURRENT_CONVERSATIONS = 8


class ConversationWorker:
    """Takes pending inbound messages and turns them into outbox rows."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rasa: RasaClient,
        adapters: Callable[[str], ChannelAdapter | None],
        *,
        poll_interval: float = 0.5,
        retry_delay: float = 1.0,
    ) -> None:
        self._sessions = sessions
        self._rasa = rasa
        self._adapters = adapters
        self._poll = poll_interval
        self._retry_delay = retry_delay
        self._wakeup = asyncio.Event()
        self._busy: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.outbox_ready = asyncio.Event()
        self.alive = False

    def notify(self) -> None:
        """Called by a webhook after storing a message."""
        self._wakeup.set()

    async def run(self) -> None:
        self.alive = True
        try:
            while True:
                await self._dispatch()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self._poll)
                self._wakeup.clear()
        finally:
            self.alive = False
            for task in self._tasks:
                task.cancel()

    async def _dispatch(self) -> None:
        async with self._sessions() as session:
            rows = await session.execute(
                select(InboundRecord.conversation_id)
                .where(InboundRecord.status == "pending")
                .order_by(InboundRecord.id)
                .limit(200)
            )
            waiting = list(dict.fromkeys(rows.scalars()))
        for conversation_id in waiting:
            if conversation_id in self._busy or len(self._busy) >= CONCURRENT_CONVERSATIONS:
                continue
            self._busy.add(conversation_id)
            task = asyncio.create_task(self._drain(conversation_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _drain(self, conversation_id: int) -> None:
        """Process this conversation's pending messages, oldest first, until none is left."""
        try:
            while await self._process_next(conversation_id):
                pass
        except Exception:
            logger.exception("worker failed on conversation %d", conversation_id)
        finally:
            self._busy.discard(conversation_id)
            self._wakeup.set()

    async def _process_next(self, conversation_id: int) -> bool:
        async with self._sessions() as session:
            record = await session.scalar(
                select(InboundRecord)
                .where(
                    InboundRecord.conversation_id == conversation_id,
                    InboundRecord.status == "pending",
                )
                .order_by(InboundRecord.id)
                .limit(1)
            )
            if record is None:
                return False
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            adapter = self._adapters(conversation.channel)
            text = record.text
            if adapter and adapter.numbered_choices and conversation.choices:
                offered = [Button(c["title"], c["payload"]) for c in conversation.choices]
                text = resolve_choice(text, offered) or text
            conversation.language = detect_language(
                text, current=conversation.language, hint=record.language_hint
            ).lang
            metadata = {"channel": conversation.channel, "language_hint": record.language_hint}
            try:
                replies = await self._rasa.send(conversation.rasa_sender, text, metadata)
            except UpstreamError as exc:
                record.attempts += 1
                if record.attempts < MAX_ATTEMPTS:
                    logger.warning("inbound %d: %s; retrying", record.id, exc)
                    await session.commit()
                    await asyncio.sleep(self._retry_delay * record.attempts)
                    return True
                logger.error("inbound %d: %s; giving up with an apology", record.id, exc)
                replies = [OutboundMessage(texts.text("technical_problem", conversation.language))]
                record.status = "failed"
            else:
                record.status = "done"
                if not replies:  # a failed or timed-out action leaves Rasa silent: never the user
                    logger.warning("inbound %d: Rasa sent no reply; apologising", record.id)
                    replies = [
                        OutboundMessage(texts.text("technical_problem", conversation.language))
                    ]
            record.processed_at = utcnow()
            for reply in replies:
                session.add(
                    OutboxRecord(
                        conversation_id=conversation.id,
                        inbound_id=record.id,
                        body=reply.as_json(),
                        status="pending",
                        attempts=0,
                    )
                )
            with_buttons = [r for r in replies if r.buttons]
            if with_buttons:
                conversation.choices = [
                    {"title": b.title, "payload": b.payload} for b in with_buttons[-1].buttons
                ]
            await session.commit()
        self.outbox_ready.set()
        return True


async def pending_counts(session: AsyncSession) -> dict[str, int]:
    """How many inbound messages and outbox rows are waiting (for /health)."""
    inbound = await session.scalar(
        select(func.count()).select_from(InboundRecord).where(InboundRecord.status == "pending")
    )
    outbox = await session.scalar(
        select(func.count()).select_from(OutboxRecord).where(OutboxRecord.status == "pending")
    )
    return {"inbound_waiting": int(inbound or 0), "outbox_waiting": int(outbox or 0)}


async def reset_stale(session: AsyncSession) -> None:
    """Rows a crash left half-way are made pending again at start."""
    await session.execute(
        update(OutboxRecord).where(OutboxRecord.status == "sending").values(status="pending")
    )
    await session.commit()
