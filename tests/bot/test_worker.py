"""The worker on real SQLite: stored once, in order, one reply per message whatever Rasa does."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import select

from bot import db, texts
from bot.inbound import store_inbound
from bot.models import InboundRecord, OutboxRecord
from bot.rasa_client import RasaClient
from bot.worker import ConversationWorker, pending_counts
from channels.messages import InboundMessage, Media
from channels.sandbox import Mailbox, SandboxChannel


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


class _SilentRasa(BaseHTTPRequestHandler):
    """A Rasa whose custom action failed: HTTP 200 with no messages."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, *args: object) -> None:
        return None


async def _process(
    tmp_path: Path, rasa_url: str, messages: list[InboundMessage] | None = None
) -> tuple[list[InboundRecord], list[OutboxRecord]]:
    """Store ``messages`` (default: two Arabic ones and a retry), run the worker until done."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await db.upgrade_async(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    adapter = SandboxChannel("whatsapp", Mailbox())
    rasa = RasaClient(rasa_url, "token", timeout=2)
    worker = ConversationWorker(
        sessions, rasa, {adapter.name: adapter}.get, poll_interval=0.05, retry_delay=0.01
    )
    async with sessions() as session:
        if messages is None:
            first = InboundMessage("sandbox-whatsapp", "u1", "m1", "مرحبا، كيف أجدد الإقامة؟")
            assert await store_inbound(session, first) is not None
            assert await store_inbound(session, first) is None  # a platform retry is dropped
            await store_inbound(session, InboundMessage("sandbox-whatsapp", "u1", "m2", "شكرا"))
            assert (await pending_counts(session))["inbound_waiting"] == 2
        for message in messages or []:
            await store_inbound(session, message)
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
    await rasa.aclose()
    await engine.dispose()
    return list(inbound), list(outbox)


async def test_rasa_down_gets_an_apology_in_the_users_language(tmp_path: Path) -> None:
    inbound, outbox = await _process(tmp_path, f"http://127.0.0.1:{closed_port()}")
    assert [(r.platform_id, r.status, r.attempts) for r in inbound] == [
        ("m1", "failed", 3),
        ("m2", "failed", 3),
    ]
    apology = texts.text("technical_problem", "ar")
    assert [(o.inbound_id, o.body["text"]) for o in outbox] == [
        (inbound[0].id, apology),
        (inbound[1].id, apology),
    ]


async def test_a_silent_rasa_still_gets_the_user_one_reply(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SilentRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        inbound, outbox = await _process(tmp_path, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
    assert [(r.status, r.attempts) for r in inbound] == [("done", 0), ("done", 0)]
    apology = texts.text("technical_problem", "ar")
    assert [o.body["text"] for o in outbox] == [apology, apology]


async def test_opt_out_keywords_and_media_are_answered_without_rasa(tmp_path: Path) -> None:
    voice = Media("voice", "https://api.twilio.com/media/ME1", "audio/ogg")
    messages = [
        InboundMessage("sandbox-whatsapp", "u1", "m1", "", language_hint="fa", media=(voice,)),
        InboundMessage("sandbox-whatsapp", "u1", "m2", "لغو"),
        InboundMessage("sandbox-whatsapp", "u1", "m3", "شروع"),
    ]
    inbound, outbox = await _process(tmp_path, f"http://127.0.0.1:{closed_port()}", messages)
    assert [(r.status, r.attempts) for r in inbound] == [("done", 0)] * 3  # Rasa was never asked
    assert [o.body["text"] for o in outbox] == [
        texts.text("text_only", "fa") + "\n\n1. " + texts.text("talk_to_person", "fa"),
        texts.text("opted_out", "fa"),
        texts.text("opted_in", "fa"),
    ]
