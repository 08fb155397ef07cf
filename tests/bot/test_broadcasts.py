"""Broadcasts on real SQLite: what is refused, who gets what, approval, resumable fan-out."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import broadcasts, db
from bot.broadcasts import Draft
from bot.models import BroadcastRecipient, Conversation, OutboxRecord, Subscription, utcnow
from bot.operators import add_operator
from bot.settings import Settings
from bot.topics import load_topics
from channels.sandbox import Mailbox, SandboxChannel
from common.errors import BadRequestError, ConflictError, ForbiddenError

TOPICS = load_topics()
TEXTS = {"tr": "Toplantı cuma 10:00'da.", "ar": "الاجتماع يوم الجمعة 10:00.",
         "fa": "جلسه جمعه ساعت 10:00.", "en": "The meeting is on Friday at 10:00."}  # fmt: skip
order = Settings(env="test").fallback_order


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[AsyncSession]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await db.upgrade_async(url)
    engine = db.make_engine(url)
    async with db.make_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


async def user(
    session: AsyncSession, ref: str, language: str, channel: str = "telegram", **extra: object
) -> Conversation:
    conversation = Conversation(channel=channel, user_ref=ref, language=language, **extra)
    session.add(conversation)
    await session.flush()
    session.add(Subscription(conversation_id=conversation.id, topic="informative-meetings"))
    return conversation


def draft(**changes: object) -> Draft:
    values: dict[str, object] = {"title": "Friday meeting", "topics": ["informative-meetings"],
                                 "translations": dict(TEXTS)}  # fmt: skip
    return Draft(**{**values, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes,reason",
    [
        ({"translations": {"tr": "x", "en": "y"}}, "no text in ar, fa"),
        ({"topics": ["football"]}, "topics must be"),
        ({"send_at": utcnow() - dt.timedelta(hours=1)}, "in the past"),
        ({"template_sid": "HX1", "translations": {**TEXTS, "tr": "satır\nsatır"}}, "template"),
        ({"template_sid": "HX1", "translations": {**TEXTS, "en": "x" * 300}}, "template"),
        ({"missing_translation": "guess"}, "fallback' or 'skip"),
    ],
)
def test_what_must_never_be_sent_is_refused(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(BadRequestError, match=reason):
        broadcasts.check_draft(draft(**changes), TOPICS, utcnow())


def test_a_language_filter_needs_only_its_own_translation() -> None:
    broadcasts.check_draft(draft(languages=["ar"], translations={"ar": "x"}), TOPICS, utcnow())


async def test_audience_translations_windows_and_approval(session: AsyncSession) -> None:
    writer = await add_operator(session, "writer", "a-long-password", role="editor")
    lead = await add_operator(session, "lead", "a-long-password", role="supervisor")
    await user(session, "t1", "tr")
    await user(session, "p1", "ps")  # no Pashto text: Persian per the fallback order
    await user(session, "o1", "en", opted_out_at=utcnow())  # STOP: never
    recent = utcnow() - dt.timedelta(hours=1)
    await user(session, "w1", "ar", "whatsapp", last_inbound_at=recent)
    await user(session, "w2", "ar", "whatsapp", last_inbound_at=utcnow() - dt.timedelta(days=3))
    other = Conversation(channel="telegram", user_ref="n1", language="tr")  # not subscribed
    session.add(other)
    made = await broadcasts.create(session, draft(), TOPICS, writer)
    counts = await broadcasts.dry_run(session, made, order)
    assert counts["recipients"] == 3
    assert counts["by_language"] == {"tr": 1, "fa": 1, "ar": 1}
    assert counts["skipped"] == {"outside the WhatsApp 24-hour window, no template": 1}
    preview = broadcasts.preview(made, order)
    assert preview["ps"] == {"language": "fa", "text": TEXTS["fa"]}
    with pytest.raises(ForbiddenError, match="a supervisor approves"):
        await broadcasts.approve(session, made, writer, order)
    own = await broadcasts.create(session, draft(), TOPICS, lead)
    with pytest.raises(ForbiddenError, match="second person"):
        await broadcasts.approve(session, own, lead, order)
    assert (await broadcasts.approve(session, made, lead, order))["recipients"] == 3
    with pytest.raises(ConflictError):
        await broadcasts.approve(session, made, lead, order)
    skip = await broadcasts.create(session, draft(missing_translation="skip"), TOPICS, writer)
    assert (await broadcasts.dry_run(session, skip, order))["skipped"][
        "no translation in the user's language"
    ] == 1
    nobody = await broadcasts.create(session, draft(topics=["work"]), TOPICS, writer)
    with pytest.raises(BadRequestError, match="empty audience"):
        await broadcasts.approve(session, nobody, lead, order)


async def test_fan_out_queues_each_user_once_even_when_run_again(session: AsyncSession) -> None:
    writer = await add_operator(session, "writer", "a-long-password", role="editor")
    lead = await add_operator(session, "lead", "a-long-password", role="supervisor")
    for i in range(7):
        await user(session, f"u{i}", "tr", "sandbox-telegram")
    made = await broadcasts.create(session, draft(), TOPICS, writer)
    await broadcasts.approve(session, made, lead, order)
    sandbox = SandboxChannel("telegram", Mailbox())
    adapters = {sandbox.name: sandbox}.get
    assert await broadcasts.fan_out_batch(session, made, adapters, order, batch=3) == 3
    await session.commit()  # a crash here: the next run goes on after the last queued user
    assert await broadcasts.fan_out_batch(session, made, adapters, order, batch=3) == 3
    assert await broadcasts.fan_out_batch(session, made, adapters, order, batch=3) == 1
    assert await broadcasts.fan_out_batch(session, made, adapters, order, batch=3) == 0
    await session.commit()
    recipients = await session.scalar(select(func.count()).select_from(BroadcastRecipient))
    rows = (await session.scalars(select(OutboxRecord))).all()
    assert recipients == 7 and len(rows) == 7 and {r.kind for r in rows} == {"proactive"}
    assert {r.body["text"] for r in rows} == {TEXTS["tr"]}
    status = await broadcasts.status(session, made)
    assert status["queued"] == 7 and status["recipients"] == 7
    stopped = await broadcasts.cancel(session, made, lead)
    assert stopped == 7 and (await broadcasts.status(session, made))["skipped"] == 7
