"""The adapters against local fake platform APIs: errors, timeouts, polling, set-webhook."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.fake_platforms import FakePlatforms
from bench.platform_users import TelegramUser
from bench.stack import OWN_PREFIXES, ROOT
from bot import db
from bot.inbound import InboundWriter
from bot.models import InboundRecord
from channels.base import callback_key
from channels.messages import Button, OutboundMessage
from channels.telegram import TelegramChannel
from channels.whatsapp import WhatsAppChannel
from tests.identities import IDENTITIES
from webhooks.telegram_polling import poll_updates


@pytest.fixture(scope="module")
def platforms() -> Iterator[FakePlatforms]:
    fakes = FakePlatforms()
    yield fakes
    fakes.stop()


@pytest.fixture
def faults(platforms: FakePlatforms) -> Iterator[FakePlatforms]:
    yield platforms
    platforms.set_faults()


async def test_platform_answers_become_the_right_delivery(faults: FakePlatforms) -> None:
    telegram = TelegramChannel(faults.telegram_token, faults.url, timeout=0.5)
    whatsapp = WhatsAppChannel(
        faults.twilio_sid, faults.twilio_token, sender="+14155238886",
        api_base_url=faults.url, timeout=0.5,
    )  # fmt: skip
    hello = OutboundMessage("merhaba")
    try:
        faults.set_faults(rate=1.0, codes=[429], retry_after=3)
        limited = await telegram.send("42", hello)
        assert not limited.ok and limited.retry_after == 3 and not limited.permanent
        assert not (await whatsapp.send("whatsapp:+905551112233", hello)).permanent
        faults.set_faults(rate=1.0, codes=[500])
        for delivery in (
            await telegram.send("42", hello),
            await whatsapp.send("whatsapp:+905551112233", hello),
        ):
            assert not delivery.ok and not delivery.permanent  # retried later
        faults.set_faults(hang_rate=1.0, hang_seconds=2.0)
        for delivery in (
            await telegram.send("42", hello),
            await whatsapp.send("whatsapp:+905551112233", hello),
        ):
            assert not delivery.ok and not delivery.permanent, delivery
        faults.set_faults(blocked=["42", "whatsapp:+905551112233"])
        for delivery in (
            await telegram.send("42", hello),
            await whatsapp.send("whatsapp:+905551112233", hello),
        ):
            assert delivery.permanent and delivery.user_gone
            assert "+90555" not in (delivery.error or "")  # no phone number in what is logged
        faults.set_faults()
        sent = await telegram.send("42", OutboundMessage("ok", (Button("A", "/" + "a" * 80),)))
        assert sent.ok and sent.platform_id
        delivered = await whatsapp.send("whatsapp:+905551112233", hello)
        assert (delivered.platform_id or "").startswith("SM")
    finally:
        await telegram.aclose()
        await whatsapp.aclose()


async def test_whatsapp_quick_replies_through_one_content_template(
    platforms: FakePlatforms,
) -> None:
    whatsapp = WhatsAppChannel(
        platforms.twilio_sid, platforms.twilio_token, sender="+14155238886",
        api_base_url=platforms.url, quick_replies=True,
    )  # fmt: skip
    to = "whatsapp:+905551112299"
    answer = OutboundMessage(
        "Kayıt için il göç idaresine gidin.\n\nBu yanıt yardımcı oldu mu?",
        (
            Button("👍", '/feedback_positive{"entry":"x"}'),
            Button("👎", "/feedback_negative" + "x" * 70),
        ),
    )
    try:
        pieces = whatsapp.render(answer)
        assert [p.text for p in pieces] == [
            "Kayıt için il göç idaresine gidin.",
            "Bu yanıt yardımcı oldu mu?",
        ]
        assert pieces[-1].buttons == answer.buttons and not pieces[0].buttons
        after = len(platforms.accepted())
        for piece in pieces:
            assert (await whatsapp.send(to, piece)).ok
        other = OutboundMessage("Başka?", (Button("Evet", "/affirm"), Button("Hayır", "/deny")))
        assert (await whatsapp.send(to, other)).ok
        sent = platforms.accepted(after)
        assert sent[0]["text"] == "Kayıt için il göç idaresine gidin."
        assert not sent[0]["content_sid"]
        assert sent[1]["text"] == "Bu yanıt yardımcı oldu mu?"
        assert sent[1]["buttons"] == [
            {"title": "👍", "payload": '/feedback_positive{"entry":"x"}'},
            {"title": "👎", "payload": callback_key("/feedback_negative" + "x" * 70)},
        ]
        assert sent[2]["content_sid"] == sent[1]["content_sid"]  # one template per shape
        creates = [c for c in platforms.calls() if c["method"] == "content.create"]
        assert len(creates) == 1 and creates[0]["params"]["friendly_name"] == "uyum_quick_reply_2"
    finally:
        await whatsapp.aclose()
    # a new process finds the template instead of creating another
    again = WhatsAppChannel(
        platforms.twilio_sid, platforms.twilio_token, sender="+14155238886",
        api_base_url=platforms.url, quick_replies=True,
    )  # fmt: skip
    try:
        assert (await again.send(to, other)).ok
        assert len([c for c in platforms.calls() if c["method"] == "content.create"]) == 1
    finally:
        await again.aclose()


async def test_polling_stores_each_update_once(platforms: FakePlatforms, tmp_path: Path) -> None:
    user = TelegramUser(platforms, "http://unused", language_code="tr")
    updates = [user.update("merhaba"), user.update("ikamet izni"), user.press("/menu")]
    platforms.add_updates(updates)
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await db.upgrade_async(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    channel = TelegramChannel(platforms.telegram_token, platforms.url)
    inbound = InboundWriter(sessions, IDENTITIES)
    writer = asyncio.create_task(inbound.run())
    await asyncio.sleep(0)
    task = asyncio.create_task(poll_updates(channel, inbound, long_poll=1))
    try:
        for _ in range(100):
            await asyncio.sleep(0.1)
            async with sessions() as session:
                rows = (
                    await session.scalars(select(InboundRecord).order_by(InboundRecord.id))
                ).all()
            if len(rows) == 3:
                break
        await asyncio.sleep(1.5)  # another long poll: the offset must not repeat updates
    finally:
        for running in (task, writer):
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
        await channel.aclose()
        await engine.dispose()
    assert [r.text for r in rows] == ["merhaba", "ikamet izni", "/menu"]
    assert [r.platform_id for r in rows] == [str(u["update_id"]) for u in updates]
    assert "deleteWebhook" in [c["method"] for c in platforms.calls()]


def _uyum(args: list[str], extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "uyum"), *args],
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_set_webhook_registers_the_url_and_secret(platforms: FakePlatforms, tmp_path: Path) -> None:
    env = {
        **platforms.env(),
        "UYUM_DATA_DIR": str(tmp_path),
        "PUBLIC_BASE_URL": "https://uyum.example.org",
        "TELEGRAM_WEBHOOK_SECRET": "s3cret-s3cret-s3cret",
    }
    done = _uyum(["telegram", "set-webhook"], env)
    assert done.returncode == 0, done.stderr
    assert "https://uyum.example.org/webhooks/telegram" in done.stdout
    [call] = [c for c in platforms.calls() if c["method"] == "setWebhook"]
    assert call["params"]["url"] == "https://uyum.example.org/webhooks/telegram"
    assert call["params"]["secret_token"] == "s3cret-s3cret-s3cret"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"TELEGRAM_WEBHOOK_SECRET": ""}, "TELEGRAM_WEBHOOK_SECRET is empty"),
        ({"PUBLIC_BASE_URL": "http://10.0.0.5:8000"}, "must be https"),
        ({"TELEGRAM_BOT_TOKEN": "999:wrong"}, "Telegram refused"),
    ],
)
def test_set_webhook_explains_what_is_wrong(
    platforms: FakePlatforms, tmp_path: Path, change: dict[str, str], message: str
) -> None:
    env = {
        **platforms.env(),
        "UYUM_DATA_DIR": str(tmp_path),
        "PUBLIC_BASE_URL": "https://uyum.example.org",
        "TELEGRAM_WEBHOOK_SECRET": "s3cret-s3cret-s3cret",
        **change,
    }
    done = _uyum(["telegram", "set-webhook"], env)
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr
