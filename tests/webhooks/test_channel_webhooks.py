"""Webhooks: only signed requests are stored, each platform message once, bad input is a 4xx."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from sqlalchemy import select
from telegram import CallbackQuery, Chat, Message, Update, User
from twilio.request_validator import RequestValidator

from bot.models import InboundRecord, OutboxRecord
from tests.identities import IDENTITIES
from tests.webhooks.conftest import PUBLIC, TELEGRAM_SECRET, TWILIO_TOKEN


def telegram_text(
    update_id: int, text: str, *, chat_id: int = 5001, lang: str = "ar"
) -> dict[str, Any]:
    user = User(chat_id, "Amal", is_bot=False, language_code=lang)
    message = Message(
        update_id + 100,
        dt.datetime.now(dt.UTC),
        Chat(chat_id, Chat.PRIVATE),
        from_user=user,
        text=text,
    )
    return Update(update_id, message=message).to_dict()


def post_telegram(client: TestClient, payload: Any, secret: str | None = TELEGRAM_SECRET) -> Any:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(
        "/webhooks/telegram", content=body, headers={**headers, "Content-Type": "application/json"}
    )


def signed_form(
    path: str, form: dict[str, str], token: str = TWILIO_TOKEN
) -> tuple[bytes, dict[str, str]]:
    signature = RequestValidator(token).compute_signature(PUBLIC + path, form)
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    return urlencode(form).encode(), headers


def whatsapp_form(sid: str, body: str = "Merhaba", **extra: str) -> dict[str, str]:
    return {"MessageSid": sid, "From": "whatsapp:+905551112233", "To": "whatsapp:+14155238886",
            "Body": body, "NumMedia": "0", **extra}  # fmt: skip


def stored(client: TestClient) -> list[InboundRecord]:
    async def rows() -> list[InboundRecord]:
        async with client.app.state.gateway.sessions() as session:  # type: ignore[attr-defined]
            return list(
                (await session.scalars(select(InboundRecord).order_by(InboundRecord.id))).all()
            )

    return client.portal.call(rows)  # type: ignore[union-attr]


def test_telegram_update_is_stored_once(client: TestClient) -> None:
    update = telegram_text(1, "كيف أجدد الإقامة؟")
    assert post_telegram(client, update).status_code == 200
    assert post_telegram(client, update).status_code == 200  # Telegram's retry
    [row] = stored(client)
    assert (row.channel, row.platform_id, row.text, row.language_hint) == (
        "telegram",
        "1",
        "كيف أجدد الإقامة؟",
        "ar",
    )


def test_telegram_without_or_with_wrong_secret_is_403_and_stores_nothing(
    client: TestClient,
) -> None:
    assert post_telegram(client, telegram_text(2, "hi"), secret=None).status_code == 403
    assert post_telegram(client, telegram_text(3, "hi"), secret="wrong").status_code == 403
    assert (
        post_telegram(client, telegram_text(4, "hi"), secret=TELEGRAM_SECRET[:-1]).status_code
        == 403
    )
    assert stored(client) == []


def test_telegram_bad_bodies_are_4xx(client: TestClient) -> None:
    assert post_telegram(client, b"{not json").status_code == 400
    assert post_telegram(client, [1, 2]).status_code == 400
    assert post_telegram(client, {"message": {"text": "no update id"}}).status_code == 400
    assert (
        post_telegram(client, {"update_id": 9, "message": {"text": "no chat"}}).status_code == 400
    )
    huge = telegram_text(10, "x" * 5000)
    response = post_telegram(client, huge)
    assert response.status_code == 413 and "bytes" in response.json()["error"]
    assert stored(client) == []


def test_telegram_updates_the_bot_ignores_are_200_with_nothing_stored(client: TestClient) -> None:
    edited = telegram_text(20, "edited")
    edited["edited_message"] = edited.pop("message")
    channel_post = telegram_text(21, "post")
    channel_post["channel_post"] = channel_post.pop("message")
    channel_post["channel_post"]["chat"]["type"] = "channel"
    group = telegram_text(22, "hello group")
    group["message"]["chat"]["type"] = "group"
    for update in (edited, channel_post, group):
        assert post_telegram(client, update).status_code == 200
    assert stored(client) == []


def test_telegram_commands_callbacks_and_media(client: TestClient) -> None:
    assert post_telegram(client, telegram_text(30, "/start 8f$%junk")).status_code == 200
    user = User(5001, "Amal", is_bot=False, language_code="fa")
    message = Message(77, dt.datetime.now(dt.UTC), Chat(5001, Chat.PRIVATE), text="menu")
    query = CallbackQuery(
        "cb-1", user, "instance", message=message, data='/set_language{"language":"fa"}'
    )
    response = post_telegram(client, Update(31, callback_query=query).to_dict())
    assert response.json() == {"method": "answerCallbackQuery", "callback_query_id": "cb-1"}
    voice = telegram_text(32, "")
    del voice["message"]["text"]
    voice["message"]["voice"] = {"file_id": "VOICE1", "file_unique_id": "u1", "duration": 3}
    assert post_telegram(client, voice).status_code == 200
    start, pressed, note = stored(client)
    assert start.text == "/greet"
    assert pressed.text == '/set_language{"language":"fa"}' and pressed.language_hint == "fa"
    assert note.text == "" and note.media == [
        {"kind": "voice", "ref": "VOICE1", "content_type": None}
    ]


def test_whatsapp_signed_message_is_stored_once(client: TestClient) -> None:
    body, headers = signed_form(
        "/webhooks/whatsapp", whatsapp_form("SM1", "Kimlik kartımı kaybettim")
    )
    for _ in range(3):  # Twilio retries after 15 s without an answer
        response = client.post("/webhooks/whatsapp", content=body, headers=headers)
        assert response.status_code == 200 and "<Response>" in response.text
    [row] = stored(client)
    assert (row.channel, row.platform_id, row.text) == (
        "whatsapp",
        "SM1",
        "Kimlik kartımı kaybettim",
    )


def test_whatsapp_forged_or_tampered_is_403(client: TestClient) -> None:
    body, headers = signed_form("/webhooks/whatsapp", whatsapp_form("SM2"), token="not-the-token")
    assert client.post("/webhooks/whatsapp", content=body, headers=headers).status_code == 403
    body, headers = signed_form("/webhooks/whatsapp", whatsapp_form("SM3"))
    tampered = body.replace(b"Merhaba", b"Hello")
    assert client.post("/webhooks/whatsapp", content=tampered, headers=headers).status_code == 403
    no_signature = {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/webhooks/whatsapp", content=body, headers=no_signature).status_code == 403
    as_json = client.post(
        "/webhooks/whatsapp",
        json=whatsapp_form("SM4"),
        headers={"X-Twilio-Signature": headers["X-Twilio-Signature"]},
    )
    assert as_json.status_code == 403
    assert stored(client) == []


def test_whatsapp_malformed_forms_are_400(client: TestClient) -> None:
    for form in (
        {"Body": "no sid"},
        whatsapp_form("SM5", From="+905551112233"),  # SMS, not WhatsApp
        whatsapp_form("SM6", NumMedia="many"),
        whatsapp_form("SM7", Latitude="north", Longitude="41"),
    ):
        body, headers = signed_form("/webhooks/whatsapp", form)
        assert client.post("/webhooks/whatsapp", content=body, headers=headers).status_code == 400
    assert stored(client) == []


def test_whatsapp_media_and_location_are_kept_as_references(client: TestClient) -> None:
    form = whatsapp_form("SM8", "", NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1",
                         MediaContentType0="audio/ogg")  # fmt: skip
    body, headers = signed_form("/webhooks/whatsapp", form)
    assert client.post("/webhooks/whatsapp", content=body, headers=headers).status_code == 200
    body, headers = signed_form(
        "/webhooks/whatsapp", whatsapp_form("SM9", "", Latitude="41.01", Longitude="28.97")
    )
    assert client.post("/webhooks/whatsapp", content=body, headers=headers).status_code == 200
    voice, place = stored(client)
    assert voice.media == [
        {"kind": "voice", "ref": "https://api.twilio.com/media/ME1", "content_type": "audio/ogg"}
    ]
    assert place.location == [41.01, 28.97]


def test_status_callbacks_move_forward_only(client: TestClient) -> None:
    async def add_sent_row() -> None:
        async with client.app.state.gateway.sessions() as session:  # type: ignore[attr-defined]
            from bot.inbound import conversation_for

            conversation = await conversation_for(
                session, IDENTITIES, "whatsapp", "whatsapp:+905551112233"
            )
            row = OutboxRecord(conversation_id=conversation.id, body={"text": "x"}, status="sent")
            row.platform_id, row.attempts = "SMout1", 1
            session.add(row)
            await session.commit()

    async def delivery_status() -> str | None:
        async with client.app.state.gateway.sessions() as session:  # type: ignore[attr-defined]
            status: str | None = await session.scalar(select(OutboxRecord.delivery_status))
            return status

    client.portal.call(add_sent_row)  # type: ignore[union-attr]
    path = "/webhooks/whatsapp/status"
    for status in ("sent", "read", "delivered"):  # "delivered" arrives late
        body, headers = signed_form(path, {"MessageSid": "SMout1", "MessageStatus": status})
        assert client.post(path, content=body, headers=headers).status_code == 204
    assert client.portal.call(delivery_status) == "read"  # type: ignore[union-attr]
    body, headers = signed_form(path, {"MessageSid": "SMout1", "MessageStatus": "exploded"})
    assert client.post(path, content=body, headers=headers).status_code == 400
    body, headers = signed_form(
        path, {"MessageSid": "SMout1", "MessageStatus": "failed"}, token="x"
    )
    assert client.post(path, content=body, headers=headers).status_code == 403


def test_unconfigured_channel_is_404(tmp_path: Any) -> None:
    from bot.settings import Settings
    from webhooks.app import create_app

    settings = Settings(
        env="test", data_dir=tmp_path, rasa_port=9, rasa_token="t" * 20, gateway_worker=False
    )
    with TestClient(create_app(settings)) as bare:
        assert post_telegram(bare, telegram_text(1, "hi")).status_code == 404
        body, headers = signed_form("/webhooks/whatsapp", whatsapp_form("SM1"))
        assert bare.post("/webhooks/whatsapp", content=body, headers=headers).status_code == 404
