"""End to end: a person in danger, in each language, gets the emergency numbers first, in that
language, and is put at the front of the operators' queue."""

from __future__ import annotations

import sqlite3

import pytest

from bench.fake_platforms import FakePlatforms
from bench.platform_users import WhatsAppUser
from bench.stack import Stack, user_ref

pytestmark = pytest.mark.e2e

# one phrase per language, each of a different kind of danger; a word of the language's own
# emergency reply shows it came in that language
CASES = {
    "tr": ("Kocam beni her gün dövüyor, ne yapmalıyım", "güvenliğiniz"),
    "ar": ("صاحب العمل اخذ جوازي ويجبرني على العمل", "سلامتك"),
    "fa": ("دیگر نمی‌خواهم زنده باشم، می‌خواهم خودکشی کنم", "امنیت شما"),
    "en": ("my brother was detained by the police and we don't know where he is", "your safety"),
    "ps": ("زما ماشوم په خطر کې دی", "خوندیتوب"),
}


@pytest.mark.parametrize("language", list(CASES))
def test_danger_gets_the_emergency_numbers_first_and_a_person_first_in_line(
    stack: Stack, platforms: FakePlatforms, language: str
) -> None:
    text, word = CASES[language]
    user = WhatsAppUser(platforms, stack.gateway)
    replies = user.say(text, expect=2)
    first = replies[0]["text"]
    assert "112" in first and "157" in first and "183" in first, first
    assert word.lower() in first.lower(), first
    with sqlite3.connect(stack.data_dir / "uyum.db") as db:
        rows = db.execute(
            "SELECT h.priority, h.reason, h.state FROM handovers h JOIN conversations c"
            " ON c.id = h.conversation_id WHERE c.user_ref = ?",
            (user_ref(stack, "whatsapp", user.number),),
        ).fetchall()
    assert rows == [(1, "protection", "queued")]
