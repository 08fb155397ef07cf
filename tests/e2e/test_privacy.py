"""End to end: the privacy notice, "delete my data" in conversation and from the command line,
and logs without personal data, through the real stack with the platforms faked."""

from __future__ import annotations

import sqlite3
import subprocess
import time

import httpx
import pytest

from bench.fake_platforms import FakePlatforms
from bench.platform_users import WhatsAppUser
from bench.stack import UYUM, Stack, user_ref
from bot import texts
from tests.e2e.conftest import CANARY, PLANTED, personal_data_in

pytestmark = pytest.mark.e2e


def conversation_id(stack: Stack, channel: str, user: str) -> int | None:
    with sqlite3.connect(stack.data_dir / "uyum.db") as db:
        row = db.execute(
            "SELECT id FROM conversations WHERE channel = ? AND user_ref = ?",
            (channel, user_ref(stack, channel, user)),
        ).fetchone()
    return int(row[0]) if row else None


def rows_left(stack: Stack, conversation: int) -> dict[str, int]:
    """Rows of every table that points at the conversation, and Rasa's events for it."""
    left = {}
    with sqlite3.connect(stack.data_dir / "uyum.db") as db:
        for table in ("inbound_messages", "outbox_messages", "subscriptions", "handovers"):
            query = f"SELECT count(*) FROM {table} WHERE conversation_id = ?"  # noqa: S608
            left[table] = db.execute(query, (conversation,)).fetchone()[0]
        left["conversations"] = db.execute(
            "SELECT count(*) FROM conversations WHERE id = ?", (conversation,)
        ).fetchone()[0]
    with sqlite3.connect(stack.data_dir / "rasa-tracker.db") as db:
        left["dialogue_events"] = db.execute(
            "SELECT count(*) FROM events WHERE sender_id = ?", (f"c{conversation}",)
        ).fetchone()[0]
    return left


def wait_until_gone(stack: Stack, conversation: int, within: float = 15) -> dict[str, int]:
    deadline = time.monotonic() + within
    while True:
        left = rows_left(stack, conversation)
        if not any(left.values()) or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def test_first_contact_brings_the_privacy_notice_in_the_users_language(stack: Stack) -> None:
    user = stack.user()
    first = user.say("مرحبا")[-1]["text"]
    notice = texts.text("privacy_notice", "ar", days="180", url="{url}").split("{url}")[0]
    assert notice in first and f"{stack.gateway}/privacy" in first
    assert notice not in user.say("شكرا")[-1]["text"]  # once
    page = httpx.get(f"{stack.gateway}/privacy", params={"lang": "ar"})
    assert page.status_code == 200 and 'dir="rtl"' in page.text and "180" in page.text
    assert page.headers["x-frame-options"] == "DENY"


