"""The app database: conversations, messages, the outbox, handovers, operators, analytics."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

RASA_SENDER_PREFIX = "c"  # Rasa knows a conversation as c<id>: no phone number leaves us


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime) -> dt.datetime:
    """A stored time with its zone: SQLite gives back naive datetimes, stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Conversation(Base):
    """One user on one channel."""

    __tablename__ = "conversations"
    # ids are never reused (SQLite too): Rasa knows a conversation by its id
    __table_args__ = (UniqueConstraint("channel", "user_ref"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(40))
    #: the user's pseudonym: a keyed hash of channel and platform id (bot/identities.py)
    user_ref: Mapped[str] = mapped_column(String(200))
    #: the platform id (phone number, chat id), encrypted: needed to send, for nothing else
    address: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(16), default="bot")  # bot | handover
    choices: Mapped[list[Any]] = mapped_column(default=list)  # last numbered choices offered
    last_inbound_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    opted_out_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # STOP
    unreachable_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    province: Mapped[str | None] = mapped_column(String(40))  # for announcements, if given
    #: when the user was given the privacy notice (first contact)
    notice_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: the user had everything erased; the row stays only until the confirmation is sent
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    @property
    def rasa_sender(self) -> str:
        """The id Rasa knows the conversation by: no phone number leaves the gateway."""
        return rasa_sender(self.id)


def rasa_sender(conversation_id: int) -> str:
    return f"{RASA_SENDER_PREFIX}{conversation_id}"


class InboundRecord(Base):
    """A user's message, stored before the webhook answers; processed once, in order."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("channel", "platform_id"),
        Index("ix_inbound_pending", "status", "id"),
        Index("ix_inbound_conversation", "conversation_id", "id"),  # erasure
        Index("ix_inbound_received", "received_at"),  # retention
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(40))
    platform_id: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    language_hint: Mapped[str | None] = mapped_column(String(16))
    media: Mapped[list[Any] | None] = mapped_column()  # references only, never the content
    location: Mapped[list[Any] | None] = mapped_column()  # [latitude, longitude]
    reply_to: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | failed
    attempts: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxRecord(Base):
    """A reply waiting to be delivered, written in the same transaction as the state change."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "next_attempt_at", "id"),
        Index("ix_outbox_platform_id", "platform_id"),
        Index("ix_outbox_heads", "status", "conversation_id", "id"),
        Index("ix_outbox_conversation", "conversation_id", "id"),  # erasure
        Index("ix_outbox_inbound", "inbound_id"),  # deleting a message finds its replies
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL")
    )
    body: Mapped[dict[str, Any]] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16), default="reply")  # reply | proactive | operator
    operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="SET NULL")
    )  # who wrote it, for operators' replies
    #: pending | sent | failed | held (outside the WhatsApp window) | skipped (opted out)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    platform_id: Mapped[str | None] = mapped_column(String(200))
    delivery_status: Mapped[str | None] = mapped_column(String(16))  # the platform's report
    delivery_updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ButtonPayload(Base):
    """Button payloads too long for a platform's callback data, by their short key."""

    __tablename__ = "button_payloads"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)


