"""The worker on real SQLite: stored once, in order, one reply per message whatever Rasa does."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from sqlalchemy import select

from bot import db, texts
from bot.handover import claim, close
from bot.inbound import store_inbound
from bot.models import Handover, InboundRecord, OutboxRecord
from bot.office_hours import OfficeHours
from bot.operators import add_operator
from bot.rasa_client import RasaClient, with_entity
from bot.settings import get_settings
from bot.worker import ConversationWorker, pending_counts
from channels.messages import InboundMessage, Media
from channels.sandbox import Mailbox, SandboxChannel
from tests.identities import IDENTITIES

PRIVACY_URL = "https://uyum.example.org/privacy"


def with_notice(text: str, lang: str) -> str:
    """A first reply: the privacy notice follows the text."""
    return f"{text}\n\n" + texts.text("privacy_notice", lang, url=PRIVACY_URL, days="180")


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
        sessions,
        rasa,
        {adapter.name: adapter}.get,
        poll_interval=0.05,
        retry_delay=0.01,
        privacy_url=PRIVACY_URL,
        retention_days=180,
    )
    async with sessions() as session:
        if messages is None:
            first = InboundMessage("sandbox-whatsapp", "u1", "m1", "مرحبا، كيف أجدد الإقامة؟")
            assert await store_inbound(session, IDENTITIES, first) is not None
            assert (
                await store_inbound(session, IDENTITIES, first) is None
            )  # a platform retry is dropped
            await store_inbound(
                session, IDENTITIES, InboundMessage("sandbox-whatsapp", "u1", "m2", "شكرا")
            )
            assert (await pending_counts(session))["inbound_waiting"] == 2
        for message in messages or []:
            await store_inbound(session, IDENTITIES, message)
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
        (inbound[0].id, with_notice(apology, "ar")),
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
    assert [o.body["text"] for o in outbox] == [with_notice(apology, "ar"), apology]


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
        with_notice(texts.text("text_only", "fa"), "fa")
        + "\n\n1. "
        + texts.text("talk_to_person", "fa"),
        texts.text("opted_out", "fa"),
        texts.text("opted_in", "fa"),
    ]


class _RecordingRasa(BaseHTTPRequestHandler):
    """A Rasa that asks for a person on "operator please", sets Persian when it is chosen, and
    records every request."""

    requests: ClassVar[list[tuple[str, object]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _RecordingRasa.requests.append((self.path.split("?")[0], body))
        if self.path.startswith("/webhooks/rest/webhook"):
            if body["message"] == "operator please":
                answer: object = [{"custom": {"handover": {"reason": "asked", "priority": 0}}}]
            elif body["message"].startswith("/choose_language"):
                answer = [{"custom": {"language": "fa"}}, {"text": "فارسی"}]
            else:
                answer = [{"text": "bot: " + body["message"]}]
        else:
            answer = {}
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(answer).encode())

    def log_message(self, *args: object) -> None:
        return None


async def test_a_language_the_user_chose_sticks(tmp_path: Path) -> None:
    """A button's payload names no language in its text; Rasa's answer tells the gateway."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _RecordingRasa.requests.clear()
    messages = [
        InboundMessage("sandbox-whatsapp", "u1", "m1", "hello"),
        InboundMessage("sandbox-whatsapp", "u1", "m2", '/choose_language{"language":"fa"}'),
        InboundMessage("sandbox-whatsapp", "u1", "m3", "157?"),
    ]
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        inbound, _ = await _process(tmp_path, url, messages)
    finally:
        server.shutdown()
        server.server_close()
    assert [r.status for r in inbound] == ["done"] * 3
    decided = [body["metadata"]["language"] for _, body in _RecordingRasa.requests]  # type: ignore[index]
    assert decided == ["en", "en", "fa"]


