"""Building a broadcast's recipient list for 100,000 subscribers (issue #7), SQLite and PostgreSQL.

    .venv/bin/python -m bench.broadcast_audience [--subscribers 100000] [--postgres URL]

Fills a fresh database with that many subscribed conversations (mixed languages, channels,
provinces and last messages, 5 % opted out, a fifth on another topic only), then times what
a broadcast needs: the dry run (who gets what, who is skipped and why) and walking the
whole audience in the fan-out's batches. Target: <= 2 s on each. The PostgreSQL server is
the one at ``--postgres`` (default: TEST_DATABASE_URL, else 127.0.0.1:5432), where a
database ``uyum_bench_audience`` is made anew.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from bench.postgres import fresh_database
from bench.results import write
from bot import broadcasts, db
from bot.broadcasts import BATCH, Draft
from bot.models import Conversation, Subscription
from bot.operators import add_operator
from bot.settings import Settings
from bot.topics import load_topics

LANGUAGES = ["tr", "ar", "fa", "en", "ps"]
CHANNELS = ["whatsapp", "telegram"]
PROVINCES = ["Gaziantep", "İstanbul", "Hatay", "Şanlıurfa", "Ankara"]
PG_DATABASE = "uyum_bench_audience"
TEXTS = {"tr": "Toplantı cuma.", "ar": "الاجتماع الجمعة.", "fa": "جلسه جمعه.", "en": "Meeting."}


async def fill(url: str, subscribers: int) -> None:
    """Conversations and subscriptions written straight into the migrated database."""
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    conversations: list[dict[str, Any]] = [
        {
            "id": i,
            "channel": rng.choice(CHANNELS),
            "user_ref": f"user-{i}",
            "language": rng.choice(LANGUAGES),
            "mode": "bot",
            "choices": [],
            "last_inbound_at": now - dt.timedelta(hours=rng.choice([1, 5, 30, 72])),
            "opted_out_at": now if rng.random() < 0.05 else None,
            "province": rng.choice(PROVINCES),
            "created_at": now,
            "updated_at": now,
        }
        for i in range(1, subscribers + 1)
    ]
    subscriptions: list[dict[str, Any]] = [
        {
            "conversation_id": i,
            "topic": "health" if rng.random() < 0.2 else "informative-meetings",
            "consented_at": now,
        }
        for i in range(1, subscribers + 1)
    ]
    engine = db.make_engine(url)
    try:
        async with engine.begin() as connection:
            for table, rows in ((Conversation, conversations), (Subscription, subscriptions)):
                for start in range(0, len(rows), 5000):
                    await connection.execute(insert(table), rows[start : start + 5000])
            if engine.dialect.name == "postgresql":
                await connection.execute(text("ANALYZE"))  # as autovacuum would, soon after
    finally:
        await engine.dispose()


async def measure(url: str) -> dict[str, float | int]:
    engine = db.make_engine(url)
    order = Settings(env="test").fallback_order
    try:
        async with db.make_sessionmaker(engine)() as session:
            writer = await add_operator(session, "writer", "a-long-password", role="editor")
            draft = Draft("bench", ["informative-meetings"], dict(TEXTS))
            made = await broadcasts.create(session, draft, load_topics(), writer)
            await session.commit()
            started = time.perf_counter()
            counts = await broadcasts.dry_run(session, made, order)
            dry_run = time.perf_counter() - started
            started, walked, after = time.perf_counter(), 0, 0
            while True:  # the fan-out's reads, batch by batch, without writing
                query = broadcasts.audience(made, after).limit(BATCH)
                rows = (await session.execute(query)).all()
                if not rows:
                    break
                walked += len(rows)
                after = rows[-1][0]
            batches = time.perf_counter() - started
            total = await session.scalar(select(func.count()).select_from(Conversation))
    finally:
        await engine.dispose()
    return {
        "conversations": int(total or 0),
        "recipients": counts["recipients"],
        "skipped": sum(counts["skipped"].values()),
        "audience_walked": walked,
        "dry_run_seconds": round(dry_run, 3),
        "batched_walk_seconds": round(batches, 3),
    }


def run(name: str, url: str, subscribers: int) -> dict[str, Any]:
    db.upgrade(url)
    started = time.perf_counter()
    asyncio.run(fill(url, subscribers))
    print(f"[{name}] filled {subscribers} subscribers in {time.perf_counter() - started:.1f} s")
    return {"database": name, **asyncio.run(measure(url))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL (its server is used)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="uyum-bench-audience-"))
    results = [
        run("sqlite", f"sqlite+aiosqlite:///{folder / 'app.db'}", args.subscribers),
        run("postgresql", fresh_database(PG_DATABASE, args.postgres), args.subscribers),
    ]
    print(f"\n{'database':<12}{'recipients':>11}{'skipped':>9}{'dry run (s)':>13}"
          f"{'batched walk (s)':>18}{'target':>8}")  # fmt: skip
    for r in results:
        print(f"{r['database']:<12}{r['recipients']:>11}{r['skipped']:>9}"
              f"{r['dry_run_seconds']:>13}{r['batched_walk_seconds']:>18}{'<= 2':>8}")  # fmt: skip
    write("broadcast_audience", {"subscribers": args.subscribers, "runs": results})


if __name__ == "__main__":
    main()
