"""``TELEGRAM_MODE=polling``: fetch updates with getUpdates instead of receiving webhooks.

For a developer with a real bot token and no public URL. Updates take the same path as
webhook ones (stored once by ``update_id``, then the worker).
"""

from __future__ import annotations

import asyncio
import logging

from telegram.error import TelegramError

from bot.inbound import InboundWriter
from channels.telegram import ALLOWED_UPDATES, TelegramChannel, parse_update
from common.errors import ServiceError

logger = logging.getLogger(__name__)


async def poll_updates(
    channel: TelegramChannel,
    inbound: InboundWriter,
    *,
    long_poll: int = 25,
) -> None:
    offset: int | None = None
    await channel.bot.delete_webhook()  # getUpdates is refused while a webhook is set
    logger.info("Telegram: polling for updates")
    while True:
        try:
            updates = await channel.bot.get_updates(
                offset=offset, timeout=long_poll, allowed_updates=ALLOWED_UPDATES
            )
        except TelegramError as exc:
            logger.warning("Telegram getUpdates failed (%s); retrying in 5 s", exc)
            await asyncio.sleep(5)
            continue
        for update in updates:
            try:
                message = parse_update(update.to_dict())
            except ValueError as exc:
                logger.warning("Telegram update %d ignored: %s", update.update_id, exc)
                message = None
            if message is not None:
                try:
                    await inbound.store(message)
                except ServiceError as exc:  # Telegram keeps it: fetched again from ``offset``
                    logger.warning("storing a Telegram update failed (%s); retrying in 5 s", exc)
                    await asyncio.sleep(5)
                    break
            offset = update.update_id + 1  # confirmed to Telegram only once stored
