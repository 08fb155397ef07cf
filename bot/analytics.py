"""What the worker counts and the actions report, recorded without personal data.

The worker counts every message it handles per day, channel and language
(``count_message``). The actions send custom payloads: ``{"kb": {...}}`` after every
knowledge-base decision, ``{"feedback": {...}}`` for a 👍/👎; the worker records them in
the same transaction as the replies. Rows carry the channel and language but no user: a
knowledge-base turn and a feedback score are counts for the dashboard; a fallback, a
clarification and a 👎 also keep the question, redacted of phone numbers, e-mails and
identity numbers, so editors see what content is missing (``uyum analytics gaps``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    AnswerFeedback,
    Conversation,
    KbTurn,
    MessageCount,
    UnansweredQuestion,
    utcnow,
)
from common.redact import redact

OUTCOMES = ("answer", "clarify", "fallback")
MAX_QUESTION_CHARS = 1000
MAX_VECTOR_BYTES = 4096  # float16 × up to 2048 dimensions


@dataclass(frozen=True)
class ReportedQuestion:
    """The words of a question that was not answered well, and its e5 vector if known."""

    text: str
    vector: bytes | None = None
    vector_model: str | None = None

    @classmethod
    def from_payload(cls, text: object, vector: object) -> ReportedQuestion | None:
        if not isinstance(text, str) or not text.strip() or text.startswith("/"):
            return None  # nothing typed (a button's payload)
        raw, model = None, None
        if isinstance(vector, dict) and isinstance(vector.get("model"), str):
            try:
                raw = base64.b64decode(str(vector.get("f16", "")), validate=True)
            except (ValueError, binascii.Error):
                raw = None
            if raw is not None and (not raw or len(raw) > MAX_VECTOR_BYTES or len(raw) % 2):
                raw = None
            model = vector["model"][:80] if raw else None
        return cls(redact(text.strip())[:MAX_QUESTION_CHARS], raw, model)


@dataclass(frozen=True)
class KbDecision:
    outcome: str
    entry_id: str | None
    score: float | None
    question: ReportedQuestion | None


@dataclass(frozen=True)
class FeedbackGiven:
    entry_id: str | None
    score: int  # +1 or -1
    question: ReportedQuestion | None  # the question a 👎'd answer answered


AnalyticsEvent = KbDecision | FeedbackGiven


def _entry(value: object) -> str | None:
    return value[:100] if isinstance(value, str) and value else None


def parse(custom: dict[str, Any]) -> AnalyticsEvent | None:
    """The event in an action's custom payload; None when it is not one (or malformed)."""
    kb, feedback = custom.get("kb"), custom.get("feedback")
    if isinstance(kb, dict) and kb.get("outcome") in OUTCOMES:
        score = kb.get("score")
        return KbDecision(
            str(kb["outcome"]),
            _entry(kb.get("entry")),
            float(score) if isinstance(score, int | float) else None,
            ReportedQuestion.from_payload(kb.get("question"), kb.get("vector")),
        )
    if isinstance(feedback, dict) and feedback.get("score") in (1, -1):
        return FeedbackGiven(
            _entry(feedback.get("entry")),
            int(feedback["score"]),
            ReportedQuestion.from_payload(feedback.get("question"), feedback.get("vector")),
        )
    return None


async def count_message(session: AsyncSession, conversation: Conversation) -> None:
    """One more message today on this channel in this language (an upsert, same transaction)."""
    on_postgres = session.get_bind().dialect.name == "postgresql"
    dialect = postgresql if on_postgres else sqlite
    key = {
        "day": utcnow().date(),
        "channel": conversation.channel,
        "language": conversation.language or "",
    }
    statement = dialect.insert(MessageCount).values(**key, messages=1)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=list(key), set_={"messages": MessageCount.messages + 1}
        )
    )


def record(session: AsyncSession, conversation: Conversation, events: list[AnalyticsEvent]) -> None:
    """Add the rows for ``events`` to the session (the caller commits with the replies)."""
    where = {"channel": conversation.channel, "language": conversation.language}
    for event in events:
        kind: str | None = None
        if isinstance(event, KbDecision):
            session.add(
                KbTurn(outcome=event.outcome, entry_id=event.entry_id, score=event.score, **where)
            )
            kind = event.outcome if event.outcome != "answer" else None
        else:
            session.add(AnswerFeedback(entry_id=event.entry_id, score=event.score, **where))
            kind = "negative_feedback" if event.score < 0 else None
        if kind and event.question is not None:
            session.add(
                UnansweredQuestion(
                    kind=kind,
                    text=event.question.text,
                    entry_id=event.entry_id,
                    vector=event.question.vector,
                    vector_model=event.question.vector_model,
                    **where,
                )
            )
