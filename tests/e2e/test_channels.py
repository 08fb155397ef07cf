"""End to end on the real channels: signed webhooks → gateway → Rasa → actions → fake platform.

Only Telegram's Bot API and Twilio's REST API are replaced, by local HTTP servers that
record what they accept (bench/fake_platforms.py).
"""

from __future__ import annotations

import sqlite3
import time

import httpx
import pytest

from bench.fake_platforms import FakePlatforms
from bench.platform_users import TelegramUser, WhatsAppUser
from bench.stack import Stack, user_ref
from bot import texts

pytestmark = pytest.mark.e2e


def arabic_script(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def test_telegram_question_gets_an_answer_with_inline_buttons(telegram_user: TelegramUser) -> None:
    telegram_user.language_code = "ar"
    [answer] = telegram_user.say("كيف أسجل في دورة اللغة التركية؟")
    assert "e-yaygin.meb.gov.tr" in answer["text"] and arabic_script(answer["text"])
    assert [b["callback_data"] for b in answer["buttons"]] == [
        "/feedback_positive",
        "/feedback_negative",
    ]


def test_telegram_language_buttons_work_and_callbacks_are_answered(
    telegram_user: TelegramUser, platforms: FakePlatforms
) -> None:
    greeting = telegram_user.say("/start campaign-42 <junk>")
    buttons = greeting[-1]["buttons"]
    persian = next(b for b in buttons if b["text"] == "فارسی")
    update = telegram_user.press(persian["callback_data"])
    response = telegram_user.post(update)
    assert response.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": update["callback_query"]["id"],
    }
    confirmation = telegram_user.replies()
    assert "فارسی" in confirmation[-1]["text"]


def test_telegram_retries_are_answered_once(telegram_user: TelegramUser) -> None:
    update = telegram_user.update("merhaba")
    for _ in range(3):  # Telegram re-sends an update it thinks was not received
        assert telegram_user.post(update).status_code == 200
    replies = telegram_user.replies(expect=1)
    assert len(replies) == 1 and replies[0]["text"].startswith("Merhaba")


def test_whatsapp_quick_replies_numbered_choices_and_delivery_reports(
    whatsapp_user: WhatsAppUser, stack: Stack
) -> None:
    whatsapp_user.say("merhaba")  # the first reply carries the privacy notice: too long
    menu = whatsapp_user.say("menü")  # for a quick reply's body, so from the second on
    assert len(menu[-1]["buttons"]) == 3  # quick-reply buttons (TWILIO_QUICK_REPLIES)
    language = menu[-1]["buttons"][2]
    pressed = whatsapp_user.form(language["title"], ButtonPayload=language["payload"])
    assert whatsapp_user.post(pressed).status_code == 200
    picker = whatsapp_user.replies()  # more than 3 choices: a numbered list
    assert "Türkçe" in picker[-1]["text"] and "فارسی" in picker[-1]["text"]
    chosen = whatsapp_user.say("۳")  # 3 on a Persian keyboard: فارسی
    assert arabic_script(chosen[-1]["text"])
    deadline = time.monotonic() + 10  # the fake posts "sent" then "delivered" callbacks
    while time.monotonic() < deadline:
        with sqlite3.connect(stack.data_dir / "uyum.db") as db:
            states = db.execute(
                "SELECT o.delivery_status FROM outbox_messages o JOIN conversations c"
                " ON c.id = o.conversation_id WHERE c.user_ref = ?",
                (user_ref(stack, "whatsapp", whatsapp_user.number),),
            ).fetchall()
        if states and all(s == ("delivered",) for s in states):
            break
        time.sleep(0.2)
    assert states and all(s == ("delivered",) for s in states), states


def test_whatsapp_voice_note_gets_a_text_only_reply_in_the_users_language(
    whatsapp_user: WhatsAppUser, stack: Stack
) -> None:
    whatsapp_user.say("Merhaba")
    voice = whatsapp_user.form(
        "", NumMedia="1", MediaUrl0="https://api.twilio.com/2010-04-01/media/ME1",
        MediaContentType0="audio/ogg",
    )  # fmt: skip
    assert whatsapp_user.post(voice).status_code == 200
    [reply] = whatsapp_user.replies()
    assert reply["text"] == texts.text("text_only", "tr")
    [person] = reply["buttons"]  # a WhatsApp quick-reply button (TWILIO_QUICK_REPLIES)
    assert person["title"] == texts.text("talk_to_person", "tr")
    pressed = whatsapp_user.form(person["title"], ButtonText=person["title"],
                                 ButtonPayload=person["payload"])  # fmt: skip
    assert whatsapp_user.post(pressed).status_code == 200
    assert whatsapp_user.replies()
    with sqlite3.connect(stack.data_dir / "uyum.db") as db:
        (text,) = db.execute(
            "SELECT i.text FROM inbound_messages i JOIN conversations c"
            " ON c.id = i.conversation_id WHERE c.user_ref = ? ORDER BY i.id DESC LIMIT 1",
            (user_ref(stack, "whatsapp", whatsapp_user.number),),
        ).fetchone()
    assert text == "/request_human"  # the payload, not the title, reached the dialogue


def test_stop_and_start_on_whatsapp(whatsapp_user: WhatsAppUser, stack: Stack) -> None:
    whatsapp_user.say("مرحبا")
    [stopped] = whatsapp_user.say("توقف")
    assert stopped["text"] == texts.text("opted_out", "ar")
    with sqlite3.connect(stack.data_dir / "uyum.db") as db:
        (opted_out,) = db.execute(
            "SELECT opted_out_at FROM conversations WHERE user_ref = ?",
            (user_ref(stack, "whatsapp", whatsapp_user.number),),
        ).fetchone()
    assert opted_out is not None
    [started] = whatsapp_user.say("ابدأ")
    assert started["text"] == texts.text("opted_in", "ar")


def test_platform_errors_are_retried_and_every_reply_arrives_once(
    platforms: FakePlatforms, stack: Stack
) -> None:
    users: list[TelegramUser | WhatsAppUser] = [
        TelegramUser(platforms, stack.gateway, _secret(stack)) for _ in range(3)
    ]
    users += [WhatsAppUser(platforms, stack.gateway) for _ in range(3)]
    platforms.set_faults(rate=0.5, codes=[429, 500], retry_after=1)
    try:
        for user in users:
            response = user.post(
                user.update("merhaba") if isinstance(user, TelegramUser) else user.form("merhaba")
            )
            assert response.status_code == 200
        for user in users:
            replies = user.replies(expect=1, timeout=60)
            assert len(replies) == 1 and replies[0]["text"].startswith("Merhaba"), replies
    finally:
        platforms.set_faults()


def test_forged_webhooks_are_refused(platforms: FakePlatforms, stack: Stack) -> None:
    forged_tg = TelegramUser(platforms, stack.gateway, "guessed-secret")
    assert forged_tg.post(forged_tg.update("hi")).status_code == 403
    whatsapp = WhatsAppUser(platforms, stack.gateway)
    form = whatsapp.form("hi")
    signed = whatsapp.post(form)
    assert signed.status_code == 200
    form["Body"] = "I am someone else"
    form["MessageSid"] += "x"
    response = httpx.post(
        f"{stack.gateway}/webhooks/whatsapp",
        data=form,
        headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
    )
    assert response.status_code == 403


def _secret(stack: Stack) -> str:
    return stack.env["TELEGRAM_WEBHOOK_SECRET"]
