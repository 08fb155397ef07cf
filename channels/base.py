"""The interface every channel adapter implements, and rendering helpers they share."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Protocol

from channels.messages import Button, Delivery, OutboundMessage

#: channels where free text may only go within 24 h of the user's last message
SESSION_WINDOW_CHANNELS = frozenset({"whatsapp"})
#: characters a Twilio Content variable holds (and no newline, tab or 5 spaces in a body)
CONTENT_VARIABLE_LIMIT = 255
_NOT_IN_VARIABLE = re.compile(r"[\n\t]| {5,}")


def fits_content_variable(text: str, limit: int = CONTENT_VARIABLE_LIMIT) -> bool:
    """True when Twilio accepts ``text`` as one Content variable value (error 21656 if not)."""
    return 0 < len(text) <= limit and not _NOT_IN_VARIABLE.search(text)


class ChannelAdapter(Protocol):
    """Renders outbound messages for one platform and delivers them."""

    name: str
    #: True where buttons become numbered choices answered with a digit (WhatsApp text)
    numbered_choices: bool
    #: messages per second over all chats, and seconds between two messages to one chat
    max_per_second: float
    chat_interval: float
    #: True where free-form messages may only go within 24 h of the user's last message
    session_window: bool

    def render(self, message: OutboundMessage) -> list[OutboundMessage]:
        """The platform-sized messages that carry ``message`` (each is sent once)."""
        ...

    async def send(self, user_id: str, message: OutboundMessage) -> Delivery: ...


def number_choices(message: OutboundMessage, limit: int = 10) -> OutboundMessage:
    """Buttons as a numbered list in the text ("1. …"), for channels without buttons."""
    if not message.buttons:
        return message
    shown = message.buttons[:limit]
    lines = [message.text, ""] + [f"{i}. {b.title}" for i, b in enumerate(shown, 1)]
    return replace(message, text="\n".join(lines).strip(), buttons=())


def resolve_choice(text: str, choices: list[Button]) -> str | None:
    """The payload of a numbered choice when ``text`` is just its number."""
    stripped = text.strip().translate(_DIGITS)
    if stripped.isdecimal() and 1 <= int(stripped) <= len(choices):  # "²" is a digit, not a number
        return choices[int(stripped) - 1].payload
    return None


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a paragraph, line, sentence or word."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for separator in ("\n\n", "\n", ". ", "। ", "؟ ", "? ", "! ", " "):
            found = window.rfind(separator)
            if found >= limit // 3:
                cut = found + len(separator.rstrip())
                break
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def split_message(message: OutboundMessage, limit: int) -> list[OutboundMessage]:
    """``message`` as several messages under ``limit``; buttons and media stay on the last."""
    if len(message.text) <= limit:
        return [message]
    texts = split_text(message.text, limit)
    plain = [OutboundMessage(t) for t in texts[:-1]]
    return [*plain, replace(message, text=texts[-1])]


def callback_key(payload: str) -> str:
    """A button payload short enough for Telegram's 64-byte callback data."""
    if len(payload.encode("utf-8")) <= 64 and not payload.startswith(CALLBACK_PREFIX):
        return payload
    return CALLBACK_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


CALLBACK_PREFIX = "#b:"
CALLBACK_KEY = re.compile(r"^#b:[0-9a-f]{24}$")

# Arabic-Indic and Persian digits typed on Arabic and Persian keyboards
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
