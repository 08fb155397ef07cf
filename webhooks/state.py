"""What the gateway holds for its lifetime: database, Rasa client, adapters, worker, sender."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapters import Adapters
from bot.db import WriteGate
from bot.inbound import InboundWriter
from bot.rasa_client import RasaClient
from bot.sender import OutboxSender
from bot.settings import Settings
from bot.worker import ConversationWorker
from channels.sandbox import Mailbox
from channels.telegram import TelegramChannel
from channels.whatsapp import WhatsAppChannel


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
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def mailbox(self) -> Mailbox:
        return self.adapters.mailbox

    @property
    def telegram(self) -> TelegramChannel | None:
        return self.adapters.telegram

    @property
    def whatsapp(self) -> WhatsAppChannel | None:
        return self.adapters.whatsapp
