"""Sends approved broadcasts when their time comes: fan-out in batches, then follow-up.

Runs in the gateway next to the outbox sender. Every batch is one transaction (recipients
and their outbox rows), so a kill between batches resumes exactly where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import broadcasts
from bot.broadcasts import FallbackOrder
from bot.db import WriteGate
from bot.models import Broadcast, BroadcastRecipient, OutboxRecord, utcnow
from channels.base import ChannelAdapter

logger = logging.getLogger(__name__)
#: recipients queued per transaction: small, so the sends already queued keep their pace
#: while the rest is being queued (the write gate is shared)
FAN_OUT_BATCH = 100


class BroadcastRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gate: WriteGate,
        adapters: Callable[[str], ChannelAdapter | None],
        fallback_order: FallbackOrder,
        outbox_ready: asyncio.Event,
        *,
        interval: float = 1.0,
    ) -> None:
        self._sessions, self._gate, self._adapters = sessions, gate, adapters
        self._fallback_order, self._outbox_ready = fallback_order, outbox_ready
        self._interval = interval
        self.alive = False

    async def run(self) -> None:
        self.alive = True
        try:
            while True:
                try:
                    await self.step()
                except Exception:  # one bad broadcast must not stop the others
                    logger.exception("broadcast runner failed; trying again")
                await asyncio.sleep(self._interval)
        finally:
            self.alive = False

    async def step(self) -> None:
        async with self._sessions() as session:
            due = (
                await session.scalars(
                    select(Broadcast.id).where(
                        Broadcast.state.in_(("approved", "sending")), Broadcast.send_at <= utcnow()
                    )
                )
            ).all()
        for broadcast_id in due:
            await self._send(broadcast_id)

    async def _send(self, broadcast_id: int) -> None:
        while True:
            async with self._sessions() as session, self._gate():
                broadcast = await session.get(Broadcast, broadcast_id)
                if broadcast is None or broadcast.state not in ("approved", "sending"):
                    return  # cancelled meanwhile
                if broadcast.state == "approved":
                    broadcast.state, broadcast.started_at = "sending", utcnow()
                    logger.info("broadcast %d: sending", broadcast_id)
                queued = await broadcasts.fan_out_batch(
                    session, broadcast, self._adapters, self._fallback_order, batch=FAN_OUT_BATCH
                )
                if queued == 0 and not await _anything_pending(session, broadcast_id):
                    broadcast.state, broadcast.finished_at = "sent", utcnow()
                    logger.info("broadcast %d: sent", broadcast_id)
                await session.commit()
            self._outbox_ready.set()
            if queued == 0:
                return


async def _anything_pending(session: AsyncSession, broadcast_id: int) -> bool:
    pending = exists().where(
        BroadcastRecipient.broadcast_id == broadcast_id,
        OutboxRecord.id == BroadcastRecipient.outbox_id,
        OutboxRecord.status.in_(("pending", "sending")),
    )
    return bool(await session.scalar(select(pending)))
