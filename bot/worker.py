"""The conversation worker: each conversation's messages in order, one at a time.

In bot mode the text goes to Rasa; the replies go to the outbox in the same
transaction that marks the message done, so a crash never loses or doubles a reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import analytics, complaints, db, erasure, texts
from bot.audit import console_event
from bot.db import WriteGate
from bot.handover import (
    CLOSED_INTENT,
    CONTROL_PREFIX,
    URGENT,
    open_for,
    open_handover,
    queue_position,
    queued_notice,
)
from bot.models import ButtonPayload, Conversation, InboundRecord, OutboxRecord, utcnow
from bot.office_hours import OfficeHours
from bot.outbox import write_outbox
from bot.protection import is_protection_case
from bot.rasa_client import BotTurn, HandoverRequest, RasaClient
from bot.rasa_tracker import RasaTrackers
from bot.settings import Settings, get_settings
from bot.subscriptions import SubscriptionChange, apply_change
from bot.topics import load_topics
from channels.base import CALLBACK_KEY, ChannelAdapter, resolve_choice
from channels.keywords import opt_command
from channels.messages import Button, OutboundMessage
from common.errors import UpstreamError
from knowledge_base.language import SUPPORTED, detect_language

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
FLOOD_WINDOW_SECONDS = 60  # a user's messages are counted over this window
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
        gate: WriteGate | None = None,
        office: OfficeHours | None = None,
        topics_file: Path | None = None,
        trackers: RasaTrackers | None = None,
        privacy_url: str | None = None,
        retention_days: int | None = None,
        flood_limit: int | None = None,
    ) -> None:
        self._sessions = sessions
        self._flood_limit = flood_limit or get_settings().user_messages_per_minute
        self._privacy = {
            "url": privacy_url or get_settings().privacy_url,
            "days": str(retention_days or get_settings().retention_days),
        }
        self._trackers = trackers or RasaTrackers(get_settings().rasa_tracker_path)
        self._office = office or get_settings().office
        self._topics = load_topics(topics_file or get_settings().topics_file)
        self._gate = gate or WriteGate()
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
            text = await _resolve_buttons(session, conversation, adapter, record.text)
            control = record.platform_id.startswith(CONTROL_PREFIX)  # queued by the service
            # a keyword or a button's payload says nothing about the language
            says_nothing = conversation.language and (opt_command(text) or text.startswith("/"))
            if not control and not says_nothing:
                conversation.language = detect_language(
                    text, current=conversation.language, hint=record.language_hint
                ).lang
            protection = not control and is_protection_case(text)
            # a person in danger, or talking to an operator, is never told to slow down
            exempt = control or protection or conversation.mode == "handover"
            flood = 0 if exempt else await self._flood(session, record)
            if flood > 1:  # told already: silence until the user slows down (the message stays)
                async with self._gate():
                    record.status, record.processed_at = "limited", utcnow()
                    await session.commit()
                return True
            if conversation.mode == "handover" and not control:
                await self._to_operator(session, record, conversation)
                return True
            replies = (
                [OutboundMessage(texts.text("slow_down", conversation.language))]
                if flood
                else None
                if control
                else _local_replies(
                    conversation, text, has_media=bool(record.media or record.location)
                )
            )
            if replies is not None:
                record.status = "done"
                turn = BotTurn(replies)
            elif control and text == CLOSED_INTENT:
                replies = await self._handover_closed(session, record, conversation)
                if replies is None:
                    return True  # Rasa is unreachable: the message waits for the next attempt
                turn = BotTurn(replies)
            else:
                # a protection case: the emergency numbers first, then a person, first in line
                asked = await self._ask_rasa(
                    session, record, conversation, "/emergency" if protection else text
                )
                if asked is None:
                    return True
                turn = asked
                if protection:
                    turn.handover = HandoverRequest("protection", URGENT)
            # Every statement from here on may write (autoflush): only under the gate, or this
            # connection would hold SQLite's write lock while waiting for the gate's holder.
            async with self._gate():
                record.processed_at = utcnow()
                replies = await self._carry_out(session, conversation, turn)
                if not control:
                    await analytics.count_message(session, conversation)
                if not control and conversation.notice_at is None:  # first contact
                    conversation.notice_at = utcnow()
                    replies = _with_notice(replies, conversation.language, self._privacy)
                replying_to: int | None = record.id
                if turn.erase:  # the message itself goes too; the confirmation is all that stays
                    await self._erase(session, record, conversation)
                    replying_to = None
                await write_outbox(session, conversation, replying_to, replies, adapter)
                await session.commit()
            if turn.erase:  # after the commit: a failure here leaves it to the retention purge
                try:
                    await self._trackers.forget([conversation.rasa_sender])
                except Exception:
                    logger.exception("erasing the dialogue history failed; the purge will")
        self.outbox_ready.set()
        return True

    async def _flood(self, session: AsyncSession, record: InboundRecord) -> int:
        """0 within the user's rate; 1 for the first message over it (it gets a notice);
        more for the ones after it in the same window (they get nothing)."""
        since = record.received_at - dt.timedelta(seconds=FLOOD_WINDOW_SECONDS)
        with session.no_autoflush:  # a read: the language just set is written under the gate
            recent = await session.scalar(
                select(func.count())
                .select_from(InboundRecord)
                .where(
                    InboundRecord.conversation_id == record.conversation_id,
                    InboundRecord.id <= record.id,
                    InboundRecord.received_at > since,
                    ~InboundRecord.platform_id.startswith(CONTROL_PREFIX),
                )
            )
        return max(0, int(recent or 0) - self._flood_limit)

    async def _erase(
        self, session: AsyncSession, record: InboundRecord, conversation: Conversation
    ) -> None:
        """The user confirmed erasure: everything of theirs, in this transaction."""
        started = time.perf_counter()
        await session.flush()
        session.expunge(record)  # deleted with the rest below
        erasure.record(
            session,
            "user",
            await erasure.erase_conversation(session, conversation, keep_for_reply=True),
            started,
        )

    async def _carry_out(
        self, session: AsyncSession, conversation: Conversation, turn: BotTurn
    ) -> list[OutboundMessage]:
        """What Rasa's actions asked of the gateway, done in the caller's transaction; the
        replies to send (Rasa's, then the notices those requests add)."""
        replies = list(turn.messages)
        if turn.language in SUPPORTED:
            conversation.language = turn.language  # the user named it: it sticks
        if turn.subscriptions is not None:
            change = SubscriptionChange.from_payload(turn.subscriptions)
            replies += await apply_change(session, conversation, change, self._topics)
        if turn.handover is not None:
            replies += await self._hand_over(session, conversation, turn.handover)
        analytics.record(session, conversation, turn.analytics)
        if turn.complaint is not None:
            complaints.store(session, conversation, turn.complaint)
        if turn.complaint_status is not None:
            reply = await complaints.status_reply(session, conversation, turn.complaint_status)
            replies.append(OutboundMessage(reply))
        return replies

    async def _to_operator(
        self, session: AsyncSession, record: InboundRecord, conversation: Conversation
    ) -> None:
        """A person holds the conversation: the message is theirs; the bot stays silent."""
        async with self._gate():  # the query may flush the language: a write, so under the gate
            handover = await open_for(session, conversation.id)
            record.status, record.processed_at = "operator", utcnow()
            await analytics.count_message(session, conversation)
            console_event(session, "message", handover.id if handover else None, conversation.id)
            await session.commit()

    async def _hand_over(
        self, session: AsyncSession, conversation: Conversation, request: HandoverRequest
    ) -> list[OutboundMessage]:
        """Open the handover; the user hears their place in the queue and the office hours."""
        handover, new = await open_handover(session, conversation, request.reason, request.priority)
        if not new:
            return []
        position = await queue_position(session, handover)
        return [queued_notice(conversation.language, position, self._office, utcnow())]

    async def _handover_closed(
        self, session: AsyncSession, record: InboundRecord, conversation: Conversation
    ) -> list[OutboundMessage] | None:
        """Tell Rasa the person is gone (slots, and the question it now asks) and ask it."""
        lang = conversation.language
        question = OutboundMessage(
            texts.text("handover_feedback", lang),
            (
                Button(texts.text("helpful_yes", lang), "/feedback_positive"),
                Button(texts.text("helpful_no", lang), "/feedback_negative"),
            ),
        )
        events: list[dict[str, object]] = [
            {"event": "slot", "name": name, "value": value}
            for name, value in (
                ("handover", False),
                ("kb_fallbacks", 0.0),
                ("negative_feedbacks", 0.0),
            )
        ]
        buttons = [{"title": b.title, "payload": b.payload} for b in question.buttons]
        events.append({"event": "bot", "text": question.text, "data": {"buttons": buttons}})
        try:
            await self._rasa.append_events(conversation.rasa_sender, events)
        except UpstreamError as exc:
            if await self._retry_later(session, record, exc):
                return None
        record.status = "done"
        return [question]

    async def _ask_rasa(
        self,
        session: AsyncSession,
        record: InboundRecord,
        conversation: Conversation,
        text: str,
    ) -> BotTurn | None:
        """Rasa's turn; an apology when Rasa fails for good; None to try again later."""
        metadata = {
            "channel": conversation.channel,
            "language_hint": record.language_hint,
            "language": conversation.language,  # what the gateway decided (for payloads)
        }
        try:
            turn = await self._rasa.send(conversation.rasa_sender, text, metadata)
        except UpstreamError as exc:
            if await self._retry_later(session, record, exc):
                return None
            record.status = "failed"
            return BotTurn([_apology(conversation)])
        record.status = "done"
        asked = turn.subscriptions is not None or turn.complaint_status is not None
        if not (turn.messages or turn.handover or asked):
            logger.warning("inbound %d: Rasa sent no reply; apologising", record.id)
            turn.messages = [_apology(conversation)]  # a failed action: never silence
        return turn

    async def _retry_later(
        self, session: AsyncSession, record: InboundRecord, exc: UpstreamError
    ) -> bool:
        """True: the message stays pending for another attempt; False: attempts are used up."""
        record.attempts += 1
        if record.attempts < MAX_ATTEMPTS:
            logger.warning("inbound %d: %s; retrying", record.id, exc)
            async with self._gate():
                await session.commit()
            await asyncio.sleep(self._retry_delay * record.attempts)
            return True
        logger.error("inbound %d: %s; giving up", record.id, exc)
        return False


async def _resolve_buttons(
    session: AsyncSession,
    conversation: Conversation,
    adapter: ChannelAdapter | None,
    text: str,
) -> str:
    """A pressed button's payload: from a digit on WhatsApp, from a short key on Telegram."""
    if CALLBACK_KEY.match(text):
        payload = await session.get(ButtonPayload, text)
        return payload.payload if payload else text
    if adapter and adapter.numbered_choices and conversation.choices:
        offered = [Button(c["title"], c["payload"]) for c in conversation.choices]
        return resolve_choice(text, offered) or text
    return text


def _with_notice(
    replies: list[OutboundMessage], language: str | None, values: dict[str, str]
) -> list[OutboundMessage]:
    """The first turn's replies with the privacy notice under the text of the last one
    without buttons, else of the last one (a message more would arrive out of step with
    the conversation on a slow phone); on its own when there is no reply."""
    notice = texts.text("privacy_notice", language, **values)
    if not replies:
        return [OutboundMessage(notice)]
    plain = [i for i, reply in enumerate(replies) if not reply.buttons]
    i = plain[-1] if plain else len(replies) - 1
    noticed = dataclasses.replace(replies[i], text=f"{replies[i].text}\n\n{notice}")
    return [*replies[:i], noticed, *replies[i + 1 :]]


def _apology(conversation: Conversation) -> OutboundMessage:
    return OutboundMessage(texts.text("technical_problem", conversation.language))


def _local_replies(
    conversation: Conversation, text: str, *, has_media: bool
) -> list[OutboundMessage] | None:
    """Replies the gateway gives itself (opt-out keywords, media); None: ask Rasa."""
    language = conversation.language
    command = opt_command(text) if text else None
    if command == "opt_out":
        conversation.opted_out_at = utcnow()
        return [OutboundMessage(texts.text("opted_out", language))]
    if command == "opt_in":
        conversation.opted_out_at = None
        return [OutboundMessage(texts.text("opted_in", language))]
    if not text and has_media:
        person = Button(texts.text("talk_to_person", language), "/request_human")
        return [OutboundMessage(texts.text("text_only", language), (person,))]
    if not text:
        return [OutboundMessage(texts.text("text_only", language))]
    return None


async def pending_counts(session: AsyncSession) -> dict[str, int]:
    """How many inbound messages and outbox rows are waiting (for /health)."""
    inbound = await session.scalar(
        select(func.count()).select_from(InboundRecord).where(InboundRecord.status == "pending")
    )
    outbox = dict(
        (
            await session.execute(
                select(OutboxRecord.status, func.count())
                .where(OutboxRecord.status.in_(("pending", "held")))
                .group_by(OutboxRecord.status)
            )
        )
        .tuples()
        .all()
    )
    return {
        "inbound_waiting": int(inbound or 0),
        "outbox_waiting": int(outbox.get("pending", 0)),
        # outside the WhatsApp 24-hour window; they go when the user writes again
        "outbox_held": int(outbox.get("held", 0)),
    }


def make_worker(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    rasa: RasaClient,
    adapters: Callable[[str], ChannelAdapter | None],
    gate: WriteGate,
) -> ConversationWorker:
    """The worker as the settings configure it (in the gateway, or a process of its own)."""
    return ConversationWorker(
        sessions,
        rasa,
        adapters,
        poll_interval=settings.poll_interval,
        gate=gate,
        office=settings.office,
        topics_file=settings.topics_file,
        trackers=RasaTrackers(settings.rasa_tracker_path),
        privacy_url=settings.privacy_url,
        retention_days=settings.retention_days,
        flood_limit=settings.user_messages_per_minute,
    )


async def run_worker(settings: Settings) -> None:
    """``uyum serve worker``: the conversation worker in a process of its own.

    A kill at any moment loses nothing: a message's replies and its ``done`` mark are one
    transaction, so an interrupted message is simply processed again by the next worker.
    """
    from bot.adapters import build_adapters  # the platform clients: only in the worker process

    await db.upgrade_async(settings.app_database_url)
    engine = db.make_engine(settings.app_database_url)
    adapters = build_adapters(settings)
    rasa = RasaClient(settings.rasa_url, settings.ensure_rasa_token())
    worker = make_worker(
        settings,
        db.make_sessionmaker(engine),
        rasa,
        adapters.get,
        db.WriteGate(settings.app_database_url),
    )
    logger.info("conversation worker ready")
    try:
        await worker.run()
    finally:
        await rasa.aclose()
        await adapters.aclose()
        await engine.dispose()
