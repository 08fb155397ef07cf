"""The sandbox channel: a web page that plays a Telegram or WhatsApp user.

It renders messages by the simulated platform's rules (buttons on Telegram, numbered
choices on WhatsApp) and "delivers" them into a mailbox that the page polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import defaultdict, deque
from dataclasses import dataclass

from channels.base import number_choices
from channels.messages import Delivery, OutboundMessage

FLAVOURS = ("telegram", "whatsapp")
MAILBOX_SIZE = 200


@dataclass(frozen=True)
class Delivered:
    id: int
    message: OutboundMessage


class Mailbox:
    """Messages delivered to sandbox users, kept in memory for the page to fetch."""

    def __init__(self) -> None:
        self._boxes: dict[str, deque[Delivered]] = defaultdict(lambda: deque(maxlen=MAILBOX_SIZE))
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()

    async def put(self, key: str, message: OutboundMessage) -> int:
        async with self._changed:
            item = Delivered(next(self._ids), message)
            self._boxes[key].append(item)
            self._changed.notify_all()
        return item.id

    def after(self, key: str, after: int) -> list[Delivered]:
        return [d for d in self._boxes.get(key, ()) if d.id > after]

    async def wait(self, key: str, after: int, max_wait: float) -> list[Delivered]:
        """Messages newer than ``after``, waiting up to ``max_wait`` seconds for the first."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: bool(self.after(key, after))), max_wait
                )
        return self.after(key, after)


class SandboxChannel:
    """Adapter for one simulated platform (``sandbox-telegram`` or ``sandbox-whatsapp``)."""

    def __init__(self, flavour: str, mailbox: Mailbox) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"unknown sandbox flavour {flavour!r}")
        self.flavour = flavour
        self.name = f"sandbox-{flavour}"
        self.numbered_choices = flavour == "whatsapp"
        self.max_per_second = 1000.0
        self.chat_interval = 0.0
        self.session_window = False  # a person testing in the sandbox is always "in session"
        self._mailbox = mailbox

    def render(self, message: OutboundMessage) -> list[OutboundMessage]:
        return [number_choices(message) if self.numbered_choices else message]

    async def send(self, user_id: str, message: OutboundMessage) -> Delivery:
        delivered = await self._mailbox.put(f"{self.name}:{user_id}", message)
        return Delivery(ok=True, platform_id=str(delivered))
