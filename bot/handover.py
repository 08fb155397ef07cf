"""Handing a conversation to a person: open, queue, claim, reply, transfer, close.

A handover moves ``queued → assigned → closed``. While one is open the conversation's
``mode`` is ``handover``: the worker gives the user's messages to the operator, not to
Rasa. Closing it queues a control message (``/handover_closed``) behind the user's own
messages, so Rasa learns of it in order and asks the user how the help was.
Every function works in the caller's transaction; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.audit import audit, console_event
from bot.models import Conversation, Handover, HandoverNote, InboundRecord, Operator, aware, utcnow
from bot.office_hours import OfficeHours
from bot.outbox import write_outbox
from channels.base import ChannelAdapter
from channels.messages import OutboundMessage
from common.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError

REASONS = ("asked", "kb_fallback", "negative_feedback", "protection", "urgent_entry")
Outcome = Literal["resolved", "referred", "no_response", "not_needed", "other"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
OPEN_STATES = ("queued", "assigned")
URGENT = 1
CONTROL_PREFIX = "uyum:"  # platform ids of messages the service queues itself
CLOSED_INTENT = "/handover_closed"
MAX_TEXT = 4000

Adapters = Callable[[str], ChannelAdapter | None]


def is_supervisor(operator: Operator) -> bool:
    return operator.role in ("supervisor", "admin")


def can_view(operator: Operator, handover: Handover) -> bool:
    """Queued chats are everyone's; otherwise the holder, the holder's team, supervisors."""
    return (
        is_supervisor(operator)
        or handover.state == "queued"
        or handover.operator_id == operator.id
        or (handover.team is not None and handover.team == operator.team)
    )


def _must_hold(operator: Operator, handover: Handover) -> None:
    if handover.state == "closed":
        raise ConflictError("this handover is closed")
    if handover.operator_id != operator.id and not is_supervisor(operator):
        raise ForbiddenError("only the operator holding this chat (or a supervisor) may do this")


async def open_for(session: AsyncSession, conversation_id: int) -> Handover | None:
    return await session.scalar(
        select(Handover)
        .where(Handover.conversation_id == conversation_id, Handover.state.in_(OPEN_STATES))
        .order_by(Handover.id.desc())
        .limit(1)
    )


async def open_handover(
    session: AsyncSession, conversation: Conversation, reason: str, priority: int = 0
) -> tuple[Handover, bool]:
    """The conversation's open handover, made now if there is none; True when new."""
    existing = await open_for(session, conversation.id)
    if existing is not None:
        if priority > existing.priority:
            existing.priority = priority
            console_event(session, "handover_updated", existing.id, conversation.id)
        return existing, False
    handover = Handover(
        conversation_id=conversation.id,
        state="queued",
        priority=priority,
        reason=reason if reason in REASONS else "asked",
        language=conversation.language,
        channel=conversation.channel,
        created_at=utcnow(),
    )
    session.add(handover)
    conversation.mode = "handover"
    await session.flush()
    console_event(session, "handover_created", handover.id, conversation.id)
    audit(session, None, "handover_opened", handover.id, reason=handover.reason, priority=priority)
    return handover, True


async def queue_position(session: AsyncSession, handover: Handover) -> int:
    """1 for the next chat an operator will take; urgent chats go before the others."""
    ahead = await session.scalar(
        select(func.count())
        .select_from(Handover)
        .where(
            Handover.state == "queued",
            or_(
                Handover.priority > handover.priority,
                and_(Handover.priority == handover.priority, Handover.id < handover.id),
            ),
        )
    )
    return int(ahead or 0) + 1


def queued_notice(
    language: str | None, position: int, office: OfficeHours, now: dt.datetime
) -> OutboundMessage:
    """What the user is told: a person will answer, their place, and the office hours."""
    days = texts.text("weekdays", language).split(",")
    hours = office.describe(days)
    if office.is_open(now):
        return OutboundMessage(
            texts.text("handover_queued", language, position=str(position), hours=hours)
        )
    opens = office.next_opening(now)
    return OutboundMessage(
        texts.text(
            "handover_after_hours",
            language,
            position=str(position),
            hours=hours,
            opens=f"{days[opens.weekday()]} {opens:%H:%M}",
        )
    )


async def get_handover(session: AsyncSession, handover_id: int, operator: Operator) -> Handover:
    handover = await session.get(Handover, handover_id)
    if handover is None or not can_view(operator, handover):
        raise NotFoundError(f"no handover {handover_id}")  # not even whether it exists
    return handover


async def claim(
    session: AsyncSession, handover_id: int, operator: Operator, adapters: Adapters
) -> Handover:
    """Take a queued chat. Of two operators claiming at once exactly one wins."""
    handover = await session.get(Handover, handover_id)  # every operator sees queued chats
    if handover is None:
        raise NotFoundError(f"no handover {handover_id}")
    won = await session.execute(
        update(Handover)
        .where(Handover.id == handover_id, Handover.state == "queued")
        .values(state="assigned", operator_id=operator.id, team=operator.team, assigned_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError("this chat was already claimed by someone else, or closed")
    await session.refresh(handover)
    conversation = await session.get(Conversation, handover.conversation_id)
    assert conversation is not None
    assigned = OutboundMessage(texts.text("handover_assigned", conversation.language))
    await write_outbox(session, conversation, None, [assigned], adapters(conversation.channel))
    console_event(session, "handover_claimed", handover.id, handover.conversation_id)
    audit(session, operator.id, "handover_claimed", handover.id)
    return handover


async def reply(
    session: AsyncSession,
    conversation_id: int,
    operator: Operator,
    text: str,
    adapters: Adapters,
) -> Handover:
    """An operator's message to the user, through the outbox like every reply."""
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise BadRequestError(f"a reply has 1 to {MAX_TEXT} characters")
    handover = await open_for(session, conversation_id)
    if handover is None:
        raise ConflictError("this conversation has no open handover; the bot is answering it")
    if handover.operator_id != operator.id:
        raise ForbiddenError("claim this chat before replying")
    conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None
    await write_outbox(
        session,
        conversation,
        None,
        [OutboundMessage(text)],
        adapters(conversation.channel),
        kind="operator",
        operator_id=operator.id,
    )
    console_event(session, "message", handover.id, conversation_id)
    audit(session, operator.id, "reply_sent", handover.id, characters=len(text))
    return handover


async def transfer(
    session: AsyncSession, handover_id: int, operator: Operator, to_operator_id: int | None
) -> Handover:
    """Give a held chat to another active operator, or back to the queue (None)."""
    handover = await get_handover(session, handover_id, operator)
    _must_hold(operator, handover)
    if to_operator_id is None:
        handover.state, handover.operator_id, handover.assigned_at = "queued", None, None
    else:
        target = await session.get(Operator, to_operator_id)
        if target is None or not target.active:
            raise BadRequestError(f"no active operator {to_operator_id}")
        handover.state, handover.operator_id = "assigned", target.id
        handover.team, handover.assigned_at = target.team, utcnow()
    console_event(session, "handover_transferred", handover.id, handover.conversation_id)
    audit(session, operator.id, "handover_transferred", handover.id, to=to_operator_id)
    return handover


async def close(
    session: AsyncSession, handover_id: int, operator: Operator, outcome: str
) -> Handover:
    """End the handover; the bot answers again and asks the user about the help."""
    if outcome not in OUTCOMES:
        raise BadRequestError(f"outcome must be one of {', '.join(OUTCOMES)}")
    handover = await get_handover(session, handover_id, operator)
    _must_hold(operator, handover)
    handover.state, handover.outcome, handover.closed_at = "closed", outcome, utcnow()
    conversation = await session.get(Conversation, handover.conversation_id)
    assert conversation is not None
    conversation.mode = "bot"
    session.add(
        InboundRecord(
            conversation_id=conversation.id,
            channel=conversation.channel,
            platform_id=f"{CONTROL_PREFIX}handover-closed:{handover.id}",
            text=CLOSED_INTENT,
            status="pending",
            attempts=0,
        )
    )
    console_event(session, "handover_closed", handover.id, handover.conversation_id)
    audit(session, operator.id, "handover_closed", handover.id, outcome=outcome)
    return handover


async def add_note(
    session: AsyncSession, handover_id: int, operator: Operator, text: str
) -> HandoverNote:
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise BadRequestError(f"a note has 1 to {MAX_TEXT} characters")
    handover = await get_handover(session, handover_id, operator)
    note = HandoverNote(handover_id=handover.id, operator_id=operator.id, text=text)
    session.add(note)
    await session.flush()
    console_event(session, "note", handover.id, handover.conversation_id)
    audit(session, operator.id, "note_added", handover.id)
    return note


@dataclass(frozen=True)
class QueueFilter:
    state: str = "open"  # open | queued | assigned | closed
    language: str | None = None
    channel: str | None = None
    priority: str | None = None  # urgent | normal


async def list_handovers(
    session: AsyncSession,
    operator: Operator,
    wanted: QueueFilter,
    *,
    offer_seconds: float,
    limit: int = 200,
) -> list[Handover]:
    """The handovers this operator may see, urgent first, then oldest first.

    A new chat is offered first to operators who read its language: for ``offer_seconds``
    others do not see it, unless no active operator reads that language.
    """
    states = OPEN_STATES if wanted.state == "open" else (wanted.state,)
    query = select(Handover).where(Handover.state.in_(states))
    if wanted.language:
        query = query.where(Handover.language == wanted.language)
    if wanted.channel:
        query = query.where(Handover.channel == wanted.channel)
    if wanted.priority in ("urgent", "normal"):
        query = query.where(
            Handover.priority >= URGENT if wanted.priority == "urgent" else Handover.priority == 0
        )
    if wanted.state == "closed":
        query = query.order_by(Handover.closed_at.desc())
    else:
        query = query.order_by(Handover.priority.desc(), Handover.id)
    rows = list((await session.scalars(query.limit(limit))).all())
    visible = [h for h in rows if can_view(operator, h)]
    if is_supervisor(operator):
        return visible
    readers = await _languages_read(session)
    now = utcnow()
    return [
        h
        for h in visible
        if h.state != "queued"
        or h.language is None
        or h.language in operator.languages
        or h.language not in readers
        or (now - aware(h.created_at)).total_seconds() >= offer_seconds
    ]


async def _languages_read(session: AsyncSession) -> set[str]:
    languages: set[str] = set()
    for row in (await session.scalars(select(Operator.languages).where(Operator.active))).all():
        languages.update(row or [])
    return languages
