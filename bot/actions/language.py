"""Which language the conversation is in, decided on every user turn."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction

from knowledge_base.language import SUPPORTED, detect_language


def _chosen_language(tracker: Tracker) -> str | None:
    """A language the user picked explicitly (button payload or a named language).

    Only on ``choose_language``: "how do I learn Turkish?" names a language but asks a question.
    """
    if (tracker.latest_message.get("intent") or {}).get("name") != "choose_language":
        return None
    values = [
        str(e.get("value"))
        for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == "language"
    ]
    return next((v for v in values if v in SUPPORTED), None)


def _metadata(tracker: Tracker) -> dict[str, Any]:
    metadata = tracker.latest_message.get("metadata") or {}
    if not metadata:
        user = tracker.get_last_event_for("user") or {}
        metadata = user.get("metadata") or {}
    return dict(metadata)


class ValidateSlotMappings(ValidationAction):
    """Fills custom-mapped slots after every user message (``action_validate_slot_mappings``)."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        current = tracker.get_slot("language")
        chosen = _chosen_language(tracker)
        if chosen:
            return {"language": chosen}
        text = tracker.latest_message.get("text") or ""
        metadata = _metadata(tracker)
        if text.startswith("/"):  # a payload says nothing; the gateway may know already
            known = current or metadata.get("language")
            return {"language": known} if known in SUPPORTED else {}
        hint = metadata.get("language_hint")
        detection = detect_language(text, current=current, hint=hint)
        if detection.confident or not current:
            return {"language": detection.lang}
        return {"language": current}


class ActionSetLanguage(Action):
    """Record the language the user named; the rule then confirms it in that language."""

    def name(self) -> str:
        return "action_set_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        chosen = _chosen_language(tracker)
        return [SlotSet("language", chosen)] if chosen else []
