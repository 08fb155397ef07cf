""" "Delete my data": asked, confirmed, then done by the gateway (bot/erasure.py).

The action only talks: ``delete_my_data`` gets the question with Yes / No buttons (a digit
on WhatsApp, or a typed yes / no) and sets ``erasure_asked``; the answer to that question
comes back here. Yes sends the confirmation with a custom payload ``{"erase": true}``, and
the gateway's worker erases everything in the same transaction that writes the
confirmation. A yes to anything else (the question was not the bot's last word, or was
answered already) is an ordinary yes. Only the user's own conversation can be erased this
way: whatever they write (a phone number, a name), the erasure is of the sender.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import texts

NAME = "action_erase_data"
SLOT = "erasure_asked"


def _question_was_last(tracker: Tracker) -> bool:
    """Whether the bot's last action before this message was the erasure question."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return False
            seen_user = True
        elif seen_user and event.get("event") == "action":
            if event.get("name") in ("action_listen", None):
                continue
            return bool(event.get("name") == NAME)
    return False


class ActionEraseData(Action):
    """Asks before erasing; erases on yes; keeps on no."""

    def name(self) -> str:
        return NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = tracker.get_slot("language") or "en"
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "delete_my_data":
            dispatcher.utter_message(
                text=texts.text("erasure_question", lang),
                buttons=[
                    {"title": texts.text("erasure_yes", lang), "payload": "/affirm"},
                    {"title": texts.text("erasure_no", lang), "payload": "/deny"},
                ],
            )
            return [SlotSet(SLOT, True)]
        if not (tracker.get_slot(SLOT) and _question_was_last(tracker)):
            dispatcher.utter_message(response="utter_ok")
        elif intent == "affirm":
            dispatcher.utter_message(text=texts.text("erased", lang))
            dispatcher.utter_message(json_message={"erase": True})
        else:
            dispatcher.utter_message(text=texts.text("erasure_kept", lang))
        return [SlotSet(SLOT, False)]
