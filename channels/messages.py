"""The one inbound and one outbound message type shared by every channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Media:
    """A reference to something the user sent that is not text (never downloaded here)."""

    kind: str  # image | voice | audio | video | document | sticker | other
    ref: str  # the platform's URL or file id
    content_type: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "content_type": self.content_type}


@dataclass(frozen=True)
class InboundMessage:
    """A user's message as every channel hands it to the conversation service."""

    channel: str
    user_id: str  # the platform's id of the chat/user; never logged
    platform_id: str  # the platform's id of this message (retries carry the same one)
    text: str
    language_hint: str | None = None
    media: tuple[Media, ...] = ()
    location: tuple[float, float] | None = None
    reply_to: str | None = None


@dataclass(frozen=True)
class Template:
    """A pre-approved WhatsApp template (Twilio Content) and its variables."""

    content_sid: str
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundMessage:
    """What the bot or an operator says; the adapter renders it for its platform."""

    text: str
    buttons: tuple[Button, ...] = ()
    media_url: str | None = None
    template: Template | None = None
    entry: str | None = None  # the knowledge-base entry this answers with (for operators)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons],
            "media_url": self.media_url,
        }
        if self.entry:
            data["entry"] = self.entry
        if self.template:
            data["template"] = {
                "content_sid": self.template.content_sid,
                "variables": self.template.variables,
            }
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutboundMessage:
        template = data.get("template")
        return cls(
            text=str(data.get("text") or ""),
            buttons=tuple(
                Button(str(b["title"]), str(b["payload"])) for b in data.get("buttons") or []
            ),
            media_url=data.get("media_url"),
            entry=data.get("entry"),
            template=Template(
                str(template["content_sid"]),
                {str(k): str(v) for k, v in (template.get("variables") or {}).items()},
            )
            if template
            else None,
        )


@dataclass(frozen=True)
class Delivery:
    """The platform's answer to one send."""

    ok: bool
    platform_id: str | None = None
    retry_after: float | None = None  # seconds the platform asked us to wait
    permanent: bool = False  # True: retrying cannot help (blocked bot, bad number)
    error: str | None = None
    user_gone: bool = False  # the user blocked the bot or the number no longer exists