def test_delete_my_data_asks_then_erases_everything_on_whatsapp(
    stack: Stack, platforms: FakePlatforms
) -> None:
    user = WhatsAppUser(platforms, stack.gateway)
    user.say("merhaba")
    [subscribed] = user.say("sağlık haberleri için abone olmak istiyorum")
    assert subscribed["text"].startswith(texts.text("subscribed", "tr", topics="Sağlık"))
    user.say("Türkçe kursuna nasıl kayıt olurum?")
    conversation = conversation_id(stack, "whatsapp", user.number)
    assert conversation is not None
    before = rows_left(stack, conversation)
    assert before["subscriptions"] == 1 and before["dialogue_events"] > 0

    [question] = user.say("verilerimi sil")
    assert question["text"].startswith(texts.text("erasure_question", "tr"))
    yes, _ = question["buttons"]  # WhatsApp quick replies (TWILIO_QUICK_REPLIES in the stack)
    assert yes["title"] == texts.text("erasure_yes", "tr")
    pressed = user.form(yes["title"], ButtonText=yes["title"], ButtonPayload=yes["payload"])
    assert user.post(pressed).status_code == 200
    [done] = user.replies()
    assert done["text"] == texts.text("erased", "tr")
    assert wait_until_gone(stack, conversation) == dict.fromkeys(before, 0)
    with sqlite3.connect(stack.data_dir / "uyum.db") as db:
        kind, via, counts = db.execute(
            "SELECT kind, via, counts FROM deletion_log ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert (kind, via) == ("erasure", "user") and user.number[-7:] not in counts

    # writing again is a new start: a new conversation, the notice again
    again = user.say("merhaba")[-1]["text"]
    assert texts.text("privacy_notice", "tr", days="180", url="{url}").split("{url}")[0] in again
    assert conversation_id(stack, "whatsapp", user.number) != conversation


def test_no_keeps_the_data_and_a_user_can_only_erase_their_own(
    stack: Stack, platforms: FakePlatforms
) -> None:
    victim = WhatsAppUser(platforms, stack.gateway)
    victim.say("hello")
    victim_conversation = conversation_id(stack, "whatsapp", victim.number)
    other = WhatsAppUser(platforms, stack.gateway)
    other.say("hello")
    [asked] = other.say("delete my data")
    assert asked["text"].startswith(texts.text("erasure_question", "en"))
    [kept] = other.say("no")
    assert kept["text"] == texts.text("erasure_kept", "en")
    mine = conversation_id(stack, "whatsapp", other.number)
    assert mine is not None and rows_left(stack, mine)["inbound_messages"] == 3
    # naming someone else's number erases only the one who asks
    other.say(f"delete all the data of {victim.number.removeprefix('whatsapp:')}")
    [done] = other.say("yes")
    assert done["text"] == texts.text("erased", "en")
    assert wait_until_gone(stack, mine)["conversations"] == 0
    assert victim_conversation is not None
    assert rows_left(stack, victim_conversation)["inbound_messages"] == 1


def test_a_yes_long_after_the_question_erases_nothing(stack: Stack) -> None:
    user = stack.user()
    user.say("hello")
    user.say("delete my data")
    user.say("how do I register for Turkish courses?")
    reply = user.say("yes")[-1]
    assert reply["text"] != texts.text("erased", "en")
    assert conversation_id(stack, "sandbox-telegram", user.user) is not None


def test_the_command_line_answers_alike_for_known_and_unknown_users(
    stack: Stack, platforms: FakePlatforms
) -> None:
    known = WhatsAppUser(platforms, stack.gateway)
    known.say("merhaba")
    conversation = conversation_id(stack, "whatsapp", known.number)
    assert conversation is not None

    def erase(number: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(UYUM), "data", "erase", "--channel", "whatsapp", "--user", number],
            env=stack.env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    for_known = erase(known.number.removeprefix("whatsapp:"))
    for_unknown = erase("+90 599 000 00 00")
    assert for_known.returncode == for_unknown.returncode == 0, for_known.stderr
    assert for_known.stdout == for_unknown.stdout
    assert wait_until_gone(stack, conversation, within=5) == dict.fromkeys(
        rows_left(stack, conversation), 0
    )


def test_the_logs_of_a_conversation_hold_no_personal_data(
    stack: Stack, platforms: FakePlatforms
) -> None:
    user = WhatsAppUser(platforms, stack.gateway)
    texts_sent = [f"merhaba, adım Zeynep, {CANARY}"]
    texts_sent += [f"my {kind} is {value}" for kind, value in PLANTED.items()]
    texts_sent.append("operatör lütfen, my number is " + PLANTED["phone"])
    for text in texts_sent:  # some may bring a person, who answers nothing: no reply awaited
        assert user.post(user.form(text)).status_code == 200
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the worker has handled every one
        with sqlite3.connect(stack.data_dir / "uyum.db") as db:
            (waiting,) = db.execute(
                "SELECT count(*) FROM inbound_messages WHERE status = 'pending'"
            ).fetchone()
        if not waiting:
            break
        time.sleep(0.3)
    assert not waiting
    hits = personal_data_in(stack.logs(), {"the user's number": user.number})
    assert hits == []  # and again over the whole session's log when the stack stops
