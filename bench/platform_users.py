"""Simulated Telegram and WhatsApp users: real-shaped webhooks in, replies read at the fakes.

Telegram updates are built with python-telegram-bot's own classes; Twilio forms are signed
with twilio's ``RequestValidator``, exactly as the platforms do it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx
from telegram import CallbackQuery, Chat, Message, Update, User
from twilio.request_validator import RequestValidator

from bench.fake_platforms import FakePlatforms
from bench.stack import long_poll

_update_ids = itertools.count(int(time.time() * 1000) % 1_000_000_000)
_chat_ids = itertools.count(700_000_000 + int(time.time()) % 100_000 * 1000)
_numbers = itertools.count(5_300_000_000 + int(time.time()) % 100_000 * 1000)


@dataclass
class PlatformUser(ABC):
    """Base: what every simulated user shares (the fakes, the gateway, what was read)."""

    platforms: FakePlatforms
    gateway: str
    secret: str = ""
    read: int = 0  # messages to this user read so far
    channel: ClassVar[str]  # the channel the gateway stores the user under

    @property
    @abstractmethod
    def address(self) -> str:
        """Where the platform delivers this user's replies (chat id or WhatsApp number)."""

    def replies(self, *, expect: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        """New messages the fake platform accepted for this user (waits for ``expect``)."""

        def fetch(wait: float) -> list[dict[str, Any]]:
            new: list[dict[str, Any]] = httpx.get(
                f"{self.platforms.url}/_fake/inbox",
                params={"to": self.address, "after": self.read, "wait": wait},
                timeout=wait + 10,
            ).json()["messages"]
            self.read += len(new)
            return new

        return long_poll(fetch, expect=expect, timeout=timeout)


@dataclass
class TelegramUser(PlatformUser):
    channel = "telegram"
    chat_id: int = field(default_factory=lambda: next(_chat_ids))
    language_code: str | None = None

    @property
    def address(self) -> str:
        return str(self.chat_id)

    def _user(self) -> User:
        return User(self.chat_id, "Test", is_bot=False, language_code=self.language_code)

    def update(self, text: str) -> dict[str, Any]:
        update_id = next(_update_ids)
        message = Message(
            update_id,
            dt.datetime.now(dt.UTC),
            Chat(self.chat_id, Chat.PRIVATE),
            from_user=self._user(),
            text=text,
        )
        return Update(update_id, message=message).to_dict()

    def press(self, callback_data: str) -> dict[str, Any]:
        """The update Telegram sends when the user presses an inline button."""
        update_id = next(_update_ids)
        shown = Message(1, dt.datetime.now(dt.UTC), Chat(self.chat_id, Chat.PRIVATE), text="…")
        query = CallbackQuery(
            f"cb{update_id}", self._user(), "chat-instance", message=shown, data=callback_data
        )
        return Update(update_id, callback_query=query).to_dict()

    def post(self, update: dict[str, Any]) -> httpx.Response:
        return httpx.post(
            f"{self.gateway}/webhooks/telegram",
            content=json.dumps(update),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": self.secret,
            },
            timeout=30,
        )

    def say(self, text: str, **wait: Any) -> list[dict[str, Any]]:
        response = self.post(self.update(text))
        assert response.status_code == 200, response.text
        return self.replies(**wait)


@dataclass
class WhatsAppUser(PlatformUser):
    channel = "whatsapp"
    number: str = field(default_factory=lambda: f"whatsapp:+90{next(_numbers)}")
    _sids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def address(self) -> str:
        return self.number

    def form(self, text: str, **extra: str) -> dict[str, str]:
        sid = f"SM{self.number[-10:]}{next(self._sids):022d}{next(_update_ids)}"
        return {
            "MessageSid": sid,
            "AccountSid": self.platforms.twilio_sid,
            "From": self.number,
            "To": "whatsapp:+14155238886",
            "Body": text,
            "NumMedia": "0",
            "ProfileName": "Test",
            **extra,
        }

    def signature(self, form: dict[str, str], path: str = "/webhooks/whatsapp") -> str:
        validator = RequestValidator(self.platforms.twilio_token)
        return str(validator.compute_signature(self.gateway + path, form))

    def post(self, form: dict[str, str], path: str = "/webhooks/whatsapp") -> httpx.Response:
        signature = self.signature(form, path)
        return httpx.post(
            self.gateway + path,
            content=urlencode(form),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
            timeout=30,
        )

    def say(self, text: str, **wait: Any) -> list[dict[str, Any]]:
        response = self.post(self.form(text))
        assert response.status_code == 200, response.text
        return self.replies(**wait)
