"""Asking for a person, and answer feedback that may lead to one.

The action only asks: it sends a custom payload ``{"handover": {...}}`` that the gateway's
worker turns into a queued handover (with the user's place in the queue and the office
hours), in the same transaction as the replies.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge_base.embedders import PUBLISHED_VECTOR_KEY

NEGATIVE_FEEDBACKS_BEFORE_A_PERSON = 2


def request_handover(dispatcher: CollectingDispatcher, reason: str, priority: int = 0) -> None:
    dispatcher.utter_message(json_message={"handover": {"reason": reason, "priority": priority}})


class ActionRequestHandover(Action):
    """The user asked for a person (in words, with /operator, or with a button)."""

    def name(self) -> str:
        return "action_request_handover"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        request_handover(dispatcher, "asked")
        return [SlotSet("handover", True)]


def answered_question(tracker: Tracker) -> dict[str, Any] | None:
    """The parse data of the last words the user typed before this message (not a button)."""
    users = [e for e in reversed(tracker.events) if e.get("event") == "user"]
    for event in users[1:]:  # the first is the feedback itself
        text = event.get("text") or ""
        if text and not text.startswith("/"):
            return {"text": text, **(event.get("parse_data") or {})}
    return None


class ActionFeedback(Action):
    """👍 thanks; 👎 says sorry, and the second 👎 in a row brings a person.

    Either way the gateway hears the score for the last answered entry; a 👎 goes with the
    question it answered, for the content-gap analysis.
    """

    def name(self) -> str:
        return "action_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        feedback: dict[str, Any] = {
            "entry": tracker.get_slot("last_entry"),
            "score": -1 if intent == "feedback_negative" else 1,
        }
        if intent == "feedback_negative" and (question := answered_question(tracker)):
            feedback["question"] = question.get("text")
            feedback["vector"] = question.get(PUBLISHED_VECTOR_KEY)
        dispatcher.utter_message(json_message={"feedback": feedback})
        if intent != "feedback_negative":
            dispatcher.utter_message(response="utter_feedback_thanks")
            return [SlotSet("negative_feedbacks", 0.0)]
        negatives = float(tracker.get_slot("negative_feedbacks") or 0) + 1
        dispatcher.utter_message(response="utter_feedback_sorry")
        if negatives >= NEGATIVE_FEEDBACKS_BEFORE_A_PERSON:
            request_handover(dispatcher, "negative_feedback")
            return [SlotSet("negative_feedbacks", 0.0), SlotSet("handover", True)]
        return [SlotSet("negative_feedbacks", negatives)]
