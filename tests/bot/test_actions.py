"""Custom actions on tracker snapshots, with a collecting dispatcher and a real small KB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import texts
from bot.actions import (
    ActionAnswerQuestion,
    ActionEraseData,
    ActionFeedback,
    ActionRequestHandover,
    ActionSetLanguage,
    services,
)
from knowledge_base.search import KnowledgeBase


@pytest.fixture(autouse=True)
def kb(small_kb: KnowledgeBase) -> Iterator[KnowledgeBase]:
    services.set_knowledge_base(small_kb)
    yield small_kb
    services.set_knowledge_base(None)


def tracker(
    text: str,
    intent: str = "ask_question",
    *,
    language: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    hint: str | None = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "metadata": {"language_hint": hint},
    }
    return Tracker(
        "c1",
        {"language": language, "kb_fallbacks": 0.0},
        latest,
        [{"event": "user", "text": text, "parse_data": latest}],
        False,
        None,
        {},
        "action_listen",
    )


async def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, events


def said(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with text (not the custom payloads for the gateway)."""
    return [m for m in messages if m.get("text")]


ANALYTICS = ("kb", "feedback")


def custom(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The payloads that change something (not the analytics reports)."""
    return [
        m["custom"] for m in messages if m.get("custom") and not set(m["custom"]) & set(ANALYTICS)
    ]


def reported(messages: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The analytics reports (``kb`` decisions, ``feedback`` scores) the gateway records."""
    return [m["custom"][key] for m in messages if key in (m.get("custom") or {})]


async def test_answer_in_the_slot_language_with_feedback_buttons() -> None:
    messages, events = await run(ActionAnswerQuestion(), tracker("رقم الإسعاف", language="ar"))
    assert said(messages)[-1]["text"] == "112 هو رقم الطوارئ المجاني في كل مكان."
    assert [b["payload"] for b in said(messages)[-1]["buttons"]] == [
        "/feedback_positive",
        "/feedback_negative",
    ]
    assert {
        "event": "slot",
        "name": "last_entry",
        "value": "emergency-112",
        "timestamp": None,
    } in events
    # the entry is named for operators, and an urgent entry brings a person, first in line
    assert custom(messages) == [
        {"entry": "emergency-112"},
        {"handover": {"reason": "urgent_entry", "priority": 1}},
    ]
    # an answer is counted for the dashboard, without the question's words
    [decision] = reported(messages, "kb")
    assert (decision["outcome"], decision["entry"]) == ("answer", "emergency-112")
    assert decision["score"] > 0.9 and "question" not in decision


async def test_missing_translation_is_said_in_the_users_language() -> None:
    entities = [{"entity": "entry", "value": "residence-permit"}]
    messages, _ = await run(
        ActionAnswerQuestion(), tracker("/ask_question", language="ps", entities=entities)
    )
    assert said(messages)[0]["text"].startswith("دا ځواب لا ستاسو په ژبه نشته")
    assert said(messages)[1]["text"] == "Start the application at e-ikamet.goc.gov.tr."


async def test_out_of_scope_is_a_polite_fallback_counted_in_a_slot() -> None:
    messages, events = await run(
        ActionAnswerQuestion(), tracker("who won the football match", language="en")
    )
    assert "112" in said(messages)[0]["text"] and "operator" in said(messages)[0]["text"]
    assert said(messages)[0]["buttons"] == [
        {"title": "Talk to a person", "payload": "/request_human"}
    ]
    assert events[0]["name"] == "kb_fallbacks" and events[0]["value"] == 1.0
    # the question goes to the content-gap log (the gateway redacts and keeps it)
    [decision] = reported(messages, "kb")
    assert decision["outcome"] == "fallback"
    assert decision["question"] == "who won the football match"


async def test_clarify_offers_at_most_three_choices(kb: KnowledgeBase) -> None:
    kb_thresholds = kb.thresholds
    object.__setattr__(kb, "thresholds", type(kb_thresholds)(answer=1.01, clarify=0.5, margin=0.0))
    try:
        messages, _ = await run(ActionAnswerQuestion(), tracker("Türkçe kursu", language="tr"))
    finally:
        object.__setattr__(kb, "thresholds", kb_thresholds)
    assert reported(messages, "kb")[0]["outcome"] == "clarify"
    assert reported(messages, "kb")[0]["entry"] == "turkish-courses"  # the nearest entry
    assert reported(messages, "kb")[0]["question"] == "Türkçe kursu"
    buttons = said(messages)[0]["buttons"]
    assert 1 <= len(buttons) <= 3
    assert buttons[0]["payload"] == '/ask_question{"entry":"turkish-courses"}'
    assert buttons[0]["title"] == "Türkçe kursuna nasıl kayıt olurum?"


async def test_set_language_records_a_named_language() -> None:
    named = [{"entity": "language", "value": "fa"}]
    persian = tracker("فارسی", "choose_language", entities=named)
    messages, events = await run(ActionSetLanguage(), persian)
    assert events == [{"event": "slot", "name": "language", "value": "fa", "timestamp": None}]
    assert custom(messages) == [{"language": "fa"}]  # the gateway learns the choice
    messages, events = await run(ActionSetLanguage(), tracker("change language", "choose_language"))
    assert (messages, events) == ([], [])
    # "how do I learn Turkish?" names a language but chooses none
    turkish = [{"entity": "language", "value": "tr"}]
    question = tracker("Türkçe nasıl öğrenilir", entities=turkish)
    messages, events = await run(ActionSetLanguage(), question)
    assert (messages, events) == ([], [])


def test_answers_end_with_their_source_unless_they_name_it(kb: KnowledgeBase) -> None:
    from bot.actions.faq import _with_source

    entry = kb.content.entry("turkish-courses")
    assert entry is not None
    assert _with_source("See e-yaygin.meb.gov.tr", entry) == "See e-yaygin.meb.gov.tr"
    assert (
        _with_source("Ask at a centre.", entry)
        == "Ask at a centre.\n\n🔗 https://e-yaygin.meb.gov.tr/"
    )
    assert _with_source("No sources.", kb.content.entry("emergency-112")) == "No sources."


# ---- tracker snapshots as Rasa 3.6 sends them to the action server (tests/fixtures/trackers)

SNAPSHOTS = Path(__file__).resolve().parents[1] / "fixtures" / "trackers"


def snapshot(name: str) -> Tracker:
    return Tracker.from_dict(json.loads((SNAPSHOTS / name).read_text("utf-8")))


async def test_snapshot_arabic_question_is_answered_in_arabic() -> None:
    messages, events = await run(ActionAnswerQuestion(), snapshot("ask_question_ar.json"))
    assert said(messages)[-1]["text"] == "112 هو رقم الطوارئ المجاني في كل مكان."
    assert [e["name"] for e in events] == ["last_entry", "kb_fallbacks", "handover"]
    assert events[1]["value"] == 0.0  # an answer resets the fallback count


async def test_snapshot_second_fallback_in_a_row_brings_a_person() -> None:
    messages, events = await run(ActionAnswerQuestion(), snapshot("out_of_scope_en.json"))
    assert said(messages)[0]["text"] == texts.text("not_found", "en")
    assert reported(messages, "kb")[0]["outcome"] == "fallback"
    assert custom(messages) == [{"handover": {"reason": "kb_fallback", "priority": 0}}]
    assert [(e["name"], e["value"]) for e in events] == [("kb_fallbacks", 0.0), ("handover", True)]


async def test_asking_for_a_person_requests_a_handover() -> None:
    messages, events = await run(
        ActionRequestHandover(), tracker("/request_human", "request_human")
    )
    assert custom(messages) == [{"handover": {"reason": "asked", "priority": 0}}]
    assert [(e["name"], e["value"]) for e in events] == [("handover", True)]


async def test_second_thumbs_down_in_a_row_brings_a_person() -> None:
    first = tracker("/feedback_negative", "feedback_negative", language="tr")
    messages, events = await run(ActionFeedback(), first)
    assert [m["response"] for m in messages if m.get("response")] == ["utter_feedback_sorry"]
    assert events[0]["value"] == 1.0 and not custom(messages)
    second = tracker("/feedback_negative", "feedback_negative", language="tr")
    second.slots["negative_feedbacks"] = 1.0
    messages, events = await run(ActionFeedback(), second)
    assert custom(messages) == [{"handover": {"reason": "negative_feedback", "priority": 0}}]
    assert [(e["name"], e["value"]) for e in events] == [
        ("negative_feedbacks", 0.0),
        ("handover", True),
    ]
    thanks, events = await run(ActionFeedback(), tracker("/feedback_positive", "feedback_positive"))
    assert [m["response"] for m in thanks if m.get("response")] == ["utter_feedback_thanks"]
    assert events[0]["value"] == 0.0


async def test_feedback_reports_the_entry_and_a_thumbs_down_the_question_it_answered() -> None:
    question = {"text": "ikamet izni nasıl uzatılır", "intent": {"name": "ask_question"}}
    button = {"text": "/feedback_negative", "intent": {"name": "feedback_negative"}}
    thumbs_down = Tracker(
        "c1",
        {"language": "tr", "last_entry": "residence-permit"},
        button,
        [
            {"event": "user", "text": question["text"], "parse_data": question},
            {"event": "bot", "text": "..."},
            {"event": "user", "text": button["text"], "parse_data": button},
        ],
        False,
        None,
        {},
        "action_listen",
    )
    messages, _ = await run(ActionFeedback(), thumbs_down)
    assert reported(messages, "feedback") == [
        {
            "entry": "residence-permit",
            "score": -1,
            "question": "ikamet izni nasıl uzatılır",
            "vector": None,
        }
    ]
    positive = tracker("/feedback_positive", "feedback_positive")
    positive.slots["last_entry"] = "turkish-courses"
    messages, _ = await run(ActionFeedback(), positive)
    assert reported(messages, "feedback") == [{"entry": "turkish-courses", "score": 1}]


async def test_snapshot_named_language_is_set() -> None:
    messages, events = await run(ActionSetLanguage(), snapshot("choose_language_fa.json"))
    assert events == [{"event": "slot", "name": "language", "value": "fa", "timestamp": None}]
    assert custom(messages) == [{"language": "fa"}]


def after_erasure_question(answer: str, intent: str, *, asked_last: bool = True) -> Tracker:
    """A tracker where the bot asked "delete everything?" and the user now answers."""
    latest = {"text": answer, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "verilerimi sil", "parse_data": {}},
        {"event": "action", "name": "action_erase_data"},
        {"event": "bot", "text": texts.text("erasure_question", "tr")},
        {"event": "action", "name": "action_listen"},
    ]
    if not asked_last:  # something else was said and answered in between
        events += [
            {"event": "user", "text": "kurslar?", "parse_data": {}},
            {"event": "action", "name": "action_answer_question"},
            {"event": "action", "name": "action_listen"},
        ]
    events.append({"event": "user", "text": answer, "parse_data": latest})
    return Tracker(
        "c1",
        {"language": "tr", "erasure_asked": True},
        latest,
        events,
        False,
        None,
        {},
        "action_listen",
    )


