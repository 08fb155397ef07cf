"""Storing webhook messages in batches: each platform message once, held replies released."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot import db
from bot.inbound import add_inbound_batch, conversation_for, store_inbound
from bot.models import InboundRecord, OutboxRecord
from channels.messages import InboundMessage
from tests.identities import IDENTITIES


async def test_a_batch_stores_each_message_once_and_reopens_the_window(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await db.upgrade_async(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    first = InboundMessage("whatsapp", "whatsapp:+905551", "SM1", "selam")
    async with sessions() as session:
        assert await store_inbound(session, IDENTITIES, first) is not None
        conversation = await conversation_for(session, IDENTITIES, "whatsapp", "whatsapp:+905551")
        session.add(
            OutboxRecord(conversation_id=conversation.id, body={"text": "late"}, status="held")
        )
        await session.commit()
    batch = [
        first,  # a platform retry of a stored message
        InboundMessage("whatsapp", "whatsapp:+905551", "SM2", "ikamet?"),
        InboundMessage("whatsapp", "whatsapp:+905551", "SM2", "ikamet?"),  # a copy in the batch
        InboundMessage("telegram", "42", "SM2", "same id, other channel"),
        InboundMessage("telegram", "43", "7", "merhaba"),
    ]
    async with sessions() as session:
        ids = await add_inbound_batch(session, IDENTITIES, batch)
        await session.commit()
    assert [i is not None for i in ids] == [False, True, False, True, True]
    async with sessions() as session:
        rows = (await session.scalars(select(InboundRecord).order_by(InboundRecord.id))).all()
        held = (await session.scalars(select(OutboxRecord.status))).all()
    assert [(r.channel, r.platform_id) for r in rows] == [
        ("whatsapp", "SM1"), ("whatsapp", "SM2"), ("telegram", "SM2"), ("telegram", "7"),
    ]  # fmt: skip
    assert sorted(i for i in ids if i) == [r.id for r in rows[1:]]
    assert list(held) == ["pending"]  # the user wrote: the held reply goes now
    await engine.dispose()
