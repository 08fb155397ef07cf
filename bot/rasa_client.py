"""The gateway's client for the Rasa server (REST channel and HTTP API)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from bot import analytics
from bot.analytics import AnalyticsEvent
from bot.complaints import NewComplaint
from channels.messages import Button, OutboundMessage
from common.errors import UpstreamError

logger = logging.getLogger(__name__)
LANGUAGE_ENTITY = "conversation_language"  # filled by nlu/conversation_language.py


@dataclass(frozen=True)
class HandoverRequest:
    """An action's request to hand the conversation to a person (a custom payload)."""

    reason: str
    priority: int = 0


@dataclass
class BotTurn:
    """What Rasa answered to one message, and what its actions asked of the gateway."""

    messages: list[OutboundMessage] = field(default_factory=list)
    handover: HandoverRequest | None = None
    subscriptions: dict[str, Any] | None = None  # what to subscribe to or stop
    language: str | None = None  # a language the user chose
    analytics: list[AnalyticsEvent] = field(default_factory=list)  # decisions, feedback
    complaint: NewComplaint | None = None  # to record (the reply gives its reference)
    complaint_status: str | None = None  # a status asked for: the reference ("" if none)
    erase: bool = False  # the user confirmed: erase everything of theirs (bot/erasure.py)


def with_entity(text: str, entity: str, value: object) -> str:
    """A payload (``/intent`` or ``/intent{...}``) with one more entity.

    Rasa reads a payload without its NLU pipeline, so the component that turns the gateway's
    language into an entity (nlu/conversation_language.py) never sees it; the entity goes
    into the payload instead. Plain text, an empty value or a malformed payload: unchanged.
    """
    if not text.startswith("/") or not isinstance(value, str) or not value:
        return text
    intent, brace, rest = text.partition("{")
    try:
        entities = json.loads(brace + rest) if brace else {}
    except json.JSONDecodeError:
        return text
    if not isinstance(entities, dict):
        return text
    entities.setdefault(entity, value)
    return intent + json.dumps(entities, ensure_ascii=False, separators=(",", ":"))


class RasaClient:
    """Sends a user's message to Rasa and returns the bot's replies."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0) -> None:
        self._token = token
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, body: object, **params: str) -> httpx.Response:
        """A 200 answer from Rasa; anything else is an UpstreamError the worker retries."""
        try:
            response = await self._http.post(path, json=body, params=params or None)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"Rasa did not answer ({exc.__class__.__name__})") from None
        if response.status_code != 200:
            raise UpstreamError(f"Rasa answered HTTP {response.status_code}")
        return response

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> BotTurn:
        message = with_entity(text, LANGUAGE_ENTITY, metadata.get("language"))
        body = {"sender": sender, "message": message, "metadata": metadata}
        response = await self._post("/webhooks/rest/webhook", body)
        turn = BotTurn()
        for item in response.json():
            custom = item.get("custom")
            if item.get("text"):
                turn.messages.append(self._to_outbound(item))
            elif isinstance(custom, dict) and custom.get("entry") and turn.messages:
                turn.messages[-1] = replace(turn.messages[-1], entry=str(custom["entry"]))
            elif isinstance(custom, dict) and (event := analytics.parse(custom)) is not None:
                turn.analytics.append(event)
            elif isinstance(custom, dict) and isinstance(custom.get("complaint"), dict):
                turn.complaint = NewComplaint.from_payload(custom["complaint"])
            elif isinstance(custom, dict) and isinstance(custom.get("complaint_status"), dict):
                turn.complaint_status = str(custom["complaint_status"].get("reference") or "")
            elif isinstance(custom, dict) and custom.get("erase") is True:
                turn.erase = True
            elif isinstance(custom, dict) and isinstance(custom.get("language"), str):
                turn.language = custom["language"]
            elif isinstance(custom, dict) and isinstance(custom.get("subscriptions"), dict):
                turn.subscriptions = custom["subscriptions"]
            elif isinstance(custom, dict) and isinstance(custom.get("handover"), dict):
                request = custom["handover"]
                turn.handover = HandoverRequest(
                    str(request.get("reason") or "asked"), int(request.get("priority") or 0)
                )
        return turn

    async def append_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        """Add events to the conversation's tracker (Rasa's HTTP API, with the token)."""
        path = f"/conversations/{sender}/tracker/events"
        await self._post(path, events, token=self._token, include_events="NONE")

    @staticmethod
    def _to_outbound(item: dict[str, Any]) -> OutboundMessage:
        buttons = tuple(
            Button(str(b.get("title", "")), str(b.get("payload", "")))
            for b in item.get("buttons") or []
        )
        return OutboundMessage(str(item["text"]), buttons, item.get("image"))

    async def status(self) -> dict[str, Any]:
        """Rasa's ``/status`` (needs the token): which model is loaded."""
        response = await self._http.get("/status", params={"token": self._token}, timeout=5.0)
        response.raise_for_status()
        return dict(response.json())
