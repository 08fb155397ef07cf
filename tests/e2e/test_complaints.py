"""End to end: the complaint form in tr, ar, fa and en through the real Rasa and actions.

A person files a complaint, chooses a category, writes it, says whether to stay anonymous,
and gets a reference number; asking for the status with that number works; another chat
asking with the same number learns nothing; an anonymous complaint links to no user.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from bench.stack import Stack

pytestmark = pytest.mark.e2e
REFERENCE = re.compile(r"UY-[0-9A-Z]{4}-[0-9A-Z]{4}")

# (opening words, category choice, complaint text, yes/no to anonymity, expected category)
FLOWS = {
    "tr": (
        "şikayet etmek istiyorum",
        "1",
        "Merkezdeki bekleme süresi çok uzundu, üç saat bekledim.",
        "evet",
        "service_quality",
    ),
    "ar": ("أريد تقديم شكوى", "٤", "شخص طلب مني مالاً مقابل تسجيلي في الدورة.", "لا", "fraud"),
    "fa": (
        "می خواهم شکایت کنم",
        "کلاهبرداری",
        "یک نفر برای ثبت نام در کلاس از من پول خواست.",
        "بله",
        "fraud",
    ),
    "en": (
        "I want to make a complaint",
        "other",
        "The opening hours of the office should be longer on Saturdays.",
        "no",
        "other",
    ),
}


def rows(stack: Stack, query: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(stack.data_dir / "uyum.db") as db:
        return db.execute(query, args).fetchall()


@pytest.mark.parametrize("lang", list(FLOWS))
def test_complaint_form_gives_a_reference_in_the_users_language(stack: Stack, lang: str) -> None:
    opening, category, text, anonymous, expected = FLOWS[lang]
    user = stack.user(channel="whatsapp")
    asked = user.say(opening)[-1]["text"]
    assert "1. " in asked and "5. " in asked  # the five categories, numbered on WhatsApp
    assert user.say(category)[-1]["text"]  # asks for the text
    asked_anonymous = user.say(text)[-1]["text"]
    assert "1. " in asked_anonymous and "2. " in asked_anonymous
    done = user.say(anonymous)
    found = REFERENCE.findall(" ".join(r["text"] for r in done))
    assert found, done
    reference = found[0]
    [(stored_category, stored_text, is_anonymous, conversation_id, language)] = rows(
        stack,
        "SELECT category, text, anonymous, conversation_id, language FROM complaints"
        " WHERE reference = ?",
        reference,
    )
    assert (stored_category, stored_text, language) == (expected, text, lang)
    wants_anonymity = anonymous in ("evet", "بله")
    assert bool(is_anonymous) is wants_anonymity
    assert (conversation_id is None) is wants_anonymity  # anonymous: no link to the user

    status = user.say(f"complaint status {reference}")[-1]["text"]
    assert reference in status
    # someone else asking with the same number learns nothing (unless it is anonymous)
    other = stack.user(channel="whatsapp", language_hint=lang)
    reply = other.say(f"complaint status {reference}")[-1]["text"]
    assert (reference in reply) is wants_anonymity


def test_a_conduct_report_is_confidential_and_cancel_records_nothing(stack: Stack) -> None:
    user = stack.user()
    user.say("I want to complain about a staff member")
    user.say("2")
    user.say("A staff member shouted at me and threatened to remove my name from the list.")
    done = user.say("/deny", expect=2)
    reference = REFERENCE.findall(" ".join(r["text"] for r in done))[0]
    assert any("confidential" in r["text"] for r in done)
    [(confidential,)] = rows(
        stack, "SELECT confidential FROM complaints WHERE reference = ?", reference
    )
    assert confidential == 1

    before = rows(stack, "SELECT COUNT(*) FROM complaints")[0][0]
    quitter = stack.user()
    quitter.say("I have a complaint")
    assert "nothing was recorded" in quitter.say("cancel")[-1]["text"]
    assert rows(stack, "SELECT COUNT(*) FROM complaints")[0][0] == before
    # the form is over: the next question is answered as usual
    answered = quitter.say("how do I learn Turkish")
    assert "e-yaygin.meb.gov.tr" in " ".join(r["text"] for r in answered)