async def test_a_person_holds_the_chat_the_bot_is_silent_then_resumes(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await db.upgrade_async(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    adapter = SandboxChannel("whatsapp", Mailbox())
    rasa = RasaClient(f"http://127.0.0.1:{server.server_address[1]}", "token", timeout=2)
    always = OfficeHours.parse("mon-sun 00:00-23:59", "UTC")
    worker = ConversationWorker(
        sessions, rasa, {adapter.name: adapter}.get, poll_interval=0.02, office=always
    )
    task = asyncio.create_task(worker.run())
    voice = Media("voice", "https://api.twilio.com/media/ME9", "audio/ogg")

    async def settle(*messages: InboundMessage) -> list[OutboxRecord]:
        async with sessions() as session:
            for message in messages:
                await store_inbound(session, IDENTITIES, message)
        worker.notify()
        for _ in range(200):
            await asyncio.sleep(0.02)
            async with sessions() as session:
                if (await pending_counts(session))["inbound_waiting"] == 0:
                    break
        async with sessions() as session:
            return list(
                (await session.scalars(select(OutboxRecord).order_by(OutboxRecord.id))).all()
            )

    try:
        outbox = await settle(InboundMessage("sandbox-whatsapp", "u1", "m1", "operator please"))
        assert [o.body["text"][:12] for o in outbox] == [
            texts.text("handover_queued", "en", position="1", hours="")[:12]
        ]
        calls = len(_RecordingRasa.requests)
        outbox = await settle(
            InboundMessage("sandbox-whatsapp", "u1", "m2", "are you there? I am scared"),
            InboundMessage("sandbox-whatsapp", "u1", "m3", "", media=(voice,)),
        )
        assert len(outbox) == 1 and len(_RecordingRasa.requests) == calls  # silence, no Rasa
        async with sessions() as session:
            rows = (await session.scalars(select(InboundRecord).order_by(InboundRecord.id))).all()
            assert [r.status for r in rows] == ["done", "operator", "operator"]
            assert rows[2].media == [voice.as_json()]  # the voice note reaches the operator
            operator = await add_operator(session, "op", "a-long-password")
            handover = await session.scalar(select(Handover))
            await claim(session, handover.id, operator, {adapter.name: adapter}.get)
            await close(session, handover.id, operator, "resolved")
            await session.commit()
        outbox = await settle()
        assert outbox[-1].body["text"].startswith(texts.text("handover_feedback", "en"))
        path, events = _RecordingRasa.requests[-1]
        assert path.endswith("/tracker/events")  # Rasa is told: slots reset, the question asked
        assert {"event": "slot", "name": "handover", "value": False} in events  # type: ignore[operator]
        outbox = await settle(InboundMessage("sandbox-whatsapp", "u1", "m4", "hello again"))
        assert outbox[-1].body["text"] == "bot: hello again"  # the bot answers again
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        server.shutdown()
        server.server_close()
        await rasa.aclose()
        await engine.dispose()


def test_a_payload_carries_the_gateways_language() -> None:
    """Rasa skips its NLU pipeline for payloads: the language goes in as an entity."""
    assert with_entity("/emergency", "conversation_language", "ar") == (
        '/emergency{"conversation_language":"ar"}'
    )
    chosen = '/choose_language{"language":"fa"}'
    assert with_entity(chosen, "conversation_language", "en") == (
        '/choose_language{"language":"fa","conversation_language":"en"}'
    )
    assert with_entity("hello", "conversation_language", "en") == "hello"
    assert with_entity("/broken{", "conversation_language", "en") == "/broken{"
    assert with_entity("/emergency", "conversation_language", None) == "/emergency"


async def test_a_flood_gets_one_polite_notice_then_silence(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SilentRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    burst = [InboundMessage("sandbox-whatsapp", "u1", f"f{i}", f"merhaba {i}") for i in range(35)]
    try:
        inbound, outbox = await _process(
            tmp_path, f"http://127.0.0.1:{server.server_address[1]}", burst
        )
    finally:
        server.shutdown()
        server.server_close()
    limit = get_settings().user_messages_per_minute
    assert [r.status for r in inbound] == ["done"] * (limit + 1) + ["limited"] * (34 - limit)
    assert len(outbox) == limit + 1  # an answer each, then one notice, then nothing
    assert outbox[-1].body["text"] == texts.text("slow_down", "tr")
