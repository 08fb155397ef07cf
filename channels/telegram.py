"""Telegram, through python-telegram-bot: updates in, messages with inline keyboards out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from channels.base import callback_key, split_message
from channels.messages import Delivery, InboundMessage, Media, OutboundMessage

TEXT_LIMIT = 4096  # the Bot API's limit for one message
ALLOWED_UPDATES = ["message", "callback_query"]
#: slash commands a user may type, as the intents they mean to the dialogue
COMMANDS = {
    "/start": "/greet",
    "/help": "/menu",
    "/menu": "/menu",
    "/operator": "/request_human",
    "/human": "/request_human",
    "/language": "/choose_language",
    "/stop": "STOP",
}


class TelegramChannel:
    """Adapter for one Telegram bot (``name = "telegram"``)."""

    name = "telegram"
    numbered_choices = False
    session_window = False

    def __init__(
        self,
        token: str,
        api_base_url: str,
        *,
        max_per_second: float = 30.0,
        chat_interval: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        self._requests = (
            HTTPXRequest(connection_pool_size=64, read_timeout=timeout, write_timeout=timeout),
            HTTPXRequest(read_timeout=40.0),  # getUpdates long polls
        )
        self.bot = Bot(
            token,
            base_url=f"{api_base_url.rstrip('/')}/bot",
            request=self._requests[0],
            get_updates_request=self._requests[1],
        )
        self.max_per_second = max_per_second
        self.chat_interval = chat_interval

    async def aclose(self) -> None:
        for request in self._requests:  # the bot is never initialize()d: no getMe at start
            await request.shutdown()

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    def render(self, message: OutboundMessage) -> list[OutboundMessage]:
        return split_message(message, TEXT_LIMIT)

    async def send(self, user_id: str, message: OutboundMessage) -> Delivery:
        markup = None
        if message.buttons:
            rows = [
                [InlineKeyboardButton(b.title[:64], callback_data=callback_key(b.payload))]
                for b in message.buttons
            ]
            markup = InlineKeyboardMarkup(rows)
        try:
            if message.media_url:
                sent = await self.bot.send_photo(
                    user_id, message.media_url, caption=message.text[:1024], reply_markup=markup
                )
            else:
                sent = await self.bot.send_message(user_id, message.text, reply_markup=markup)
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
            return Delivery(ok=False, retry_after=seconds, error="Telegram: too many requests")
        except Forbidden as exc:  # the user blocked the bot or deleted the account
            return Delivery(ok=False, permanent=True, user_gone=True, error=f"Telegram: {exc}")
        except (BadRequest, InvalidToken) as exc:
            return Delivery(ok=False, permanent=True, error=f"Telegram: {exc}")
        except TelegramError as exc:  # network errors, timeouts, 5xx
            return Delivery(ok=False, error=f"Telegram: {exc.__class__.__name__}: {exc}")
        return Delivery(ok=True, platform_id=str(sent.message_id))


def parse_update(payload: dict[str, Any]) -> InboundMessage | None:
    """The user's message in an update, or None for updates the bot ignores.

    Raises ``ValueError`` when the payload is not a Telegram update.
    """
    if not isinstance(payload.get("update_id"), int):
        raise ValueError("not a Telegram update: no update_id")
    # python-telegram-bot checks no types: a malformed update (no chat, a date out of range, a
    # number for a text) fails anywhere past de_json, or passes with a field of the wrong type
    try:
        update = Update.de_json(payload)
        if update is None:
            raise ValueError("empty")
        if update.callback_query is not None:
            message = _from_callback(update.update_id, update.callback_query)
        elif update.message is not None and update.message.chat.type == "private":
            message = _from_message(update.update_id, update.message)
        else:
            return None  # edited messages, channel posts, group chats, member updates…
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ValueError(f"not a Telegram update ({exc.__class__.__name__})") from None
    if message is not None and not _well_typed(message):
        raise ValueError("not a Telegram update (a field has the wrong type)")
    return message


def _well_typed(message: InboundMessage) -> bool:
    """False when a field kept a JSON type it may not have (storing it would fail the whole
    batch of messages stored with it)."""
    number = (int, float)
    return (
        isinstance(message.text, str)
        and isinstance(message.language_hint, str | None)
        and all(
            isinstance(m.ref, str) and isinstance(m.content_type, str | None) for m in message.media
        )
        and all(isinstance(x, number) and not isinstance(x, bool) for x in message.location or ())
    )


def _from_message(update_id: int, message: Message) -> InboundMessage | None:
    text = (message.text or message.caption or "").strip()
    first = text.split(maxsplit=1)[0].split("@")[0].lower() if text.startswith("/") else ""
    if first:
        text = COMMANDS.get(first, "/menu")  # "/start <junk>" greets; unknown commands: the menu
    media = _media(message)
    location = (message.location.latitude, message.location.longitude) if message.location else None
    if not text and not media and location is None:
        return None  # a service message (pinned, chat photo changed…)
    user = message.from_user
    return InboundMessage(
        channel="telegram",
        user_id=str(message.chat.id),
        platform_id=str(update_id),
        text=text,
        language_hint=user.language_code if user else None,
        media=media,
        location=location,
        reply_to=str(message.reply_to_message.message_id) if message.reply_to_message else None,
    )


def _from_callback(update_id: int, query: CallbackQuery) -> InboundMessage | None:
    if not query.data or query.message is None:
        return None
    return InboundMessage(
        channel="telegram",
        user_id=str(query.message.chat.id),
        platform_id=str(update_id),
        text=query.data,
        language_hint=query.from_user.language_code,
    )


def _media(message: Message) -> tuple[Media, ...]:
    found: list[Media] = []
    if message.photo:
        found.append(Media("image", message.photo[-1].file_id, "image/jpeg"))
    for kind, item in (
        ("voice", message.voice),
        ("audio", message.audio),
        ("video", message.video),
        ("video", message.video_note),
        ("document", message.document),
        ("sticker", message.sticker),
    ):
        if item is not None:
            found.append(Media(kind, item.file_id, getattr(item, "mime_type", None)))
    return tuple(found)


def callback_answer(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The webhook reply that answers a callback query (stops the button's spinner)."""
    query = payload.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("id"), str):
        return {"method": "answerCallbackQuery", "callback_query_id": query["id"]}
    return None
