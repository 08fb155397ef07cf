"""WhatsApp through Twilio: signed form webhooks in, REST sends out, numbered choices."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels.base import number_choices, split_message
from channels.messages import Delivery, InboundMessage, Media, OutboundMessage

TEXT_LIMIT = 1500  # Twilio refuses bodies over 1,600 characters; leave room for numbering
MAX_CHOICES = 10  # WhatsApp list messages hold 10 rows; more choices would not be readable
#: Twilio error codes after which retrying cannot help
USER_GONE_CODES = {21211, 21610, 21614, 63003}  # invalid/unsubscribed/not WhatsApp
_NUMBER = re.compile(r"\+?\d[\d\s-]{5,}\d")
MEDIA_KINDS = {"image": "image", "audio": "voice", "video": "video"}

# Twilio's HTTP client logs every request with its parameters (phone numbers, bodies)
_quiet = logging.getLogger("uyum.twilio_http")
_quiet.setLevel(logging.WARNING)


class WhatsAppChannel:
    """Adapter for one WhatsApp sender on Twilio (``name = "whatsapp"``)."""

    name = "whatsapp"
    numbered_choices = True
    session_window = True
    chat_interval = 0.0

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        sender: str = "",
        messaging_service_sid: str = "",
        api_base_url: str = "https://api.twilio.com",
        status_callback: str | None = None,
        max_per_second: float = 10.0,
        timeout: float = 15.0,
    ) -> None:
        if not sender and not messaging_service_sid:
            raise ValueError("set TWILIO_WHATSAPP_FROM or TWILIO_MESSAGING_SERVICE_SID")
        self._http = AsyncTwilioHttpClient(logger=_quiet)
        self._timeout = timeout  # the async client ignores its own timeout: we apply it
        self.client = Client(account_sid, auth_token, http_client=self._http)
        self.client.api.base_url = api_base_url.rstrip("/")
        self._sender = _address(sender) if sender else ""
        self._service = messaging_service_sid
        self._status_callback = status_callback
        self.validator = RequestValidator(auth_token)
        self.max_per_second = max_per_second

    async def aclose(self) -> None:
        await self._http.close()

    def render(self, message: OutboundMessage) -> list[OutboundMessage]:
        return split_message(number_choices(message, MAX_CHOICES), TEXT_LIMIT)

    async def send(self, user_id: str, message: OutboundMessage) -> Delivery:
        params: dict[str, object] = {"to": user_id}
        if self._service:
            params["messaging_service_sid"] = self._service
        else:
            params["from_"] = self._sender
        if self._status_callback:
            params["status_callback"] = self._status_callback
        if message.template:
            params["content_sid"] = message.template.content_sid
            params["content_variables"] = json.dumps(message.template.variables)
        else:
            params["body"] = message.text
        if message.media_url:
            params["media_url"] = [message.media_url]
        try:
            async with asyncio.timeout(self._timeout):
                sent = await self.client.messages.create_async(**params)
        except TwilioRestException as exc:
            detail = _NUMBER.sub("<number>", str(exc.msg))[:120]  # errors quote the number
            error = f"Twilio {exc.status} ({exc.code}): {detail}"
            if exc.status == 429 or exc.status >= 500:
                return Delivery(ok=False, error=error)
            return Delivery(
                ok=False, permanent=True, user_gone=exc.code in USER_GONE_CODES, error=error
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Delivery(ok=False, error=f"Twilio unreachable ({exc.__class__.__name__})")
        return Delivery(ok=True, platform_id=sent.sid)

    def verify(self, url: str, form: Mapping[str, str], signature: str) -> bool:
        """True when ``X-Twilio-Signature`` proves Twilio sent this form to ``url``."""
        return bool(signature) and bool(self.validator.validate(url, dict(form), signature))


def parse_form(form: Mapping[str, str]) -> InboundMessage | None:
    """The user's message in a Twilio WhatsApp webhook form; None for non-messages.

    Raises ``ValueError`` when required fields are missing.
    """
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
    sender = form.get("From", "")
    if not sid or not sender:
        raise ValueError("not a Twilio message: MessageSid and From are required")
    if not sender.startswith("whatsapp:"):
        raise ValueError("not a WhatsApp message")
    media: list[Media] = []
    try:
        count = min(int(form.get("NumMedia") or 0), 10)
    except ValueError:
        raise ValueError("NumMedia is not a number") from None
    for i in range(count):
        url = form.get(f"MediaUrl{i}")
        if url:
            content_type = form.get(f"MediaContentType{i}") or ""
            kind = MEDIA_KINDS.get(content_type.split("/")[0], "document")
            media.append(Media(kind, url, content_type or None))
    location = None
    if form.get("Latitude") and form.get("Longitude"):
        try:
            location = (float(form["Latitude"]), float(form["Longitude"]))
        except ValueError:
            raise ValueError("Latitude/Longitude are not numbers") from None
    text = (form.get("ButtonPayload") or form.get("Body") or "").strip()
    return InboundMessage(
        channel="whatsapp",
        user_id=sender,
        platform_id=sid,
        text=text,
        media=tuple(media),
        location=location,
        reply_to=form.get("OriginalRepliedMessageSid") or None,
    )


def _address(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"
