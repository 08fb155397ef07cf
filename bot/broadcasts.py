"""Announcements to subscribers: write, check, approve by a second person, fan out, follow.

A broadcast moves ``draft → approved → sending → sent`` (or ``cancelled``). Fan-out writes,
per batch and in one transaction, a ``broadcast_recipients`` row (unique per user: a crash
and restart never queue anyone twice) and a ``proactive`` outbox row, so delivery goes
through the same sender as replies, with the same platform limits, opt-out and retries.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import audit
from bot.models import (
    Broadcast,
    BroadcastRecipient,
    Conversation,
    Operator,
    OutboxRecord,
    Subscription,
    aware,
    utcnow,
)
from bot.outbox import outbox_values
from bot.sender import SESSION_WINDOW
from bot.topics import REQUIRED_LANGUAGES, Topic
from channels.base import (
    CONTENT_VARIABLE_LIMIT,
    SESSION_WINDOW_CHANNELS,
    ChannelAdapter,
    fits_content_variable,
)
from channels.messages import OutboundMessage, Template
from common.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from knowledge_base.language import SUPPORTED

logger = logging.getLogger(__name__)
MAX_TEXT = 4000
BATCH = 500
WRITERS = ("editor", "supervisor", "admin")
APPROVERS = ("supervisor", "admin")
FallbackOrder = Callable[[str], list[str]]


@dataclass(frozen=True)
class Draft:
    title: str
    topics: list[str]
    translations: dict[str, str]
    missing_translation: str = "fallback"  # or "skip"
    languages: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    provinces: list[str] = field(default_factory=list)
    template_sid: str | None = None
    send_at: dt.datetime | None = None  # None: as soon as it is approved


def check_draft(draft: Draft, topics: Sequence[Topic], now: dt.datetime) -> None:
    """Refuse, with the reason, what must never be sent."""
    known = {t.id for t in topics}
    if not draft.title.strip():
        raise BadRequestError("a broadcast needs a title (for the office; users do not see it)")
    if not draft.topics or any(t not in known for t in draft.topics):
        raise BadRequestError(f"topics must be some of: {', '.join(sorted(known))}")
    if draft.missing_translation not in ("fallback", "skip"):
        raise BadRequestError("missing_translation is 'fallback' or 'skip'")
    required = [
        lang for lang in REQUIRED_LANGUAGES if not draft.languages or lang in draft.languages
    ]
    missing = [lang for lang in required if not draft.translations.get(lang, "").strip()]
    if missing:
        raise BadRequestError(f"the announcement has no text in {', '.join(missing)}")
    for lang, text in draft.translations.items():
        if len(text) > MAX_TEXT:
            raise BadRequestError(f"the {lang} text is over {MAX_TEXT} characters")
        if draft.template_sid and not fits_content_variable(text):
            raise BadRequestError(
                f"the {lang} text cannot fill a WhatsApp template variable "
                f"(at most {CONTENT_VARIABLE_LIMIT} characters, one line)"
            )
    if draft.send_at is not None and aware(draft.send_at) < now - dt.timedelta(minutes=1):
        raise BadRequestError("the send time is in the past")


async def create(
    session: AsyncSession, draft: Draft, topics: Sequence[Topic], author: Operator
) -> Broadcast:
    if author.role not in WRITERS:
        raise ForbiddenError("editors, supervisors and admins write broadcasts")
    now = utcnow()
    check_draft(draft, topics, now)
    broadcast = Broadcast(
        title=draft.title.strip(),
        topics=list(dict.fromkeys(draft.topics)),
        translations={k: v.strip() for k, v in draft.translations.items() if v.strip()},
        missing_translation=draft.missing_translation,
        languages=draft.languages,
        channels=draft.channels,
        provinces=draft.provinces,
        template_sid=draft.template_sid or None,
        send_at=draft.send_at or now,
        state="draft",
        created_by=author.id,
        created_at=now,
    )
    session.add(broadcast)
    await session.flush()
    audit(session, author.id, "broadcast_created", broadcast_id=broadcast.id)
    return broadcast


async def get(session: AsyncSession, broadcast_id: int) -> Broadcast:
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFoundError(f"no broadcast {broadcast_id}")
    return broadcast


def audience(
    broadcast: Broadcast, after: int = 0
) -> Select[int, str | None, str, dt.datetime | None]:
    """Subscribers of the topics who match the filters and have not opted out, by id, from
    after ``after`` (the bound is on both tables: PostgreSQL does not carry it across the join
    and would read every subscription for each batch)."""
    subscribed = exists().where(
        Subscription.conversation_id == Conversation.id,
        Subscription.conversation_id > after,
        Subscription.revoked_at.is_(None),
        Subscription.topic.in_(broadcast.topics),
    )
    query = select(
        Conversation.id, Conversation.language, Conversation.channel, Conversation.last_inbound_at
    ).where(
        subscribed,
        Conversation.id > after,
        Conversation.opted_out_at.is_(None),
        Conversation.unreachable_at.is_(None),
    )
    if broadcast.languages:
        query = query.where(Conversation.language.in_(broadcast.languages))
    if broadcast.channels:
        query = query.where(Conversation.channel.in_(broadcast.channels))
    if broadcast.provinces:
        query = query.where(Conversation.province.in_(broadcast.provinces))
    return query.order_by(Conversation.id)


@dataclass(frozen=True)
class Planned:
    """What one recipient gets: a message, or the reason they get none."""

    language: str
    message: OutboundMessage | None
    skipped: str | None = None


def plan(
    broadcast: Broadcast,
    language: str | None,
    channel_window: bool,
    last_inbound_at: dt.datetime | None,
    fallback_order: FallbackOrder,
    now: dt.datetime,
) -> Planned:
    lang = language or "en"
    order = fallback_order(lang) if broadcast.missing_translation == "fallback" else [lang]
    chosen = next((code for code in order if code in broadcast.translations), None)
    if chosen is None:
        return Planned(lang, None, "no translation in the user's language")
    text = broadcast.translations[chosen]
    outside = last_inbound_at is None or now - aware(last_inbound_at) > SESSION_WINDOW
    if channel_window and outside:
        if not broadcast.template_sid:
            return Planned(chosen, None, "outside the WhatsApp 24-hour window, no template")
        return Planned(
            chosen, OutboundMessage(text, template=Template(broadcast.template_sid, {"1": text}))
        )
    return Planned(chosen, OutboundMessage(text))


async def dry_run(
    session: AsyncSession, broadcast: Broadcast, fallback_order: FallbackOrder
) -> dict[str, Any]:
    """Recipient counts per language, channel and reason for skipping; nothing is written."""
    now = utcnow()
    languages: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for _, language, channel, last in (await session.execute(audience(broadcast))).all():
        window = channel in SESSION_WINDOW_CHANNELS
        planned = plan(broadcast, language, window, last, fallback_order, now)
        if planned.message is None:
            skipped[planned.skipped or "?"] += 1
        else:
            languages[planned.language] += 1
            channels[channel] += 1
    return {
        "recipients": sum(languages.values()),
        "by_language": dict(languages),
        "by_channel": dict(channels),
        "skipped": dict(skipped),
    }


def preview(broadcast: Broadcast, fallback_order: FallbackOrder) -> dict[str, dict[str, str]]:
    """Per language of the audience: the text users get and which translation it is."""
    languages = broadcast.languages or sorted({*SUPPORTED, *broadcast.translations})
    shown = {}
    for lang in languages:
        order = fallback_order(lang) if broadcast.missing_translation == "fallback" else [lang]
        chosen = next((code for code in order if code in broadcast.translations), None)
        if chosen is not None:
            shown[lang] = {"language": chosen, "text": broadcast.translations[chosen]}
    return shown


async def approve(
    session: AsyncSession, broadcast: Broadcast, approver: Operator, fallback_order: FallbackOrder
) -> dict[str, Any]:
    if approver.role not in APPROVERS:
        raise ForbiddenError("a supervisor approves broadcasts")
    if approver.id == broadcast.created_by:
        raise ForbiddenError("a second person must approve: not the one who wrote it")
    if broadcast.state != "draft":
        raise ConflictError(f"this broadcast is {broadcast.state}, not a draft")
    counts = await dry_run(session, broadcast, fallback_order)
    if counts["recipients"] == 0:
        raise BadRequestError("nobody would receive this broadcast (an empty audience)")
    broadcast.state, broadcast.approved_by, broadcast.approved_at = (
        "approved",
        approver.id,
        utcnow(),
    )
    audit(session, approver.id, "broadcast_approved", broadcast_id=broadcast.id)
    return counts


async def cancel(session: AsyncSession, broadcast: Broadcast, operator: Operator) -> int:
    """Stop the rest: nothing more is queued and queued messages are not sent."""
    if operator.role not in WRITERS:
        raise ForbiddenError("editors, supervisors and admins cancel broadcasts")
    if broadcast.state in ("sent", "cancelled"):
        raise ConflictError(f"this broadcast is already {broadcast.state}")
    broadcast.state = "cancelled"
    queued = select(BroadcastRecipient.outbox_id).where(
        BroadcastRecipient.broadcast_id == broadcast.id
    )
    stopped = await session.execute(
        update(OutboxRecord)
        .where(OutboxRecord.id.in_(queued), OutboxRecord.status.in_(("pending", "held")))
        .values(status="skipped", last_error="broadcast cancelled")
        .execution_options(synchronize_session=False)
    )
    audit(session, operator.id, "broadcast_cancelled", broadcast_id=broadcast.id)
    return int(stopped.rowcount or 0)  # type: ignore[attr-defined]


async def fan_out_batch(
    session: AsyncSession,
    broadcast: Broadcast,
    adapters: Callable[[str], ChannelAdapter | None],
    fallback_order: FallbackOrder,
    batch: int = BATCH,
) -> int:
    """Queue the next ``batch`` recipients (after the last one queued); 0 when none are left."""
    after = await session.scalar(
        select(func.max(BroadcastRecipient.conversation_id)).where(
            BroadcastRecipient.broadcast_id == broadcast.id
        )
    )
    query = audience(broadcast, after or 0).limit(batch)
    rows = (await session.execute(query)).all()
    now = utcnow()
    recipients: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []  # outbox rows, written in one statement
    last_piece: dict[int, int] = {}  # recipient's index -> its last outbox row's index
    for conversation_id, language, channel, last in rows:
        planned = plan(
            broadcast, language, channel in SESSION_WINDOW_CHANNELS, last, fallback_order, now
        )
        if planned.message is not None:
            adapter = adapters(channel)
            for piece in adapter.render(planned.message) if adapter else [planned.message]:
                messages.append(outbox_values(conversation_id, None, piece, "proactive"))
            last_piece[len(recipients)] = len(messages) - 1
        recipients.append(
            {
                "broadcast_id": broadcast.id,
                "conversation_id": conversation_id,
                "language": planned.language,
                "status": "skipped" if planned.message is None else "queued",
                "reason": planned.skipped,
                "outbox_id": None,
            }
        )
    if messages:  # bulk statements: the write gate is held for milliseconds, not seconds
        ids = (
            await session.scalars(
                insert(OutboxRecord).returning(OutboxRecord.id, sort_by_parameter_order=True),
                messages,
            )
        ).all()
        for index, row_index in last_piece.items():
            recipients[index]["outbox_id"] = ids[row_index]
    if recipients:
        await session.execute(insert(BroadcastRecipient), recipients)
    return len(rows)


async def status(session: AsyncSession, broadcast: Broadcast) -> dict[str, Any]:
    """Per-recipient fate: queued, sent, delivered, read, failed, skipped."""
    fates = (BroadcastRecipient.status, OutboxRecord.status, OutboxRecord.delivery_status)
    rows = await session.execute(  # a few groups, not a row per recipient (the console polls)
        select(*fates, func.count())
        .select_from(BroadcastRecipient)
        .outerjoin(OutboxRecord, OutboxRecord.id == BroadcastRecipient.outbox_id)
        .where(BroadcastRecipient.broadcast_id == broadcast.id)
        .group_by(*fates)
    )
    counts: Counter[str] = Counter()
    for recipient, outbox, delivery, n in rows.all():
        if recipient == "skipped" or outbox == "skipped":
            counts["skipped"] += n
        elif outbox in ("pending", "sending", "held"):
            counts["queued"] += n
        elif outbox == "failed" or delivery in ("failed", "undelivered"):
            counts["failed"] += n
        else:
            counts[delivery if delivery in ("delivered", "read") else "sent"] += n
    total = sum(counts.values())
    return {
        "id": broadcast.id,
        "title": broadcast.title,
        "state": broadcast.state,
        "recipients": total,
        **{
            k: counts.get(k, 0)
            for k in ("queued", "sent", "delivered", "read", "failed", "skipped")
        },
        "done": broadcast.state in ("sent", "cancelled"),
    }
