"""Retention: personal data older than its time is destroyed, on a schedule or on demand.

``UYUM_RETENTION_DAYS`` (180) bounds messages, replies, closed handovers, console events,
closed complaints, unanswered questions and Rasa's dialogue history; media references
(links to photos and voice notes on the platform) and shared locations go sooner, after
``UYUM_MEDIA_RETENTION_DAYS`` (30). A conversation silent for the retention period goes as
a whole unless the user still subscribes to announcements (their consent is the reason to
keep it). Anything still waiting to be handled or sent is never touched, and work is done in
short batches under the write gate, so live traffic goes on. Each run leaves one
:class:`DeletionRecord` with counts, never content.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Delete,
    Text,
    Update,
    cast,
    delete,
    exists,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import WriteGate
from bot.erasure import erase_conversation
from bot.models import (
    Complaint,
    ConsoleEvent,
    Conversation,
    DeletionRecord,
    Handover,
    HandoverNote,
    InboundRecord,
    OutboxRecord,
    Subscription,
    UnansweredQuestion,
    rasa_sender,
    utcnow,
)
from bot.rasa_tracker import RasaTrackers

logger = logging.getLogger(__name__)

BATCH = 500
ERASED_GRACE = dt.timedelta(hours=1)  # an erasure's confirmation that never went


@dataclass(frozen=True)
class RetentionPolicy:
    conversations: dt.timedelta = dt.timedelta(days=180)
    media: dt.timedelta = dt.timedelta(days=30)


def _ids(model: type, *where: ColumnElement[bool]) -> Delete:
    """Delete the next batch of ``model`` rows matching ``where`` (by id: short locks)."""
    batch = select(model.id).where(*where).limit(BATCH)  # type: ignore[attr-defined]
    return delete(model).where(model.id.in_(batch))  # type: ignore[attr-defined]


#: an inbound message that still holds links to media or a location (JSON null is none)
_has_media = or_(
    InboundRecord.media.is_not(None) & (cast(InboundRecord.media, Text) != "null"),
    InboundRecord.location.is_not(None) & (cast(InboundRecord.location, Text) != "null"),
)


def _steps(now: dt.datetime, policy: RetentionPolicy) -> list[tuple[str, Delete | Update]]:
    cutoff, media_cutoff = now - policy.conversations, now - policy.media
    old_handovers = select(Handover.id).where(
        Handover.state == "closed", Handover.closed_at < cutoff
    )
    return [
        (
            "media_references",
            update(InboundRecord)
            .where(
                InboundRecord.id.in_(
                    select(InboundRecord.id)
                    .where(_has_media, InboundRecord.received_at < media_cutoff)
                    .limit(BATCH)
                )
            )
            .values(media=null(), location=null()),  # SQL NULL (None: JSON null)
        ),
        (
            "messages",
            _ids(
                InboundRecord, InboundRecord.received_at < cutoff, InboundRecord.status != "pending"
            ),
        ),
        (
            "replies",
            _ids(
                OutboxRecord,
                OutboxRecord.created_at < cutoff,
                OutboxRecord.status.not_in(("pending", "sending", "held")),
            ),
        ),
        ("handover_notes", _ids(HandoverNote, HandoverNote.handover_id.in_(old_handovers))),
        ("handovers", _ids(Handover, Handover.id.in_(old_handovers))),
        ("console_events", _ids(ConsoleEvent, ConsoleEvent.at < cutoff)),
        (
            "complaints",
            _ids(
                Complaint,
                Complaint.status.in_(("resolved", "closed")),
                Complaint.updated_at < cutoff,
            ),
        ),
        ("unanswered_questions", _ids(UnansweredQuestion, UnansweredQuestion.at < cutoff)),
    ]


def _silent_conversations(now: dt.datetime, policy: RetentionPolicy) -> object:
    """Conversations whose user has not written for the retention period and keeps no
    subscription, with nothing waiting; and erased ones whose confirmation never went."""
    cutoff = now - policy.conversations
    waiting = or_(
        exists().where(
            InboundRecord.conversation_id == Conversation.id, InboundRecord.status == "pending"
        ),
        exists().where(
            OutboxRecord.conversation_id == Conversation.id,
            OutboxRecord.status.in_(("pending", "sending")),
        ),
    )
    silent = (
        Conversation.erased_at.is_(None)
        & (Conversation.last_inbound_at < cutoff)
        & ~exists().where(
            Subscription.conversation_id == Conversation.id, Subscription.revoked_at.is_(None)
        )
        & ~waiting
    )
    forgotten = Conversation.erased_at < now - ERASED_GRACE
    # locked (PostgreSQL): a user writing now waits, then starts a new conversation
    return (
        select(Conversation)
        .where(or_(silent, forgotten))
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )


async def purge(
    sessions: async_sessionmaker[AsyncSession],
    trackers: RasaTrackers,
    policy: RetentionPolicy,
    *,
    via: str,
    gate: WriteGate | None = None,
    now: dt.datetime | None = None,
) -> Counter[str]:
    """Destroy what is past its time; rows per kind (also written to the deletion log)."""
    started, now, gate = time.perf_counter(), now or utcnow(), gate or WriteGate()
    counts: Counter[str] = Counter()
    for name, statement in _steps(now, policy):
        while True:
            async with gate(), sessions() as session:
                done = int((await session.execute(statement)).rowcount or 0)  # type: ignore[attr-defined]
                await session.commit()
            counts[name] += done
            if done < BATCH:
                break
            await asyncio.sleep(0)  # let live traffic in between batches
    while True:
        async with gate(), sessions() as session:
            silent = (await session.scalars(_silent_conversations(now, policy))).all()  # type: ignore[call-overload]
            for conversation in silent:
                counts.update(await erase_conversation(session, conversation))
            await session.commit()
        if len(silent) < BATCH:
            break
    # Rasa's senders before the conversations: one made in between is not taken for an orphan
    held = await trackers.senders()
    async with sessions() as session:
        live = {rasa_sender(cid) for cid in await session.scalars(select(Conversation.id))}
    # events past their time, and those of conversations gone while Rasa's store was busy
    counts["dialogue_events"] = await trackers.delete_before(now - policy.conversations)
    counts["dialogue_events"] += await trackers.forget(sorted(held - live))
    counts = +counts
    async with gate(), sessions() as session:
        session.add(
            DeletionRecord(
                kind="purge", via=via, counts=dict(counts), seconds=time.perf_counter() - started
            )
        )
        await session.commit()
    logger.info("retention purge (%s): %s", via, dict(counts) or "nothing to destroy")
    return counts


class RetentionJob:
    """Runs :func:`purge` every ``interval`` seconds (the first run a minute after start)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        trackers: RasaTrackers,
        policy: RetentionPolicy,
        gate: WriteGate,
        interval: float,
        *,
        first_delay: float = 60.0,
    ) -> None:
        self._sessions, self._trackers, self._policy = sessions, trackers, policy
        self._gate, self._interval, self._first_delay = gate, interval, first_delay

    async def run(self) -> None:
        await asyncio.sleep(self._first_delay)
        while True:
            try:
                await purge(
                    self._sessions, self._trackers, self._policy, via="schedule", gate=self._gate
                )
            except Exception:  # the next run tries again; a failed purge must not stop the gateway
                logger.exception("retention purge failed")
            await asyncio.sleep(self._interval)
