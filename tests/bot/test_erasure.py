"""Erasure and retention on real SQLite, with a Rasa tracker store of Rasa's layout."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import db, erasure, retention
from bot.identities import Identities, new_data_key
from bot.inbound import InboundWriter, conversation_for, store_inbound
from bot.models import (
    Base,
    Complaint,
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
from channels.messages import InboundMessage
from common.errors import BadRequestError
from tests.identities import IDENTITIES

PERSONAL: tuple[type[Any], ...] = (
    Conversation,
    InboundRecord,
    OutboxRecord,
    Handover,
    HandoverNote,
    Subscription,
)


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await db.upgrade_async(url)
    engine = db.make_engine(url)
    yield db.make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def trackers(tmp_path: Path) -> RasaTrackers:
    """A tracker store file with the columns Rasa's SQLTrackerStore writes."""
    path = tmp_path / "rasa-tracker.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
            " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
            " action_name VARCHAR(255), data TEXT)"
        )
    return RasaTrackers(path)


def tracker_events(trackers: RasaTrackers, sender: str) -> int:
    with sqlite3.connect(trackers._path) as connection:
        return int(
            connection.execute(
                "SELECT count(*) FROM events WHERE sender_id = ?", (sender,)
            ).fetchone()[0]
        )


def add_events(trackers: RasaTrackers, sender: str, count: int, at: float | None = None) -> None:
    with sqlite3.connect(trackers._path) as connection:
        connection.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
            [(sender, at or time.time(), '{"text": "my number is 0532 111 22 33"}')] * count,
        )


async def a_user_with_everything(
    session: AsyncSession, user: str, messages: int = 3
) -> Conversation:
    """A WhatsApp user with messages, replies, a handover with a note, a subscription and a
    complaint in their name."""
    for i in range(messages):
        text = f"question {i} from {user}"
        await store_inbound(
            session, IDENTITIES, InboundMessage("whatsapp", user, f"{user}-{i}", text)
        )
    conversation = await conversation_for(session, IDENTITIES, "whatsapp", user)
    session.add(OutboxRecord(conversation_id=conversation.id, body={"text": "hi"}, status="sent"))
    handover = Handover(conversation_id=conversation.id, reason="asked", channel="whatsapp")
    session.add(handover)
    await session.flush()
    session.add(HandoverNote(handover_id=handover.id, text="called back"))
    session.add(Subscription(conversation_id=conversation.id, topic="courses"))
    session.add(
        Complaint(
            reference=f"UY-{conversation.id:04d}-TEST",
            conversation_id=conversation.id,
            channel="whatsapp",
            category="other",
            text="the office was closed",
        )
    )
    await session.commit()
    return conversation


async def rows_of(session: AsyncSession, conversation_id: int) -> dict[str, int]:
    counts = {}
    for model in PERSONAL[1:]:
        column = (
            HandoverNote.handover_id.in_(
                select(Handover.id).where(Handover.conversation_id == conversation_id)
            )
            if model is HandoverNote
            else model.conversation_id == conversation_id
        )
        counts[model.__tablename__] = int(
            await session.scalar(select(func.count()).select_from(model).where(column)) or 0
        )
    return counts


async def test_erasing_a_user_removes_everything_of_theirs_and_nothing_else(
    sessions: async_sessionmaker[AsyncSession], trackers: RasaTrackers
) -> None:
    async with sessions() as session:
        alice = await a_user_with_everything(session, "whatsapp:+905551110001")
        bob = await a_user_with_everything(session, "whatsapp:+905551110002")
    add_events(trackers, alice.rasa_sender, 5)
    add_events(trackers, bob.rasa_sender, 4)
    async with sessions() as session:  # written as a person types it
        await erasure.erase_user(
            session, IDENTITIES, trackers, "whatsapp", "+90 555 111 00 01", via="cli"
        )
    async with sessions() as session:
        assert await session.get(Conversation, alice.id) is None
        assert set((await rows_of(session, alice.id)).values()) == {0}
        assert await session.scalar(select(func.count()).select_from(Complaint)) == 1
        assert set((await rows_of(session, bob.id)).values()) == {1, 3}  # bob untouched
        (log,) = (await session.scalars(select(DeletionRecord))).all()
    assert tracker_events(trackers, alice.rasa_sender) == 0
    assert tracker_events(trackers, bob.rasa_sender) == 4
    assert (log.kind, log.via) == ("erasure", "cli")
    assert log.counts == {
        "messages": 3,
        "replies": 1,
        "handovers": 1,
        "handover_notes": 1,
        "subscriptions": 1,
        "complaints": 1,
        "conversations": 1,
        "dialogue_events": 5,
    }
    assert "905551110001" not in str(log.counts)


