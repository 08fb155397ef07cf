"""What the gateway holds for its lifetime: database, Rasa client, adapters, worker, sender."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapters import Adapters
from bot.db import WriteGate
from bot.identities import Identities
from bot.inbound import InboundWriter
from bot.rasa_client import RasaClient
from bot.rasa_tracker import RasaTrackers
from bot.sender import OutboxSender
from bot.settings import Settings
from bot.worker import ConversationWorker
from channels.sandbox import Mailbox
from channels.telegram import TelegramChannel
from channels.whatsapp import WhatsAppChannel
from knowledge_base.content import Content, load_content
from webhooks.console_feed import ConsoleFeed
from webhooks.login_throttle import LoginThrottle


@dataclass
class GatewayState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    gate: WriteGate
    rasa: RasaClient
    adapters: Adapters
    inbound: InboundWriter
    worker: ConversationWorker
    sender: OutboxSender
    console_feed: ConsoleFeed
    identities: Identities
    trackers: RasaTrackers
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    _kb_content: Content | None = None

    def kb_content(self) -> Content:
        """The knowledge-base entries (for operators' canned replies), read once."""
        if self._kb_content is None:
            self._kb_content = load_content(self.settings.kb_content_dir)
        return self._kb_content

    def forget_kb_content(self) -> None:
        self._kb_content = None

    @property
    def mailbox(self) -> Mailbox:
        return self.adapters.mailbox

    @property
    def telegram(self) -> TelegramChannel | None:
        return self.adapters.telegram

    @property
    def whatsapp(self) -> WhatsAppChannel | None:
        return self.adapters.whatsapp
