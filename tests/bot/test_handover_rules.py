"""Office hours, the queue notice, and the protection words (pure functions)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import texts
from bot.handover import queued_notice
from bot.office_hours import OfficeHours
from bot.protection import is_protection_case

ISTANBUL = dt.timezone(dt.timedelta(hours=3))


def test_office_hours_open_closed_and_next_opening() -> None:
    office = OfficeHours.parse("mon-fri 09:00-17:30", "Europe/Istanbul")
    monday_10 = dt.datetime(2026, 11, 30, 10, 0, tzinfo=ISTANBUL)
    friday_18 = dt.datetime(2026, 12, 4, 18, 0, tzinfo=ISTANBUL)
    assert office.is_open(monday_10) and not office.is_open(friday_18)
    assert office.next_opening(friday_18) == dt.datetime(2026, 12, 7, 9, 0, tzinfo=ISTANBUL)
    assert office.next_opening(monday_10) == monday_10
    night = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)  # 05:00 in Istanbul, Monday
    assert office.next_opening(night) == dt.datetime(2026, 11, 30, 9, 0, tzinfo=ISTANBUL)
    days = texts.text("weekdays", "en").split(",")
    assert office.describe(days) == "Monday–Friday 09:00–17:30 (UTC+03)"
    weekend = OfficeHours.parse("sun-thu 08:30-16:30", "Europe/Istanbul")
    assert weekend.is_open(dt.datetime(2026, 11, 29, 9, 0, tzinfo=ISTANBUL))  # a Sunday


@pytest.mark.parametrize(
    "spec,zone",
    [("weekdays 9-5", "Europe/Istanbul"), ("mon-fri 17:00-09:00", "Europe/Istanbul"),
     ("mon-fri 09:00-17:00", "Mars/Olympus"), ("xyz-fri 09:00-17:00", "UTC")],
)  # fmt: skip
def test_bad_office_hours_are_refused_with_a_reason(spec: str, zone: str) -> None:
    with pytest.raises(ValueError, match=r"office|day|zone"):
        OfficeHours.parse(spec, zone)


def test_the_queue_notice_in_and_out_of_office_hours() -> None:
    office = OfficeHours.parse("mon-fri 09:00-17:00", "Europe/Istanbul")
    open_ = queued_notice("ar", 3, office, dt.datetime(2026, 12, 1, 11, 0, tzinfo=ISTANBUL))
    assert "3" in open_.text and "الاثنين–الجمعة 09:00–17:00" in open_.text
    assert "112" not in open_.text
    late = queued_notice("fa", 1, office, dt.datetime(2026, 12, 4, 22, 0, tzinfo=ISTANBUL))
    assert "دوشنبه 09:00" in late.text  # when to expect an answer: Monday morning
    assert "112" in late.text and "157" in late.text and "183" in late.text


@pytest.mark.parametrize(
    "text",
    ["My husband BEATS ME every night", "kocam beni dövüyor", "زوجي يضربني", "شوهرم مرا کتک می‌زند",
     "I want to kill myself", "İNTİHAR etmeyi düşünüyorum", "my brother was DETAINED",
     "çocuk işçi olarak çalıştırılıyor", "اتجار بالبشر", "قاچاق انسان", "ځان وژنه",
     "ما بدي عيش", "کارفرما پاسپورتم رو گرفته نمیذاره برم", "بچه‌ام گم شده",
     "The employer took my passport"],
)  # fmt: skip
def test_protection_words_in_every_language(text: str) -> None:
    assert is_protection_case(text)


@pytest.mark.parametrize(
    "text",
    ["How do I renew my residence permit?", "Türkçe kursu ne zaman başlıyor?", "بازار کجاست",
     "أريد تعلم اللغة التركية", "Kimlik kartımı kaybettim", "خبر جدید دارید؟"],
)  # fmt: skip
def test_ordinary_questions_are_not_protection_cases(text: str) -> None:
    assert not is_protection_case(text)
