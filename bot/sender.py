"""The sender: delivers outbox rows through the channel adapters, in order, with retries."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Conversation, OutboxRecord, utcnow
from channels.base import ChannelAdapter
from channels.messages import OutboundMessage

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (1, 2, 5, 15, 60, 300)


class OutboxSender:
    """Sends the oldest pending row of each conversation; the next waits until it is sent."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        adapters: Callable[[str], ChannelAdapter | None],
        ready: asyncio.Event,
        *,
        poll_interval: float = 0.5,
    ) -> None:
        self._sessions = sessions
        self._adapters = adapters
        self._ready = ready
        self._poll = poll_interval
        self.alive = False

    async def run(self) -> None:
        self.alive = True
        try:
            while True:
                sent = await self.send_due()
                if not sent:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._ready.wait(), self._poll)
                    self._ready.clear()
        finally:
            self.alive = False

    async def send_due(self) -> int:
        """Send what is due now; returns how many rows were delivered."""
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(OutboxRecord)
                    .where(OutboxRecord.status == "pending")
                    .order_by(OutboxRecord.id)
                    .limit(200)
                )
            ).all()
            heads: dict[int, OutboxRecord] = {}
            for row in rows:  # only the oldest pending row of each conversation may go
                heads.setdefault(row.conversation_id, row)
            now = utcnow()
            due = [r for r in heads.values() if _aware(r.next_attempt_at) <= now]
            results = await asyncio.gather(*(self._deliver(session, r) for r in due))
            await session.commit()
        return sum(results)

    async def _deliver(self, session: AsyncSession, row: OutboxRecord) -> int:
        conversation = await session.get(Conversation, row.conversation_id)
        adapter = self._adapters(conversation.channel) if conversation else None
        if conversation is None or adapter is None:
            row.status, row.last_error = "failed", "no adapter for this channel"
            return 0
        delivery = await adapter.send(conversation.user_ref, OutboundMessage.from_json(row.body))
        row.attempts += 1
        if delivery.ok:
            row.status, row.sent_at, row.platform_id = "sent", utcnow(), delivery.platform_id
            return 1
        row.last_error = (delivery.error or "unknown error")[:300]
        if delivery.permanent or row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            logger.error("outbox %d failed for good after %d attempts", row.id, row.attempts)
            return 0
        wait = delivery.retry_after or BACKOFF_SECONDS[min(row.attempts, len(BACKOFF_SECONDS)) - 1]
        row.next_attempt_at = utcnow() + dt.timedelta(seconds=wait)
        logger.warning("outbox %d: retry in %.0f s", row.id, wait)
        return 0


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
