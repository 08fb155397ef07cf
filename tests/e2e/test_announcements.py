"""Announcements end to end: subscribing and unsubscribing in conversation, in any language."""

from __future__ import annotations

import sqlite3

import pytest

from bench.stack import Stack
from bot import texts

pytestmark = pytest.mark.e2e


def subscriptions(stack: Stack, user: str) -> list[tuple[str, bool]]:
    with sqlite3.connect(stack.data_dir / "uyum.db") as db:
        rows = db.execute(
            "SELECT s.topic, s.revoked_at IS NULL FROM subscriptions s JOIN conversations c"
            " ON c.id = s.conversation_id WHERE c.user_ref = ? ORDER BY s.id",
            (user,),
        ).fetchall()
    return [(topic, bool(active)) for topic, active in rows]


def test_subscribe_by_menu_and_by_words_then_unsubscribe(stack: Stack) -> None:
    user = stack.user()
    user.say("merhaba")
    menu = user.say("duyurulara abone olmak istiyorum")[-1]
    assert menu["text"] == texts.text("choose_topic", "tr")
    courses = next(b for b in menu["buttons"] if b["title"] == "Türkçe kursları")
    [done] = user.say(courses["payload"])
    assert done["text"] == texts.text("subscribed", "tr", topics="Türkçe kursları")
    [more] = user.say("sağlık haberleri için de abone olmak istiyorum")
    assert more["text"].startswith(texts.text("subscribed", "tr", topics="Sağlık"))
    assert subscriptions(stack, user.user) == [("turkish-courses", True), ("health", True)]
    [stopped] = user.say("abonelikten çıkmak istiyorum")
    assert texts.text("no_subscriptions", "tr") in stopped["text"]
    assert subscriptions(stack, user.user) == [("turkish-courses", False), ("health", False)]
