"""The interface every channel adapter implements."""

from __future__ import annotations

from typing import Protocol

from channels.messages import Button, Delivery, OutboundMessage


class ChannelAdapter(Protocol):
    """Renders outbound messages for one platform and delivers them."""

    name: str
    #: True where buttons become numbered choices answered with a digit (WhatsApp text)
    numbered_choices: bool

    async def send(self, user_id: str, message: OutboundMessage) -> Delivery: ...


def number_choices(message: OutboundMessage) -> OutboundMessage:
    """Buttons as a numbered list in the text ("1. …"), for channels without buttons."""
    if not message.buttons:
        return message
    lines = [message.text, ""] + [f"{i}. {b.title}" for i, b in enumerate(message.buttons, 1)]
    return OutboundMessage("\n".join(lines).strip(), (), message.media_url)


def resolve_choice(text: str, choices: list[Button]) -> str | None:
    """The payload of a numbered choice when ``text`` is just its number."""
    stripped = text.strip().translate(_DIGITS)
    if stripped.isdigit() and 1 <= int(stripped) <= len(choices):
        return choices[int(stripped) - 1].payload
    return None


# Arabic-Indic and Persian digits typed on Arabic and Persian keyboards
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
