"""The gateway's client for the Rasa server (REST channel and HTTP API)."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from channels.messages import Button, OutboundMessage
from common.errors import UpstreamError

logger = logging.getLogger(__name__)


class RasaClient:
    """Sends a user's message to Rasa and returns the bot's replies."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0) -> None:
        self._token = token
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[OutboundMessage]:
        try:
            response = await self._http.post(
                "/webhooks/rest/webhook",
                json={"sender": sender, "message": text, "metadata": metadata},
            )
        except httpx.HTTPError as exc:
            raise UpstreamError(f"Rasa did not answer ({exc.__class__.__name__})") from None
        if response.status_code != 200:
            raise UpstreamError(f"Rasa answered HTTP {response.status_code}")
        return [self._to_outbound(item) for item in response.json() if item.get("text")]

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
