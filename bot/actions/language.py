"""A language the user names.

The gateway decides the language of every other message and sends it in the metadata; Rasa
fills the ``language`` slot from it (nlu/conversation_language.py), with no action call.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge_base.language import SUPPORTED


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


class ActionSetLanguage(Action):
    """Record the language the user named and tell the gateway; a rule then confirms it."""

    def name(self) -> str:
        return "action_set_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        chosen = _chosen_language(tracker)
        if not chosen:
            return []
        dispatcher.utter_message(json_message={"language": chosen})
        return [SlotSet("language", chosen)]
