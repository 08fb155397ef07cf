"""The channel webhooks in-process: authentic requests with any body never get a 5xx.

The Telegram secret and the Twilio signature are right, so every request reaches the parser
and the database; whatever the body, the answer is a 2xx or a 4xx (a 5xx makes the platform
retry the same poison message forever).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from bot.models import Conversation, OutboxRecord
from tests.fuzz.strategies import (
    FUZZ,
    any_json_leaves,
    json_values,
    telegram_updates,
    texts,
)
from tests.fuzz.test_channel_parsers import twilio_forms, whatsapp_messages
from tests.webhooks.conftest import PUBLIC, TELEGRAM_SECRET, TWILIO_TOKEN

#: one app for all examples of a test (starting it per example would take minutes); what one
#: example stores stays for the next, which is what a live gateway sees too
ONE_APP = settings(FUZZ, suppress_health_check=[HealthCheck.function_scoped_fixture])
KNOWN_SID = "SM" + "f" * 32  # an outbox message the status callbacks can find


# fields of the wrong JSON type that python-telegram-bot passes through to the message
_MESSAGE = {"message_id": 7, "chat": {"id": 5001, "type": "private"}, "date": 0, "text": "hi"}
_PRESS = {"id": "1", "from": {"id": 1, "is_bot": False, "first_name": "a"}, "message": _MESSAGE}
_LANG_LIST = {"id": 1, "is_bot": False, "first_name": "a", "language_code": ["tr"]}

telegram_bodies = st.one_of(
    telegram_updates(any_json_leaves, max_changes=3, allow_delete=True).map(json.dumps),
    telegram_updates(max_changes=4, allow_delete=True).map(json.dumps),
    json_values().map(json.dumps),
    st.dictionaries(st.text(max_size=10), json_values(), max_size=4).map(
        lambda d: json.dumps({"update_id": 1, **d})
    ),
).map(str.encode) | st.binary(max_size=300)


@ONE_APP
@given(body=telegram_bodies)
@example(body=b'{"update_id": 1, "message": {"message_id": 1, "date": 1e20, "chat": {}}}')
@example(body=b'{"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "hi"}}')
@example(body=b'{"update_id": 1, "callback_query": {"id": "1", "data": 5, "message": {}}}')
@example(body=json.dumps({"update_id": 2, "callback_query": {**_PRESS, "data": 5}}).encode())
@example(body=json.dumps({"update_id": 3, "callback_query": {**_PRESS, "data": ["x"]}}).encode())
@example(body=json.dumps({"update_id": 4, "message": {**_MESSAGE, "from": _LANG_LIST}}).encode())
@example(body=json.dumps({"update_id": 5, "message": {**_MESSAGE, "location": {}}}).encode())
@example(body=b"\xff\xfe{}")
@example(body=b"[]")
@example(body=b"NaN")
@example(body=b" " * 5000)
def test_telegram_webhook_never_answers_5xx(client: TestClient, body: bytes) -> None:
    """Any body with the right secret is 200 (stored or ignored) or a 4xx, never a 5xx."""
    response = client.post(
        "/webhooks/telegram",
        content=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code == 200:
        assert isinstance(json.loads(body), dict)


def _signed(path: str, form: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + path, form)
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    return urlencode(form).encode(), headers


@ONE_APP
@given(form=twilio_forms | whatsapp_messages())
@example(form={"MessageSid": "SM1", "From": "whatsapp:+90", "NumMedia": "²"})
@example(form={"MessageSid": "SM1", "From": "whatsapp:+90", "Latitude": "nan", "Longitude": "1"})
@example(form={"MessageSid": "SM1", "From": "whatsapp:+90", "Body": "\x00" * 3000})
def test_whatsapp_webhook_never_answers_5xx(client: TestClient, form: dict[str, str]) -> None:
    """Any form with a valid Twilio signature is 200 (TwiML) or a 4xx, never a 5xx."""
    body, headers = _signed("/webhooks/whatsapp", form)
    response = client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code == 200:
        assert response.headers["content-type"].startswith("application/xml")


@pytest.fixture
def known_outbox(client: TestClient) -> Iterator[str]:
    """One sent WhatsApp message whose delivery reports the status callback can record."""

    async def seed() -> None:
        gateway = client.app.state.gateway  # type: ignore[attr-defined]
        async with gateway.sessions() as session:
            conversation = Conversation(channel="whatsapp", user_ref="fuzz-user", choices=[])
            session.add(conversation)
            await session.flush()
            session.add(
                OutboxRecord(
                    conversation_id=conversation.id,
                    body={"text": "hi"},
                    status="sent",
                    platform_id=KNOWN_SID,
                )
            )
            await session.commit()

    client.portal.call(seed)  # type: ignore[union-attr]
    yield KNOWN_SID


STATUSES = ["accepted", "queued", "sent", "delivered", "read", "undelivered", "failed", "FAILED"]
status_forms = st.fixed_dictionaries(
    {},
    optional={
        "MessageSid": st.just(KNOWN_SID) | st.text(max_size=40),
        "MessageStatus": st.sampled_from(STATUSES) | texts,
        "ErrorCode": st.sampled_from(["63003", "21610", "30008", "", "²", "٣", "0" * 50]) | texts,
    },
)


@ONE_APP
@given(form=status_forms)
@example(form={"MessageSid": KNOWN_SID, "MessageStatus": "failed", "ErrorCode": "²"})
@example(form={"MessageSid": KNOWN_SID, "MessageStatus": "undelivered", "ErrorCode": "①"})
def test_whatsapp_status_callback_never_answers_5xx(
    client: TestClient, known_outbox: str, form: dict[str, str]
) -> None:
    """Any signed delivery report, for our message or another, is 204 or a 4xx."""
    body, headers = _signed("/webhooks/whatsapp/status", form)
    response = client.post("/webhooks/whatsapp/status", content=body, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text)
