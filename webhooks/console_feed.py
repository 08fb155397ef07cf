"""Live updates for open consoles: new rows of ``console_events``, fanned out over SSE.

The worker (another process) and the API write the events in their own transactions;
one task per gateway reads the new ones a few times a second and hands them to every
open event stream. Consoles then fetch what changed through the API, which checks rights.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import WriteGate
from bot.models import ConsoleEvent, utcnow

logger = logging.getLogger(__name__)
KEEP = dt.timedelta(days=1)  # events are only a wake-up call; the data lives elsewhere
QUEUE_SIZE = 100


class ConsoleFeed:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], gate: WriteGate, interval: float = 0.2
    ) -> None:
        self._sessions, self._gate, self._interval = sessions, gate, interval
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._last_id = 0
        self._caught_up = False

    async def run(self) -> None:
        async with self._sessions() as session, self._gate():
            await session.execute(delete(ConsoleEvent).where(ConsoleEvent.at < utcnow() - KEEP))
            await session.commit()
        while True:
            try:
                await self._poll()
            except Exception:  # a busy database must not end live updates for good
                logger.exception("console feed could not read events")
            await asyncio.sleep(self._interval)

    async def _poll(self) -> None:
        if not self._subscribers:  # nobody watches: no query on the gateway's hot path
            self._caught_up = False
            return
        async with self._sessions() as session:
            if not self._caught_up:  # only what happens from now on matters to new pages
                self._last_id = int(await session.scalar(select(func.max(ConsoleEvent.id))) or 0)
                self._caught_up = True
            rows = (
                await session.scalars(
                    select(ConsoleEvent)
                    .where(ConsoleEvent.id > self._last_id)
                    .order_by(ConsoleEvent.id)
                    .limit(500)
                )
            ).all()
        for row in rows:
            self._last_id = row.id
            event = {
                "kind": row.kind,
                "handover_id": row.handover_id,
                "conversation_id": row.conversation_id,
            }
            for queue in list(self._subscribers):
                with contextlib.suppress(asyncio.QueueFull):  # a stalled page just refetches
                    queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)
