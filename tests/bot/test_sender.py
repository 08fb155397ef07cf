"""The sender on real SQLite: order per chat, platform limits, retries, the WhatsApp rules."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import db
from bot.identities import Identities, new_data_key
from bot.inbound import conversation_for, store_inbound
from bot.models import Conversation, OutboxRecord, utcnow
from bot.sender import OutboxSender
from channels.messages import Delivery, InboundMessage, OutboundMessage, Template
from tests.identities import IDENTITIES


@dataclass
class ScriptedChannel:
    """An adapter whose platform answers from a script, recording what it accepted."""

    name: str = "scripted"
    numbered_choices: bool = False
    max_per_second: float = 1000.0
    chat_interval: float = 0.0
    session_window: bool = False
    script: list[Delivery] = field(default_factory=list)  # answers before plain success
    accepted: list[tuple[str, str, float]] = field(default_factory=list)

    def render(self, message: OutboundMessage) -> list[OutboundMessage]:
        return [message]

    async def send(self, user_id: str, message: OutboundMessage) -> Delivery:
        if self.script:
            return self.script.pop(0)
        self.accepted.append((user_id, message.text, time.monotonic()))
        return Delivery(ok=True, platform_id=str(len(self.accepted)))


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await db.upgrade_async(url)
    engine = db.make_engine(url)
    yield db.make_sessionmaker(engine)
    await engine.dispose()


async def queue(
    sessions: async_sessionmaker[AsyncSession],
    channel: str,
    user: str,
    texts: list[str],
    *,
    kind: str = "reply",
    template: Template | None = None,
) -> None:
    async with sessions() as session:
        conversation = await conversation_for(session, IDENTITIES, channel, user)
        for text in texts:
            body = OutboundMessage(text, template=template).as_json()
            session.add(OutboxRecord(conversation_id=conversation.id, body=body, kind=kind))
        await session.commit()


async def run_until_settled(sender: OutboxSender, seconds: float) -> None:
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def statuses(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list(
            (await session.scalars(select(OutboxRecord.status).order_by(OutboxRecord.id))).all()
        )


async def test_order_per_chat_and_the_gap_between_messages(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    channel = ScriptedChannel(chat_interval=0.3)
    await queue(sessions, "scripted", "a", ["a1", "a2", "a3"])
    await queue(sessions, "scripted", "b", ["b1", "b2", "b3"])
    sender = OutboxSender(
        sessions,
        {"scripted": channel}.get,
        asyncio.Event(),
        identities=IDENTITIES,
        poll_interval=0.05,
    )
    await run_until_settled(sender, 1.2)
    for user in ("a", "b"):
        mine = [(text, at) for who, text, at in channel.accepted if who == user]
        assert [text for text, _ in mine] == [f"{user}1", f"{user}2", f"{user}3"]
        gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(mine)]
        assert all(gap >= 0.29 for gap in gaps), gaps
    first_a = next(at for who, _, at in channel.accepted if who == "a")
    first_b = next(at for who, _, at in channel.accepted if who == "b")
    assert abs(first_a - first_b) < 0.2  # chats do not wait for each other
    assert await statuses(sessions) == ["sent"] * 6


async def test_overall_rate_limit(sessions: async_sessionmaker[AsyncSession]) -> None:
    channel = ScriptedChannel(max_per_second=10)
    for user in range(25):
        await queue(sessions, "scripted", f"u{user}", ["hello"])
    sender = OutboxSender(
        sessions,
        {"scripted": channel}.get,
        asyncio.Event(),
        identities=IDENTITIES,
        poll_interval=0.05,
    )
    await run_until_settled(sender, 1.5)
    sent = sorted(at for _, _, at in channel.accepted)
    assert max(sum(1 for u in sent if t <= u < t + 1.0) for t in sent) <= 10  # in any second
    assert len(sent) >= 8  # evenly paced at 10/s, no burst


async def test_retry_after_and_server_errors_are_retried_then_sent_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    channel = ScriptedChannel(script=[Delivery(ok=False, retry_after=0.4, error="429")])
    await queue(sessions, "scripted", "a", ["first", "second"])
    sender = OutboxSender(
        sessions,
        {"scripted": channel}.get,
        asyncio.Event(),
        identities=IDENTITIES,
        poll_interval=0.05,
    )
    await run_until_settled(sender, 0.25)
    assert channel.accepted == []  # "second" waits behind "first"
    await run_until_settled(sender, 0.6)
    assert [text for _, text, _ in channel.accepted] == ["first", "second"]
    async with sessions() as session:
        attempts = (
            await session.scalars(select(OutboxRecord.attempts).order_by(OutboxRecord.id))
        ).all()
    assert list(attempts) == [2, 1]


async def test_blocked_user_fails_for_good_and_gets_no_proactive_messages(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    gone = Delivery(ok=False, permanent=True, user_gone=True, error="Forbidden: bot was blocked")
    channel = ScriptedChannel(script=[gone])
    await queue(sessions, "scripted", "a", ["reply"])
    sender = OutboxSender(
        sessions,
        {"scripted": channel}.get,
        asyncio.Event(),
        identities=IDENTITIES,
        poll_interval=0.05,
    )
    await run_until_settled(sender, 0.3)
    await queue(sessions, "scripted", "a", ["announcement"], kind="proactive")
    await run_until_settled(sender, 0.3)
    assert channel.accepted == []
    assert await statuses(sessions) == ["failed", "skipped"]


async def test_opted_out_users_get_replies_but_no_proactive_messages(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    channel = ScriptedChannel()
    async with sessions() as session:
        conversation = await conversation_for(session, IDENTITIES, "scripted", "a")
        conversation.opted_out_at = utcnow()
        await session.commit()
    await queue(sessions, "scripted", "a", ["announcement"], kind="proactive")
    await queue(sessions, "scripted", "a", ["reply"])
    sender = OutboxSender(
        sessions,
        {"scripted": channel}.get,
        asyncio.Event(),
        identities=IDENTITIES,
        poll_interval=0.05,
    )
    await run_until_settled(sender, 0.3)
    assert [text for _, text, _ in channel.accepted] == ["reply"]
    assert await statuses(sessions) == ["skipped", "sent"]


async def test_whatsapp_window_holds_free_text_until_the_user_writes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    channel = ScriptedChannel(name="whatsapp", session_window=True)
    async with sessions() as session:
        await store_inbound(
            session, IDENTITIES, InboundMessage("whatsapp", "whatsapp:+90555", "SM1", "selam")
        )
        conversation = await conversation_for(session, IDENTITIES, "whatsapp", "whatsapp:+90555")
        conversation.last_inbound_at = utcnow() - dt.timedelta(hours=25)
        await session.commit()
    await queue(sessions, "whatsapp", "whatsapp:+90555", ["operator's late answer"])
    await queue(
        sessions, "whatsapp", "whatsapp:+90555", ["x"], template=Template("HX1", {"1": "x"})
    )
    sender = OutboxSender(
        sessions,
        {"whatsapp": channel}.get,
        asyncio.Event(),
        identities=IDENTITIES,
        poll_interval=0.05,
    )
    await run_until_settled(sender, 0.3)
    assert [text for _, text, _ in channel.accepted] == ["x"]  # only the template went
    assert await statuses(sessions) == ["held", "sent"]
    async with sessions() as session:  # the user writes again: the window opens
        await store_inbound(
            session, IDENTITIES, InboundMessage("whatsapp", "whatsapp:+90555", "SM2", "?")
        )
    await run_until_settled(sender, 0.3)
    assert [text for _, text, _ in channel.accepted] == ["x", "operator's late answer"]


@dataclass
class DyingChannel(ScriptedChannel):
    """The process dies while a message is on the wire: the send never returns."""

    on_the_wire: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, user_id: str, message: OutboundMessage) -> Delivery:
        self.accepted.append((user_id, message.text, time.monotonic()))  # it may have arrived
        self.on_the_wire.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


async def test_an_announcement_on_the_wire_at_a_crash_is_not_sent_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dying = DyingChannel()
    await queue(sessions, "scripted", "a", ["announcement"], kind="proactive")
    await queue(sessions, "scripted", "b", ["reply"])
    first = OutboxSender(
        sessions,
        {"scripted": dying}.get,
        asyncio.Event(),
        identities=IDENTITIES,
        poll_interval=0.05,
    )
    task = asyncio.create_task(first.run())
    await asyncio.wait_for(dying.on_the_wire.wait(), 5)
    await asyncio.sleep(0.1)
    assert sorted(await statuses(sessions)) == ["pending", "sending"]  # both on the wire
    task.cancel()  # the crash: nothing after the send is recorded
    await asyncio.gather(task, return_exceptions=True)

    after = ScriptedChannel()
    second = OutboxSender(
        sessions,
        {"scripted": after}.get,
        asyncio.Event(),
        identities=IDENTITIES,
        poll_interval=0.05,
    )
    await run_until_settled(second, 0.3)
    assert [text for _, text, _ in after.accepted] == ["reply"]  # a reply is never lost
    async with sessions() as session:
        rows = (await session.scalars(select(OutboxRecord).order_by(OutboxRecord.id))).all()
    assert [(r.kind, r.status) for r in rows] == [("proactive", "failed"), ("reply", "sent")]
    assert rows[0].last_error and "not sent again" in rows[0].last_error


async def test_an_erasure_confirmation_goes_once_and_takes_the_conversation_with_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    channel = ScriptedChannel()
    await queue(sessions, "scripted", "gone", ["everything was deleted"])
    await queue(sessions, "scripted", "back", ["everything was deleted"])
    async with sessions() as session:
        for conversation in (await session.scalars(select(Conversation))).all():
            conversation.erased_at = utcnow()
        back = await conversation_for(session, IDENTITIES, "scripted", "back")
        back.erased_at = None  # wrote again before the confirmation went: a new start
        await session.commit()
    sender = OutboxSender(
        sessions, {"scripted": channel}.get, asyncio.Event(), identities=IDENTITIES,
        poll_interval=0.05,
    )  # fmt: skip
    await run_until_settled(sender, 1.0)
    assert sorted(who for who, _, _ in channel.accepted) == ["back", "gone"]  # once each
    async with sessions() as session:
        left = (await session.scalars(select(Conversation.user_ref))).all()
    assert left == [IDENTITIES.pseudonym("scripted", "back")]
    assert await statuses(sessions) == ["sent"]


async def test_an_address_the_keys_cannot_open_fails_the_row_instead_of_looping(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    channel = ScriptedChannel()
    await queue(sessions, "scripted", "a", ["hello"])
    other_keys = Identities("test-pseudonym-key-0123456789abcdef", [new_data_key()])
    sender = OutboxSender(
        sessions, {"scripted": channel}.get, asyncio.Event(), identities=other_keys,
        poll_interval=0.05,
    )  # fmt: skip
    await run_until_settled(sender, 0.5)
    assert channel.accepted == [] and await statuses(sessions) == ["failed"]
