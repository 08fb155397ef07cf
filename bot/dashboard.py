"""The supervisors' dashboard: figures straight from the database, with no personal data.

Every table is a list of plain rows (counts per day, channel, language, entry), so the
console draws it and ``to_csv`` exports it unchanged. Confidential complaints are never
counted here; nothing names a user or quotes a message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, get_args

import numpy as np
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import broadcasts
from bot.models import (
    AnswerFeedback,
    Broadcast,
    Handover,
    KbTurn,
    MessageCount,
    aware,
)

Table = Literal[
    "messages_per_day", "answer_rate", "top_entries", "feedback", "handovers", "broadcasts"
]
TABLES: tuple[Table, ...] = get_args(Table)
TOP = 20
COLUMNS: dict[str, tuple[str, ...]] = {
    "messages_per_day": ("day", "channel", "language", "messages"),
    "answer_rate": ("outcome", "turns"),
    "top_entries": ("entry_id", "answers"),
    "feedback": ("entry_id", "up", "down", "ratio"),
    "handovers": ("measure", "p50", "p90", "p99"),
    "broadcasts": ("id", "title", "recipients", "sent", "delivered", "read", "failed", "skipped"),
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


async def messages_per_day(session: AsyncSession, since: dt.datetime) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(MessageCount.day, MessageCount.channel, MessageCount.language, MessageCount.messages)
        .where(MessageCount.day >= since.date())
        .order_by(MessageCount.day, MessageCount.channel, MessageCount.language)
    )
    return [
        {"day": day.isoformat(), "channel": channel, "language": language, "messages": n}
        for day, channel, language, n in rows.all()
    ]


async def answer_rate(session: AsyncSession, since: dt.datetime) -> dict[str, int]:
    rows = await session.execute(
        select(KbTurn.outcome, func.count()).where(KbTurn.at >= since).group_by(KbTurn.outcome)
    )
    counts = dict(rows.tuples().all())
    return {outcome: int(counts.get(outcome, 0)) for outcome in ("answer", "clarify", "fallback")}


async def top_entries(session: AsyncSession, since: dt.datetime) -> list[dict[str, Any]]:
    answers = func.count()
    rows = await session.execute(
        select(KbTurn.entry_id, answers)
        .where(KbTurn.at >= since, KbTurn.outcome == "answer", KbTurn.entry_id.is_not(None))
        .group_by(KbTurn.entry_id)
        .order_by(answers.desc(), KbTurn.entry_id)
        .limit(TOP)
    )
    return [{"entry_id": entry, "answers": n} for entry, n in rows.all()]


async def feedback(session: AsyncSession, since: dt.datetime) -> list[dict[str, Any]]:
    up = func.sum(case((AnswerFeedback.score > 0, 1), else_=0))
    down = func.sum(case((AnswerFeedback.score < 0, 1), else_=0))
    rows = await session.execute(
        select(AnswerFeedback.entry_id, up, down)
        .where(AnswerFeedback.at >= since, AnswerFeedback.entry_id.is_not(None))
        .group_by(AnswerFeedback.entry_id)
        .order_by((up + down).desc(), AnswerFeedback.entry_id)
    )
    return [
        {"entry_id": entry, "up": int(u), "down": int(d), "ratio": round(u / (u + d), 3)}
        for entry, u, d in rows.all()
    ]


def _percentiles(seconds: Sequence[float]) -> dict[str, float | None]:
    if not seconds:
        return {"p50": None, "p90": None, "p99": None}
    values = np.percentile(np.asarray(seconds), [50, 90, 99])
    return {f"p{p}": round(float(v), 1) for p, v in zip((50, 90, 99), values, strict=True)}


async def handovers(session: AsyncSession, since: dt.datetime) -> dict[str, Any]:
    rows = await session.execute(
        select(Handover.created_at, Handover.assigned_at, Handover.closed_at).where(
            Handover.created_at >= since
        )
    )
    waiting, handling, count = [], [], 0
    for created, assigned, closed in rows.all():
        count += 1
        if assigned is not None:
            waiting.append((aware(assigned) - aware(created)).total_seconds())
            if closed is not None:
                handling.append((aware(closed) - aware(assigned)).total_seconds())
    return {
        "count": count,
        "waiting_seconds": _percentiles(waiting),
        "handling_seconds": _percentiles(handling),
    }


async def broadcast_reach(session: AsyncSession, since: dt.datetime) -> list[dict[str, Any]]:
    sent = (
        await session.scalars(
            select(Broadcast)
            .where(Broadcast.started_at.is_not(None), Broadcast.started_at >= since)
            .order_by(Broadcast.id.desc())
            .limit(TOP)
        )
    ).all()
    reach = []
    for broadcast in sent:
        figures = await broadcasts.status(session, broadcast)
        keys = ("id", "title", "recipients", "sent", "delivered", "read", "failed", "skipped")
        reach.append({k: figures[k] for k in keys})
    return reach


QUERIES: dict[str, Callable[[AsyncSession, dt.datetime], Awaitable[Any]]] = {
    "messages_per_day": messages_per_day,
    "answer_rate": answer_rate,
    "top_entries": top_entries,
    "feedback": feedback,
    "handovers": handovers,
    "broadcasts": broadcast_reach,
}


def period_start(days: int, now: dt.datetime) -> dt.datetime:
    """Midnight (UTC) ``days`` days before ``now``: the dashboard counts whole days."""
    return (now - dt.timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)


async def summary(session: AsyncSession, days: int, now: dt.datetime) -> dict[str, Any]:
    since = period_start(days, now)
    figures: dict[str, Any] = {name: await QUERIES[name](session, since) for name in TABLES}
    return {"days": days, "since": since.isoformat(), **figures}


async def table_rows(
    session: AsyncSession, name: Table, days: int, now: dt.datetime
) -> list[dict[str, Any]]:
    """One table as flat rows (for CSV): only its own query runs."""
    value = await QUERIES[name](session, period_start(days, now))
    if name == "answer_rate":
        return [{"outcome": k, "turns": v} for k, v in value.items()]
    if name == "handovers":
        return [
            {"measure": measure, **value[measure]}
            for measure in ("waiting_seconds", "handling_seconds")
        ] + [{"measure": "count", "p50": value["count"], "p90": "", "p99": ""}]
    return list(value)


def _cell(value: Any) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()
