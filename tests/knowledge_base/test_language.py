"""Language identification on short chat messages."""

from __future__ import annotations

import pytest

from knowledge_base.language import detect_language, message_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("merhaba", "tr"),
        ("kimlik kayboldu ne yapmalıyım", "tr"),
        ("turkce kursu nerde", "tr"),
        ("hello", "en"),
        ("how do I renew my residence permit", "en"),
        ("مرحبا", "ar"),
        ("كيف أسجل في دورة اللغة التركية؟", "ar"),
        ("سلام چطوری", "fa"),
        ("کارت شناسایی من گم شده", "fa"),
        ("زه غواړم د کار اجازه واخلم", "ps"),
        ("kif bsajel 3al kimlik", "ar"),
        ("Как продлить вид на жительство", "ru"),
    ],
)
def test_detects_the_language(text: str, lang: str) -> None:
    assert detect_language(text).lang == lang


@pytest.mark.parametrize("text", ["157?", "👍👍", "", "   ", "\x00\x01", "1"])
def test_no_evidence_keeps_the_conversation_language(text: str) -> None:
    detection = detect_language(text, current="fa", hint="tr")
    assert detection.lang == "fa"
    assert not detection.confident


def test_platform_hint_is_used_when_nothing_else_is_known() -> None:
    assert detect_language("👍", hint="ar-SY").lang == "ar"
    assert detect_language("👍", hint="xx").lang == "en"


def test_very_long_and_mixed_input_does_not_fail() -> None:
    detection = detect_language("ikamet " * 3000 + " مرحبا")
    assert detection.lang == "tr"


@pytest.mark.parametrize(
    ("text", "metadata", "expected"),
    [
        ("hello", {"language": "fa"}, "fa"),  # the gateway decided (sticky, with its history)
        ("/emergency", {"language": "ar"}, "ar"),  # a protection case on first contact
        ("/emergency", {"language": "xx-not-a-language"}, None),
        ("/feedback_positive", None, None),  # a payload says nothing
        ("ikamet iznimi nasıl uzatırım", None, "tr"),  # Rasa used directly: the text decides
        ("كيف أسجل ابني بالمدرسة", {}, "ar"),
        ("157?", None, None),  # unclear: the slot keeps what it holds
    ],
)
def test_the_language_rasa_records_for_a_message(
    text: str, metadata: dict[str, str] | None, expected: str | None
) -> None:
    assert message_language(text, metadata) == expected
