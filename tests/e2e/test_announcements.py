"""Announcements end to end: subscribing and unsubscribing in conversation, in any language."""

from __future__ import annotations

import sqlite3
import subprocess
import time

import pytest

from bench.fake_platforms import FakePlatforms
from bench.platform_users import WhatsAppUser
from bench.stack import UYUM, Stack, add_operator, user_ref
from bot import texts

pytestmark = pytest.mark.e2e
PASSWORD = "announcements-password"


def subscriptions(stack: Stack, user: str) -> list[tuple[str, bool]]:
    with sqlite3.connect(stack.data_dir / "uyum.db") as db:
        rows = db.execute(
            "SELECT s.topic, s.revoked_at IS NULL FROM subscriptions s JOIN conversations c"
            " ON c.id = s.conversation_id WHERE c.user_ref = ? ORDER BY s.id",
            (user_ref(stack, "sandbox-telegram", user),),
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


def uyum(
    stack: Stack, *args: str, password: str | None = PASSWORD
) -> subprocess.CompletedProcess[str]:
    stdin = [] if password is None else ["--password-stdin"]
    return subprocess.run(
        [str(UYUM), *args, *stdin], input=f"{password}\n", env=stack.env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_broadcast_is_written_approved_and_reaches_only_subscribers(
    stack: Stack, platforms: FakePlatforms
) -> None:
    add_operator(stack, "writer", PASSWORD, role="editor")
    add_operator(stack, "chief", PASSWORD, role="supervisor")
    arabic, turkish, stopped, other = (WhatsAppUser(platforms, stack.gateway) for _ in range(4))
    arabic.say("بدي اشترك بأخبار الاجتماعات التعريفية")
    turkish.say("bilgilendirme toplantıları duyurularına abone olmak istiyorum")
    stopped.say("bilgilendirme toplantıları duyurularına abone olmak istiyorum")
    stopped.say("DUR")  # opted out of everything
    other.say("sağlık duyurularına abone olmak istiyorum")  # another topic
    texts_ = ["tr=Toplantı cuma 10:00'da il müdürlüğünde.", "ar=الاجتماع يوم الجمعة الساعة 10:00.",
              "fa=جلسه جمعه ساعت 10:00 است.", "en=The meeting is on Friday at 10:00."]  # fmt: skip
    missing = uyum(stack, "broadcast", "create", "--by", "writer", "--title", "x",
                   "--topic", "informative-meetings", "--text", "tr=yalnız Türkçe")  # fmt: skip
    assert missing.returncode != 0 and "no text in ar, fa, en" in missing.stderr
    created = uyum(stack, "broadcast", "create", "--by", "writer", "--title", "Friday meeting",
                   "--topic", "informative-meetings", "--channel", "whatsapp",
                   *[arg for t in texts_ for arg in ("--text", t)])  # fmt: skip
    assert created.returncode == 0, created.stderr
    broadcast_id = created.stdout.split()[1]
    assert '"recipients": 2' in created.stdout
    own = uyum(stack, "broadcast", "approve", broadcast_id, "--by", "writer")
    assert own.returncode != 0 and "supervisor" in own.stderr
    assert uyum(stack, "broadcast", "approve", broadcast_id, "--by", "chief").returncode == 0
    sent = uyum(stack, "broadcast", "send", broadcast_id, "--by", "chief")
    assert sent.returncode == 0, sent.stderr
    [to_arabic] = [m for m in arabic.replies(expect=1) if "10:00" in m["text"]]
    assert to_arabic["text"] == "الاجتماع يوم الجمعة الساعة 10:00."
    assert any(m["text"].startswith("Toplantı cuma") for m in turkish.replies(expect=1))
    time.sleep(1)
    for left_out in (stopped, other):
        assert not [m for m in left_out.replies(expect=0, timeout=0.5) if "10:00" in m["text"]]
    status = uyum(stack, "broadcast", "status", broadcast_id, password=None)
    assert '"state": "sent"' in status.stdout and '"recipients": 2' in status.stdout
