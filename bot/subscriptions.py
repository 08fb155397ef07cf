"""Users' announcement subscriptions: consent recorded with its time, revoked, listed.

Rasa's ``action_subscribe`` only says what the user wants (a custom payload); the worker
applies it here, in the same transaction as the replies, and tells the user the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.models import Conversation, Subscription, utcnow
from bot.topics import Topic, topic_by_id
from channels.messages import OutboundMessage


@dataclass(frozen=True)
class SubscriptionChange:
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    remove_all: bool = False
    province: str | None = None

    @classmethod
    def from_payload(cls, payload: dict[str, object]) -> SubscriptionChange:
        def ids(key: str) -> tuple[str, ...]:
            value = payload.get(key)
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        province = payload.get("province")
        return cls(
            ids("add"),
            ids("remove"),
            bool(payload.get("remove_all")),
            str(province) if province else None,
        )


async def active_topics(session: AsyncSession, conversation_id: int) -> list[str]:
    rows = await session.scalars(
        select(Subscription.topic)
        .where(Subscription.conversation_id == conversation_id, Subscription.revoked_at.is_(None))
        .order_by(Subscription.id)
    )
    return list(rows.all())


async def apply_change(
    session: AsyncSession,
    conversation: Conversation,
    change: SubscriptionChange,
    topics: tuple[Topic, ...],
) -> list[OutboundMessage]:
    """Record the change (unknown topic ids are ignored) and say what the user now gets."""
    lang, now = conversation.language, utcnow()
    rows = {
        s.topic: s
        for s in (
            await session.scalars(
                select(Subscription).where(Subscription.conversation_id == conversation.id)
            )
        ).all()
    }
    known = {t.id for t in topics}
    added = [t for t in dict.fromkeys(change.add) if t in known]
    for topic in added:
        row = rows.get(topic)
        if row is None:
            session.add(
                Subscription(conversation_id=conversation.id, topic=topic, consented_at=now)
            )
        elif row.revoked_at is not None:
            row.revoked_at, row.consented_at = None, now  # consent given again, at this time
    active = [t for t, r in rows.items() if r.revoked_at is None]
    removing = active if change.remove_all else [t for t in change.remove if t in active]
    for topic in removing:
        rows[topic].revoked_at = now
    if change.province:
        conversation.province = change.province
    await session.flush()

    def names(ids: list[str]) -> str:
        return ", ".join(t.name(lang) for i in ids if (t := topic_by_id(topics, i)))

    said = []
    if added:
        said.append(texts.text("subscribed", lang, topics=names(added)))
        if change.province:
            said.append(texts.text("province_noted", lang, province=change.province))
    if removing:
        said.append(texts.text("unsubscribed", lang, topics=names(removing)))
    now_active = await active_topics(session, conversation.id)
    if now_active and not added:
        said.append(texts.text("your_subscriptions", lang, topics=names(now_active)))
    elif not now_active:
        said.append(texts.text("no_subscriptions", lang))
    return [OutboundMessage(" ".join(said))]