async def test_delete_my_data_is_asked_back_with_yes_and_no() -> None:
    messages, events = await run(
        ActionEraseData(), tracker("verilerimi sil", "delete_my_data", language="tr")
    )
    [question] = said(messages)
    assert question["text"] == texts.text("erasure_question", "tr")
    assert [b["payload"] for b in question["buttons"]] == ["/affirm", "/deny"]
    assert custom(messages) == []  # nothing is erased yet
    assert events == [{"event": "slot", "timestamp": None, "name": "erasure_asked", "value": True}]


async def test_yes_to_the_question_erases_and_no_keeps() -> None:
    messages, events = await run(ActionEraseData(), after_erasure_question("evet", "affirm"))
    assert [m["text"] for m in said(messages)] == [texts.text("erased", "tr")]
    assert custom(messages) == [{"erase": True}]
    assert events[0]["value"] is False
    messages, _ = await run(ActionEraseData(), after_erasure_question("hayır", "deny"))
    assert [m["text"] for m in said(messages)] == [texts.text("erasure_kept", "tr")]
    assert custom(messages) == []


async def test_a_yes_to_something_else_erases_nothing() -> None:
    later = after_erasure_question("evet", "affirm", asked_last=False)
    messages, events = await run(ActionEraseData(), later)
    assert custom(messages) == [] and messages == [{**messages[0], "response": "utter_ok"}]
    assert events[0]["value"] is False
