"""The worker on real SQLite: stored once, in order, an apology when Rasa is down."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

from sqlalchemy import select

from bot import db, texts
from bot.inbound import store_inbound
from bot.models import InboundRecord, OutboxRecord
from bot.rasa_client import RasaClient
from bot.worker import ConversationWorker, pending_counts
from channels.messages import InboundMessage
from channels.sandbox import Mailbox, SandboxChannel


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


async def test_rasa_down_gets_an_apology_in_the_users_language(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await db.upgrade_async(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    adapter = SandboxChannel("whatsapp", Mailbox())
    rasa = RasaClient(f"http://127.0.0.1:{closed_port()}", "token", timeout=2)
    worker = ConversationWorker(
        sessions, rasa, {adapter.name: adapter}.get, poll_interval=0.05, retry_delay=0.01
    )
    async with sessions() as session:
        first = InboundMessage("sandbox-whatsapp", "u1", "m1", "مرحبا، كيف أجدد الإقامة؟")
        assert await store_inbound(session, first) is not None
        assert await store_inbound(session, first) is None  # a platform retry is dropped
        await store_inbound(session, InboundMessage("sandbox-whatsapp", "u1", "m2", "شكرا"))
        assert (await pending_counts(session))["inbound_waiting"] == 2
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(200):
            await asyncio.sleep(0.05)
            async with sessions() as session:
                if (await pending_counts(session))["inbound_waiting"] == 0:
                    break
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    async with sessions() as session:
        inbound = (await session.scalars(select(InboundRecord).order_by(InboundRecord.id))).all()
        outbox = (await session.scalars(select(OutboxRecord).order_by(OutboxRecord.id))).all()
    assert [(r.platform_id, r.status, r.attempts) for r in inbound] == [
        ("m1", "failed", 3),
        ("m2", "failed", 3),
    ]
    apology = texts.text("technical_problem", "ar")
    assert [(o.inbound_id, o.body["text"]) for o in outbox] == [
        (inbound[0].id, apology),
        (inbound[1].id, apology),
    ]
    await rasa.aclose()
    await engine.dispose()
