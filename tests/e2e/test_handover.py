"""A WhatsApp user asks for a person; an operator answers in the console (headless Chromium).

The user's messages go through the fake Twilio API, the real gateway, worker, Rasa and
action server; the operator signs in, sees the chat appear live, claims it, replies (the
reply reaches the fake Twilio API), closes it, and the bot answers the user again.
Screenshots of the console go to ``var/test-artifacts/``.
"""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any

import httpx
import pytest

from bench.fake_platforms import FakePlatforms
from bench.platform_users import WhatsAppUser
from bench.stack import ROOT, Stack, add_operator, user_ref
from bot import texts

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
ARTIFACTS = ROOT / "var" / "test-artifacts"
PASSWORD = "console-password-123"


def quiet(user: WhatsAppUser, seconds: float) -> list[dict[str, Any]]:
    """What the user received in ``seconds`` (nothing, while a person holds the chat)."""
    time.sleep(seconds)
    return user.replies(expect=0, timeout=0.1)


def test_operator_takes_over_replies_and_hands_back_to_the_bot(
    stack: Stack, platforms: FakePlatforms, whatsapp_user: WhatsAppUser, browser: Any
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    add_operator(stack, "leyla", PASSWORD, languages="tr,ar")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(stack.gateway + "/console")
    page.fill("#username", "leyla")
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.locator("#sign-out").wait_for(timeout=10_000)  # signed in

    whatsapp_user.say("Merhaba")
    [queued] = whatsapp_user.say("bir kişiyle konuşmak istiyorum")
    assert queued["text"].startswith(
        texts.text("handover_queued", "tr", position="1", hours="")[:40]
    )
    # the operator's queue shows it without a reload
    with sqlite3.connect(stack.data_dir / "uyum.db") as db:
        (handover_id,) = db.execute(
            "SELECT h.id FROM handovers h JOIN conversations c ON c.id = h.conversation_id"
            " WHERE c.user_ref = ?",
            (user_ref(stack, "whatsapp", whatsapp_user.number),),
        ).fetchone()
    row = page.locator(f'[data-testid="handover-row"][data-id="{handover_id}"]')
    row.wait_for(timeout=5_000)
    page.screenshot(path=str(ARTIFACTS / "console-queue.png"))

    # while a person holds the chat, the bot stays silent; the message reaches the operator
    whatsapp_user.post(whatsapp_user.form("<script>alert('x')</script> kimliğimi kaybettim"))
    assert quiet(whatsapp_user, 3) == []

    row.locator('[data-testid="claim"]').click()
    user_bubbles = page.locator('#conversation [data-testid="message"][data-from="user"]')
    user_bubbles.nth(2).wait_for(timeout=10_000)
    assert "<script>alert('x')</script>" in user_bubbles.nth(2).inner_text()  # shown as text
    assert page.evaluate("() => document.querySelectorAll('#conversation script').length") == 0
    [assigned] = whatsapp_user.replies()
    assert assigned["text"] == texts.text("handover_assigned", "tr")

    page.fill("#reply-text", "Merhaba, ben Leyla. Yeni kimlik için il göç idaresine gidin.")
    page.click("#reply-send")
    [reply] = whatsapp_user.replies()
    assert reply["text"] == "Merhaba, ben Leyla. Yeni kimlik için il göç idaresine gidin."
    page.locator('#conversation [data-testid="message"][data-from="operator"]').first.wait_for(
        timeout=5_000
    )
    page.screenshot(path=str(ARTIFACTS / "console-conversation.png"))

    page.select_option("#close-outcome", "resolved")
    page.click("#close-go")
    [feedback] = whatsapp_user.replies()
    assert feedback["text"] == texts.text("handover_feedback", "tr")
    assert len(feedback["buttons"]) == 2  # 👍 / 👎 as quick replies
    # the bot answers again
    answer = whatsapp_user.say("Türkçe kursu nerede var?")
    assert answer and answer[0]["text"] != texts.text("technical_problem", "tr")
    page.screenshot(path=str(ARTIFACTS / "console-closed.png"))
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.screenshot(path=str(ARTIFACTS / "console-phone.png"))
    page.close()


def test_protection_words_get_emergency_numbers_first_and_the_front_of_the_queue(
    stack: Stack, platforms: FakePlatforms
) -> None:
    calm = WhatsAppUser(platforms, stack.gateway)
    calm.say("Merhaba")
    [calm_notice] = calm.say("operatör lütfen")
    at_risk = WhatsAppUser(platforms, stack.gateway)
    replies = at_risk.say("زوجي يضربني كل يوم", expect=2)
    assert "112" in replies[0]["text"]  # the emergency numbers first, in Arabic
    assert any("\u0600" <= ch <= "\u06ff" for ch in replies[0]["text"])
    notice = replies[-1]["text"]
    assert notice.startswith(texts.text("handover_queued", "ar", position="", hours="")[:30])
    calm_ref = user_ref(stack, "whatsapp", calm.number)
    at_risk_ref = user_ref(stack, "whatsapp", at_risk.number)
    with sqlite3.connect(stack.data_dir / "uyum.db") as db:
        rows = db.execute(
            "SELECT c.user_ref, h.priority, h.reason, h.state FROM handovers h"
            " JOIN conversations c ON c.id = h.conversation_id WHERE c.user_ref IN (?, ?)",
            (calm_ref, at_risk_ref),
        ).fetchall()
    assert sorted(rows) == sorted(
        [(calm_ref, 0, "asked", "queued"), (at_risk_ref, 1, "protection", "queued")]
    )
    # ahead of the calm user who asked earlier
    assert _position(notice) < _position(calm_notice["text"]) + 1


def _position(notice: str) -> int:
    return int(re.search(r"\d+", notice.translate(_DIGITS)).group())  # type: ignore[union-attr]


_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def test_an_admin_reloads_content_from_the_api(stack: Stack) -> None:
    add_operator(stack, "root", PASSWORD, role="admin")
    login = httpx.post(
        f"{stack.gateway}/api/v1/auth/login",
        json={"username": "root", "password": PASSWORD},
        timeout=30,
    )
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    reloaded = httpx.post(f"{stack.gateway}/api/v1/admin/kb/reload", headers=bearer, timeout=300)
    assert reloaded.status_code == 200, reloaded.text
    assert reloaded.json()["reloaded"] is False  # nothing changed since the start
