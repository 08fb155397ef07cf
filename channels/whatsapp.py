"""WhatsApp through Twilio: signed form webhooks in, REST sends out, numbered choices."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import replace

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList

from channels.base import (
    SESSION_WINDOW_CHANNELS,
    callback_key,
    fits_content_variable,
    number_choices,
    split_message,
    split_text,
)
from channels.messages import Delivery, InboundMessage, Media, OutboundMessage

TEXT_LIMIT = 1500  # Twilio refuses bodies over 1,600 characters; leave room for numbering
MAX_CHOICES = 10  # WhatsApp list messages hold 10 rows; more choices would not be readable
#: Twilio error codes after which retrying cannot help
USER_GONE_CODES = {21211, 21610, 21614, 63003}  # invalid/unsubscribed/not WhatsApp
_NUMBER = re.compile(r"\+?\d[\d\s-]{5,}\d")
MEDIA_KINDS = {"image": "image", "audio": "voice", "video": "video"}
# WhatsApp quick replies: 3 buttons in session, titles of 20 characters; Content variables
# hold 255 characters and, in a body, no newline, tab or run of more than four spaces
QUICK_REPLY_BUTTONS = 3
QUICK_REPLY_TITLE = 20

# Twilio's HTTP client logs every request with its parameters (phone numbers, bodies)
logger = logging.getLogger(__name__)
_quiet = logging.getLogger("uyum.twilio_http")
_quiet.setLevel(logging.WARNING)


class _JsonAwareHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's async client, sending JSON bodies as JSON (twilio 9 form-encodes them)."""

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | str | None = None,
        headers: dict[str, str] | None = None,
        *args: object,
        **kwargs: object,
    ) -> Response:
        if isinstance(data, dict) and headers and headers.get("Content-Type") == "application/json":
            data = json.dumps(data, ensure_ascii=False)
        return await super().request(method, url, params, data, headers, *args, **kwargs)


class WhatsAppChannel:
    """Adapter for one WhatsApp sender on Twilio (``name = "whatsapp"``)."""

    name = "whatsapp"
    numbered_choices = True
    session_window = name in SESSION_WINDOW_CHANNELS
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
        quick_replies: bool = False,
    ) -> None:
        if not sender and not messaging_service_sid:
            raise ValueError("set TWILIO_WHATSAPP_FROM or TWILIO_MESSAGING_SERVICE_SID")
        self._http = _JsonAwareHttpClient(logger=_quiet)
        self._timeout = timeout  # the async client ignores its own timeout: we apply it
        self.client = Client(account_sid, auth_token, http_client=self._http)
        self.client.api.base_url = api_base_url.rstrip("/")
        if api_base_url.rstrip("/") != "https://api.twilio.com":  # a local fake serves both
            self.client.content.base_url = api_base_url.rstrip("/")
        self._sender = _address(sender) if sender else ""
        self._service = messaging_service_sid
        self._status_callback = status_callback
        self.validator = RequestValidator(auth_token)
        self.max_per_second = max_per_second
        self.quick_replies = quick_replies
        self._contents: dict[int, str] = {}  # quick-reply template sid by number of buttons
        self._contents_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.close()

    def render(self, message: OutboundMessage) -> list[OutboundMessage]:
        """Quick-reply buttons under the message's last line when they fit; else numbers."""
        if self.quick_replies and _fits_quick_reply(message):
            head, _, last = message.text.strip().rpartition("\n")
            before = [OutboundMessage(t) for t in split_text(head, TEXT_LIMIT)] if head else []
            return [*before, replace(message, text=last.strip())]
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
        elif message.buttons:
            quick_reply = await self._quick_reply(message)
            if quick_reply is None:  # no template to be had: the choices as numbers
                params["body"] = number_choices(message, MAX_CHOICES).text
            else:
                params["content_sid"], params["content_variables"] = quick_reply
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

    async def _quick_reply(self, message: OutboundMessage) -> tuple[str, str] | None:
        """The quick-reply template's sid and the variables that fill it with ``message``."""
        try:
            sid = await self._quick_reply_template(len(message.buttons))
        except (TwilioRestException, aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("no quick-reply template (%s); sending numbered choices", exc)
            return None
        variables = {"1": message.text}
        for i, button in enumerate(message.buttons):
            variables[str(2 * i + 2)] = button.title
            variables[str(2 * i + 3)] = callback_key(button.payload)
        return sid, json.dumps(variables, ensure_ascii=False)

    async def _quick_reply_template(self, buttons: int) -> str:
        """The account's template for ``buttons`` quick replies, found or created once.

        Body, titles and ids are all variables, so one template per button count serves
        every message; in-session messages need no WhatsApp approval for it.
        """
        async with self._contents_lock:
            if buttons not in self._contents:
                async with asyncio.timeout(self._timeout):
                    for content in await self.client.content.v1.contents.list_async():
                        count = _QUICK_REPLY_NAME.fullmatch(content.friendly_name or "")
                        if count and content.sid:
                            self._contents.setdefault(int(count.group(1)), content.sid)
                    if buttons not in self._contents:
                        created = await self.client.content.v1.contents.create_async(
                            _quick_reply_request(buttons)
                        )
                        assert created.sid
                        self._contents[buttons] = created.sid
            return self._contents[buttons]

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
        if not (abs(location[0]) <= 90 and abs(location[1]) <= 180):  # also NaN and infinity
            raise ValueError("Latitude/Longitude are not a place on Earth")
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


_QUICK_REPLY_NAME = re.compile(r"uyum_quick_reply_(\d)")


def _quick_reply_request(buttons: int) -> ContentList.ContentCreateRequest:
    actions, samples = [], {"1": "Did this answer help?"}
    for i in range(buttons):
        title, key = str(2 * i + 2), str(2 * i + 3)
        actions.append({"type": "QUICK_REPLY", "title": f"{{{{{title}}}}}", "id": f"{{{{{key}}}}}"})
        samples[title], samples[key] = f"Choice {i + 1}", f"choice_{i + 1}"
    return ContentList.ContentCreateRequest(
        {
            "friendly_name": f"uyum_quick_reply_{buttons}",
            "language": "en",
            "variables": samples,
            "types": {"twilio/quick-reply": {"body": "{{1}}", "actions": actions}},
        }
    )


def _fits_quick_reply(message: OutboundMessage) -> bool:
    """True when the buttons can be WhatsApp quick replies under the text's last line."""
    last = message.text.strip().rpartition("\n")[2].strip()
    titles = [b.title for b in message.buttons]
    return (
        1 <= len(titles) <= QUICK_REPLY_BUTTONS
        and message.media_url is None
        and message.template is None
        and fits_content_variable(last)
        and all(fits_content_variable(t, QUICK_REPLY_TITLE) for t in titles)
    )


def _address(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"
