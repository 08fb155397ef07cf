"""The sender: delivers outbox rows through the channel adapters, exactly once and in order.

Per conversation only the oldest pending row may go, and the next one waits until it is
sent. Each row is marked in its own transaction right after the platform accepted it. A
crash can therefore repeat a reply that was on the wire at that moment (a reply must not be
lost). An announcement is marked ``sending`` before it goes instead, and one found in that
state after a crash is not sent again (it may have arrived; a second copy to thousands of
people is worse than a missing one): it is recorded as failed with that reason. Platform limits
are honoured per channel (messages per second overall, seconds between two messages to
one chat) and ``retry_after`` answers postpone the row. WhatsApp's rules are applied here:
outside the 24-hour window only templates go (the rest is held until the user writes),
and users who opted out get no proactive messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy import Delete, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.db import WriteGate
from bot.group_commit import GroupCommit
from bot.identities import Identities
from bot.models import Conversation, OutboxRecord, aware, utcnow
from bot.rate_limit import PacedLimiter
from channels.base import ChannelAdapter
from channels.messages import Delivery, OutboundMessage
from common.errors import ConfigError

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = (1, 2, 5, 15, 60, 300)
SESSION_WINDOW = dt.timedelta(hours=24)
HEADS_PER_ROUND = 200  # conversations looked at per round (due first)
MIN_ROUND_SECONDS = 0.005
INTERRUPTED = "interrupted while sending; not sent again (it may have arrived)"


_EARLIER = aliased(OutboxRecord)
#: per conversation only its oldest pending row may go; due first; the indexes make this
#: independent of how much is waiting (built once: it runs on every round)
_DUE_HEADS = (
    select(
        OutboxRecord.id, OutboxRecord.conversation_id, OutboxRecord.next_attempt_at,
        Conversation.channel,
    )
    .join(Conversation, Conversation.id == OutboxRecord.conversation_id)
    .where(
        OutboxRecord.status == "pending",
        ~exists().where(
            _EARLIER.conversation_id == OutboxRecord.conversation_id,
            _EARLIER.status == "pending",
            _EARLIER.id < OutboxRecord.id,
        ),
    )
    .order_by(OutboxRecord.next_attempt_at, OutboxRecord.id)
    .limit(HEADS_PER_ROUND)
)  # fmt: skip


def _forget(conversation_id: int) -> Delete:
    """An erased user's conversation, once the confirmation went (its outbox row cascades); a
    user who wrote again meanwhile lifted the mark and keeps the conversation."""
    return delete(Conversation).where(
        Conversation.id == conversation_id, Conversation.erased_at.is_not(None)
    )


class OutboxSender:
    """Delivers pending outbox rows; many conversations at once, each strictly in order."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        adapters: Callable[[str], ChannelAdapter | None],
        ready: asyncio.Event,
        *,
        identities: Identities,
        poll_interval: float = 0.5,
        max_in_flight: int = 32,  # per channel
        gate: WriteGate | None = None,
    ) -> None:
        self._sessions = sessions
        self._identities = identities
        self._gate = gate or WriteGate()
        self.writes = GroupCommit(sessions, self._gate)  # marks, sent rows, delivery reports
        self._adapters = adapters
        self._ready = ready
        self._poll = poll_interval
        self._max_in_flight = max_in_flight
        self._in_flight: set[int] = set()  # conversation ids with a send on the wire
        self._busy: Counter[str] = Counter()  # sends on the wire (or waiting) per channel
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_sent: dict[int, float] = {}  # conversation id → time.monotonic()
        self._limiters: dict[str, PacedLimiter] = {}
        self.alive = False

    async def run(self) -> None:
        await self.interrupted()
        self.alive = True
        try:
            while True:
                wait = await self.start_due()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._ready.wait(), min(wait, self._poll))
                self._ready.clear()
                await asyncio.sleep(MIN_ROUND_SECONDS)  # a burst of wake-ups makes one round
        finally:
            self.alive = False
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def interrupted(self, row_id: int | None = None) -> int:
        """Announcements left ``sending`` (all at start, after a crash; or one whose delivery
        crashed): recorded as failed, not sent again.

        Only one sender runs per database on the embedded profile, so at its start nothing
        else can be sending.
        """
        query = update(OutboxRecord).where(OutboxRecord.status == "sending")
        if row_id is not None:
            query = query.where(OutboxRecord.id == row_id)
        count = await self.writes.execute(query.values(status="failed", last_error=INTERRUPTED))
        if count:
            logger.warning("%d announcements were interrupted on the wire; not sent again", count)
        return count

    async def start_due(self) -> float:
        """Start sending every row that is due; returns seconds until the next one is."""
        async with self._sessions() as session:
            rows = (await session.execute(_DUE_HEADS)).tuples()
            heads = {chat: (row_id, at, channel) for row_id, chat, at, channel in rows}
        now, clock = utcnow(), time.monotonic()
        if len(self._last_sent) > 10_000:  # only recent sends matter for the per-chat gap
            self._last_sent = {k: v for k, v in self._last_sent.items() if clock - v < 60}
        wait = self._poll
        for conversation_id, (row_id, next_attempt, channel) in heads.items():
            if conversation_id in self._in_flight:
                continue
            if self._busy[channel] >= self._max_in_flight:
                wait = min(wait, 0.05)  # this channel is at its limit; others may still go
                continue
            not_before = (aware(next_attempt) - now).total_seconds()
            if not_before > 0:  # and so are all after it
                return min(wait, not_before)
            self._in_flight.add(conversation_id)
            self._busy[channel] += 1
            task = asyncio.create_task(self._deliver(row_id, conversation_id, channel, clock))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return wait

    async def _deliver(self, row_id: int, conversation_id: int, channel: str, clock: float) -> None:
        try:
            await self._deliver_row(row_id, clock)
        except Exception:
            logger.exception("outbox %d: delivery crashed; a reply is retried", row_id)
            await self.interrupted(row_id)
            await asyncio.sleep(1.0)
        finally:
            self._in_flight.discard(conversation_id)
            self._busy[channel] -= 1
            self._ready.set()

    async def _deliver_row(self, row_id: int, clock: float) -> None:
        """Read the row, send it with no database connection held, then record the answer."""
        async with self._sessions() as session:
            row = await session.get(OutboxRecord, row_id)
            if row is None or row.status != "pending":
                return
            conversation = await session.get(Conversation, row.conversation_id)
            adapter = self._adapters(conversation.channel) if conversation else None
            message = OutboundMessage.from_json(row.body)
            blocked = (
                ("failed", "no adapter for this channel")
                if conversation is None or adapter is None
                else _blocked(row, conversation, adapter, message)
            )
            address = self._address(conversation)
            if conversation and address is None:
                blocked = ("failed", "no address for this user that the configured keys open")
            if blocked:
                row.status, row.last_error = blocked
                logger.warning("outbox %d %s: %s", row.id, row.status, row.last_error)
                async with self._gate():
                    await session.commit()
                return
            assert conversation is not None and adapter is not None and address is not None
            conversation_id, at_most_once, erased = (
                conversation.id,
                row.kind == "proactive",
                conversation.erased_at is not None,
            )
        gap = self._last_sent.get(conversation_id, -1e9) + adapter.chat_interval - clock
        if gap > 0:
            await asyncio.sleep(gap)
        # two pacers at the platform's rate: the first schedules the rows, the second spaces
        # the sends themselves, as marks that waited for the database come free together
        async with self._limiter(adapter.name, adapter.max_per_second):
            if at_most_once and not await self._mark_sending(row_id):
                return  # cancelled meanwhile
        async with self._limiter(f"{adapter.name} wire", adapter.max_per_second):
            delivery = await adapter.send(address, message)
        self._last_sent[conversation_id] = time.monotonic()
        if delivery.ok and erased and await self.writes.execute(_forget(conversation_id)):
            return  # an erasure's confirmation went: the user's last trace went with it
        if delivery.ok:  # the common case: one statement, committed with others
            sent = (
                update(OutboxRecord)
                .where(OutboxRecord.id == row_id)
                .values(
                    status="sent",
                    sent_at=utcnow(),
                    platform_id=delivery.platform_id,
                    last_error=None,
                    attempts=OutboxRecord.attempts + 1,
                )
            )
            await self.writes.execute(sent)
            return
        async with self._sessions() as session:
            row = await session.get(OutboxRecord, row_id)
            conversation = await session.get(Conversation, conversation_id)
            assert row is not None and conversation is not None
            _failed(row, conversation, delivery)
            async with self._gate():
                await session.commit()

    def _address(self, conversation: Conversation | None) -> str | None:
        """The user's platform id, or None when there is none the configured keys open."""
        if conversation is None or not conversation.address:
            return None
        try:
            return self._identities.open(conversation.address)
        except ConfigError:
            logger.error("conversation %d: its address does not open", conversation.id)
            return None

    async def _mark_sending(self, row_id: int) -> bool:
        marked = await self.writes.execute(
            update(OutboxRecord)
            .where(OutboxRecord.id == row_id, OutboxRecord.status == "pending")
            .values(status="sending")
        )
        return marked > 0

    def _limiter(self, name: str, rate: float) -> PacedLimiter:
        if name not in self._limiters:
            self._limiters[name] = PacedLimiter(rate)
        return self._limiters[name]