async def test_an_unknown_user_is_answered_like_a_known_one(
    sessions: async_sessionmaker[AsyncSession], trackers: RasaTrackers
) -> None:
    async with sessions() as session:
        await erasure.erase_user(session, IDENTITIES, trackers, "telegram", "123456", via="api")
        log = await session.scalar(select(DeletionRecord))
    assert log is not None and log.counts == {}


def test_user_ids_are_read_as_people_write_them() -> None:
    number = "whatsapp:+905551110001"
    assert erasure.platform_user_id("whatsapp", " +90 (555) 111-00-01 ") == number
    assert erasure.platform_user_id("whatsapp", "whatsapp:+905551110001") == number
    assert erasure.platform_user_id("whatsapp", "905551110001") == number
    assert erasure.platform_user_id("telegram", "12345") == "12345"
    with pytest.raises(BadRequestError, match="not a phone number"):
        erasure.platform_user_id("whatsapp", "alice")
    with pytest.raises(BadRequestError):
        erasure.platform_user_id("telegram", "  ")


async def test_rows_from_before_pseudonyms_are_converted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        session.add(Conversation(channel="whatsapp", user_ref="whatsapp:+905551110003", choices=[]))
        await session.commit()
        assert await erasure.pseudonymise_legacy(session, IDENTITIES) == 1
        assert await erasure.pseudonymise_legacy(session, IDENTITIES) == 0
        found = await conversation_for(session, IDENTITIES, "whatsapp", "whatsapp:+905551110003")
    assert found.user_ref == IDENTITIES.pseudonym("whatsapp", "whatsapp:+905551110003")
    assert IDENTITIES.open(found.address or "") == "whatsapp:+905551110003"