class Operator(Base):
    """A person of the office who answers handed-over conversations."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2
    role: Mapped[str] = mapped_column(String(16), default="operator")  # operator|supervisor|admin
    team: Mapped[str] = mapped_column(String(40), default="general")
    languages: Mapped[list[Any]] = mapped_column(default=list)  # languages the person reads
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class OperatorSession(Base):
    """A signed-in console session; the cookie holds a token whose hash is the key."""

    __tablename__ = "operator_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Handover(Base):
    """A conversation handed to a person: queued, then assigned, then closed."""

    __tablename__ = "handovers"
    __table_args__ = (
        Index("ix_handovers_state", "state", "priority", "id"),
        Index("ix_handovers_conversation", "conversation_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued|assigned|closed
    priority: Mapped[int] = mapped_column(default=0)  # 1: urgent (protection)
    reason: Mapped[str] = mapped_column(String(40))  # asked|kb_fallback|negative_feedback|...
    language: Mapped[str | None] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(40))
    team: Mapped[str | None] = mapped_column(String(40))  # the team of whoever holds it
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class HandoverNote(Base):
    """An operator's internal note on a handover; never sent to the user."""

    __tablename__ = "handover_notes"
    __table_args__ = (Index("ix_handover_notes_handover", "handover_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id", ondelete="CASCADE"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """One operator action (sign-in, claim, reply, transfer, close, account change)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    handover_id: Mapped[int | None] = mapped_column()
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # ids and states, no content


class ConsoleEvent(Base):
    """A change the console shows live (new handover, claim, message, close)."""

    __tablename__ = "console_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    handover_id: Mapped[int | None] = mapped_column()
    conversation_id: Mapped[int | None] = mapped_column()


class Subscription(Base):
    """A user's consent to announcements on one topic (kept, with its time, until revoked)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("conversation_id", "topic"),
        Index("ix_subscriptions_topic", "topic", "revoked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(60))
    consented_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Broadcast(Base):
    """One announcement: written, approved by a second person, then sent to subscribers."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))  # for the office; users never see it
    topics: Mapped[list[Any]] = mapped_column()
    translations: Mapped[dict[str, Any]] = mapped_column()  # language -> text
    #: fallback: users without their language get the configured fallback; skip: they get none
    missing_translation: Mapped[str] = mapped_column(String(16), default="fallback")
    languages: Mapped[list[Any]] = mapped_column(default=list)  # audience filters; empty: all
    channels: Mapped[list[Any]] = mapped_column(default=list)
    provinces: Mapped[list[Any]] = mapped_column(default=list)
    template_sid: Mapped[str | None] = mapped_column(String(64))  # WhatsApp outside 24 h
    send_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: draft -> approved -> sending -> sent; cancelled from any state before sent
    state: Mapped[str] = mapped_column(String(16), default="draft")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class BroadcastRecipient(Base):
    """One user of one broadcast: queued once (the unique key), then the outbox row's fate."""

    __tablename__ = "broadcast_recipients"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "conversation_id"),
        Index("ix_recipients_conversation", "conversation_id"),  # erasure
        Index("ix_recipients_outbox", "outbox_id"),  # deleting a reply finds its delivery
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | skipped
    reason: Mapped[str | None] = mapped_column(String(80))  # why skipped


class KbTurn(Base):
    """One knowledge-base decision, for the dashboard: no user, no text."""

    __tablename__ = "kb_turns"
    __table_args__ = (
        Index("ix_kb_turns_at", "at", "outcome", "entry_id"),  # the dashboard reads the index
        Index("ix_kb_turns_entry", "entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    channel: Mapped[str] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(16))  # answer | clarify | fallback
    entry_id: Mapped[str | None] = mapped_column(String(100))  # answered (or best candidate)
    score: Mapped[float | None] = mapped_column(Float)


class AnswerFeedback(Base):
    """A 👍 or 👎 on an answer: the entry, language and channel, never who gave it."""

    __tablename__ = "answer_feedback"
    __table_args__ = (Index("ix_answer_feedback_entry", "entry_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    entry_id: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(SmallInteger)  # +1 helpful, -1 not helpful


class UnansweredQuestion(Base):
    """A question the content did not answer well (redacted of personal data, no user)."""

    __tablename__ = "unanswered_questions"
    __table_args__ = (Index("ix_unanswered_language", "language", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    channel: Mapped[str] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(24))  # fallback | clarify | negative_feedback
    text: Mapped[str] = mapped_column(Text)  # common.redact applied
    entry_id: Mapped[str | None] = mapped_column(String(100))  # the 👎'd answer, or best guess
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)  # float16 e5 vector, if known
    vector_model: Mapped[str | None] = mapped_column(String(80))


class Complaint(Base):
    """A complaint or suggestion, with the reference number the user was given.

    Anonymous ones link to no conversation. Staff-conduct and sexual exploitation or abuse
    reports are confidential: only the protection role reads them, and no figure shows them.
    """

    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_status", "confidential", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(40))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    #: received -> in_review -> resolved | closed
    status: Mapped[str] = mapped_column(String(16), default="received")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class MessageCount(Base):
    """Messages per day, channel and language, counted as the worker handles them.

    The dashboard reads these instead of scanning every message, and they outlive the
    messages themselves (which retention deletes): a count names no one.
    """

    __tablename__ = "message_counts"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(40), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)  # "" when unknown
    messages: Mapped[int] = mapped_column(default=0)


class DeletionRecord(Base):
    """What an erasure or a retention purge destroyed: counts, never who or what."""

    __tablename__ = "deletion_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # erasure | purge
    via: Mapped[str] = mapped_column(String(16))  # user | cli | api | schedule
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # table -> rows destroyed
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