def _blocked(
    row: OutboxRecord, conversation: Conversation, adapter: ChannelAdapter, message: OutboundMessage
) -> tuple[str, str] | None:
    """(status, reason) when this row must not go now."""
    if row.kind == "proactive" and conversation.opted_out_at is not None:
        return "skipped", "the user opted out of proactive messages"
    if row.kind == "proactive" and conversation.unreachable_at is not None:
        return "skipped", "the user cannot be reached (blocked the bot or left)"
    if adapter.session_window and message.template is None:
        last = conversation.last_inbound_at
        if last is None or utcnow() - aware(last) > SESSION_WINDOW:
            if row.kind == "proactive":  # an announcement is not held for days
                return "skipped", "outside the WhatsApp 24-hour window and no template"
            return "held", "outside the WhatsApp 24-hour window; goes when the user writes"
    return None


def _failed(row: OutboxRecord, conversation: Conversation, delivery: Delivery) -> None:
    """A send the platform refused: retried later, or failed for good."""
    row.attempts += 1
    row.status, row.last_error = "pending", (delivery.error or "unknown error")[:300]
    if delivery.user_gone:
        conversation.unreachable_at = utcnow()
    if delivery.permanent or row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        logger.error("outbox %d failed for good after %d attempts", row.id, row.attempts)
        return
    wait = delivery.retry_after or BACKOFF_SECONDS[min(row.attempts, len(BACKOFF_SECONDS)) - 1]
    row.next_attempt_at = utcnow() + dt.timedelta(seconds=wait)
    logger.warning("outbox %d: %s; retry in %.1f s", row.id, row.last_error, wait)
