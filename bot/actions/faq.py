"""Answer information questions from the knowledge base."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlparse

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import texts
from bot.actions.handover import request_handover
from bot.actions.services import knowledge_base
from knowledge_base.embedders import PUBLISHED_VECTOR_KEY, shared_vector
from knowledge_base.schema import Entry

logger = logging.getLogger(__name__)
FALLBACKS_BEFORE_A_PERSON = 2

# Intents whose services are not built yet are answered by the entry that explains them.
INTENT_ENTRIES = {
    "stop": "privacy-and-data",
}


def _with_source(answer: str, entry: Entry | None) -> str:
    """The answer ends with its official source, unless it already names that site."""
    if entry is None or not entry.sources:
        return answer
    url = str(entry.sources[0])
    host = (urlparse(url).hostname or "").removeprefix("www.")
    return answer if host and host in answer else f"{answer}\n\n🔗 {url}"


def report_decision(
    dispatcher: CollectingDispatcher,
    outcome: str,
    entry_id: str | None = None,
    score: float | None = None,
    message: dict[str, Any] | None = None,
) -> None:
    """Tell the gateway what the knowledge base decided (bot/analytics.py records it).

    A question it could not answer goes with its words and the vector NLU published, for
    the content-gap analysis; the gateway redacts the words before keeping them.
    """
    payload: dict[str, Any] = {"outcome": outcome, "entry": entry_id, "score": score}
    if message is not None:
        payload["question"] = message.get("text")
        payload["vector"] = message.get(PUBLISHED_VECTOR_KEY)
    dispatcher.utter_message(json_message={"kb": payload})


def entry_payload(entry_id: str) -> str:
    """The button payload that asks for one entry directly."""
    return "/ask_question" + json.dumps({"entry": entry_id}, separators=(",", ":"))


class ActionAnswerQuestion(Action):
    """Search the knowledge base: answer, offer up to 3 choices, or say so politely."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kb = knowledge_base()
        lang = tracker.get_slot("language") or "en"
        message = tracker.latest_message
        intent = (message.get("intent") or {}).get("name")
        chosen = next(
            (str(e["value"]) for e in message.get("entities", []) if e.get("entity") == "entry"),
            None,
        ) or INTENT_ENTRIES.get(str(intent))
        if chosen and kb.content.entry(chosen):
            report_decision(dispatcher, "answer", chosen)
            return self._answer(dispatcher, chosen, lang)
        vector = shared_vector(
            message.get(PUBLISHED_VECTOR_KEY), kb.embedder
        )  # NLU embedded it already
        result = kb.search(message.get("text") or "", lang, vector=vector)
        logger.info(
            "kb decision=%s entry=%s score=%.3f lang=%s",
            result.decision,
            result.entry_id,
            result.score,
            lang,
        )
        if result.decision == "answer" and result.entry_id:
            report_decision(dispatcher, "answer", result.entry_id, result.score)
            return self._answer(dispatcher, result.entry_id, lang)
        outcome = "clarify" if result.decision == "clarify" else "fallback"
        nearest = result.entry_id or next((c.entry_id for c in result.candidates), None)
        report_decision(dispatcher, outcome, nearest, result.score, message)
        if result.decision == "clarify":
            dispatcher.utter_message(
                text=texts.text("did_you_mean", lang),
                buttons=[
                    {"title": kb.title_for(c.entry_id, lang), "payload": entry_payload(c.entry_id)}
                    for c in result.candidates
                ],
            )
            return []
        fallbacks = float(tracker.get_slot("kb_fallbacks") or 0) + 1
        if fallbacks >= FALLBACKS_BEFORE_A_PERSON:  # twice in a row: a person takes over
            dispatcher.utter_message(text=texts.text("not_found", lang))
            request_handover(dispatcher, "kb_fallback")
            return [SlotSet("kb_fallbacks", 0.0), SlotSet("handover", True)]
        dispatcher.utter_message(
            text=texts.text("not_found", lang),
            buttons=[{"title": texts.text("talk_to_person", lang), "payload": "/request_human"}],
        )
        return [SlotSet("kb_fallbacks", fallbacks)]

    @staticmethod
    def _answer(dispatcher: CollectingDispatcher, entry_id: str, lang: str) -> list[EventType]:
        found = knowledge_base().answer_for(entry_id, lang)
        if found is None:
            dispatcher.utter_message(text=texts.text("not_found", lang))
            return []
        answer, answer_lang = found
        answer = _with_source(answer, knowledge_base().content.entry(entry_id))
        if answer_lang != lang:
            dispatcher.utter_message(
                text=texts.text(
                    "translation_missing", lang, language=texts.language_name(answer_lang)
                )
            )
        dispatcher.utter_message(
            text=answer,
            buttons=[
                {"title": texts.text("helpful_yes", lang), "payload": "/feedback_positive"},
                {"title": texts.text("helpful_no", lang), "payload": "/feedback_negative"},
            ],
        )
        dispatcher.utter_message(json_message={"entry": entry_id})  # shown to operators
        events: list[EventType] = [SlotSet("last_entry", entry_id), SlotSet("kb_fallbacks", 0.0)]
        entry = knowledge_base().content.entry(entry_id)
        if entry is not None and entry.urgent:  # e.g. trafficking: a person follows up first
            request_handover(dispatcher, "urgent_entry", priority=1)
            events.append(SlotSet("handover", True))
        return events
