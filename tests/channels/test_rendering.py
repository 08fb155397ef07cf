"""Rendering for platform limits: splitting long text, numbered choices, short callback data."""

from __future__ import annotations

import pytest

from channels.base import callback_key, number_choices, split_message, split_text
from channels.keywords import opt_command
from channels.messages import Button, OutboundMessage
from channels.telegram import TelegramChannel
from channels.whatsapp import TEXT_LIMIT, WhatsAppChannel

ARABIC_PARAGRAPH = "يمكنك تجديد الإقامة عبر نظام الإقامة الإلكتروني قبل انتهاء مدتها. " * 12


def test_split_text_keeps_every_character_and_cuts_at_boundaries() -> None:
    text = "\n\n".join([ARABIC_PARAGRAPH.strip()] * 5)
    pieces = split_text(text, 1600)
    assert len(pieces) > 1 and all(len(p) <= 1600 for p in pieces)
    assert "".join(pieces).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )
    assert all(p.endswith(".") for p in pieces)  # cut after a sentence, never inside a word


def test_split_text_without_spaces_still_fits() -> None:
    pieces = split_text("x" * 5000, 1600)
    assert [len(p) for p in pieces] == [1600, 1600, 1600, 200]


async def test_whatsapp_renders_numbered_choices_at_most_ten_and_under_1600() -> None:
    channel = WhatsAppChannel("AC" + "0" * 32, "token", sender="+14155238886")
    await channel.aclose()
    buttons = tuple(Button(f"Seçenek {i}", f"/p{i}") for i in range(14))
    pieces = channel.render(OutboundMessage(ARABIC_PARAGRAPH * 3, buttons))
    assert len(pieces) == 2
    assert all(len(p.text) <= 1600 and not p.buttons for p in pieces)
    assert "10. Seçenek 9" in pieces[-1].text and "11." not in pieces[-1].text
    assert len(pieces[0].text) <= TEXT_LIMIT


def test_telegram_keeps_buttons_on_the_last_piece() -> None:
    channel = TelegramChannel("1:x", "http://127.0.0.1:9")
    pieces = channel.render(OutboundMessage("a " * 3000, (Button("Yes", "/affirm"),)))
    assert [bool(p.buttons) for p in pieces] == [False, True]


def test_split_message_leaves_short_messages_alone() -> None:
    message = OutboundMessage("short", (Button("A", "/a"),))
    assert split_message(message, 100) == [message]
    assert number_choices(OutboundMessage("plain")) == OutboundMessage("plain")


def test_callback_key_fits_telegrams_64_bytes() -> None:
    short = '/set_language{"language":"fa"}'
    long = '/ask_question{"entry":"residence-permit-renewal-for-international-protection"}'
    assert callback_key(short) == short
    key = callback_key(long)
    assert key.startswith("#b:") and len(key.encode()) <= 64 and key == callback_key(long)
    assert callback_key("#b:spoofed") != "#b:spoofed"  # a user cannot pass a key as a payload


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("STOP", "opt_out"), ("stop.", "opt_out"), (" Dur ", "opt_out"), ("DURDUR!", "opt_out"),
        ("توقف", "opt_out"), ("لغو", "opt_out"), ("Unsubscribe", "opt_out"),
        ("START", "opt_in"), ("başla", "opt_in"), ("شروع", "opt_in"), ("ابدأ", "opt_in"),
        ("stop sending me messages", None), ("durum nedir", None),
        ("how do I start a course", None),
        ("", None),
    ],
)  # fmt: skip
def test_opt_keywords(text: str, command: str | None) -> None:
    assert opt_command(text) == command


async def test_choices_that_cannot_be_quick_replies_stay_numbered() -> None:
    whatsapp = WhatsAppChannel("AC" + "0" * 32, "token", sender="+1", quick_replies=True)
    await whatsapp.aclose()
    four = tuple(Button(f"Seçenek {i}", f"/c{i}") for i in range(4))
    long_title = (Button("Bir insanla konuşmak istiyorum", "/request_human"),)
    for message in (
        OutboundMessage("Hangisi?", four),  # more than 3 buttons
        OutboundMessage("Hangisi?", long_title),  # a title over 20 characters
        OutboundMessage("x" * 300, (Button("Evet", "/affirm"),)),  # last line over 255
        OutboundMessage("Bak", (Button("Evet", "/affirm"),), media_url="https://e.org/a.png"),
    ):
        (rendered,) = whatsapp.render(message)
        assert not rendered.buttons and "1. " in rendered.text
