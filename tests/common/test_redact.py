"""Personal data is taken out of questions kept for analysis; the question itself stays."""

from __future__ import annotations

import pytest

from common.redact import redact, redact_log


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me on 0532 123 45 67 today", "call me on [phone] today"),
        ("+90 (532) 123-45-67", "[phone]"),
        ("my number is 00905321234567", "my number is [phone]"),
        ("TC kimlik no 12345678901 kayıp", "TC kimlik no [id] kayıp"),
        ("yabancı kimlik 99 123 456 789", "yabancı kimlik [id]"),
        ("write to a.b+c@example.com.tr please", "write to [email] please"),
        ("رقمي ۰۵۳۲۱۲۳۴۵۶۷ لطفا", "رقمي [phone] لطفا"),  # Persian digits
        ("هاتفي ٠٥٣٢١٢٣٤٥٦٧", "هاتفي [phone]"),  # Arabic-Indic digits
        ("IBAN TR33 0006 1005 1978 6457 8413 26 for the fee", "IBAN [iban] for the fee"),
    ],
)
def test_personal_data_is_replaced_by_a_tag(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "is the fee 500 TL in 2025?",
        "ikamet 2024-2025 dönemi",
        "randevum 01.02.2025 tarihinde",
        "عمري 25 سنة ولدي 3 أطفال",
        "Türkçe kursu A1 seviyesi kaç saat?",
    ],
)
def test_questions_without_personal_data_are_unchanged(text: str) -> None:
    assert redact(text) == text


def test_log_lines_lose_message_texts_but_keep_their_time() -> None:
    rasa = (
        '2026-12-02 06:01:57 ERROR rasa.core.channels.rest - {"text": "my number is \\"0532\\"",'
        ' "event": "rest.message.received.failure", "locals": {\'text\': \'merhaba\'}}'
    )
    line = redact_log(rasa)
    assert line.startswith("2026-12-02 06:01:57 ERROR")
    assert "0532" not in line and "merhaba" not in line
    assert line.count('"[message]"') == 2 and "rest.message.received.failure" in line
    assert redact_log("sent 2 replies to +90 532 111 22 33") == "sent 2 replies to [phone]"
