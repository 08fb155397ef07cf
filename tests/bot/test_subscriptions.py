"""Subscribing in conversation: the action's request, and the consent the worker records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot import db, texts
from bot.actions import ActionSubscribe
from bot.models import Conversation, Subscription, aware
from bot.subscriptions import SubscriptionChange, active_topics, apply_change
from bot.topics import load_topics


def tracker(text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent}, "entities": entities or []}
    return Tracker("c1", {"language": "tr"}, latest, [], False, None, {}, "action_listen")


async def run(t: Tracker) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    assert await ActionSubscribe().run(dispatcher, t, {}) == []
    messages: list[dict[str, Any]] = dispatcher.messages
    return messages


async def test_a_named_topic_and_province_are_asked_for() -> None:
    [message] = await run(
        tracker("Gaziantep'te Türkçe kursları için haber almak istiyorum", "subscribe")
    )
    assert message["custom"] == {
        "subscriptions": {"add": ["turkish-courses"], "province": "Gaziantep"}
    }


async def test_no_topic_named_offers_the_topics_as_buttons() -> None:
    [menu] = await run(tracker("abone olmak istiyorum", "subscribe"))
    assert menu["text"] == texts.text("choose_topic", "tr")
    titles = [b["title"] for b in menu["buttons"]]
    assert titles[:2] == ["Bilgi toplantıları", "Türkçe kursları"]
    assert titles[-1] == texts.text("my_subscriptions", "tr")
    pressed = tracker(
        menu["buttons"][1]["payload"],
        "subscribe",
        [{"entity": "topic", "value": "turkish-courses"}],
    )
    assert (await run(pressed))[0]["custom"]["subscriptions"]["add"] == ["turkish-courses"]


async def test_unsubscribe_named_topics_or_everything() -> None:
    [some] = await run(tracker("sağlık duyurularını istemiyorum", "unsubscribe"))
    assert some["custom"] == {"subscriptions": {"remove": ["health"]}}
    [everything] = await run(tracker("abonelikten çık", "unsubscribe"))
    assert everything["custom"] == {"subscriptions": {"remove_all": True}}


async def test_consent_is_recorded_with_its_time_and_revoked(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await db.upgrade_async(url)
    engine = db.make_engine(url)
    topics = load_topics()
    try:
        async with db.make_sessionmaker(engine)() as session:
            conversation = Conversation(channel="whatsapp", user_ref="whatsapp:+1", language="ar")
            session.add(conversation)
            await session.flush()
            change = SubscriptionChange(add=("health", "work", "not-a-topic"), province="Hatay")
            [said] = await apply_change(session, conversation, change, topics)
            assert said.text.startswith(texts.text("subscribed", "ar", topics="الصحة, العمل"))
            assert conversation.province == "Hatay"
            [said] = await apply_change(
                session, conversation, SubscriptionChange(remove=("work",)), topics
            )
            assert texts.text("your_subscriptions", "ar", topics="الصحة") in said.text
            assert await active_topics(session, conversation.id) == ["health"]
            [said] = await apply_change(
                session, conversation, SubscriptionChange(remove_all=True), topics
            )
            assert texts.text("no_subscriptions", "ar") in said.text
            rows = (await session.scalars(select(Subscription).order_by(Subscription.id))).all()
            assert [r.topic for r in rows] == ["health", "work"]  # the records stay, revoked
            assert all(
                r.revoked_at is not None and aware(r.consented_at) <= aware(r.revoked_at)
                for r in rows
            )
            before = aware(rows[0].consented_at)
            await apply_change(session, conversation, SubscriptionChange(add=("health",)), topics)
            assert rows[0].revoked_at is None and aware(rows[0].consented_at) >= before  # again
    finally:
        await engine.dispose()
