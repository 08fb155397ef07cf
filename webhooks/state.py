"""What the gateway holds for its lifetime: database, Rasa client, adapters, worker, sender."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.rasa_client import RasaClient
from bot.sender import OutboxSender
from bot.settings import Settings
from bot.worker import ConversationWorker
from channels.base import ChannelAdapter
from channels.sandbox import Mailbox


@dataclass
class GatewayState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    rasa: RasaClient
    adapters: dict[str, ChannelAdapter]
    mailbox: Mailbox
    worker: ConversationWorker
    sender: OutboxSender
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def adapter(self, channel: str) -> ChannelAdapter | None:
        return self.adapters.get(channel)
