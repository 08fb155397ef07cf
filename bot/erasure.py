"""The right to erasure: everything Uyum holds about one user, gone in one transaction.

Asked for in conversation ("delete my data", confirmed with a button or a yes), from the
command line (``uyum data erase``) or through the admin API. What goes: the user's messages
and replies, handovers and their notes, subscriptions, announcement deliveries, complaints
they gave their name to, console events, the conversation itself and Rasa's tracker of it.
What stays: one :class:`DeletionRecord` with counts, and the figures that never named the
user (answers given, 👍/👎, daily message counts, the redacted unanswered questions).

An erasure asked for in conversation keeps the conversation row (language and encrypted
address, nothing else) until its confirmation is sent; the sender then deletes it
(``bot/sender.py``), and the retention purge removes any such row left behind.
Requests for a user who does not exist look exactly like any other: the same answer, a
record with zero counts.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter

from sqlalchemy import Delete, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import WriteGate
from bot.identities import Identities
from bot.models import (
    BroadcastRecipient,
    Complaint,
    ConsoleEvent,
    Conversation,
    DeletionRecord,
    Handover,
    HandoverNote,
    InboundRecord,
    OutboxRecord,
    Subscription,
    utcnow,
)
from bot.rasa_tracker import RasaTrackers
from common.errors import BadRequestError

logger = logging.getLogger(__name__)

_PHONE_NOISE = re.compile(r"[\s\-().]")


def _statements(conversation_id: int) -> list[tuple[str, Delete]]:
    """What one conversation leaves behind, children before parents."""
    handovers = select(Handover.id).where(Handover.conversation_id == conversation_id)
    return [
        ("handover_notes", delete(HandoverNote).where(HandoverNote.handover_id.in_(handovers))),
        ("handovers", delete(Handover).where(Handover.conversation_id == conversation_id)),
        (
            "announcement_deliveries",
            delete(BroadcastRecipient).where(BroadcastRecipient.conversation_id == conversation_id),
        ),
        ("replies", delete(OutboxRecord).where(OutboxRecord.conversation_id == conversation_id)),
        ("messages", delete(InboundRecord).where(InboundRecord.conversation_id == conversation_id)),
        (
            "subscriptions",
            delete(Subscription).where(Subscription.conversation_id == conversation_id),
        ),
        ("complaints", delete(Complaint).where(Complaint.conversation_id == conversation_id)),
        (
            "console_events",
            delete(ConsoleEvent).where(ConsoleEvent.conversation_id == conversation_id),
        ),
    ]


async def erase_conversation(
    session: AsyncSession, conversation: Conversation, *, keep_for_reply: bool = False
) -> Counter[str]:
    """Delete what the conversation holds, in the caller's transaction; rows per table.

    ``keep_for_reply``: the conversation row stays, marked erased, with only its channel,
    language, encrypted address and times, so the confirmation written after this can still
    be delivered (the sender then deletes it).
    """
    counts: Counter[str] = Counter()
    if keep_for_reply:  # marked first: the row is locked, a message arriving now waits for us
        conversation.erased_at, conversation.notice_at = utcnow(), None
        await session.flush()
    for name, statement in _statements(conversation.id):
        result = await session.execute(statement, execution_options={"synchronize_session": False})
        counts[name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if keep_for_reply:
        conversation.mode, conversation.choices, conversation.province = "bot", [], None
        conversation.opted_out_at = None
    else:
        await session.delete(conversation)
    counts["conversations"] = 1
    return +counts


def record(session: AsyncSession, via: str, counts: Counter[str], started: float) -> DeletionRecord:
    """The erasure's trace: how much went, how long it took; never whose."""
    entry = DeletionRecord(
        kind="erasure", via=via, counts=dict(counts), seconds=time.perf_counter() - started
    )
    session.add(entry)
    return entry


def platform_user_id(channel: str, user: str) -> str:
    """The id a platform knows the user by, as the webhooks store it.

    WhatsApp numbers are accepted as written ("+90 555 123 45 67") and stored the way
    Twilio sends them ("whatsapp:+905551234567"); others are taken as given.
    """
    user = user.strip()
    if not user:
        raise BadRequestError("no user given")
    if channel == "whatsapp":
        number = _PHONE_NOISE.sub("", user.removeprefix("whatsapp:"))
        if not re.fullmatch(r"\+?\d{6,16}", number):
            raise BadRequestError(
                "that is not a phone number", hint="write it with its country code: +90 555 …"
            )
        return "whatsapp:" + (number if number.startswith("+") else f"+{number}")
    return user


async def erase_user(
    session: AsyncSession,
    identities: Identities,
    trackers: RasaTrackers,
    channel: str,
    user: str,
    *,
    via: str,
    gate: WriteGate | None = None,
) -> None:
    """Erase one user of one channel (CLI, admin API); the caller hears the same whether the
    user existed or not (only the deletion log, for admins, counts what went).

    The app's rows go in one transaction, then Rasa's events (should that fail, the retention
    purge sweeps events whose conversation is gone); the record then gets their count.
    """
    gate = gate or WriteGate()
    started = time.perf_counter()
    ref = identities.pseudonym(channel, platform_user_id(channel, user))
    async with gate():
        conversation = await session.scalar(
            select(Conversation)
            .where(Conversation.channel == channel, Conversation.user_ref == ref)
            .with_for_update()
        )
        sender = conversation.rasa_sender if conversation else None
        counts: Counter[str] = Counter()
        if conversation is not None:
            counts = await erase_conversation(session, conversation)
        entry = record(session, via, counts, started)
        await session.commit()
    if sender:
        try:
            events = await trackers.forget([sender])
        except Exception:
            logger.exception("erasing the dialogue history failed; the purge will")
            return
        async with gate():
            entry.counts = {**entry.counts, "dialogue_events": events}
            entry.seconds = time.perf_counter() - started
            await session.commit()
    logger.info("erasure done (%s)", via)


async def pseudonymise_legacy(session: AsyncSession, identities: Identities) -> int:
    """Conversations stored before pseudonyms (raw id, no address): converted in place."""
    rows = (
        await session.scalars(
            select(Conversation).where(
                Conversation.address.is_(None), Conversation.erased_at.is_(None)
            )
        )
    ).all()
    for conversation in rows:
        raw = conversation.user_ref
        conversation.address = identities.seal(raw)
        conversation.user_ref = identities.pseudonym(conversation.channel, raw)
    await session.commit()
    return len(rows)


async def rotate_keys(session: AsyncSession, identities: Identities, *, batch: int = 500) -> int:
    """Re-encrypt every stored address under the newest key; how many."""
    done, last = 0, 0
    while True:
        rows = (
            await session.scalars(
                select(Conversation)
                .where(Conversation.id > last, Conversation.address.is_not(None))
                .order_by(Conversation.id)
                .limit(batch)
            )
        ).all()
        if not rows:
            return done
        for conversation in rows:
            conversation.address = identities.reseal(conversation.address or "")
        last = rows[-1].id
        done += len(rows)
        await session.commit()
