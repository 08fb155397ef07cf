"""The complaint form: category, the person's own words, anonymous or not; then a reference.

Each question is asked by an ``action_ask_*`` in the user's language (bot/texts.yml), with
choices as buttons (numbered on WhatsApp). Every slot is read from the whole text of the
answer and checked by ``validate_complaint_form``: a digit, a choice's payload or its name
picks the category; a few words are needed for the text; "yes"/"no" (or the buttons)
answer anonymity. "cancel" (in any language) ends the form with nothing recorded. The
submit action makes the reference number and sends ``{"complaint": {...}}``; the gateway
stores it in the same transaction as the reply that gives the number.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import texts
from bot.complaints import CATEGORIES, CONFIDENTIAL, find_reference, new_reference

SLOTS = ("complaint_category", "complaint_text", "complaint_anonymous")
MIN_TEXT_CHARS = 5
CANCEL_WORDS = frozenset(
    {"cancel", "iptal", "vazgeç", "vazgec", "إلغاء", "الغاء", "الغي", "لغو", "انصراف", "بس کن"}
)
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_DIGITS).strip().casefold()


def _cancelled(text: str) -> bool:
    return _plain(text).strip(" .!?،") in CANCEL_WORDS


def category_of(text: str, lang: str | None) -> str | None:
    """The category a reply names: its number, its payload, or (part of) its name."""
    plain = _plain(text)
    if plain.isdigit() and 1 <= int(plain) <= len(CATEGORIES):
        return CATEGORIES[int(plain) - 1]
    if plain in CATEGORIES:
        return plain
    for category in CATEGORIES:
        name = _plain(texts.text(f"complaint_category_{category}", lang))
        if plain and (plain in name or name in plain):
            return category
    return None


class ActionAskComplaintCategory(Action):
    def name(self) -> str:
        return "action_ask_complaint_category"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = tracker.get_slot("language")
        dispatcher.utter_message(
            text=texts.text("complaint_ask_category", lang),
            buttons=[
                {"title": texts.text(f"complaint_category_{c}", lang), "payload": c}
                for c in CATEGORIES
            ],
        )
        return []


class ActionAskComplaintText(Action):
    def name(self) -> str:
        return "action_ask_complaint_text"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = tracker.get_slot("language")
        dispatcher.utter_message(text=texts.text("complaint_ask_text", lang))
        return []


class ActionAskComplaintAnonymous(Action):
    def name(self) -> str:
        return "action_ask_complaint_anonymous"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = tracker.get_slot("language")
        dispatcher.utter_message(
            text=texts.text("complaint_ask_anonymous", lang),
            buttons=[
                {"title": texts.text("complaint_anonymous_yes", lang), "payload": "/affirm"},
                {"title": texts.text("complaint_anonymous_no", lang), "payload": "/deny"},
            ],
        )
        return []


class ValidateComplaintForm(FormValidationAction):
    """Reads each answer; "cancel" stops the form (the submit action then records nothing)."""

    def name(self) -> str:
        return "validate_complaint_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if _cancelled(tracker.latest_message.get("text") or ""):
            return [SlotSet(slot, None) for slot in SLOTS] + [SlotSet("requested_slot", None)]
        events: list[EventType] = await super().run(dispatcher, tracker, domain)
        return events

    def validate_complaint_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"complaint_category": category_of(str(value or ""), tracker.get_slot("language"))}

    def validate_complaint_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if len(text) < MIN_TEXT_CHARS or text.startswith("/"):
            dispatcher.utter_message(
                text=texts.text("complaint_text_too_short", tracker.get_slot("language"))
            )
            return {"complaint_text": None}
        return {"complaint_text": text}

    def validate_complaint_anonymous(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answer = {"affirm": True, "deny": False}.get(str(intent))
        if answer is None and isinstance(value, bool):
            answer = value
        return {"complaint_anonymous": answer}


class ActionSubmitComplaint(Action):
    """Record the complaint (through the gateway) and give its reference number."""

    def name(self) -> str:
        return "action_submit_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = tracker.get_slot("language")
        category, text = tracker.get_slot("complaint_category"), tracker.get_slot("complaint_text")
        anonymous = tracker.get_slot("complaint_anonymous")
        reset = [SlotSet(slot, None) for slot in SLOTS]
        if category not in CATEGORIES or not text or anonymous is None:  # cancelled
            dispatcher.utter_message(text=texts.text("complaint_cancelled", lang))
            return reset
        reference = new_reference()
        dispatcher.utter_message(
            json_message={
                "complaint": {
                    "reference": reference,
                    "category": category,
                    "text": text,
                    "anonymous": bool(anonymous),
                }
            }
        )
        dispatcher.utter_message(text=texts.text("complaint_received", lang, reference=reference))
        if category in CONFIDENTIAL:
            dispatcher.utter_message(text=texts.text("complaint_confidential", lang))
        return reset


class ActionComplaintStatus(Action):
    """Ask the gateway for a complaint's status (it answers from the database)."""

    def name(self) -> str:
        return "action_complaint_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reference = find_reference(tracker.latest_message.get("text") or "")
        dispatcher.utter_message(json_message={"complaint_status": {"reference": reference}})
        return []