async def test_key_rotation_re_encrypts_every_address(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    old, new = new_data_key(), new_data_key()
    before = Identities("rotation-test-key-0123456789", [old])
    async with sessions() as session:
        for i in range(3):
            await conversation_for(session, before, "telegram", f"70{i}")
        await session.commit()
    after = Identities("rotation-test-key-0123456789", [new, old])
    async with sessions() as session:
        assert await erasure.rotate_keys(session, after, batch=2) == 3
        addresses = (await session.scalars(select(Conversation.address))).all()
    only_new = Identities("rotation-test-key-0123456789", [new])
    assert sorted(only_new.open(a or "") for a in addresses) == ["700", "701", "702"]


async def test_retention_destroys_what_is_old_and_keeps_what_is_live(
    sessions: async_sessionmaker[AsyncSession], trackers: RasaTrackers
) -> None:
    now = utcnow()
    long_ago = now - dt.timedelta(days=200)
    async with sessions() as session:
        silent = await a_user_with_everything(session, "whatsapp:+905551110004", messages=2)
        subscriber = await a_user_with_everything(session, "whatsapp:+905551110005", messages=2)
        active = await a_user_with_everything(session, "whatsapp:+905551110006", messages=2)
        await session.execute(delete(Subscription).where(Subscription.conversation_id == silent.id))
        for conversation in (silent, subscriber):
            await session.execute(
                update(InboundRecord)
                .where(InboundRecord.conversation_id == conversation.id)
                .values(received_at=long_ago)
            )
            await session.execute(
                update(Conversation)
                .where(Conversation.id == conversation.id)
                .values(last_inbound_at=long_ago)
            )
        # a photo sent 40 days ago by the active user: the link goes, the message stays
        await session.execute(
            update(InboundRecord)
            .where(InboundRecord.conversation_id == active.id)
            .values(
                media=[{"kind": "image", "ref": "https://x/ME1"}],
                received_at=now - dt.timedelta(days=40),
            )
        )
        # an old message still waiting for the worker is never touched
        await store_inbound(
            session,
            IDENTITIES,
            InboundMessage("whatsapp", "whatsapp:+905551110005", "late", "hello"),
        )
        await session.execute(
            update(InboundRecord)
            .where(InboundRecord.platform_id == "late")
            .values(received_at=long_ago)
        )
        await session.execute(
            update(InboundRecord).where(InboundRecord.platform_id != "late").values(status="done")
        )
        await session.commit()
    add_events(trackers, silent.rasa_sender, 3, at=long_ago.timestamp())
    add_events(trackers, active.rasa_sender, 2)
    add_events(trackers, "c999999", 2)  # a conversation erased while Rasa's store was busy

    counts = await retention.purge(sessions, trackers, retention.RetentionPolicy(), via="cli")

    async with sessions() as session:
        assert await session.get(Conversation, silent.id) is None  # silent, no subscription
        assert await session.get(Conversation, subscriber.id) is not None  # consent to news
        subscriber_left = await rows_of(session, subscriber.id)
        active_messages = (
            await session.scalars(
                select(InboundRecord).where(InboundRecord.conversation_id == active.id)
            )
        ).all()
        log = await session.scalar(select(DeletionRecord).where(DeletionRecord.kind == "purge"))
    assert subscriber_left["inbound_messages"] == 1  # only the one still waiting
    assert subscriber_left["subscriptions"] == 1
    assert len(active_messages) == 2 and all(m.media is None for m in active_messages)
    assert tracker_events(trackers, silent.rasa_sender) == 0
    assert tracker_events(trackers, active.rasa_sender) == 2
    assert tracker_events(trackers, "c999999") == 0
    assert counts["messages"] == 4 and counts["media_references"] == 2
    assert counts["conversations"] == 1 and counts["dialogue_events"] == 5
    assert log is not None and log.via == "cli" and log.counts == dict(counts)


def test_every_table_with_a_user_is_covered_by_erasure() -> None:
    """A new table that points at a conversation must be added to the erasure."""
    erased = {getattr(statement.table, "name", "") for _, statement in erasure._statements(1)}
    pointing = {
        table.name
        for table in Base.metadata.sorted_tables
        if any(fk.column.table.name == "conversations" for fk in table.foreign_keys)
    }
    assert pointing <= erased


async def test_a_purge_during_live_traffic_loses_no_other_message(
    sessions: async_sessionmaker[AsyncSession], trackers: RasaTrackers
) -> None:
    """Old conversations go while new users write: every new message is stored and waits."""
    long_ago = utcnow() - dt.timedelta(days=400)
    async with sessions() as session:
        for i in range(120):
            await a_user_with_everything(session, f"whatsapp:+9055522{i:05d}", messages=5)
        await session.execute(update(InboundRecord).values(received_at=long_ago, status="done"))
        await session.execute(update(Conversation).values(last_inbound_at=long_ago))
        await session.execute(delete(Subscription))
        await session.commit()
    gate = db.WriteGate("sqlite+aiosqlite://")
    writer = InboundWriter(sessions, IDENTITIES, gate=gate)
    writing = asyncio.create_task(writer.run())
    await asyncio.sleep(0)

    async def live(n: int) -> int | None:
        message = InboundMessage("telegram", f"{8000 + n % 40}", f"live-{n}", f"question {n}")
        return await writer.store(message)

    purging = asyncio.create_task(
        retention.purge(sessions, trackers, retention.RetentionPolicy(), via="cli", gate=gate)
    )
    stored = await asyncio.gather(*(live(n) for n in range(300)))
    counts = await purging
    writing.cancel()
    assert None not in stored and counts["conversations"] == 120
    async with sessions() as session:
        left = (await session.scalars(select(InboundRecord.platform_id))).all()
    assert sorted(left) == sorted(f"live-{n}" for n in range(300))
