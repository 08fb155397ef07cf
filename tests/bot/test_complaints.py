"""Complaints: the form's actions, reference numbers, and who learns a complaint's status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot import db, texts
from bot.actions.complaints import (
    ActionAskComplaintCategory,
    ActionSubmitComplaint,
    ValidateComplaintForm,
    category_of,
)
from bot.complaints import NewComplaint, find_reference, new_reference, status_reply, store
from bot.models import Complaint, Conversation


def tracker(text: str, slots: dict[str, Any], intent: str = "complain") -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return Tracker(
        "c1",
        {"language": "ar", **slots},
        latest,
        [{"event": "user", "text": text, "parse_data": latest}],
        False,
        None,
        {"name": "complaint_form"},
        "action_listen",
    )


def test_references_are_unguessable_and_read_back_however_they_are_typed() -> None:
    made = {new_reference() for _ in range(1000)}
    assert len(made) == 1000
    reference = made.pop()
    assert find_reference(f"status {reference}") == reference
    assert find_reference(f"status {reference.lower().replace('-', ' ')}") == reference
    assert find_reference("UY-0O1I-L000") == "UY-0011-1000"  # O read as 0, I and L as 1
    assert find_reference("UY-ABCU-1234") is None  # U is never in a reference
    assert find_reference("no number here") is None


def test_a_category_is_chosen_by_number_name_or_payload() -> None:
    assert category_of("1", "en") == "service_quality"
    assert category_of("٣", "ar") == "sexual_exploitation_abuse"  # Arabic-Indic digit
    assert category_of("۴", "fa") == "fraud"  # Persian digit
    assert category_of("کلاهبرداری", "fa") == "fraud"
    assert category_of("Behaviour of staff", "en") == "staff_conduct"
    assert category_of("other", "tr") == "other"
    assert category_of("9", "en") is None
    assert category_of("what?", "en") is None


async def test_the_form_asks_with_choices_and_validates_each_answer() -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskComplaintCategory().run(dispatcher, tracker("شكوى", {}), {})
    assert dispatcher.messages[0]["text"] == texts.text("complaint_ask_category", "ar")
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]][:2] == [
        "service_quality",
        "staff_conduct",
    ]
    form = ValidateComplaintForm()
    short = CollectingDispatcher()
    assert form.validate_complaint_text("ok", short, tracker("ok", {}), {}) == {
        "complaint_text": None
    }
    assert short.messages[0]["text"] == texts.text("complaint_text_too_short", "ar")
    yes = tracker("نعم", {}, intent="affirm")
    assert form.validate_complaint_anonymous("نعم", dispatcher, yes, {}) == {
        "complaint_anonymous": True
    }
    maybe = tracker("ربما", {}, intent="ask_question")
    assert form.validate_complaint_anonymous("ربما", dispatcher, maybe, {}) == {
        "complaint_anonymous": None
    }


async def test_cancel_ends_the_form_and_submit_then_records_nothing() -> None:
    filled = {"complaint_category": "fraud", "requested_slot": "complaint_text"}
    events = await ValidateComplaintForm().run(
        CollectingDispatcher(), tracker("إلغاء", filled), {"slots": {}, "forms": {}}
    )
    assert {"event": "slot", "name": "requested_slot", "value": None, "timestamp": None} in events
    dispatcher = CollectingDispatcher()
    await ActionSubmitComplaint().run(dispatcher, tracker("إلغاء", {}), {})
    assert dispatcher.messages == [
        {**dispatcher.messages[0], "text": texts.text("complaint_cancelled", "ar")}
    ]


async def test_submit_sends_the_complaint_and_gives_its_reference() -> None:
    slots = {
        "complaint_category": "sexual_exploitation_abuse",
        "complaint_text": "وصف ما حدث",
        "complaint_anonymous": True,
    }
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitComplaint().run(dispatcher, tracker("/affirm", slots), {})
    payload = dispatcher.messages[0]["custom"]["complaint"]
    assert payload["category"] == "sexual_exploitation_abuse" and payload["anonymous"] is True
    assert payload["reference"] in dispatcher.messages[1]["text"]
    assert dispatcher.messages[2]["text"] == texts.text("complaint_confidential", "ar")
    assert all(e["value"] is None for e in events)  # the form's slots are cleared


async def test_status_is_told_to_its_owner_or_for_an_anonymous_one_only(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await db.upgrade_async(url)
    engine = db.make_engine(url)
    async with db.make_sessionmaker(engine)() as session:
        owner = Conversation(channel="whatsapp", user_ref="+905320000001", language="en")
        stranger = Conversation(channel="whatsapp", user_ref="+905320000002", language="tr")
        session.add_all([owner, stranger])
        await session.flush()
        mine = NewComplaint(new_reference(), "fraud", "someone asked for money", False)
        hidden = NewComplaint(new_reference(), "staff_conduct", "shouted at me", True)
        store(session, owner, mine)
        store(session, owner, hidden)
        await session.commit()
        stored = {c.reference: c for c in (await session.scalars(select(Complaint))).all()}
        assert stored[mine.reference].conversation_id == owner.id
        assert stored[hidden.reference].conversation_id is None  # anonymous: no link at all
        assert stored[hidden.reference].confidential and not stored[mine.reference].confidential

        assert mine.reference in await status_reply(session, owner, mine.reference)
        unknown = await status_reply(session, stranger, "UY-0000-0000")
        assert await status_reply(session, stranger, mine.reference) == unknown
        assert unknown == texts.text("complaint_not_found", "tr")
        assert hidden.reference in await status_reply(session, stranger, hidden.reference)
        assert await status_reply(session, owner, "") == texts.text("complaint_ask_reference", "en")
    await engine.dispose()


def test_malformed_complaint_payloads_are_refused() -> None:
    good = {"reference": new_reference(), "category": "fraud", "text": "x y z"}
    assert NewComplaint.from_payload(good) is not None
    assert NewComplaint.from_payload({**good, "category": "spam"}) is None
    assert NewComplaint.from_payload({**good, "reference": "123"}) is None
    assert NewComplaint.from_payload({**good, "text": "   "}) is None
    long = NewComplaint.from_payload({**good, "text": "ا" * 10_000})
    assert long is not None and len(long.text) == 4000
