"""Subscribing to announcements and unsubscribing, in conversation (buttons or free text).

Like the handover, the action only says what the user wants (a custom payload
``{"subscriptions": {...}}``); the gateway's worker records it with its consent time.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot import texts
from bot.actions.services import topics
from bot.provinces import province_in
from bot.topics import topics_named_in

LIST = "_list"  # the topic value of the "My subscriptions" button


def topic_payload(topic: str) -> str:
    return "/subscribe" + json.dumps({"topic": topic}, separators=(",", ":"))


class ActionSubscribe(Action):
    """``subscribe``: the named topics, or a menu of topics; ``unsubscribe``: named or all."""

    def name(self) -> str:
        return "action_subscribe"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = tracker.get_slot("language") or "en"
        message = tracker.latest_message
        intent = (message.get("intent") or {}).get("name")
        text = str(message.get("text") or "")
        chosen = [
            str(e["value"]) for e in message.get("entities", []) if e.get("entity") == "topic"
        ]
        named = chosen or [
            t.id for t in topics_named_in(topics(), "" if text.startswith("/") else text)
        ]
        if intent == "unsubscribe":
            change: dict[str, Any] = {"remove": named} if named else {"remove_all": True}
        elif LIST in named:
            change = {}  # only show what the user gets
        elif named:
            change = {"add": named, "province": province_in(text)}
        else:
            buttons = [{"title": t.name(lang), "payload": topic_payload(t.id)} for t in topics()]
            buttons.append(
                {"title": texts.text("my_subscriptions", lang), "payload": topic_payload(LIST)}
            )
            dispatcher.utter_message(text=texts.text("choose_topic", lang), buttons=buttons)
            return []
        dispatcher.utter_message(json_message={"subscriptions": change})
        return []
