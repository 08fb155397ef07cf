"""Dashboard queries over 1,000,000 stored messages (issue #8), on SQLite and PostgreSQL.

    .venv/bin/python -m bench.analytics_queries [--messages 1000000] [--postgres URL]

Fills a fresh database with that many inbound messages over 90 days from 50,000
conversations (mixed channels and languages), the daily counts the worker keeps of them
(bot/analytics.count_message), a knowledge-base decision for most of them,
feedback on a tenth, 10,000 handovers and their waiting and handling times; then times
the dashboard's whole summary (what the console loads: six queries) for the last 7, 30
and 90 days, and each CSV table's query on its own for 90 days. Targets: <= 3 s on SQLite
and <= 1 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench.postgres import fresh_database
from bench.results import write
from bot import dashboard, db
from bot.models import (
    AnswerFeedback,
    Conversation,
    Handover,
    InboundRecord,
    KbTurn,
    MessageCount,
)

LANGUAGES = ["tr", "ar", "fa", "en", "ps"]
CHANNELS = ["whatsapp", "telegram"]
ENTRIES = [f"entry-{i}" for i in range(40)]
PG_DATABASE = "uyum_bench_analytics"
CHUNK = 10_000


def rows(messages: int, now: dt.datetime) -> dict[Any, list[dict[str, Any]]]:
    rng = random.Random(3)
    chats = 50_000
    conversations = [
        {
            "id": i,
            "channel": rng.choice(CHANNELS),
            "user_ref": f"user-{i}",
            "language": rng.choice(LANGUAGES),
            "mode": "bot",
            "choices": [],
            "created_at": now,
            "updated_at": now,
        }
        for i in range(1, chats + 1)
    ]
    inbound: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    feedback: list[dict[str, Any]] = []
    for i in range(1, messages + 1):
        chat = conversations[rng.randrange(chats)]
        at = now - dt.timedelta(seconds=rng.randrange(90 * 86400))
        inbound.append(
            {
                "conversation_id": chat["id"],
                "channel": chat["channel"],
                "platform_id": f"m{i}",
                "text": "…",
                "status": "done",
                "attempts": 0,
                "received_at": at,
            }
        )
        if rng.random() < 0.7:
            outcome = rng.choices(["answer", "clarify", "fallback"], [70, 20, 10])[0]
            entry = rng.choice(ENTRIES) if outcome == "answer" else None
            where = {"channel": chat["channel"], "language": chat["language"], "at": at}
            turns.append({"outcome": outcome, "entry_id": entry, "score": 0.9, **where})
            if outcome == "answer" and rng.random() < 0.15:
                feedback.append({"entry_id": entry, "score": rng.choice([1, 1, 1, -1]), **where})
    # what the worker counted while handling those messages (bot/analytics.count_message)
    counted: Counter[tuple[dt.date, str, str]] = Counter()
    language = {c["id"]: str(c["language"]) for c in conversations}
    for message in inbound:
        key = (
            message["received_at"].date(),
            message["channel"],
            language[message["conversation_id"]],
        )
        counted[key] += 1
    counts = [
        {"day": day, "channel": channel, "language": lang, "messages": n}
        for (day, channel, lang), n in counted.items()
    ]
    handovers = []
    for _ in range(10_000):
        created = now - dt.timedelta(seconds=rng.randrange(90 * 86400))
        assigned = created + dt.timedelta(seconds=rng.randrange(30, 3600))
        chat = conversations[rng.randrange(chats)]
        handovers.append(
            {
                "conversation_id": chat["id"],
                "state": "closed",
                "priority": 0,
                "reason": "asked",
                "channel": chat["channel"],
                "created_at": created,
                "assigned_at": assigned,
                "closed_at": assigned + dt.timedelta(seconds=rng.randrange(60, 3600)),
            }
        )
    return {
        Conversation: conversations,
        InboundRecord: inbound,
        MessageCount: counts,
        KbTurn: turns,
        AnswerFeedback: feedback,
        Handover: handovers,
    }


async def fill(url: str, tables: dict[Any, list[dict[str, Any]]]) -> None:
    engine = db.make_engine(url)
    try:
        async with engine.begin() as connection:
            for table, values in tables.items():
                for start in range(0, len(values), CHUNK):
                    await connection.execute(insert(table), values[start : start + CHUNK])
            if engine.dialect.name == "postgresql":
                await connection.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


async def measure(url: str, now: dt.datetime) -> dict[str, float]:
    engine = db.make_engine(url)
    figures: dict[str, float] = {}
    try:
        async with db.make_sessionmaker(engine)() as session:
            for days in (7, 30, 90):
                started = time.perf_counter()
                await dashboard.summary(session, days, now)
                figures[f"summary_{days}d_s"] = round(time.perf_counter() - started, 3)
            since = now - dt.timedelta(days=90)
            for name, query in (
                ("messages_per_day", dashboard.messages_per_day),
                ("answer_rate", dashboard.answer_rate),
                ("top_entries", dashboard.top_entries),
                ("feedback", dashboard.feedback),
                ("handovers", dashboard.handovers),
            ):
                started = time.perf_counter()
                await query(session, since)
                figures[f"{name}_90d_s"] = round(time.perf_counter() - started, 3)
    finally:
        await engine.dispose()
    return figures


def run(
    name: str, url: str, tables: dict[Any, list[dict[str, Any]]], now: dt.datetime
) -> dict[str, Any]:
    db.upgrade(url)
    started = time.perf_counter()
    asyncio.run(fill(url, tables))
    print(f"[{name}] filled in {time.perf_counter() - started:.0f} s; measuring …", flush=True)
    figures = asyncio.run(measure(url, now))
    print(f"[{name}] {figures}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="Dashboard query benchmark (issue #8)")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="server URL (default TEST_DATABASE_URL or local)")
    args = parser.parse_args()
    now = dt.datetime.now(dt.UTC)
    print(f"making {args.messages} messages …", flush=True)
    tables = rows(args.messages, now)
    counts = {table.__tablename__: len(values) for table, values in tables.items()}
    results: dict[str, Any] = {"rows": counts}
    with tempfile.TemporaryDirectory(prefix="uyum-bench-analytics-") as tmp:
        sqlite = f"sqlite+aiosqlite:///{Path(tmp) / 'app.db'}"
        results["sqlite"] = run("sqlite", sqlite, tables, now)
    results["postgresql"] = run(
        "postgresql", fresh_database(PG_DATABASE, args.postgres), tables, now
    )
    print()
    print(f"rows: {counts}")
    for engine, target in (("sqlite", 3.0), ("postgresql", 1.0)):
        worst = max(v for k, v in results[engine].items() if k.startswith("summary_"))
        print(
            f"{engine:<11} whole summary 7/30/90 days: "
            + " / ".join(f"{results[engine][f'summary_{d}d_s']:.2f}" for d in (7, 30, 90))
            + f" s   (worst {worst:.2f} s, target <= {target:.0f} s)"
        )
    write("analytics_queries", results)


if __name__ == "__main__":
    main()
