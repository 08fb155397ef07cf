"""The channel adapters the settings ask for (sandbox always; Telegram and WhatsApp when set)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.settings import Settings
from channels.base import ChannelAdapter
from channels.sandbox import FLAVOURS, Mailbox, SandboxChannel
from channels.telegram import TelegramChannel
from channels.whatsapp import WhatsAppChannel
from common.errors import ConfigError


@dataclass
class Adapters:
    mailbox: Mailbox
    telegram: TelegramChannel | None = None
    whatsapp: WhatsAppChannel | None = None
    by_name: dict[str, ChannelAdapter] = field(default_factory=dict)

    def get(self, channel: str) -> ChannelAdapter | None:
        return self.by_name.get(channel)

    async def aclose(self) -> None:
        for adapter in (self.telegram, self.whatsapp):
            if adapter is not None:
                await adapter.aclose()


def telegram_channel(settings: Settings) -> TelegramChannel:
    if not settings.telegram_enabled:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set", hint="see .env.example")
    return TelegramChannel(
        settings.telegram_bot_token.get_secret_value(),
        settings.telegram_api_base_url,
        max_per_second=settings.telegram_max_per_second,
        chat_interval=settings.telegram_chat_interval,
    )


def build_adapters(settings: Settings) -> Adapters:
    """Every configured adapter; must run inside the event loop (HTTP sessions)."""
    adapters = Adapters(Mailbox())
    for flavour in FLAVOURS:
        sandbox = SandboxChannel(flavour, adapters.mailbox)
        adapters.by_name[sandbox.name] = sandbox
    if settings.telegram_enabled:
        adapters.telegram = telegram_channel(settings)
        adapters.by_name["telegram"] = adapters.telegram
    if settings.whatsapp_enabled:
        try:
            adapters.whatsapp = WhatsAppChannel(
                settings.twilio_account_sid,
                settings.twilio_auth_token.get_secret_value(),
                sender=settings.twilio_whatsapp_from,
                messaging_service_sid=settings.twilio_messaging_service_sid,
                api_base_url=settings.twilio_api_base_url,
                status_callback=settings.public_base_url.rstrip("/") + "/webhooks/whatsapp/status",
                max_per_second=settings.twilio_max_per_second,
                quick_replies=settings.twilio_quick_replies,
            )
        except ValueError as exc:
            raise ConfigError(str(exc), hint="see .env.example") from None
        adapters.by_name["whatsapp"] = adapters.whatsapp
    return adapters
